"""Lab 6b's run modes: which model it explains, on how many comments.

  gpu   : the model lab 6a saved (or `toxlab train` did), 200 test comments for faithfulness, IG with 50 steps
  cpu   : the same model, 40 short test comments, IG with 32 steps (a few minutes on a laptop)
  grade : under nbgrader: a tiny random BERT, 6 demo comments, IG with 8 steps (seconds)

In cpu and gpu mode the lab explains the model lab 6a saved, found by toxlab.labs.find_saved_model:
$TOXLAB_MODEL_DIR when set, else saved_models/ beside the notebook, then the sibling
../toxicity_lab/saved_models/ of the course layout (best_model, else the newest run-*). When there is
none it says where it looked and trains the cpu recipe into saved_models/cpu-recipe first.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import detect_mode, find_saved_model


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
