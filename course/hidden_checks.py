"""Hidden exercise checks: the instructor's, never released.

The grade cells' hidden regions call toxlab.grading.check(..., hidden=True), which runs the
tests here named test_<exercise>__<what>. course/nbgrader_config.py points $TOXLAB_HIDDEN_CHECKS
at this file. Each check must fail on the wrong solutions in tests/fixtures/wrong_solutions.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from toxlab.grading_checks import (
    _loss_inputs, _tokenized_sample, call, fake_eval_pred, student_function, trainer_self,
)


# --- label_counts -------------------------------------------------------------------

def test_label_counts__no_toxic_rows(ns):
    got = call(student_function(ns, "count_labels"), [0, 0, 0])
    assert list(got) == [3, 0], f"a split with no toxic rows should give [3, 0], got {list(got)}"


def test_label_counts__on_the_training_split(ns):
    labels = ns["ds"]["train"]["label"]
    got = call(student_function(ns, "count_labels"), labels)
    assert list(got) == np.bincount(np.asarray(labels), minlength=2).tolist()


# --- class_weights ------------------------------------------------------------------

def test_class_weights__balanced_and_three_classes(ns):
    fn = student_function(ns, "compute_class_weights")
    assert np.allclose(call(fn, [5, 5]).numpy(), [0.5, 0.5], atol=1e-6)
    assert np.allclose(call(fn, [1, 2, 4]).numpy(), [4 / 7, 2 / 7, 1 / 7], atol=1e-6), "weights are 1/count, normalised"


# --- tokenize -----------------------------------------------------------------------

def test_tokenize__same_ids_as_the_tokenizer(ns):
    texts = ["Hello THERE, editor!", "ünïcode and emoji 🙂 " * 80, ""]
    out = call(student_function(ns, "tokenize"), {"comment_text": texts})
    ref = ns["tokenizer"](texts, truncation=True, max_length=256)["input_ids"]
    pad = ns["tokenizer"].pad_token_id
    got = [[t for t in row if t != pad] for row in out["input_ids"]]
    assert got == ref, "tokenize comment_text with the lab's tokenizer, truncation=True, max_length=256"


# --- cleanup ------------------------------------------------------------------------

def test_cleanup__uses_toxic_not_label(ns):
    ds = _tokenized_sample().map(lambda r: {"label": 1 - r["label"]})  # `label` now disagrees with `toxic`
    out = call(student_function(ns, "clean_columns"), ds)
    assert [int(x) for x in out["labels"]] == [0, 1, 0], "rename the `toxic` column; `label` is not the target here"
    assert len(out) == 3, "keep every row"


# --- metrics ------------------------------------------------------------------------

def test_metrics__precision_and_recall_are_macro(ns):
    from sklearn.metrics import precision_recall_fscore_support

    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    labels = np.array([1, 0, 0, 0, 0, 1, 1])
    m = call(student_function(ns, "compute_metrics"), fake_eval_pred(logits, labels))
    p, r, f, _ = precision_recall_fscore_support(labels, logits.argmax(1), average="macro")
    assert (float(m["precision"]), float(m["recall"]), float(m["f1"])) == pytest.approx((p, r, f))


# --- training_args --------------------------------------------------------------------

def test_training_args__epoch_schedule_and_weight_decay(ns, tmp_path):
    a = call(student_function(ns, "make_training_args"), str(tmp_path))
    assert (a.eval_strategy, a.save_strategy) == ("epoch", "epoch"), "evaluate and save every epoch"
    assert a.weight_decay == pytest.approx(0.01)


def test_training_args__overrides_apply(ns, tmp_path):
    a = call(student_function(ns, "make_training_args"), str(tmp_path), num_train_epochs=1, learning_rate=5e-5)
    assert (a.num_train_epochs, a.learning_rate) == (1, 5e-5), "pass **overrides on to TrainingArguments"


# --- weighted_loss --------------------------------------------------------------------

def test_weighted_loss__takes_num_items_in_batch(ns):
    fn = ns["WeightedLossTrainer"].compute_loss
    model, inputs = _loss_inputs()
    loss = call(fn, trainer_self([0.3, 0.7]), model, inputs, num_items_in_batch=None)
    assert loss.requires_grad, "the loss must keep its graph so Trainer can backpropagate"


def test_weighted_loss__other_weights(ns):
    model, inputs = _loss_inputs()
    w = [0.7, 0.3]
    loss = call(ns["WeightedLossTrainer"].compute_loss, trainer_self(w), model, dict(inputs))
    labels = inputs.pop("labels")
    ref = torch.nn.functional.cross_entropy(model(**inputs).logits, labels, weight=torch.tensor(w))
    assert torch.allclose(loss, ref, atol=1e-5), "use self.class_weights, in class order"


# --- predict_proba ----------------------------------------------------------------------

def test_predict_proba__softmax_of_the_logits_in_order(ns):
    texts = ["the longest of the three comments here, " * 40, "short", "medium sized one"]
    model, tok = ns["model"], ns["tokenizer"]
    p = np.asarray(call(student_function(ns, "predict_proba"), texts, model, tok))
    model.eval()
    with torch.no_grad():
        ref = [torch.softmax(model(**tok([t], truncation=True, max_length=256, return_tensors="pt")).logits, -1)[0].numpy()
               for t in texts]
    assert np.allclose(p, np.stack(ref), atol=1e-4), "softmax over the class dimension, one row per text, in order"


# --- identity_gap -----------------------------------------------------------------------

def test_identity_gap__any_order_and_template(ns):
    table = {"old": 0.9, "young": 0.1, "teenage": 0.4}
    score = lambda texts: [table[t.split()[-1].strip(".")] for t in texts]  # noqa: E731
    res = call(student_function(ns, "identity_gap"), score, "My neighbour is {term}.", ["teenage", "old", "young"])
    assert float(res["gap"]) == pytest.approx(0.8) and (res["lowest"], res["highest"]) == ("young", "old")
    assert res["scores"] == pytest.approx(table), "scores maps each term to its P(toxic)"
