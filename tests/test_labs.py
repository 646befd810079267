"""The lab registry (toxlab.labs) and lab 6b's choice of model: cheap, no notebook runs."""

import pytest

from toxlab import labs
from toxlab.labs import find_saved_model


def test_registry_finds_labs_by_assignment_and_by_exercise():
    assert labs.for_exercise("identity_gap").name == "toxicity_lab"
    assert labs.for_exercise("comprehensiveness").name == "explain_lab"
    with pytest.raises(KeyError, match="no lab named 'nope'.*toxicity_lab"):
        labs.get("nope")
    with pytest.raises(KeyError, match="no lab has checks named test_nope__"):
        labs.for_exercise("nope")


def test_lab_6b_explains_best_model_else_the_newest_run(tmp_path):
    def saved(name: str):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "config.json").write_text("{}")

    assert find_saved_model(tmp_path) is None
    (tmp_path / "run-20260101-090000").mkdir()  # an interrupted run: no model in it
    assert find_saved_model(tmp_path) is None
    saved("run-20260101-100000")
    saved("run-20260102-080000")
    assert find_saved_model(tmp_path).name == "run-20260102-080000"
    saved("best_model")
    assert find_saved_model(tmp_path).name == "best_model"
