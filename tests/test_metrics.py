"""toxlab.metrics: compute_metrics, threshold choice, report, plots."""

import matplotlib
import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_auc_score
from transformers import EvalPrediction

from toxlab.metrics import (
    choose_threshold, compute_metrics, macro_f1_by_threshold, plot_confusion_matrix, plot_label_counts,
    plot_precision_recall, report, scores, softmax,
)

rng = np.random.default_rng(0)
Y = (rng.random(400) < 0.1).astype(int)
LOGITS = np.c_[np.zeros(400), rng.normal(size=400) + 2.5 * Y - 1.0]  # (n, 2)


def test_compute_metrics_is_macro_and_has_roc_auc(capsys):
    m = compute_metrics(EvalPrediction(predictions=LOGITS, label_ids=Y))
    preds = LOGITS.argmax(1)
    assert m["f1"] == pytest.approx(f1_score(Y, preds, average="macro"))
    assert m["f1"] != pytest.approx(f1_score(Y, preds, average="binary"))
    assert m["roc_auc"] == pytest.approx(roc_auc_score(Y, softmax(LOGITS)[:, 1]))
    assert set(m) == {"accuracy", "precision", "recall", "f1", "roc_auc"}
    assert capsys.readouterr().out == ""


def test_compute_metrics_accepts_tuple_predictions():
    a = compute_metrics(EvalPrediction(predictions=(LOGITS, np.zeros((400, 3))), label_ids=Y))
    assert a == compute_metrics(EvalPrediction(predictions=LOGITS, label_ids=Y))


def test_softmax_is_stable():
    assert np.allclose(softmax(np.array([[1000.0, 1000.0]])), 0.5)


def test_threshold_maximises_macro_f1_against_brute_force():
    p = softmax(LOGITS)[:, 1]
    t = choose_threshold(Y, p)
    best = max(f1_score(Y, (p >= c).astype(int), average="macro") for c in np.unique(p))
    assert f1_score(Y, (p >= t).astype(int), average="macro") == pytest.approx(best)
    thresholds, f1 = macro_f1_by_threshold(Y, p)
    for c, f in list(zip(thresholds, f1))[::37]:
        assert f == pytest.approx(f1_score(Y, (p >= c).astype(int), average="macro"))


def test_threshold_beats_argmax_on_imbalanced_scores():
    p = np.clip(softmax(LOGITS)[:, 1] * 0.6, 0, 1)  # a model whose toxic scores run low
    t = choose_threshold(Y, p)
    assert t < 0.5 and scores(Y, p, t)["f1"] > scores(Y, p, 0.5)["f1"]


def test_threshold_needs_both_classes():
    with pytest.raises(ValueError, match="one class"):
        choose_threshold([0, 0, 0], [0.1, 0.2, 0.3])


def test_report_names_classes_and_threshold():
    text = report(Y, softmax(LOGITS)[:, 1], 0.3)
    assert "threshold=0.300" in text and "Non-Toxic" in text and "Toxic" in text and "macro avg" in text


def test_plots_return_figures(demo_dir):
    from toxlab.data import load_jigsaw

    p = softmax(LOGITS)[:, 1]
    for fig in (plot_label_counts(load_jigsaw(demo_dir, verbose=False)), plot_confusion_matrix(Y, p, 0.4),
                plot_precision_recall(Y, p, 0.4)):
        assert isinstance(fig, matplotlib.figure.Figure) and fig.axes
    cm = plot_confusion_matrix(Y, p, 0.4).axes[0]
    assert sum(int(t.get_text()) for t in cm.texts) == len(Y)


def test_bootstrap_interval_brackets_the_estimate_and_narrows_with_rows():
    from toxlab.metrics import bootstrap_interval, macro_f1

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    p = np.clip(y * 0.3 + rng.normal(0.35, 0.2, len(y)), 0, 1)
    lo, hi = bootstrap_interval(roc_auc_score, y, p, n_boot=300)
    assert lo < roc_auc_score(y, p) < hi
    lo_s, hi_s = bootstrap_interval(roc_auc_score, y[:200], p[:200], n_boot=300)
    assert hi_s - lo_s > 1.5 * (hi - lo)  # ten times fewer rows: a wider interval
    assert bootstrap_interval(roc_auc_score, y, p, n_boot=100, seed=3) == bootstrap_interval(roc_auc_score, y, p, n_boot=100, seed=3)
    decided = (p >= 0.5).astype(int)
    assert macro_f1(y, decided) == pytest.approx(f1_score(y, decided, average="macro"))


# --- the threshold that holds (issue #29): expected macro F1 at a stated prevalence ---------------

def _population(n, prevalence, rng):
    y = (rng.random(n) < prevalence).astype(int)
    return y, np.where(y == 1, rng.beta(5, 2, n), rng.beta(1.2, 6, n))


def test_expected_macro_f1_at_the_rows_own_prevalence_is_their_macro_f1():
    from toxlab.metrics import expected_f1_by_threshold

    t, f1 = expected_f1_by_threshold(Y, LOGITS[:, 1], Y.mean())
    t_emp, f1_emp = macro_f1_by_threshold(Y, LOGITS[:, 1])
    assert f1.max() == pytest.approx(f1_emp.max()) and t[np.argmax(f1)] == pytest.approx(t_emp[np.argmax(f1_emp)])


def _pooled_argmax_at(labels, p, prevalence):
    """A plausible wrong rule: the argmax of macro F1 on the pooled rows, whatever their class mix."""
    return choose_threshold(labels, p)


@pytest.mark.parametrize("rule,holds", [("threshold_choice", True), ("pooled argmax", False)])
def test_the_pools_class_mix_does_not_move_the_threshold(rule, holds):
    """An enriched pool (half toxic, like the cpu subset's leftovers) must give the threshold of a natural one."""
    from toxlab.metrics import threshold_choice

    rng = np.random.default_rng(1)
    y_big, p_big = _population(50_000, 0.096, rng)
    best = choose_threshold(y_big, p_big)
    pos, neg = np.flatnonzero(y_big == 1)[:3000], np.flatnonzero(y_big == 0)[:3000]
    idx = np.r_[pos, neg]  # 50% toxic
    choose = (lambda y, p: threshold_choice(y, p, 0.096, n_boot=100)["threshold"]) if rule == "threshold_choice" \
        else (lambda y, p: _pooled_argmax_at(y, p, 0.096))
    chosen = choose(y_big[idx], p_big[idx])
    assert (abs(chosen - best) < 0.05) is holds, (chosen, best)


def test_the_bagged_threshold_loses_no_f1_against_one_argmax_on_a_small_split():
    """~500 validation rows (48 toxic) as in train(): the bagged choice does at least as well on the population."""
    from toxlab.metrics import macro_f1, threshold_choice

    rng = np.random.default_rng(0)
    y_big, p_big = _population(50_000, 0.096, rng)
    at = lambda t: macro_f1(y_big, (p_big >= t).astype(int))  # noqa: E731
    one, bagged = [], []
    for k in range(15):
        y, p = _population(500, 0.096, rng)
        one.append(at(choose_threshold(y, p)))
        bagged.append(at(threshold_choice(y, p, 0.096, n_boot=100, seed=k)["threshold"]))
    # the gain is small (here 0.0005 of F1; 0.002 with a lower spread over 30 draws on 200,000 rows): a mean
    # that is no worse is what a test can hold without flaking
    assert np.mean(bagged) >= np.mean(one)


def test_threshold_choice_reports_its_intervals_and_refuses_bad_input():
    from toxlab.metrics import threshold_choice

    y, p = _population(3000, 0.1, np.random.default_rng(2))
    c = threshold_choice(y, p, 0.096, n_boot=100)
    assert c["threshold_interval"][0] <= c["threshold"] <= c["threshold_interval"][1]
    assert c["f1_interval"][0] <= c["f1"] <= c["f1_interval"][1] and c["prevalence"] == 0.096
    assert c["rows"] == 3000 and c["toxic"] == y.sum()
    assert threshold_choice(y, p, 0.096, n_boot=50, seed=3) == threshold_choice(y, p, 0.096, n_boot=50, seed=3)
    # a rarer class wants a stricter cut
    assert threshold_choice(y, p, 0.01, n_boot=50)["threshold"] > c["threshold"]
    for bad in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match="prevalence"):
            threshold_choice(y, p, bad)
    with pytest.raises(ValueError, match="one class"):
        threshold_choice(np.zeros(10), p[:10], 0.1)
