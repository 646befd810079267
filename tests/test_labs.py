"""The lab registry (toxlab.labs) and lab 6b's choice of model: cheap, no notebook runs."""

from pathlib import Path

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


# --- the course layout: nbgrader gives each assignment its own folder under one course folder -----------

@pytest.fixture
def course_layout(tmp_path, monkeypatch, tiny_model, minilm_tokenizer):
    """<course>/toxicity_lab/saved_models/run-*/ holds what lab 6a's save cell writes (a tiny model, its
    threshold and validation rows); the later labs' folders are empty siblings."""
    from toxlab.saved import save_model_folder

    course = tmp_path / "course"
    for lab in labs.LABS:
        (course / lab).mkdir(parents=True)
    run = course / "toxicity_lab" / "saved_models" / "run-20261204-101500"
    save_model_folder(run, tiny_model, minilm_tokenizer, threshold=0.37,
                      validation=(["you are kind", "you are an idiot"], [0, 1]))
    monkeypatch.delenv(labs.MODEL_DIR_ENV, raising=False)

    def no_training(*args, **kwargs):
        raise AssertionError("the lab trained a model although lab 6a saved one")

    monkeypatch.setattr(labs, "train_cpu_recipe", no_training)
    return course, run


@pytest.mark.parametrize("lab", ["explain_lab", "bias_lab"])
def test_later_labs_load_6a_model_and_threshold_from_the_sibling_folder(course_layout, monkeypatch, lab):
    course, run = course_layout
    monkeypatch.chdir(course / lab)
    cfg = labs.get(lab).module("modes").lab_config("cpu")
    assert cfg.model_dir is not None and Path(cfg.model_dir).resolve() == run.resolve()
    _model, _tokenizer, threshold = labs.load_lab_model(cfg)
    assert threshold == pytest.approx(0.37)


def test_only_looking_beside_the_notebook_misses_6a_model(course_layout, monkeypatch):
    """The old lookup (saved_models/ beside the notebook only) is the plausible wrong version: it finds nothing."""
    course, _run = course_layout
    monkeypatch.chdir(course / "explain_lab")
    monkeypatch.setattr(labs, "model_search_roots", lambda: [labs.SAVED])
    assert labs.find_saved_model() is None


def test_a_model_from_6a_outranks_the_fallback_a_later_lab_trained(course_layout, monkeypatch):
    course, run = course_layout
    fallback = course / "bias_lab" / labs.FALLBACK
    fallback.mkdir(parents=True)
    (fallback / "config.json").write_text("{}")
    monkeypatch.chdir(course / "bias_lab")
    assert labs.find_saved_model().resolve() == run.resolve()


def test_saved_validation_rows_are_the_ones_calibration_uses(course_layout):
    from toxlab.calibration import validation_rows

    _course, run = course_layout
    texts, labels, how = validation_rows(run, {"train": None})
    assert texts == ["you are kind", "you are an idiot"] and list(labels) == [0, 1]
    assert "saved with the model" in how


def test_saving_never_replaces_a_model_without_overwrite(course_layout, tiny_model, minilm_tokenizer):
    from toxlab.saved import save_model_folder

    _course, run = course_layout
    with pytest.raises(FileExistsError, match="already holds a model.*overwrite=True"):
        save_model_folder(run, tiny_model, minilm_tokenizer, threshold=0.5)
    with pytest.raises(ValueError, match=r"threshold=1\.5.*\[0, 1\]"):
        save_model_folder(run.parent / "other", tiny_model, minilm_tokenizer, threshold=1.5)


def test_no_model_from_6a_says_where_it_looked_and_what_to_do(tmp_path, monkeypatch, capsys):
    import toxlab.training

    course = tmp_path / "course"
    (course / "explain_lab").mkdir(parents=True)
    monkeypatch.chdir(course / "explain_lab")
    monkeypatch.delenv(labs.MODEL_DIR_ENV, raising=False)
    cfg = labs.get("explain_lab").module("modes").lab_config("cpu")
    assert cfg.model_dir is None

    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(toxlab.training, "train", stop)  # the message must come before any training starts
    with pytest.raises(Stop):
        labs.load_lab_model(cfg)
    said = capsys.readouterr().out
    assert "No model from lab 6a found" in said
    assert str(Path("saved_models") / "best_model") in said
    assert str(Path("..") / "toxicity_lab" / "saved_models") in said
    assert "toxicity_lab.ipynb" in said and labs.MODEL_DIR_ENV in said


def test_a_named_model_dir_that_holds_no_model_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(labs.MODEL_DIR_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=f"{labs.MODEL_DIR_ENV}=.*no config.json"):
        labs.find_saved_model()


def test_6c_compares_the_mitigated_model_at_the_threshold_rule_6a_used(course_layout, monkeypatch, tiny_model,
                                                                        minilm_tokenizer):
    """6a's notebook saves macro F1's argmax on validation; train() saves another rule's threshold and records
    the argmax beside it: the before/after comparison must use the argmax for both models, not mix the rules."""
    from toxlab.saved import save_model_folder, set_threshold

    course, _ = course_layout
    monkeypatch.chdir(course / "bias_lab")
    folder = Path("saved_models") / "mitigated-identity-nontoxic"  # what a finished retraining leaves
    set_threshold(tiny_model, 0.81, {"prevalence": 0.1, "threshold": 0.81, "validation_argmax": 0.42})
    save_model_folder(folder, tiny_model, minilm_tokenizer, threshold=0.81)
    modes = labs.get("bias_lab").module("modes")
    cfg = modes.lab_config("cpu")
    _m, _t, threshold, where = modes.mitigated_model(cfg, "identity-nontoxic")
    assert Path(where) == folder
    assert threshold == pytest.approx(0.42), "the mitigated model was compared at train()'s rule, 6a's model at the argmax"
