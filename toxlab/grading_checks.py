"""Visible exercise checks: pytest tests run by toxlab.grading.check against the student's namespace.

Each test is named test_<exercise>__<what> and takes the `ns` fixture (the notebook's globals).
Students see these, so they can self-check with Validate; the instructor's hidden checks
(course/hidden_checks.py) go further. Shared helpers live here too.
"""

from __future__ import annotations

import inspect
import types

import numpy as np
import pytest
import torch


def student_function(ns: dict, name: str):
    """The student's own function `name`: defined in the notebook, not imported from toxlab."""
    assert name in ns, f"define `{name}` in the notebook (run its cell first)"
    fn = ns[name]
    assert callable(fn), f"`{name}` should be a function"
    module = getattr(fn, "__module__", "") or ""
    assert not module.startswith(("toxlab", "transformers", "sklearn", "torch")), (
        f"`{name}` comes from {module}; write it yourself in the notebook")
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        source = ""
    assert "toxlab" not in source, f"`{name}` calls toxlab; the exercise is to write it yourself"
    return fn


def call(fn, *args, **kwargs):
    """Call the student's function; turn any crash into a readable assertion."""
    try:
        return fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the student's code may raise anything
        raise AssertionError(f"{fn.__name__}(...) raised {type(e).__name__}: {e}") from None


def fake_eval_pred(logits, labels):
    """A stand-in for transformers.EvalPrediction (predictions, label_ids)."""
    return types.SimpleNamespace(predictions=np.asarray(logits), label_ids=np.asarray(labels))


def trainer_self(weights):
    """A minimal `self` for calling a student's compute_loss outside a Trainer."""
    return types.SimpleNamespace(class_weights=torch.as_tensor(weights, dtype=torch.float32),
                                 args=types.SimpleNamespace(average_tokens_across_devices=False, world_size=1))


# --- exercise: label_counts -------------------------------------------------------

def test_label_counts__counts_each_class(ns):
    count_labels = student_function(ns, "count_labels")
    got = call(count_labels, [0, 1, 0, 0, 1, 0])
    assert list(got) == [4, 2], f"count_labels([0, 1, 0, 0, 1, 0]) should be [4, 2] (Non-Toxic, Toxic), got {got}"


def test_label_counts__returns_two_ints(ns):
    got = call(student_function(ns, "count_labels"), [1, 1, 0])
    assert len(got) == 2 and all(int(x) == x for x in got), f"return [n_non_toxic, n_toxic], got {got}"


# --- exercise: class_weights ------------------------------------------------------

def test_class_weights__full_jigsaw_counts(ns):
    w = call(student_function(ns, "compute_class_weights"), [144_277, 15_294])
    assert isinstance(w, torch.Tensor), f"return a torch.Tensor, got {type(w).__name__}"
    assert np.allclose(w.detach().numpy(), [0.0958, 0.9042], atol=1e-3), (
        f"inverse-frequency weights normalised to sum 1 should be about [0.0958, 0.9042], got {w.tolist()}")


def test_class_weights__float32_and_sum_one(ns):
    w = call(student_function(ns, "compute_class_weights"), [90, 10])
    assert w.dtype == torch.float32, f"use dtype float32 (the model's), got {w.dtype}"
    assert abs(float(w.sum()) - 1) < 1e-5, f"the weights should sum to 1, they sum to {float(w.sum()):.4f}"


# --- exercise: tokenize -----------------------------------------------------------

def test_tokenize__truncates_long_comments(ns):
    tokenize = student_function(ns, "tokenize")
    out = call(tokenize, {"comment_text": ["a short comment", "word " * 600]})
    lengths = [len(x) for x in out["input_ids"]]
    assert max(lengths) <= 256, f"comments must be cut to 256 tokens (truncation=True, max_length=256); got {lengths}"
    assert lengths[1] == 256, f"a 600-word comment should fill exactly 256 tokens, got {lengths[1]}"


def test_tokenize__returns_model_inputs(ns):
    out = call(student_function(ns, "tokenize"), {"comment_text": ["one", "two words"]})
    assert "input_ids" in out and "attention_mask" in out, f"return the tokenizer's output, got keys {list(out)}"
    assert len(out["input_ids"]) == 2, "tokenize the whole batch: one row per comment"


# --- exercise: cleanup ------------------------------------------------------------

def _tokenized_sample():
    from datasets import Dataset

    from toxlab.data import LABELS

    cols = {"comment_text": ["a", "b", "c"], **{c: [0, 1, 0] for c in LABELS}, "label": [0, 1, 0],
            "input_ids": [[101, 1, 102]] * 3, "token_type_ids": [[0, 0, 0]] * 3, "attention_mask": [[1, 1, 1]] * 3}
    cols["insult"] = [1, 1, 0]
    return Dataset.from_dict(cols)


def test_cleanup__keeps_only_model_inputs_and_labels(ns):
    out = call(student_function(ns, "clean_columns"), _tokenized_sample())
    assert sorted(out.column_names) == ["attention_mask", "input_ids", "labels", "token_type_ids"], (
        f"keep input_ids, token_type_ids, attention_mask and `labels`; got {out.column_names}")


def test_cleanup__labels_come_from_toxic(ns):
    out = call(student_function(ns, "clean_columns"), _tokenized_sample())
    assert [int(x) for x in out["labels"]] == [0, 1, 0], "`labels` should be the renamed `toxic` column"


# --- exercise: metrics ------------------------------------------------------------

LOGITS = [[2.0, -1.0], [0.5, 1.0], [-1.0, 3.0], [1.0, 0.0], [0.2, 0.1], [-0.5, 0.5]]
LABELS6 = [0, 1, 1, 1, 0, 0]


def test_metrics__returns_the_four_scores(ns):
    m = call(student_function(ns, "compute_metrics"), fake_eval_pred(LOGITS, LABELS6))
    assert set(m) >= {"accuracy", "precision", "recall", "f1"}, f"return accuracy, precision, recall, f1; got {list(m)}"
    assert all(0 <= float(m[k]) <= 1 for k in ("accuracy", "precision", "recall", "f1"))


def test_metrics__macro_average(ns):
    from sklearn.metrics import f1_score

    m = call(student_function(ns, "compute_metrics"), fake_eval_pred(LOGITS, LABELS6))
    preds = np.argmax(LOGITS, axis=1)
    assert float(m["accuracy"]) == pytest.approx(np.mean(preds == LABELS6)), "accuracy of the argmax predictions"
    assert float(m["f1"]) == pytest.approx(f1_score(LABELS6, preds, average="macro")), (
        "f1 should be the macro average over both classes (average='macro')")


# --- exercise: training_args -------------------------------------------------------

def test_training_args__original_hyperparameters(ns, tmp_path):
    from transformers import TrainingArguments

    args = call(student_function(ns, "make_training_args"), str(tmp_path))
    assert isinstance(args, TrainingArguments), f"return TrainingArguments, got {type(args).__name__}"
    got = (args.learning_rate, args.num_train_epochs, args.per_device_train_batch_size, args.per_device_eval_batch_size)
    assert got == (2e-5, 3, 16, 16), f"lr 2e-5, 3 epochs, batch 16/16 expected; got {got}"


def test_training_args__keeps_the_best_epoch_by_f1(ns, tmp_path):
    args = call(student_function(ns, "make_training_args"), str(tmp_path))
    assert args.load_best_model_at_end and args.metric_for_best_model == "f1", (
        "load the best model at the end, chosen by metric_for_best_model='f1'")


# --- exercise: weighted_loss -------------------------------------------------------

def _loss_inputs():
    from toxlab.models import tiny_bert

    torch.manual_seed(0)
    model = tiny_bert(vocab_size=200).eval()  # no dropout: two forward passes must agree
    inputs = {"input_ids": torch.randint(5, 200, (6, 7)), "attention_mask": torch.ones(6, 7, dtype=torch.long),
              "labels": torch.tensor([0, 0, 0, 0, 1, 1])}
    return model, inputs


def _student_loss(ns, weights, **kw):
    cls = ns.get("WeightedLossTrainer")
    assert cls is not None, "define the class WeightedLossTrainer (run its cell)"
    fn = student_function({"compute_loss": cls.compute_loss}, "compute_loss")
    model, inputs = _loss_inputs()
    out = call(fn, trainer_self(weights), model, dict(inputs), **kw)
    labels = inputs.pop("labels")
    expected = torch.nn.CrossEntropyLoss(weight=torch.tensor(weights))(model(**inputs).logits, labels)
    return out, expected


def test_weighted_loss__matches_weighted_cross_entropy(ns):
    loss, expected = _student_loss(ns, [0.1, 0.9])
    assert isinstance(loss, torch.Tensor) and loss.dim() == 0, f"return the loss as a scalar tensor, got {loss!r:.60}"
    assert torch.allclose(loss, expected, atol=1e-5), (
        f"loss {float(loss):.4f} differs from CrossEntropyLoss(weight=self.class_weights): {float(expected):.4f}")


def test_weighted_loss__return_outputs(ns):
    out, expected = _student_loss(ns, [0.1, 0.9], return_outputs=True)
    assert isinstance(out, tuple) and len(out) == 2, "with return_outputs=True, return (loss, outputs)"
    assert torch.allclose(out[0], expected, atol=1e-5)


# --- exercise: predict_proba -------------------------------------------------------

def test_predict_proba__probabilities(ns):
    fn = student_function(ns, "predict_proba")
    p = np.asarray(call(fn, ["you are great", "a second comment"], ns["model"], ns["tokenizer"]))
    assert p.shape == (2, 2), f"return an array of shape (n_texts, 2), got {p.shape}"
    assert np.allclose(p.sum(axis=1), 1, atol=1e-4), f"each row should sum to 1 (softmax over classes), got {p.sum(axis=1)}"
    assert (p >= 0).all(), "probabilities can't be negative: apply a softmax to the logits"


# --- exercise: identity_gap ---------------------------------------------------------

def _fake_scores(texts):
    table = {"white": 0.2, "asian": 0.25, "latin": 0.3, "black": 0.7}
    return [next(v for k, v in table.items() if k in t) for t in texts]


def test_identity_gap__gap_between_terms(ns):
    res = call(student_function(ns, "identity_gap"), _fake_scores, "you are {term}", ["white", "asian", "latin", "black"])
    assert float(res["gap"]) == pytest.approx(0.5), f"the gap is max - min of the scores: 0.7 - 0.2 = 0.5, got {res['gap']}"


def test_identity_gap__names_the_extremes(ns):
    res = call(student_function(ns, "identity_gap"), _fake_scores, "you are {term}", ["white", "asian", "latin", "black"])
    assert (res["lowest"], res["highest"]) == ("white", "black"), f"lowest/highest should be the terms, got {res}"
