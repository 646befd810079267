"""Lab 6a's run modes: one config that the notebook's first code cell shows.

  gpu   : bert-base-uncased, the `gpu` preset of toxlab.recipe (the original rate and epochs, made fast), all the data
  cpu   : the offline MiniLM, the `cpu` preset (a toxic-enriched subset, minutes on a laptop)
  grade : under nbgrader: a tiny random BERT, the `seed` preset cut to 2 steps on tiny demo data (seconds)

Each mode names a preset and the few fields it changes (`overrides`); the notebook trains with
`cfg.training_args`, the preset's TrainingArguments plus those, and nothing else
(tests/test_recipe.py holds every mode to that).

The mode is grade whenever nbgrader executes the notebook, else the argument (the notebook's MODE
cell), else $TOXLAB_MODE, else the hardware (toxlab.labs.detect_mode).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ...recipe import Preset, get_preset, mixed_precision
from .. import detect_mode, run_dir


@dataclass
class LabConfig:
    """Everything that differs between the notebook's modes."""

    mode: str  # gpu | cpu | grade
    model: str  # what load_classifier gets; "tiny" builds a small random BERT
    data: str | None  # a Kaggle folder/zip; None follows load_jigsaw's lookup order
    preset: str  # the recipe (toxlab.recipe.PRESETS) this mode trains with
    overrides: dict = field(default_factory=dict)  # what the mode changes in it: Preset fields or TrainingArguments
    max_eval_samples: int | None = None  # subset of validation/test used while training and evaluating
    output_dir: str = ""  # where this run's checkpoints and best model go (never reused)
    note: str = ""  # one line saying what this mode does

    @property
    def recipe(self) -> Preset:
        """The preset with this mode's overrides."""
        return get_preset(self.preset).but(**self.overrides)

    @property
    def training_args(self) -> dict:
        """TrainingArguments keywords for the notebook's make_training_args: the recipe's (mixed precision
        added for the gpu preset on a CUDA machine, as toxlab.recipe.preset_args does)."""
        return {**self.recipe.args, **(mixed_precision() if self.preset == "gpu" else {})}

    @property
    def max_train_samples(self) -> int | None:  # subset of train (None: all)
        return self.recipe.max_train_samples

    @property
    def toxic_share(self) -> float | None:  # draw the train subset with this share of toxic rows (None: stratified)
        return self.recipe.toxic_share

    @property
    def validation_size(self) -> float | int:  # share (or rows) of train held out for validation
        return self.recipe.validation_size

    def describe(self) -> str:
        changed = ", ".join(f"{k}={v!r}" for k, v in self.overrides.items()) or "nothing"
        return (f"mode={self.mode}: {self.note}\n  model={self.model}, data={self.data or 'lookup order'}, "
                f"preset={self.preset} (changed: {changed}), max_train_samples={self.max_train_samples}, "
                f"output_dir={self.output_dir}")


def lab_config(mode: str | None = None) -> LabConfig:
    """The settings for a mode (see the module docstring)."""
    mode = detect_mode(mode)
    if mode == "grade":
        from ...data import make_demo_data

        tmp = tempfile.mkdtemp(prefix="toxlab-grade-")
        data = make_demo_data(Path(tmp) / "data", n_train=120, n_test=40, seed=0)
        return LabConfig(
            mode, "tiny", str(data), preset="seed",
            overrides=dict(max_train_samples=48, max_steps=2, per_device_eval_batch_size=32, use_cpu=True,
                           disable_tqdm=True, save_total_limit=1),
            max_eval_samples=24, output_dir=str(Path(tmp) / "model"),
            note="grading: a tiny random model, 2 steps, tiny demo data",
        )
    if mode == "cpu":
        cfg = LabConfig(mode, "minilm", None, preset="cpu",
                        # the notebook shows the progress bar that quiet() would hide; one checkpoint is enough
                        overrides=dict(save_total_limit=1, use_cpu=True, disable_tqdm=False),
                        max_eval_samples=400, output_dir=run_dir())
        cfg.note = (f"CPU: the offline MiniLM, the cpu preset (up to {cfg.max_train_samples:,} rows, "
                    f"{cfg.toxic_share:.0%} toxic where the data has them)")
        return cfg
    model = "bert-base-uncased"
    from ...models import ModelNotFoundError, resolve_model

    try:
        resolve_model(model)
    except ModelNotFoundError as e:
        print(f"!! {e}\n!! falling back to the offline MiniLM")
        model = "minilm"
    cfg = LabConfig(mode, model, None, preset="gpu", overrides=dict(disable_tqdm=False), output_dir=run_dir())
    a = cfg.training_args
    cfg.note = (f"GPU: the original recipe (lr {a['learning_rate']:g}, {a['num_train_epochs']} epochs, batch "
                f"{a['per_device_train_batch_size']}) on all the data, made fast")
    return cfg


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
