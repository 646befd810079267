"""toxlab.saved: the one owner of the saved folder; a folder written before it existed still loads the same.

tests/fixtures/saved_v0 was written by tests/fixtures/make_saved_v0.py on the code before toxlab.saved
(format 0: no toxlab_format key): a 1-layer 8-wide BERT, calibrated ("platt"), with a TF-IDF part.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from toxlab import saved
from toxlab.inference import predict
from toxlab.models import load_classifier

V0 = Path(__file__).parent / "fixtures" / "saved_v0"
EXPECTED = json.loads((V0 / "expected.json").read_text())


def test_a_version_0_folder_predicts_what_the_old_code_predicted():
    model, tokenizer = load_classifier(V0)
    rows = predict(EXPECTED["texts"], model, tokenizer)
    np.testing.assert_allclose([r["p_toxic"] for r in rows], EXPECTED["p_toxic"], rtol=0, atol=1e-6)
    assert [r["label"] for r in rows] == EXPECTED["labels"]


def test_saved_reads_every_key_of_a_version_0_folder():
    model, _ = load_classifier(V0)
    config = json.loads((V0 / saved.CONFIG_FILE).read_text())
    assert saved.FORMAT_KEY not in config and saved.check_format(model.config) == 0
    assert saved.model_threshold(model) == config["toxlab_threshold"]
    assert saved.model_temperature(model) == config["toxlab_temperature"]
    assert saved.model_logit_shift(model) == config["toxlab_logit_shift"]
    assert saved.model_lexical_weight(model) == config["toxlab_lexical_weight"] == 0.3
    assert config[saved.CALIBRATION_KEY]["method"] == "platt"
    assert saved.lexical_path(V0).is_file()
    assert saved.read_training_meta(V0)["preset"] == "cpu"


def test_a_folder_from_a_newer_toxlab_is_refused_with_the_fix(tmp_path):
    folder = shutil.copytree(V0, tmp_path / "v9")
    saved.update_config(folder, {saved.FORMAT_KEY: saved.FORMAT_VERSION + 1})
    with pytest.raises(ValueError, match="upgrade toxlab"):
        load_classifier(folder)


def test_update_config_keeps_other_keys(tmp_path):
    folder = shutil.copytree(V0, tmp_path / "copy")
    before = saved.read_config(folder)
    after = saved.update_config(folder, {saved.THRESHOLD_KEY: 0.25})
    assert after == {**before, saved.THRESHOLD_KEY: 0.25} == saved.read_config(folder)
    with pytest.raises(FileNotFoundError, match="no config.json"):
        saved.read_config(tmp_path)


def test_bad_values_name_the_key_and_the_fix():
    class Config:
        toxlab_temperature, toxlab_logit_shift, toxlab_lexical_weight = -1.0, float("inf"), 2.0

    class Model:
        config = Config()

    with pytest.raises(ValueError, match="toxlab_temperature.*calibrate"):
        saved.model_temperature(Model())
    with pytest.raises(ValueError, match="toxlab_logit_shift"):
        saved.model_logit_shift(Model())
    with pytest.raises(ValueError, match="toxlab_lexical_weight.*retrain"):
        saved.model_lexical_weight(Model())



def test_heldout_scores_and_the_thresholds_prevalence_round_trip(tmp_path):
    """train() saves the scores the threshold was chosen from and the prevalence it assumes (issue #29); a
    folder without them (lab 6a's, older ones) reads as None, not as an error."""
    from types import SimpleNamespace

    from toxlab.metrics import threshold_choice

    p, y = [0.1, 0.93, 0.2, 0.875, 0.05, 0.6], [0, 1, 0, 1, 0, 0]
    saved.write_heldout_scores(tmp_path, p, y, ["validation"] * 3 + ["unseen"] * 3)
    back = saved.read_heldout_scores(tmp_path)
    assert back == {"p_toxic": p, "label": y, "source": ["validation"] * 3 + ["unseen"] * 3}
    assert saved.read_heldout_scores(tmp_path / "none") is None
    with pytest.raises(ValueError, match="three sequences"):
        saved.write_heldout_scores(tmp_path, p, y[:-1], ["x"] * 6)
    model = SimpleNamespace(config=SimpleNamespace(update=lambda d: model.config.__dict__.update(d)))
    assert saved.model_prevalence(model) is None and saved.model_threshold_choice(model) is None
    choice = threshold_choice(y, p, 0.2, n_boot=20)
    saved.set_threshold(model, choice["threshold"], choice)
    assert saved.model_prevalence(model) == 0.2 and saved.model_threshold_choice(model) == choice
    assert saved.model_threshold(model) == choice["threshold"]
    model.config.toxlab_prevalence = 1.5
    with pytest.raises(ValueError, match="toxlab_prevalence"):
        saved.model_prevalence(model)
