"""The exercise checks, in process: the reference solutions pass, every wrong solution fails.

The nbgrader round trip (tests/test_course.py) runs the same fixtures through real autograding;
this file gives fast, readable failures for the checks themselves.
"""

import re

import nbformat
import numpy as np
import pytest
import torch
from transformers import Trainer, TrainingArguments

from conftest import ROOT
from fixtures.wrong_solutions import SOLUTION_CELL, WRONG
from toxlab.grading import ExerciseFailed, check, run_checks

SOURCE = ROOT / "source" / "toxicity_lab" / "toxicity_lab.ipynb"
HIDDEN = ROOT / "course" / "hidden_checks.py"


def solution_sources() -> dict[str, str]:
    nb = nbformat.read(SOURCE, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}


@pytest.fixture(scope="module")
def base_ns(minilm_tokenizer, demo_dir):
    from toxlab.data import load_jigsaw
    from toxlab.models import tiny_bert

    return {"np": np, "torch": torch, "Trainer": Trainer, "TrainingArguments": TrainingArguments,
            "tokenizer": minilm_tokenizer, "model": tiny_bert(), "ds": load_jigsaw(demo_dir, verbose=False)}


@pytest.fixture(autouse=True)
def hidden_checks(monkeypatch):
    monkeypatch.setenv("TOXLAB_HIDDEN_CHECKS", str(HIDDEN))


def namespace(base: dict, replace: tuple[str, str] | None = None) -> dict:
    """The notebook's globals with every solution cell run, one optionally replaced."""
    ns = dict(base)
    for gid, src in solution_sources().items():
        if replace and gid == replace[0]:
            src = replace[1]
        exec(compile(src, f"<cell {gid}>", "exec"), ns)  # noqa: S102 - our own fixture code
    return ns


def passing(ns: dict) -> dict[str, bool]:
    """Exercise -> whether all its visible and hidden checks pass (two pytest runs in all)."""
    outcomes = [o for hidden in (False, True) for o in run_checks(list(SOLUTION_CELL), ns, hidden=hidden)]
    return {ex: all(o.passed for o in outcomes if o.exercise == ex) for ex in SOLUTION_CELL}


def test_every_solution_cell_has_an_exercise():
    assert set(solution_sources()) == set(SOLUTION_CELL.values()), "source notebook and fixtures disagree"


def test_reference_solutions_pass(base_ns):
    result = passing(namespace(base_ns))
    assert all(result.values()), f"failing with the reference solution: {[e for e, ok in result.items() if not ok]}"


WRONG_CASES = [(ex, name, src) for ex, cases in WRONG.items() for name, src in cases]


@pytest.mark.parametrize("exercise,name,src", WRONG_CASES, ids=[f"{e}-{n}" for e, n, _ in WRONG_CASES])
def test_wrong_solution_fails_its_exercise_only(exercise, name, src, base_ns):
    result = passing(namespace(base_ns, (SOLUTION_CELL[exercise], src)))
    assert not result.pop(exercise), f"{exercise}/{name} should fail"
    assert all(result.values()), f"{exercise}/{name} also fails {[e for e, ok in result.items() if not ok]}"


def test_at_least_two_wrong_solutions_each():
    assert all(len(WRONG[ex]) >= 2 for ex in SOLUTION_CELL)


def test_check_prints_summary_and_raises(base_ns, capsys):
    check("identity_gap", namespace(base_ns))
    assert "identity_gap: 2/2 checks passed" in capsys.readouterr().out
    with pytest.raises(ExerciseFailed, match="failed"):
        check("identity_gap", namespace(base_ns, ("identity_gap", WRONG["identity_gap"][1][1])), hidden=True)
    out = capsys.readouterr()
    assert "FAIL" in out.out and "hint:" in out.out and out.err == ""


def test_unknown_exercise_and_missing_hidden_checks(base_ns, monkeypatch):
    with pytest.raises(ExerciseFailed, match="no checks named"):
        check("nope", {})
    monkeypatch.delenv("TOXLAB_HIDDEN_CHECKS")
    with pytest.raises(ExerciseFailed, match="hidden checks not found"):
        check("tokenize", namespace(base_ns), hidden=True)


def test_grade_cells_call_visible_and_hidden_checks():
    nb = nbformat.read(SOURCE, as_version=4)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert {re.search(r'check\("(\w+)"', c.source).group(1) for c in cells} == set(SOLUTION_CELL)
    for c in cells:
        assert "### BEGIN HIDDEN TESTS" in c.source and "hidden=True" in c.source
