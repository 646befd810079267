"""Metrics: compute_metrics for Trainer, the threshold that maximises F1, the report, plots."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score, classification_report, confusion_matrix, precision_recall_fscore_support, roc_auc_score,
)

from .data import id2label


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (n, classes) logits, stable for large values."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def scores(labels, p_toxic, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, macro precision/recall/F1 at `threshold`, and ROC-AUC, from P(toxic)."""
    labels, p_toxic = np.asarray(labels), np.asarray(p_toxic, dtype=np.float64)
    assert labels.shape == p_toxic.shape, f"labels {labels.shape} and p_toxic {p_toxic.shape} differ in shape"
    preds = (p_toxic >= threshold).astype(int)
    precision, recall, f1, _ = precision_recall_fscore_support(labels, preds, average="macro", zero_division=0)
    both_classes = len(np.unique(labels)) == 2
    return {
        "accuracy": float(accuracy_score(labels, preds)),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "roc_auc": float(roc_auc_score(labels, p_toxic)) if both_classes else float("nan"),
        "threshold": float(threshold),
    }


def compute_metrics(eval_pred, verbose: bool = False) -> dict[str, float]:
    """Trainer hook: accuracy and macro precision/recall/F1 (argmax), plus ROC-AUC."""
    logits, labels = eval_pred.predictions, eval_pred.label_ids
    if isinstance(logits, tuple):  # some models return (logits, hidden_states, ...)
        logits = logits[0]
    p_toxic = softmax(np.asarray(logits, dtype=np.float64))[:, 1]  # (n,)
    out = scores(labels, p_toxic, threshold=0.5)
    out.pop("threshold")
    if verbose:
        print(", ".join(f"{k}={v:.4f}" for k, v in out.items()))
    return out


def macro_f1_by_threshold(labels, p_toxic) -> tuple[np.ndarray, np.ndarray]:
    """Macro F1 for every distinct cut of p_toxic: (thresholds, f1), vectorised."""
    y, p = np.asarray(labels).astype(int), np.asarray(p_toxic, dtype=np.float64)
    order = np.argsort(-p, kind="stable")
    y, p = y[order], p[order]
    last_of_tie = np.r_[p[1:] != p[:-1], True]  # a cut may only fall between distinct scores
    k = np.arange(1, len(p) + 1)[last_of_tie]  # rows predicted toxic at each cut
    tp = np.cumsum(y)[last_of_tie]
    fp, pos, neg = k - tp, y.sum(), len(y) - y.sum()
    fn, tn = pos - tp, neg - fp
    f1_pos = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    f1_neg = 2 * tn / np.maximum(2 * tn + fn + fp, 1)
    below = np.r_[p[1:], -np.inf][last_of_tie]  # next lower score
    thresholds = np.where(np.isfinite(below), (p[last_of_tie] + below) / 2, p[last_of_tie])
    return thresholds, (f1_pos + f1_neg) / 2


def choose_threshold(labels, p_toxic) -> float:
    """The decision threshold on P(toxic) that maximises macro F1 on a validation split."""
    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        raise ValueError("choose_threshold: the validation labels hold one class only; it needs both.")
    thresholds, f1 = macro_f1_by_threshold(labels, p_toxic)
    return float(thresholds[int(np.argmax(f1))])


def report(labels, p_toxic, threshold: float = 0.5) -> str:
    """The text classification report at `threshold`, with ROC-AUC and the threshold on top."""
    preds = (np.asarray(p_toxic) >= threshold).astype(int)
    s = scores(labels, p_toxic, threshold)
    head = f"threshold={threshold:.3f}  ROC-AUC={s['roc_auc']:.4f}  macro F1={s['f1']:.4f}\n"
    names = [id2label[0], id2label[1]]
    return head + classification_report(labels, preds, labels=[0, 1], target_names=names, digits=4, zero_division=0)


# ---------------------------------------------------------------------------
# plots: each returns its matplotlib Figure
# ---------------------------------------------------------------------------

def plot_label_counts(ds, column: str = "label"):
    """Bar plot of Non-Toxic/Toxic rows in each split (the original lab's plot)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    splits = list(ds.keys())
    width = 0.8 / len(splits)
    for i, split in enumerate(splits):
        counts = np.bincount(np.asarray(ds[split][column]), minlength=2)
        bars = ax.bar(np.arange(2) + i * width, counts, width, label=split)
        ax.bar_label(bars, fmt="{:,.0f}", fontsize=8)
    ax.set_xticks(np.arange(2) + width * (len(splits) - 1) / 2, [id2label[0], id2label[1]])
    ax.set_ylabel("rows")
    ax.set_title("Label counts per split")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_confusion_matrix(labels, p_toxic, threshold: float = 0.5):
    """Confusion matrix at `threshold`."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    preds = (np.asarray(p_toxic) >= threshold).astype(int)
    cm = confusion_matrix(labels, preds, labels=[0, 1])
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ConfusionMatrixDisplay(cm, display_labels=[id2label[0], id2label[1]]).plot(ax=ax, colorbar=False, values_format="d")
    ax.set_title(f"Confusion matrix (threshold {threshold:.2f})")
    fig.tight_layout()
    return fig


def plot_precision_recall(labels, p_toxic, threshold: float = 0.5):
    """Precision-recall curve for the Toxic class, with the decision threshold marked."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import PrecisionRecallDisplay

    fig, ax = plt.subplots(figsize=(5, 4))
    PrecisionRecallDisplay.from_predictions(labels, p_toxic, ax=ax, name="Toxic")
    preds = (np.asarray(p_toxic) >= threshold).astype(int)
    p, r, _, _ = precision_recall_fscore_support(labels, preds, labels=[1], zero_division=0)
    ax.plot(r[0], p[0], "o", color="crimson", markersize=9, label=f"threshold {threshold:.2f}")
    ax.set_title("Precision-recall (Toxic)")
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
# uncertainty: small test sets (440 rows, 37 toxic) need intervals
# ---------------------------------------------------------------------------

def bootstrap_interval(metric, labels, values, n_boot: int = 1000, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of metric(labels, values) over rows resampled with replacement.

    Resamples that hold one class only are skipped: AUC and macro F1 need both classes."""
    y, v = np.asarray(labels), np.asarray(values)
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        if len(np.unique(y[idx])) == 2:
            stats.append(metric(y[idx], v[idx]))
    lo, hi = np.percentile(stats, [(1 - level) / 2 * 100, (1 + level) / 2 * 100])
    return float(lo), float(hi)


def macro_f1(labels, predicted) -> float:
    """Macro F1 of 0/1 decisions."""
    return float(precision_recall_fscore_support(labels, predicted, average="macro", zero_division=0)[2])


# ---------------------------------------------------------------------------
# a threshold that holds: expected macro F1 at a stated prevalence, from class-conditional rates
# ---------------------------------------------------------------------------
# Why not the argmax of macro F1 on the validation split alone: ~500 rows hold ~48 toxic ones, and the
# F1 curve is flat and ragged near its top, so its argmax jumps by 0.1-0.2 between splits. Here the
# evidence is every scored row training did not use (validation plus the pool rows the enriched subset
# left out), and the rows' own class mix does not matter: TPR(t) comes from the toxic rows alone, FPR(t)
# from the non-toxic rows alone (each an unbiased estimate whatever the pool's mix), and macro F1 is then
# computed for a population with the stated prevalence. The point is the median of the argmaxes over
# bootstrap resamples (bagging): steadier than one argmax on a ragged curve.

THRESHOLD_METHOD = "expected macro F1 at a stated prevalence, class-conditional rates, bagged argmax"


def _class_scores(labels, p_toxic) -> tuple[np.ndarray, np.ndarray]:
    y, p = np.asarray(labels).astype(int), np.asarray(p_toxic, dtype=np.float64)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError(f"labels {y.shape} and p_toxic {p.shape} must be 1-D arrays of one length.")
    pos, neg = np.sort(p[y == 1]), np.sort(p[y == 0])
    if not len(pos) or not len(neg):
        raise ValueError("threshold: the rows hold one class only; class-conditional rates need toxic and non-toxic rows.")
    return pos, neg


def check_prevalence(prevalence: float) -> float:
    """`prevalence` as a float, refused with the fix unless it lies strictly between 0 and 1."""
    prevalence = float(prevalence)
    if not 0.0 < prevalence < 1.0:
        raise ValueError(f"prevalence={prevalence!r}: the share of toxic comments must lie strictly between 0 and 1 "
                         "(Jigsaw's is about 0.096).")
    return prevalence


def _rates(pos_sorted: np.ndarray, neg_sorted: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TPR and FPR at each threshold (a row counts as toxic when its score is >= the threshold)."""
    tpr = 1.0 - np.searchsorted(pos_sorted, thresholds, side="left") / len(pos_sorted)
    fpr = 1.0 - np.searchsorted(neg_sorted, thresholds, side="left") / len(neg_sorted)
    return tpr, fpr


def expected_macro_f1(tpr, fpr, prevalence: float) -> np.ndarray:
    """Macro F1 of a population with `prevalence` toxic rows, classified with these TPR and FPR.

    Per unit of population: TP = pi*TPR, FN = pi*(1-TPR), FP = (1-pi)*FPR, TN = (1-pi)*(1-FPR)."""
    pi = check_prevalence(prevalence)
    tpr, fpr = np.asarray(tpr, dtype=np.float64), np.asarray(fpr, dtype=np.float64)
    tp, fn, fp, tn = pi * tpr, pi * (1 - tpr), (1 - pi) * fpr, (1 - pi) * (1 - fpr)
    f1_pos = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp), where=(2 * tp + fp + fn) > 0)
    f1_neg = np.divide(2 * tn, 2 * tn + fn + fp, out=np.zeros_like(tn), where=(2 * tn + fn + fp) > 0)
    return (f1_pos + f1_neg) / 2


def candidate_thresholds(p_toxic) -> np.ndarray:
    """Midpoints between consecutive distinct scores (and one above the top): every distinct decision."""
    u = np.unique(np.asarray(p_toxic, dtype=np.float64))
    return np.r_[(u[:-1] + u[1:]) / 2, u[-1] + 1e-9] if len(u) > 1 else u


def expected_f1_by_threshold(labels, p_toxic, prevalence: float) -> tuple[np.ndarray, np.ndarray]:
    """(thresholds, expected macro F1 at `prevalence`) over every distinct cut of the scores."""
    pos, neg = _class_scores(labels, p_toxic)
    t = candidate_thresholds(np.r_[pos, neg])
    return t, expected_macro_f1(*_rates(pos, neg, t), prevalence)


def choose_threshold_at_prevalence(labels, p_toxic, prevalence: float) -> float:
    """The cut that maximises expected macro F1 at `prevalence` (one argmax, no bagging)."""
    t, f1 = expected_f1_by_threshold(labels, p_toxic, prevalence)
    return float(t[int(np.argmax(f1))])


def threshold_choice(labels, p_toxic, prevalence: float, n_boot: int = 200, seed: int = 0,
                     level: float = 0.95) -> dict:
    """The decision threshold for a stated prevalence, with bootstrap intervals: a dict with

    threshold (median of the bootstrap argmaxes), prevalence, f1 (expected macro F1 at that threshold on
    all rows), threshold_interval and f1_interval (percentile intervals over resamples drawn within each
    class, since the rates are per class), argmax (the one-shot argmax on all rows), rows, toxic, method."""
    prevalence = check_prevalence(prevalence)
    pos, neg = _class_scores(labels, p_toxic)
    grid = candidate_thresholds(np.r_[pos, neg])
    rng = np.random.default_rng(seed)
    chosen, f1_rows = [], []
    for _ in range(n_boot):
        bp = np.sort(rng.choice(pos, len(pos), replace=True))
        bn = np.sort(rng.choice(neg, len(neg), replace=True))
        f1 = expected_macro_f1(*_rates(bp, bn, grid), prevalence)
        chosen.append(grid[int(np.argmax(f1))])
        f1_rows.append((bp, bn))
    threshold = float(np.median(chosen))
    f1_at = [float(expected_macro_f1(*_rates(bp, bn, np.array([threshold])), prevalence)[0]) for bp, bn in f1_rows]
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    return {
        "method": THRESHOLD_METHOD, "threshold": threshold, "prevalence": prevalence,
        "f1": float(expected_macro_f1(*_rates(pos, neg, np.array([threshold])), prevalence)[0]),
        "threshold_interval": [float(x) for x in np.percentile(chosen, [lo, hi])],
        "f1_interval": [float(x) for x in np.percentile(f1_at, [lo, hi])],
        "argmax": float(grid[int(np.argmax(expected_macro_f1(*_rates(pos, neg, grid), prevalence)))]),
        "rows": int(len(pos) + len(neg)), "toxic": int(len(pos)), "n_boot": int(n_boot), "level": level,
    }
