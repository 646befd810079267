"""What a submission's honest content earns: the checks run in process on the reference notebook's
namespace with some solution cells replaced, and the points shared out as autograde shares them.

The round trip and the hostile set compare real `nbgrader autograde` scores with these.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
from fixtures.submissions import POINTS, SOLUTION_CELL

SOURCE = ROOT / "source" / "toxicity_lab" / "toxicity_lab.ipynb"
HIDDEN = ROOT / "course" / "hidden_checks.py"


def solution_sources() -> dict[str, str]:
    """grade_id -> source of each solution (code) cell of the instructor notebook."""
    nb = nbformat.read(SOURCE, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}


@lru_cache(maxsize=1)
def base_namespace() -> dict:
    """What the notebook's setup cells define, in grade mode's shape (tiny model, demo data)."""
    import tempfile

    import numpy as np
    import torch
    from toxlab.data import load_jigsaw, make_demo_data
    from toxlab.models import minilm_path, tiny_bert
    from transformers import AutoTokenizer, Trainer, TrainingArguments

    data = make_demo_data(tempfile.mkdtemp(prefix="toxlab-expected-"), n_train=120, n_test=40, seed=0)
    return {"np": np, "torch": torch, "Trainer": Trainer, "TrainingArguments": TrainingArguments,
            "tokenizer": AutoTokenizer.from_pretrained(minilm_path()), "model": tiny_bert(),
            "ds": load_jigsaw(data, verbose=False)}


def namespace(base: dict, replace: dict[str, str] | None = None) -> dict:
    """The notebook's globals with every solution cell run, some replaced ({grade_id: source})."""
    ns = dict(base)
    for gid, src in solution_sources().items():
        src = (replace or {}).get(gid, src)
        exec(compile(src, f"<cell {gid}>", "exec"), ns)  # noqa: S102 - our own fixture code
    return ns


def score_of(exercise: str, source: str) -> float:
    """The points `source`, as the exercise's solution cell, earns: the shares of the checks it passes."""
    from toxlab.grading import VISIBLE_CHECKS, LocalStudent, run_check_files
    from toxlab.grading.checker import shares

    ns = namespace(base_namespace(), {SOLUTION_CELL[exercise]: source})
    outcomes = run_check_files(exercise, LocalStudent(ns), [VISIBLE_CHECKS, HIDDEN])
    return shares(outcomes, float(POINTS[exercise]))[0]
