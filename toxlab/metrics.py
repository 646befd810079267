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
