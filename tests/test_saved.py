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

