"""Visible exercise checks for lab 6a: pytest tests run by toxlab.grading.check.

Each test is named test_<exercise>__<what> and takes the `student` fixture: it asks the student's
notebook to call a function on inputs made here (`student.call(...)`) and gets plain data back
(toxlab.grading.wire: lists, dicts, numpy arrays, wire.Tensor, wire.Dataset, wire.Args). The
expected values are computed here, never in the student's process. Students see these checks,
so they can self-check with Validate; the instructor's hidden checks (course/hidden_checks.py)
go further. Helpers the hidden checks share live here too.
"""

from __future__ import annotations

import numpy as np
import pytest

from toxlab.grading import wire
from toxlab.grading.wire import obj

# --- helpers ----------------------------------------------------------------------------------


def as_ints(got, what: str) -> list[int]:
    """A list of ints from a returned list, tuple or integer array; else a readable failure."""
    if isinstance(got, np.ndarray) and got.dtype.kind in "iub" and got.ndim == 1:
        return [int(x) for x in got]
    assert isinstance(got, (list, tuple)) and all(type(x) is int for x in got), (
        f"{what} should be a list of ints, got {type(got).__name__}")
    return list(got)


def as_tensor(got, what: str) -> wire.Tensor:
    assert isinstance(got, wire.Tensor), f"{what} should return a torch.Tensor, got {type(got).__name__}"
    return got


def as_float(got, what: str) -> float:
    if isinstance(got, wire.Tensor) and got.values.size == 1:
        got = got.values.item()
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    assert type(got) in (int, float) and np.isfinite(got), f"{what} should be a finite number, got {type(got).__name__}"
    return float(got)


def loss_inputs(labels=(0, 0, 0, 0, 1, 1), seed: int = 0) -> dict:
    """A batch for compute_loss: token ids, a padded attention mask, labels (plain data and the object specs)."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    ids = rng.integers(1000, 5000, size=(n, 7))
    mask = np.ones((n, 7), dtype=np.int64)
    mask[::2, 5:] = 0  # padding in every other row: a loss that ignores the mask differs
    return {"input_ids": ids, "attention_mask": mask, "labels": np.asarray(labels)}


def loss_specs(batch: dict) -> dict:
    return {k: obj("tensor", values=v.tolist(), dtype="int64") for k, v in batch.items()}


def reference_loss(batch: dict, weights, seed: int = 0):
    """The weighted cross-entropy and its gradient for the classifier, computed here."""
    import torch

    from toxlab.grading import objects

    model = objects.model(seed=seed)
    inputs = {k: torch.tensor(v) for k, v in batch.items() if k != "labels"}
    loss = torch.nn.functional.cross_entropy(model(**inputs).logits, torch.tensor(batch["labels"]),
                                             weight=torch.tensor(weights, dtype=torch.float32))
    loss.backward()
    grads = {n: p.grad.numpy() for n, p in model.named_parameters() if n.startswith("classifier.")}
    return float(loss), grads


def student_loss(student, weights, batch: dict, seed: int = 0, **kwargs) -> dict:
    """The student's WeightedLossTrainer.compute_loss on a real Trainer instance, with gradients."""
    return student.trainer("WeightedLossTrainer", "compute_loss", loss_specs(batch), model=obj("model", seed=seed),
                           init={"class_weights": obj("tensor", values=list(weights))}, grad=True, **kwargs)


def reference_proba(texts: list[str], seed: int) -> np.ndarray:
    """Softmax over the classes, one text at a time, truncated to 256 tokens, computed here."""
    import torch

    from toxlab.grading import objects

    model, tok = objects.model(seed=seed), objects.tokenizer()
    with torch.no_grad():
        rows = [torch.softmax(model(**tok([t], truncation=True, max_length=256, return_tensors="pt")).logits, -1)[0]
                for t in texts]
    return torch.stack(rows).numpy()


# --- exercise: label_counts -------------------------------------------------------

def test_label_counts__counts_each_class(student):
    got = as_ints(student.call("count_labels", [0, 1, 0, 0, 1, 0]), "count_labels")
    assert got == [4, 2], f"count_labels([0, 1, 0, 0, 1, 0]) should be [4, 2] (Non-Toxic, Toxic), got {got}"


def test_label_counts__returns_two_ints(student):
    got = as_ints(student.call("count_labels", [1, 1, 0]), "count_labels")
    assert len(got) == 2, f"return [n_non_toxic, n_toxic], got {got}"


# --- exercise: class_weights ------------------------------------------------------

def test_class_weights__full_jigsaw_counts(student):
    w = as_tensor(student.call("compute_class_weights", [144_277, 15_294]), "compute_class_weights")
    assert np.allclose(w.values, [0.0958, 0.9042], atol=1e-3), (
        f"inverse-frequency weights normalised to sum 1 should be about [0.0958, 0.9042], got {w.values.tolist()}")


def test_class_weights__float32_and_sum_one(student):
    w = as_tensor(student.call("compute_class_weights", [90, 10]), "compute_class_weights")
    assert w.dtype == "float32", f"use dtype float32 (the model's), got {w.dtype}"
    assert abs(float(w.values.sum()) - 1) < 1e-5, f"the weights should sum to 1, they sum to {float(w.values.sum()):.4f}"


# --- exercise: tokenize -----------------------------------------------------------

def test_tokenize__truncates_long_comments(student):
    out = student.call("tokenize", {"comment_text": ["a short comment", "word " * 600]})
    assert isinstance(out, dict) and "input_ids" in out, "return the tokenizer's output (a dict with input_ids)"
    lengths = [len(x) for x in out["input_ids"]]
    assert max(lengths) <= 256, f"comments must be cut to 256 tokens (truncation=True, max_length=256); got {lengths}"
    assert lengths[1] == 256, f"a 600-word comment should fill exactly 256 tokens, got {lengths[1]}"


def test_tokenize__returns_model_inputs(student):
    out = student.call("tokenize", {"comment_text": ["one", "two words"]})
    assert isinstance(out, dict) and "input_ids" in out and "attention_mask" in out, (
        f"return the tokenizer's output, got {sorted(out) if isinstance(out, dict) else type(out).__name__}")
    assert len(out["input_ids"]) == 2, "tokenize the whole batch: one row per comment"


# --- exercise: cleanup ------------------------------------------------------------

def tokenized_sample(label=(0, 1, 0)) -> dict:
    """A tokenized dataset's columns: text, the six labels, `label`, and the model inputs."""
    from toxlab.data import LABELS

    cols = {"comment_text": ["a", "b", "c"], **{c: [0, 1, 0] for c in LABELS}, "label": list(label),
            "input_ids": [[101, 1, 102]] * 3, "token_type_ids": [[0, 0, 0]] * 3, "attention_mask": [[1, 1, 1]] * 3}
    cols["insult"] = [1, 1, 0]
    return cols


def as_dataset(got) -> wire.Dataset:
    assert isinstance(got, wire.Dataset), f"clean_columns should return a datasets.Dataset, got {type(got).__name__}"
    return got


def test_cleanup__keeps_only_model_inputs_and_labels(student):
    out = as_dataset(student.call("clean_columns", obj("dataset", columns=tokenized_sample())))
    assert sorted(out.columns) == ["attention_mask", "input_ids", "labels", "token_type_ids"], (
        f"keep input_ids, token_type_ids, attention_mask and `labels`; got {out.columns}")


def test_cleanup__labels_come_from_toxic(student):
    out = as_dataset(student.call("clean_columns", obj("dataset", columns=tokenized_sample())))
    assert as_ints(out.data.get("labels"), "labels") == [0, 1, 0], "`labels` should be the renamed `toxic` column"


# --- exercise: metrics ------------------------------------------------------------

LOGITS = [[2.0, -1.0], [0.5, 1.0], [-1.0, 3.0], [1.0, 0.0], [0.2, 0.1], [-0.5, 0.5]]
LABELS6 = [0, 1, 1, 1, 0, 0]


def student_metrics(student, logits, labels) -> dict:
    m = student.call("compute_metrics", obj("eval_prediction", predictions=np.asarray(logits, dtype=np.float32),
                                            label_ids=np.asarray(labels)))
    assert isinstance(m, dict), f"compute_metrics should return a dict, got {type(m).__name__}"
    return m


def test_metrics__returns_the_four_scores(student):
    m = student_metrics(student, LOGITS, LABELS6)
    assert set(m) >= {"accuracy", "precision", "recall", "f1"}, f"return accuracy, precision, recall, f1; got {list(m)}"
    assert all(0 <= as_float(m[k], k) <= 1 for k in ("accuracy", "precision", "recall", "f1"))


def test_metrics__macro_average(student):
    from sklearn.metrics import f1_score

    m = student_metrics(student, LOGITS, LABELS6)
    preds = np.argmax(LOGITS, axis=1)
    assert as_float(m.get("accuracy"), "accuracy") == pytest.approx(np.mean(preds == LABELS6)), "accuracy of the argmax predictions"
    assert as_float(m.get("f1"), "f1") == pytest.approx(f1_score(LABELS6, preds, average="macro")), (
        "f1 should be the macro average over both classes (average='macro')")


# --- exercise: training_args -------------------------------------------------------

def student_args(student, *args, **kwargs) -> dict:
    got = student.call("make_training_args", "grading-output", *args, **kwargs)
    assert isinstance(got, wire.Args), f"return TrainingArguments, got {type(got).__name__}"
    return got.values


def test_training_args__original_hyperparameters(student):
    a = student_args(student)
    got = (a.get("learning_rate"), a.get("num_train_epochs"), a.get("per_device_train_batch_size"),
           a.get("per_device_eval_batch_size"))
    assert got == (2e-5, 3, 16, 16), f"lr 2e-5, 3 epochs, batch 16/16 expected; got {got}"


def test_training_args__keeps_the_best_epoch_by_f1(student):
    a = student_args(student)
    assert a.get("load_best_model_at_end") is True and a.get("metric_for_best_model") in ("f1", "eval_f1"), (
        "load the best model at the end, chosen by metric_for_best_model='f1'")


# --- exercise: weighted_loss -------------------------------------------------------

def test_weighted_loss__matches_weighted_cross_entropy(student):
    batch = loss_inputs()
    out = student_loss(student, [0.1, 0.9], batch)
    loss = out["value"]
    assert isinstance(loss, wire.Tensor) and loss.shape == (), f"return the loss as a scalar tensor, got {type(loss).__name__}"
    expected, _ = reference_loss(batch, [0.1, 0.9])
    assert abs(float(loss.values) - expected) < 1e-5, (
        f"loss {float(loss.values):.4f} differs from CrossEntropyLoss(weight=self.class_weights): {expected:.4f}")


def test_weighted_loss__return_outputs(student):
    batch = loss_inputs()
    out = student_loss(student, [0.1, 0.9], batch, return_outputs=True)["value"]
    assert isinstance(out, tuple) and len(out) == 2, "with return_outputs=True, return (loss, outputs)"
    expected, _ = reference_loss(batch, [0.1, 0.9])
    assert isinstance(out[0], wire.Tensor) and abs(float(out[0].values) - expected) < 1e-5


# --- exercise: predict_proba -------------------------------------------------------

def test_predict_proba__probabilities(student):
    p = student.call("predict_proba", ["you are great", "a second comment"], obj("model", seed=1), obj("tokenizer"))
    assert isinstance(p, np.ndarray), f"return a numpy array, got {type(p).__name__}"
    assert p.shape == (2, 2), f"return an array of shape (n_texts, 2), got {p.shape}"
    assert np.allclose(p.sum(axis=1), 1, atol=1e-4), f"each row should sum to 1 (softmax over classes), got {p.sum(axis=1)}"
    assert (p >= 0).all(), "probabilities can't be negative: apply a softmax to the logits"


# --- exercise: identity_gap ---------------------------------------------------------

def scorer(template: str, table: dict) -> dict:
    """A scoring function for identity_gap: each filled-in template gets its term's score."""
    return obj("lookup_scorer", table={template.replace("{term}", t): p for t, p in table.items()})


def student_gap(student, template: str, table: dict, terms: list[str]) -> dict:
    res = student.call("identity_gap", scorer(template, table), template, terms)
    assert isinstance(res, dict) and {"gap", "lowest", "highest"} <= set(res), (
        f"return a dict with scores, gap, lowest, highest; got {sorted(res) if isinstance(res, dict) else type(res).__name__}")
    return res


def test_identity_gap__gap_between_terms(student):
    table = {"white": 0.2, "asian": 0.25, "latin": 0.3, "black": 0.7}
    res = student_gap(student, "you are {term}", table, list(table))
    assert as_float(res["gap"], "gap") == pytest.approx(0.5), f"the gap is max - min of the scores: 0.7 - 0.2 = 0.5, got {res['gap']}"


def test_identity_gap__names_the_extremes(student):
    table = {"white": 0.2, "asian": 0.25, "latin": 0.3, "black": 0.7}
    res = student_gap(student, "you are {term}", table, list(table))
    assert (res["lowest"], res["highest"]) == ("white", "black"), (
        f"lowest/highest should be the terms, got {(res['lowest'], res['highest'])}")
