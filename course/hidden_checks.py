"""Hidden exercise checks: the instructor's, never released.

The grade cells' hidden regions call toxlab.grading.check(..., hidden=True); the tests here,
named test_<exercise>__<what>, take the same `student` fixture as the visible checks and compute
their expected values here. Under autograde they run in the trusted checker, after every visible
check; a failure shows the assertion's text only when it is a literal of this file (so no hint
carries what the student's code returned). Each check must fail on the wrong solutions in
tests/fixtures/wrong_solutions.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from toxlab.grading import wire
from toxlab.grading.wire import obj
from toxlab.grading_checks import (
    as_dataset, as_float, as_ints, as_tensor, loss_inputs, reference_loss, reference_proba, student_args,
    student_gap, student_loss, student_metrics, tokenized_sample,
)

# --- label_counts -------------------------------------------------------------------


def test_label_counts__no_toxic_rows(student):
    got = as_ints(student.call("count_labels", [0, 0, 0]), "count_labels")
    assert got == [3, 0], "a split with no toxic rows should give [3, 0]"


def test_label_counts__on_a_dataset_column(student):
    labels = np.random.default_rng(7).integers(0, 2, size=101).tolist()
    got = as_ints(student.call("count_labels", obj("column", values=labels)), "count_labels")
    assert got == np.bincount(labels, minlength=2).tolist(), "count a dataset column (ds['train']['label']) too"


# --- class_weights ------------------------------------------------------------------

def test_class_weights__balanced_and_three_classes(student):
    w = as_tensor(student.call("compute_class_weights", [5, 5]), "compute_class_weights")
    assert np.allclose(w.values, [0.5, 0.5], atol=1e-6), "equal counts give equal weights"
    w = as_tensor(student.call("compute_class_weights", [1, 2, 4]), "compute_class_weights")
    assert np.allclose(w.values, [4 / 7, 2 / 7, 1 / 7], atol=1e-6), "weights are 1/count, normalised"


# --- tokenize -----------------------------------------------------------------------

def test_tokenize__same_ids_as_the_tokenizer(student):
    from toxlab.grading import objects

    texts = ["Hello THERE, editor!", "ünïcode and emoji 🙂 " * 80, ""]
    out = student.call("tokenize", {"comment_text": texts})
    tok = objects.tokenizer()
    ref = tok(texts, truncation=True, max_length=256)["input_ids"]
    got = [[int(t) for t in row if t != tok.pad_token_id] for row in out["input_ids"]]
    assert got == ref, "tokenize comment_text with the lab's tokenizer, truncation=True, max_length=256"


# --- cleanup ------------------------------------------------------------------------

def test_cleanup__uses_toxic_not_label(student):
    cols = tokenized_sample(label=(1, 0, 1))  # `label` now disagrees with `toxic`
    out = as_dataset(student.call("clean_columns", obj("dataset", columns=cols)))
    assert as_ints(out.data.get("labels"), "labels") == [0, 1, 0], "rename the `toxic` column; `label` is not the target here"
    assert len(out.data["labels"]) == 3, "keep every row"


# --- metrics ------------------------------------------------------------------------

def test_metrics__precision_and_recall_are_macro(student):
    from sklearn.metrics import precision_recall_fscore_support

    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    labels = np.array([1, 0, 0, 0, 0, 1, 1])
    m = student_metrics(student, logits, labels)
    p, r, f, _ = precision_recall_fscore_support(labels, logits.argmax(1), average="macro")
    got = tuple(as_float(m.get(k), k) for k in ("precision", "recall", "f1"))
    assert got == pytest.approx((p, r, f)), "precision, recall and f1 are macro averages"


# --- training_args --------------------------------------------------------------------

def test_training_args__epoch_schedule_and_weight_decay(student):
    a = student_args(student)
    assert (a.get("eval_strategy"), a.get("save_strategy")) == ("epoch", "epoch"), "evaluate and save every epoch"
    assert a.get("weight_decay") == pytest.approx(0.01), "weight decay 0.01"


def test_training_args__overrides_apply(student):
    a = student_args(student, num_train_epochs=1, learning_rate=5e-5)
    assert (a.get("num_train_epochs"), a.get("learning_rate")) == (1, 5e-5), "pass **overrides on to TrainingArguments"


# --- weighted_loss --------------------------------------------------------------------

def test_weighted_loss__takes_num_items_in_batch_and_keeps_the_graph(student):
    batch = loss_inputs(seed=1)
    out = student_loss(student, [0.3, 0.7], batch, num_items_in_batch=None)
    loss = out["value"]
    assert isinstance(loss, wire.Tensor) and loss.requires_grad, "the loss must keep its graph so Trainer can backpropagate"
    _, grads = reference_loss(batch, [0.3, 0.7])
    got = out.get("grad", {})
    assert set(got) == set(grads) and all(np.allclose(got[k].values, grads[k], atol=1e-5) for k in grads), (
        "the gradient of the loss differs from the weighted cross-entropy's")


def test_weighted_loss__other_weights(student):
    batch = loss_inputs(labels=(1, 0, 1, 1, 0, 0, 1), seed=2)
    loss = student_loss(student, [0.7, 0.3], batch)["value"]
    expected, _ = reference_loss(batch, [0.7, 0.3])
    assert isinstance(loss, wire.Tensor) and abs(float(loss.values) - expected) < 1e-5, "use self.class_weights, in class order"


# --- predict_proba ----------------------------------------------------------------------

def test_predict_proba__softmax_of_the_logits_in_order(student):
    texts = ["the longest of the three comments here, " * 40, "short", "medium sized one"]
    p = student.call("predict_proba", texts, obj("model", seed=2), obj("tokenizer"))
    ref = reference_proba(texts, seed=2)
    assert isinstance(p, np.ndarray) and p.shape == ref.shape and np.allclose(p, ref, atol=1e-4), (
        "softmax over the class dimension, one row per text, in order")


# --- identity_gap -----------------------------------------------------------------------

def test_identity_gap__any_order_and_template(student):
    table = {"teenage": 0.4, "old": 0.9, "young": 0.1}
    res = student_gap(student, "My neighbour is {term}.", table, ["teenage", "old", "young"])
    assert as_float(res["gap"], "gap") == pytest.approx(0.8), "gap = highest - lowest, whatever the order of terms"
    assert (res["lowest"], res["highest"]) == ("young", "old"), "lowest and highest name the terms"
    scores = res.get("scores")
    assert isinstance(scores, dict) and {k: as_float(v, k) for k, v in scores.items()} == pytest.approx(table), (
        "scores maps each term to its P(toxic)")
