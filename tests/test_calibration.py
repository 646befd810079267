"""toxlab.calibration: ECE, temperature scaling, and a temperature stored with (and read from) a model folder."""

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

from toxlab.calibration import (
    apply_temperature, calibrate, calibration_bins, expected_calibration_error, fit_temperature,
    fit_temperature_and_shift, nll, reliability_diagram,
)
from toxlab.inference import predict, predict_logits
from toxlab.saved import (
    CALIBRATION_KEY, FORMAT_KEY, SHIFT_KEY, TEMPERATURE_KEY, THRESHOLD_KEY, model_logit_shift, model_temperature,
    model_threshold,
)

TEXTS = ["you are an idiot", "thanks for the fix", "", "a much longer comment about the article " * 8, "ok"]


def plain_ece(y, p, n_bins=15):
    """ECE from the definition: per equal-width bin of P(toxic), |toxic share - mean P| weighted by bin size."""
    total, n = 0.0, len(y)
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        rows = [i for i in range(n) if lo <= p[i] < hi or (b == n_bins - 1 and p[i] == 1.0)]
        if rows:
            total += len(rows) / n * abs(np.mean([y[i] for i in rows]) - np.mean([p[i] for i in rows]))
    return total


def unweighted_ece(y, p, n_bins=15):
    """A plausible mistake: the mean gap over non-empty bins, each bin counted once."""
    b = calibration_bins(y, p, n_bins)
    full = b["count"] > 0
    return float(np.mean(np.abs(b["frequency"][full] - b["mean_p"][full])))


def check_ece(ece):
    # 90 rows at P=0.05 of which 9 toxic (gap 0.05), 10 rows at P=0.95 of which 5 toxic (gap 0.45)
    y = np.array([1] * 9 + [0] * 81 + [1] * 5 + [0] * 5)
    p = np.array([0.05] * 90 + [0.95] * 10)
    assert ece(y, p) == pytest.approx(0.9 * 0.05 + 0.1 * 0.45)
    rng = np.random.default_rng(0)
    for _ in range(5):
        p = rng.random(200)
        y = (rng.random(200) < p ** 2).astype(int)
        assert ece(y, p) == pytest.approx(plain_ece(y, p), abs=1e-12)


def test_ece_matches_the_definition():
    check_ece(expected_calibration_error)
    assert expected_calibration_error([0, 1, 1], [0.0, 1.0, 1.0]) == 0.0  # P = 1 falls in the last bin


def test_ece_check_fails_when_bins_are_not_weighted():
    with pytest.raises(AssertionError):
        check_ece(unweighted_ece)


def _overconfident(n, seed):
    """Labels drawn from sigmoid(z) (a calibrated margin z) and the logits of a model 5x too sure."""
    rng = np.random.default_rng(seed)
    z = rng.normal(-1.0, 1.5, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    logits = np.stack([np.zeros(n), 5 * z], axis=1)
    return logits, y


def check_temperature_scaling(fit):
    val_logits, val_y = _overconfident(2000, seed=1)
    test_logits, test_y = _overconfident(2000, seed=2)
    t = fit(val_logits, val_y)
    before = expected_calibration_error(test_y, apply_temperature(test_logits, 1.0)[:, 1])
    after = expected_calibration_error(test_y, apply_temperature(test_logits, t)[:, 1])
    assert t == pytest.approx(5.0, rel=0.15)
    assert after < before / 3 and after < 0.03, (before, after)
    assert nll(test_logits, test_y, t) < nll(test_logits, test_y, 1.0)


def test_temperature_scaling_lowers_ece_on_held_out_rows():
    check_temperature_scaling(fit_temperature)


@pytest.mark.parametrize("wrong", ["inverse", "maximise_nll"])
def test_temperature_check_fails_on_a_wrong_fit(wrong):
    from scipy.optimize import minimize_scalar

    fits = {"inverse": lambda z, y: 1 / fit_temperature(z, y),
            "maximise_nll": lambda z, y: float(np.exp(minimize_scalar(lambda lt: -nll(z, y, np.exp(lt)),
                                                                      bounds=(-4, 4), method="bounded").x))}
    with pytest.raises(AssertionError):
        check_temperature_scaling(fits[wrong])


def _shifted(n, seed):
    """Labels at a real 8% base rate, and the logits of a model trained with class weights on an enriched
    subset: it answers as if toxic comments were common (margin shifted by +2.5) and is too sure (x2)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(-3.0, 1.5, n)  # the calibrated margin: sigmoid(z) is right
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return np.stack([np.zeros(n), 2 * (z + 2.5)], axis=1), y


def check_base_rate_fixed(fit):
    """Fitted on one sample, the calibration must bring a shifted model's test ECE under a third, below 0.03."""
    val_logits, val_y = _shifted(3000, seed=3)
    test_logits, test_y = _shifted(3000, seed=4)
    t, b = fit(val_logits, val_y)
    before = expected_calibration_error(test_y, apply_temperature(test_logits, 1.0)[:, 1])
    after = expected_calibration_error(test_y, apply_temperature(test_logits, t, b)[:, 1])
    assert after < before / 3 and after < 0.03, (t, b, before, after)


def test_temperature_and_shift_fix_a_base_rate_shift():
    """What class-weighted training does to P(toxic) (bench/bias.py: T alone left the test ECE at 0.077)."""
    check_base_rate_fixed(fit_temperature_and_shift)
    t, b = fit_temperature_and_shift(*_shifted(3000, seed=3))
    assert t == pytest.approx(2.0, rel=0.15) and b == pytest.approx(-2.5, abs=0.3)


def test_a_temperature_alone_cannot_fix_a_base_rate_shift():
    with pytest.raises(AssertionError):
        check_base_rate_fixed(lambda z, y: (fit_temperature(z, y), None))


def test_apply_temperature():
    z = np.array([[0.0, 2.0], [1.0, -1.0]])
    assert np.allclose(apply_temperature(z, 1.0), torch.softmax(torch.tensor(z), -1).numpy(), atol=1e-7)
    assert np.allclose(apply_temperature(z, 2.0), torch.softmax(torch.tensor(z / 2), -1).numpy(), atol=1e-7)
    assert np.allclose(apply_temperature(np.array([2.0, -2.0]), 1.0)[:, 1], 1 / (1 + np.exp([-2.0, 2.0])), atol=1e-7)
    with pytest.raises(ValueError, match="positive"):
        apply_temperature(z, 0.0)


def test_reliability_diagram(tmp_path):
    logits, y = _overconfident(500, seed=3)
    fig = reliability_diagram(y, apply_temperature(logits, 1.0)[:, 1], label="raw", path=tmp_path / "r.png")
    reliability_diagram(y, apply_temperature(logits, 5.0)[:, 1], label="T=5", ax=fig.axes[0])
    assert isinstance(fig, matplotlib.figure.Figure) and (tmp_path / "r.png").stat().st_size > 5000
    assert len(fig.axes[0].get_legend().get_texts()) == 3


# --- a temperature stored with the model ------------------------------------------------

@pytest.fixture
def saved(tmp_path, minilm_tokenizer):
    """A tiny model saved like an old toxlab folder: a threshold, no temperature."""
    from toxlab.models import tiny_bert

    model = tiny_bert(seed=2, initializer_range=0.5)
    model.config.update({THRESHOLD_KEY: 0.4})
    folder = tmp_path / "old_model"
    model.save_pretrained(folder)
    minilm_tokenizer.save_pretrained(folder)
    (folder / "toxlab_training.json").write_text(json.dumps({"seed": 7, "validation_size": 0.25,
                                                             "recipe": {"max_length": 64}}))
    return folder


def _rows(n=48):
    rng = np.random.default_rng(0)
    words = ["fine edit", "you idiot", "thanks", "stupid moron", "the article", "good source", "shut up"]
    texts = [" ".join(rng.choice(words, 3)) for _ in range(n)]
    return pd.DataFrame({"comment_text": texts, "label": [int(("idiot" in t) or ("moron" in t)) for t in texts]})


def test_old_folder_without_temperature_loads_and_predicts_as_before(saved):
    from toxlab.models import load_classifier

    model, tokenizer = load_classifier(saved)
    assert model_temperature(model) is None and model_threshold(model) == 0.4
    assert TEMPERATURE_KEY not in json.loads((saved / "config.json").read_text())
    got = predict(TEXTS, model, tokenizer)
    model.eval()
    for text, r in zip(TEXTS, got):  # plain softmax of the model's own logits, one text at a time
        with torch.no_grad():
            p = torch.softmax(model(**tokenizer([text], return_tensors="pt", truncation=True, max_length=256)).logits, -1)[0]
        assert r["p_toxic"] == pytest.approx(p[1].item(), abs=1e-6) and r["label"] == ("Toxic" if p[1] >= 0.4 else "Non-Toxic")


def test_calibrate_writes_temperature_and_threshold_and_predict_uses_them(saved):
    from toxlab.models import load_classifier

    before_cfg = json.loads((saved / "config.json").read_text())
    before_files = {p.name: p.read_bytes() for p in saved.iterdir() if p.name != "config.json"}
    rows = _rows()
    rec = calibrate(saved, rows)  # method "platt": a temperature and a shift
    assert rec["temperature"] > 0 and rec["rows"] == len(rows) and rec["threshold_before"] == 0.4
    assert rec["method"] == "platt" and rec["shift"] is not None and rec["shift"] != 0.0
    assert rec["nll_after"] <= rec["nll_before"] + 1e-12
    cfg = json.loads((saved / "config.json").read_text())
    assert cfg[TEMPERATURE_KEY] == rec["temperature"] and cfg[THRESHOLD_KEY] == rec["threshold"]
    assert cfg[SHIFT_KEY] == rec["shift"] and cfg[CALIBRATION_KEY]["ece_after"] == rec["ece_after"]
    written = (TEMPERATURE_KEY, SHIFT_KEY, THRESHOLD_KEY, CALIBRATION_KEY, FORMAT_KEY)
    assert {k: v for k, v in cfg.items() if k not in written} == \
        {k: v for k, v in before_cfg.items() if k != THRESHOLD_KEY}
    assert {p.name: p.read_bytes() for p in saved.iterdir() if p.name != "config.json"} == before_files

    model, tokenizer = load_classifier(saved)
    assert model_temperature(model) == pytest.approx(rec["temperature"])
    assert model_logit_shift(model) == pytest.approx(rec["shift"])
    logits = predict_logits(TEXTS, model, tokenizer)
    want = apply_temperature(logits, rec["temperature"], rec["shift"])[:, 1]
    got = [r["p_toxic"] for r in predict(TEXTS, model, tokenizer)]
    assert np.allclose(got, want, atol=1e-6)
    assert not np.allclose(got, apply_temperature(logits, 1.0)[:, 1], atol=1e-4)

    with pytest.raises(FileExistsError, match="force=True"):
        calibrate(saved, rows)
    again = calibrate(saved, rows, force=True)  # fitted on raw logits, not on top of the old T
    assert again["temperature"] == pytest.approx(rec["temperature"], rel=1e-4)
    alone = calibrate(saved, rows, force=True, method="temperature")  # replaces the shift too
    assert alone["shift"] is None and json.loads((saved / "config.json").read_text())[SHIFT_KEY] is None
    model, _ = load_classifier(saved)
    assert model_logit_shift(model) is None


def test_calibrate_redraws_train_s_validation_split(saved, demo_dir):
    from toxlab.data import load_jigsaw
    from toxlab.recipe import split_validation

    ds = load_jigsaw(demo_dir, verbose=False)
    rec = calibrate(saved, ds)
    _, val = split_validation(ds["train"], 0.25, 7)  # seed and size from toxlab_training.json
    assert rec["rows"] == len(val) and "seed 7" in rec["fitted_on"]


def test_bad_temperature_and_bad_data(saved, tmp_path):
    from toxlab.models import load_classifier

    with pytest.raises(ValueError, match="missing column"):
        calibrate(saved, pd.DataFrame({"text": ["a"], "label": [0]}))
    with pytest.raises(ValueError, match="one class"):
        calibrate(saved, pd.DataFrame({"comment_text": ["a", "b"], "label": [0, 0]}))
    with pytest.raises(FileNotFoundError, match="config.json"):
        calibrate(tmp_path / "nothing", _rows())
    cfg = json.loads((saved / "config.json").read_text())
    (saved / "config.json").write_text(json.dumps({**cfg, TEMPERATURE_KEY: -1.0}))
    model, _ = load_classifier(saved)
    with pytest.raises(ValueError, match="positive"):
        model_temperature(model)
