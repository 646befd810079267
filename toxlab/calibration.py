"""Calibration: expected calibration error, the reliability diagram, temperature scaling, `calibrate`.

**Which probability.** Everything here is about the positive class: P(toxic), the number toxlab
thresholds. The ECE bins rows by P(toxic) into equal-width bins over [0, 1] (15 by default; a
score of exactly 1 goes into the last bin) and averages |share of toxic rows - mean P(toxic)| over
the bins, each weighted by its share of the rows. (The "top-label" ECE of multi-class papers bins
max(P) and compares it with accuracy; for two classes it folds P and 1-P together, hiding on which
side a model errs, so toxlab does not use it.)

**Temperature scaling** (Guo et al. 2017) divides the logits by one number T > 0 fitted on a
validation split by minimising the negative log-likelihood. It changes no ranking (the AUC stays
the same) but moves probabilities towards 0.5 (T > 1, an overconfident model) or away from it.

**Why a shift too ("platt", the default).** toxlab trains with class weights, often on a
toxic-enriched subset, so its P(toxic) answers as if toxic comments were far more common than they
are: a base-rate shift, which no temperature can undo (on the shared real rows the fitted T stays
near 1 and the test ECE does not fall: 0.075 -> 0.077). Fitting a shift b of the toxic logit
together with T (Platt scaling on the logit margin: P(toxic) = sigmoid(margin / T + b)) does
(0.075 -> 0.046, bench/bias.py). It is still monotone: rankings and AUCs stay the same. Method
"temperature" fits T alone.

**Stored with the model.** `calibrate(model_dir, data)` writes T (and b) into the folder's config.json
(`toxlab_temperature`, `toxlab_logit_shift`) together with the decision threshold re-tuned (macro F1, `choose_threshold`)
on the calibrated validation probabilities; `toxlab.inference.predict` then returns calibrated
probabilities. A folder without a temperature loads and predicts exactly as before.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import numpy as np

from . import saved
from .inference import predict_logits, probabilities
from .metrics import choose_threshold, scores
from .recipe import VALIDATION_SIZE, split_validation

N_BINS = 15
T_BOUNDS = (1e-2, 1e2)  # the search range for T
METHODS = ("platt", "temperature")  # T and a toxic-logit shift b (the default), or T alone
SHIFT_BOUNDS = (-20.0, 20.0)  # the search range for b


def _check(labels, p_toxic):
    y, p = np.asarray(labels).astype(int), np.asarray(p_toxic, dtype=np.float64)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError(f"labels {y.shape} and p_toxic {p.shape} must be 1-D arrays of one length.")
    if p.size and (np.nanmin(p) < 0 or np.nanmax(p) > 1):
        raise ValueError("p_toxic: probabilities must lie in [0, 1].")
    return y, p


def calibration_bins(labels, p_toxic, n_bins: int = N_BINS) -> dict[str, np.ndarray]:
    """Per equal-width bin of P(toxic): count, mean P(toxic) and share of toxic rows (NaN when empty)."""
    y, p = _check(labels, p_toxic)
    idx = np.minimum((p * n_bins).astype(int), n_bins - 1)
    count = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(idx, weights=p, minlength=n_bins) / count
        frequency = np.bincount(idx, weights=y, minlength=n_bins) / count
    edges = np.linspace(0, 1, n_bins + 1)
    return {"count": count, "mean_p": confidence, "frequency": frequency, "edges": edges}


def expected_calibration_error(labels, p_toxic, n_bins: int = N_BINS) -> float:
    """ECE over P(toxic): sum over bins of (rows in bin / all rows) * |toxic share - mean P(toxic)|."""
    b = calibration_bins(labels, p_toxic, n_bins)
    full = b["count"] > 0
    if not full.any():
        return float("nan")
    gap = np.abs(b["frequency"][full] - b["mean_p"][full])
    return float(np.sum(b["count"][full] / b["count"].sum() * gap))


def reliability_diagram(labels, p_toxic, n_bins: int = N_BINS, ax=None, label: str | None = None,
                        title: str = "Reliability diagram", path=None):
    """Share of toxic rows against mean P(toxic) per bin, the diagonal, and row counts; returns the figure.

    Pass `ax` to draw several models into one plot (each call adds a curve)."""
    import matplotlib.pyplot as plt

    b = calibration_bins(labels, p_toxic, n_bins)
    ece = expected_calibration_error(labels, p_toxic, n_bins)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.8, 4.6))
        ax.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1, label="perfectly calibrated")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("mean P(toxic) in bin")
        ax.set_ylabel("share of toxic rows in bin")
        ax.set_title(title, fontsize=10)
    fig = ax.figure
    full = b["count"] > 0
    line, = ax.plot(b["mean_p"][full], b["frequency"][full], "-", lw=1.2, label=f"{label or 'model'} (ECE {ece:.3f})")
    ax.scatter(b["mean_p"][full], b["frequency"][full], s=np.clip(8 + 2 * np.sqrt(b["count"][full]), 8, 120),
               color=line.get_color(), zorder=3)  # marker area grows with the rows in the bin
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    return fig


# ---------------------------------------------------------------------------
# temperature scaling
# ---------------------------------------------------------------------------

def _as_logits(logits) -> np.ndarray:
    """(n, 2) logits; a 1-D array is read as the toxic-minus-non-toxic margin."""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim == 1:
        z = np.stack([np.zeros_like(z), z], axis=1)
    if z.ndim != 2:
        raise ValueError(f"logits: expected (n, classes) or (n,), got shape {z.shape}.")
    return z


def nll(logits, labels, temperature: float = 1.0, shift: float = 0.0) -> float:
    """Mean negative log-likelihood of the labels under softmax(logits / temperature), `shift` added to the
    toxic (last) logit."""
    z = _as_logits(logits) / temperature
    z[:, -1] += shift
    y = np.asarray(labels).astype(int)
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(y)), y]))


def fit_temperature(logits, labels, bounds: tuple[float, float] = T_BOUNDS) -> float:
    """The temperature T > 0 that minimises the NLL of `labels` under softmax(logits / T).

    A bounded 1-D search (scipy's minimize_scalar) over log T in log(bounds)."""
    from scipy.optimize import minimize_scalar

    z, y = _as_logits(logits), np.asarray(labels).astype(int)
    if len(y) != len(z) or len(y) == 0:
        raise ValueError(f"fit_temperature: {len(z)} logits and {len(y)} labels; give one label per row.")
    res = minimize_scalar(lambda log_t: nll(z, y, np.exp(log_t)), bounds=np.log(bounds), method="bounded",
                          options={"xatol": 1e-6})
    return float(np.exp(res.x))


def fit_temperature_and_shift(logits, labels, bounds: tuple[float, float] = T_BOUNDS) -> tuple[float, float]:
    """(T, b) minimising the NLL of `labels` under softmax(logits / T) with b added to the toxic logit.

    Platt scaling on the logit margin, written as a temperature and a shift (scipy's L-BFGS-B over
    log T and b, from T = 1, b = 0)."""
    from scipy.optimize import minimize

    z, y = _as_logits(logits), np.asarray(labels).astype(int)
    if len(y) != len(z) or len(y) == 0:
        raise ValueError(f"fit_temperature_and_shift: {len(z)} logits and {len(y)} labels; give one label per row.")
    res = minimize(lambda v: nll(z, y, np.exp(v[0]), v[1]), x0=[0.0, 0.0], method="L-BFGS-B",
                   bounds=[tuple(np.log(bounds)), SHIFT_BOUNDS])
    return float(np.exp(res.x[0])), float(res.x[1])


def apply_temperature(logits, temperature: float, shift: float | None = None) -> np.ndarray:
    """Calibrated probabilities softmax(logits / T) (plus `shift` on the toxic logit), (n, classes); a 1-D
    margin gives (n, 2) too."""
    if not temperature > 0:
        raise ValueError(f"temperature={temperature}: must be positive.")
    return probabilities(_as_logits(logits).astype(np.float32), float(temperature), shift)


# ---------------------------------------------------------------------------
# calibrate a saved model folder
# ---------------------------------------------------------------------------

def validation_rows(model_dir: Path, data):
    """The labelled rows to fit T on: a Dataset/DataFrame as given, or a DatasetDict's "validation"
    split, else the rows saved with the model (toxlab_validation.csv, lab 6a writes it), else the validation
    split toxlab.training.train carved from its "train" (same seed and size, read from toxlab_training.json)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        missing = [c for c in ("comment_text", "label") if c not in data.columns]
        if missing:
            raise ValueError(f"data: missing column(s) {missing}; pass rows with comment_text and label.")
        return list(data["comment_text"].astype(str)), np.asarray(data["label"]).astype(int), "given rows"
    if isinstance(data, Mapping):  # a DatasetDict (or a dict of splits)
        if "validation" in data:
            split = data["validation"]
            how = "the data's validation split"
        elif (saved_rows := saved.read_validation(model_dir)) is not None:
            texts, labels = saved_rows
            return texts, np.asarray(labels).astype(int), "the validation rows saved with the model"
        elif "train" in data:
            meta = saved.read_training_meta(model_dir)
            size = meta.get("validation_size") or meta.get("validation_rows") or VALIDATION_SIZE
            seed = int(meta.get("seed", 42))
            _, split = split_validation(data["train"], size, seed)
            how = f"the validation split train() carved from train (size {size}, seed {seed})"
        else:
            raise ValueError("data: a DatasetDict needs a 'validation' or a 'train' split.")
    else:
        split, how = data, "given rows"
    if "comment_text" not in split.column_names or "label" not in split.column_names:
        raise ValueError("data: the rows need comment_text and label columns (toxlab.data.load_jigsaw gives them).")
    return list(split["comment_text"]), np.asarray(split["label"]).astype(int), how


def calibrate(model_dir: str | os.PathLike, data, force: bool = False, n_bins: int = N_BINS,
              batch_size: int = 64, max_length: int | None = None, model=None, tokenizer=None,
              method: str = "platt") -> dict:
    """Fit a temperature (and, method "platt", a shift) on validation rows and store it, with the re-tuned
    threshold, in the model folder.

    `data`: a DatasetDict from `load_jigsaw` (its "validation" split, else the validation split that
    `train` carved from "train", re-drawn with the seed and size saved in toxlab_training.json), or a
    Dataset / DataFrame of labelled rows (comment_text, label). Only config.json changes: it gains
    `toxlab_temperature`, `toxlab_logit_shift` (method "platt"), `toxlab_calibration` (the method, T, b,
    the threshold before, validation ECE and NLL before and after), the new `toxlab_threshold` and `toxlab_format`
    (toxlab.saved has them all). A folder that already has a temperature is left alone unless force=True (the new T is then fitted on raw logits, not on top of the old one).
    Pass `model`/`tokenizer` when already loaded (the folder's weights). Returns the calibration record."""
    from .models import load_classifier

    if method not in METHODS:
        raise ValueError(f"method={method!r}: choose one of {list(METHODS)}.")
    model_dir = Path(model_dir)
    config = saved.read_config(model_dir)
    if config.get(saved.TEMPERATURE_KEY) is not None and not force:
        raise FileExistsError(f"{model_dir}: already calibrated (temperature {config[saved.TEMPERATURE_KEY]:.4g}); "
                              "pass force=True to fit it again and replace it.")
    if model is None or tokenizer is None:
        model, tokenizer = load_classifier(model_dir)
    if max_length is None:  # as the model was trained (a folder from elsewhere: 256, predict's own default)
        max_length = int(saved.read_training_meta(model_dir).get("recipe", {}).get("max_length", 256))
    texts, y, how = validation_rows(model_dir, data)
    if len(np.unique(y)) < 2:
        raise ValueError("calibrate: the validation rows hold one class only; temperature scaling needs both.")
    logits = predict_logits(texts, model, tokenizer, batch_size=batch_size, max_length=max_length)
    record = calibration_record(logits, y, n_bins=n_bins, method=method)
    record.update({"fitted_on": how, "rows": int(len(y)), "threshold_before": config.get(saved.THRESHOLD_KEY)})
    saved.update_config(model_dir, saved.calibration_keys(record))
    saved.set_calibration(model, record)
    return record


def calibration_record(logits, labels, n_bins: int = N_BINS, method: str = "platt") -> dict:
    """Fit T (and b, method "platt") on (logits, labels), re-tune the macro-F1 threshold on the calibrated
    probabilities, and report ECE and NLL before and after (all on these rows)."""
    if method not in METHODS:
        raise ValueError(f"method={method!r}: choose one of {list(METHODS)}.")
    y = np.asarray(labels).astype(int)
    t, b = fit_temperature_and_shift(logits, y) if method == "platt" else (fit_temperature(logits, y), None)
    raw = apply_temperature(logits, 1.0)[:, 1]
    cal = apply_temperature(logits, t, b)[:, 1]
    threshold = choose_threshold(y, cal)
    return {"method": method, "temperature": t, "shift": b, "threshold": threshold, "n_bins": n_bins,
            "ece_before": expected_calibration_error(y, raw, n_bins), "ece_after": expected_calibration_error(y, cal, n_bins),
            "nll_before": nll(logits, y, 1.0), "nll_after": nll(logits, y, t, b or 0.0),
            "f1_after": scores(y, cal, threshold)["f1"]}
