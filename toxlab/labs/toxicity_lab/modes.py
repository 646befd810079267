"""Lab 6a's run modes: one config that the notebook's first code cell shows.

  gpu   : bert-base-uncased, the original recipe (seed preset), all the data
  cpu   : the offline MiniLM, the `cpu` preset of toxlab.training (a toxic-enriched subset, minutes on a laptop)
  grade : under nbgrader: a tiny random BERT, a few steps on tiny demo data (seconds)

The mode is grade whenever nbgrader executes the notebook, else the argument (the notebook's MODE
cell), else $TOXLAB_MODE, else the hardware (toxlab.labs.detect_mode).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .. import detect_mode, run_dir


@dataclass
class LabConfig:
    """Everything that differs between the notebook's modes."""

    mode: str  # gpu | cpu | grade
    model: str  # what load_classifier gets; "tiny" builds a small random BERT
    data: str | None  # a Kaggle folder/zip; None follows load_jigsaw's lookup order
    max_train_samples: int | None  # subset of train (None: all)
    max_eval_samples: int | None  # subset of validation/test used while training and evaluating
    overrides: dict = field(default_factory=dict)  # TrainingArguments on top of the student's make_training_args
    output_dir: str = ""  # where this run's checkpoints and best model go (never reused)
    toxic_share: float | None = None  # draw the train subset with this share of toxic rows (None: stratified)
    note: str = ""  # one line saying what this mode does

    def describe(self) -> str:
        return (f"mode={self.mode}: {self.note}\n  model={self.model}, data={self.data or 'lookup order'}, "
                f"max_train_samples={self.max_train_samples}, output_dir={self.output_dir}")


def lab_config(mode: str | None = None) -> LabConfig:
    """The settings for a mode (see the module docstring)."""
    mode = detect_mode(mode)
    if mode == "grade":
        from ...data import make_demo_data

        tmp = tempfile.mkdtemp(prefix="toxlab-grade-")
        data = make_demo_data(Path(tmp) / "data", n_train=120, n_test=40, seed=0)
        return LabConfig(
            mode, "tiny", str(data), max_train_samples=48, max_eval_samples=24,
            overrides=dict(max_steps=2, per_device_eval_batch_size=32, use_cpu=True, disable_tqdm=True,
                           report_to="none", save_total_limit=1),
            output_dir=str(Path(tmp) / "model"), note="grading: a tiny random model, 2 steps, tiny demo data",
        )
    if mode == "cpu":
        from ...training import PRESETS

        # the one cpu recipe (toxlab.training.PRESETS["cpu"]); the notebook's own tokenize keeps 256 tokens
        recipe = PRESETS["cpu"]
        return LabConfig(
            mode, "minilm", None, max_train_samples=recipe.max_train_samples, max_eval_samples=400,
            overrides=dict(recipe.args, save_total_limit=1, use_cpu=True, disable_tqdm=False),
            output_dir=run_dir(), toxic_share=recipe.toxic_share,
            note=f"CPU: the offline MiniLM, the cpu preset (up to {recipe.max_train_samples:,} rows, "
                 f"{recipe.toxic_share:.0%} toxic where the data has them)",
        )
    model = "bert-base-uncased"
    from ...models import ModelNotFoundError, resolve_model

    try:
        resolve_model(model)
    except ModelNotFoundError as e:
        print(f"!! {e}\n!! falling back to the offline MiniLM")
        model = "minilm"
    return LabConfig(
        mode, model, None, max_train_samples=None, max_eval_samples=None,
        overrides=dict(per_device_eval_batch_size=128, dataloader_num_workers=4, report_to="none", disable_tqdm=False,
                       train_sampling_strategy="group_by_length", **_gpu_precision()),
        output_dir=run_dir(), note="GPU: the original recipe (lr 2e-5, 3 epochs, batch 16) on all the data",
    )


def _gpu_precision() -> dict:
    import torch

    if not torch.cuda.is_available():
        return {}
    return {"bf16": True} if torch.cuda.is_bf16_supported() else {"fp16": True}


def load_lab_model(cfg: LabConfig):
    """(model, tokenizer) for the mode: the tiny random BERT in grade mode, else load_classifier."""
    from ...models import load_classifier, minilm_path, tiny_bert

    if cfg.model == "tiny":
        from transformers import AutoTokenizer

        return tiny_bert(), AutoTokenizer.from_pretrained(minilm_path())
    return load_classifier(cfg.model)


# run-lab appends this cell to the executed notebook: it writes the lab's report into __REPORT_DIR__
REPORT_FILES = ("metrics.json", "report.txt", "confusion_matrix.png", "bias.png", "bias_terms.csv", "bias_groups.csv")
REPORT_CELL = """
import json as _json, pathlib as _pathlib
_out = _pathlib.Path(__REPORT_DIR__)
_out.mkdir(parents=True, exist_ok=True)
from toxlab.metrics import scores as _scores
_metrics = {"test_at_threshold": _scores(test["label"], p_test, threshold), "test_at_0.5": _scores(test["label"], p_test, 0.5),
            "mode": cfg.mode, "data": ds["train"].info.description, "train_rows": len(train_raw), "bias": bias.summary}
(_out / "metrics.json").write_text(_json.dumps(_metrics, indent=2, default=str))
(_out / "report.txt").write_text(report(test["label"], p_test, threshold) + f"\\nbias probe: {bias.summary}\\n")
plot_confusion_matrix(test["label"], p_test, threshold).savefig(_out / "confusion_matrix.png", dpi=110)
bias.per_term.to_csv(_out / "bias_terms.csv", index=False)
bias.per_group.to_csv(_out / "bias_groups.csv", index=False)
plot_bias(bias).savefig(_out / "bias.png", dpi=110)
"""
