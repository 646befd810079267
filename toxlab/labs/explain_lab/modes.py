"""Lab 6b's run modes: which model it explains, on how many comments.

  gpu   : the model lab 6a saved (or `toxlab train` did), 200 test comments for faithfulness, IG with 50 steps
  cpu   : the same model, 40 short test comments, IG with 32 steps (a few minutes on a laptop)
  grade : under nbgrader: a tiny random BERT, 6 demo comments, IG with 8 steps (seconds)

In cpu and gpu mode the lab explains saved_models/best_model (what `toxlab train` writes), else the
newest saved_models/run-*/ (what lab 6a's notebook writes). When neither exists it says so and
trains the cpu recipe into saved_models/best_model first (toxlab.training, PRESETS["cpu"]).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import detect_mode

SAVED = Path("saved_models")


@dataclass
class ExplainConfig:
    """Everything that differs between the notebook's modes."""

    mode: str  # gpu | cpu | grade
    model_dir: str | None  # the saved model explained; None in grade mode (a tiny random BERT) or when none exists
    data: str | None  # a Kaggle folder/zip; None follows load_jigsaw's lookup order
    n_texts: int  # scored test comments in the faithfulness sample
    max_words: int  # only comments this short go in the sample (each word is rescored k times)
    ig_steps: int  # Integrated Gradients' steps along the path from the baseline
    note: str = ""

    def describe(self) -> str:
        return (f"mode={self.mode}: {self.note}\n  model={self.model_dir or '(none yet)'}, "
                f"data={self.data or 'lookup order'}, n_texts={self.n_texts}, ig_steps={self.ig_steps}")


def find_saved_model(root: str | Path = SAVED) -> Path | None:
    """saved_models/best_model if it holds a model, else the newest saved_models/run-*/ that does, else None."""
    root = Path(root)
    best = root / "best_model"
    if (best / "config.json").is_file():
        return best
    runs = sorted((p for p in root.glob("run-*") if (p / "config.json").is_file()), key=lambda p: p.name)
    return runs[-1] if runs else None


def lab_config(mode: str | None = None) -> ExplainConfig:
    """The settings for a mode (see the module docstring)."""
    mode = detect_mode(mode)
    if mode == "grade":
        from ...data import make_demo_data

        data = make_demo_data(Path(tempfile.mkdtemp(prefix="toxlab-grade-")) / "data", n_train=120, n_test=40, seed=0)
        return ExplainConfig(mode, None, str(data), n_texts=6, max_words=12, ig_steps=8,
                             note="grading: a tiny random model, 6 demo comments")
    found = find_saved_model()
    if mode == "cpu":
        return ExplainConfig(mode, str(found) if found else None, None, n_texts=40, max_words=40, ig_steps=32,
                             note="CPU: the model you trained in lab 6a, 40 short test comments")
    return ExplainConfig(mode, str(found) if found else None, None, n_texts=200, max_words=60, ig_steps=50,
                         note="GPU: the model you trained in lab 6a, 200 short test comments")


def load_explain_model(cfg: ExplainConfig):
    """(model, tokenizer, threshold): the saved model, or a tiny random BERT in grade mode; trains one when none exists."""
    from ...inference import model_threshold
    from ...models import load_classifier, minilm_path, tiny_bert

    if cfg.mode == "grade":
        from transformers import AutoTokenizer

        from ...grading.objects import GRADING_INIT

        return tiny_bert(seed=0, initializer_range=GRADING_INIT).eval(), AutoTokenizer.from_pretrained(minilm_path()), 0.5
    if cfg.model_dir is None:
        cfg.model_dir = str(train_cpu_recipe(cfg.data))
    model, tokenizer = load_classifier(cfg.model_dir)
    return model.eval(), tokenizer, model_threshold(model)


def train_cpu_recipe(data: str | None, out: Path = SAVED / "best_model") -> Path:
    """Train toxlab's cpu recipe (the one lab 6a's cpu mode uses) into `out`; say so first."""
    from ...data import load_jigsaw
    from ...models import load_classifier
    from ...training import PRESETS, train

    print(f"No saved model in {SAVED / 'best_model'} or {SAVED}/run-*/ (lab 6a saves one there).\n"
          f"Training the cpu recipe into {out} first: {PRESETS['cpu'].max_train_samples:,} comments at most, "
          "a few minutes on a laptop CPU.")
    model, tokenizer = load_classifier("minilm")
    result = train(load_jigsaw(data), model, tokenizer, preset="cpu", output_dir=out)
    print(f"saved to {result.model_dir} (threshold {result.threshold:.2f})")
    return Path(result.model_dir)


def sample_texts(test, cfg: ExplainConfig, seed: int = 0) -> list[str]:
    """cfg.n_texts scored test comments of at most cfg.max_words words, half of them toxic where the data allows."""
    import numpy as np

    rng = np.random.default_rng(seed)
    texts = list(test["comment_text"])
    short = [i for i, t in enumerate(texts) if 2 <= len(t.split()) <= cfg.max_words]
    labels = np.asarray(test["label"])[short]
    toxic = [short[i] for i in np.flatnonzero(labels == 1)]
    clean = [short[i] for i in np.flatnonzero(labels == 0)]
    half = min(len(toxic), cfg.n_texts // 2)
    picked = list(rng.permutation(toxic)[:half]) + list(rng.permutation(clean)[: cfg.n_texts - half])
    return [texts[int(i)] for i in sorted(picked)]


# run-lab appends this cell to the executed notebook: it writes the lab's report into __REPORT_DIR__
REPORT_FILES = ("report.txt", "faithfulness.csv", "faithfulness.png", "explanations.png", "explanations.html",
                "identity_terms.csv")
REPORT_CELL = """
import pathlib as _pathlib
_out = _pathlib.Path(__REPORT_DIR__)
_out.mkdir(parents=True, exist_ok=True)
table.to_csv(_out / "faithfulness.csv", index=False)
plot_faithfulness(table).savefig(_out / "faithfulness.png", dpi=110)
plot_heatmap(side_by_side).savefig(_out / "explanations.png", dpi=110)
(_out / "explanations.html").write_text("".join(heatmap_html(a.tokens, a.scores, _caption) for a, _caption in
                                                 zip(side_by_side, [a.method for a in side_by_side])))
terms_table.to_csv(_out / "identity_terms.csv", index=False)
(_out / "report.txt").write_text(f"model: {cfg.model_dir or 'tiny random (grade mode)'}\\n"
                                 f"faithfulness (AOPC over k = 1, 5, 10, 20, 50% of the words; comprehensiveness: "
                                 f"higher is better, sufficiency: lower is better), {len(sample)} test comments:\\n"
                                 f"{table.to_string(index=False)}\\n\\nidentity terms:\\n{terms_table.to_string(index=False)}\\n")
"""
