"""Visible exercise checks for lab 6a (toxicity_lab): pytest tests run by toxlab.grading.check.

Each test is named test_<exercise>__<what> and takes the `student` fixture: it asks the student's
notebook to call a function on inputs made here (`student.call(...)`) and gets plain data back
(toxlab.grading.wire: lists, dicts, numpy arrays, wire.Tensor; toxlab.labs.codecs: Dataset, Args). The
expected values are worked out here, never in the student's process.

Every example is chosen so that the common mistakes give a different answer: classes in
first-seen or majority order, a missing class, three classes, swapped arguments, texts longer
than the limit, unsorted inputs, padding, non-default arguments. Each failure says which
mistake it points to. An exercise's points are shared out: one share per visible check here,
and one for the hidden checks together (course/hidden_checks/toxicity_lab.py, which the instructor
keeps). Helpers that the hidden checks share live here too; those every lab's checks share live in
toxlab.grading.answers.
"""

from __future__ import annotations

import numpy as np
import pytest

from toxlab.grading import wire
from toxlab.grading.answers import as_float, as_ints, as_tensor, kind  # noqa: F401 - as_float: the hidden checks'
from toxlab.grading.wire import obj
from toxlab.labs import objects
from toxlab.labs.codecs import Args, Dataset

# --- exercise: label_counts -------------------------------------------------------

def test_label_counts__in_class_order(student):
    got = as_ints(student.call("count_labels", [1, 1, 0, 1, 1]), "count_labels")
    assert got == [1, 4], (f"count_labels([1, 1, 0, 1, 1]) should be [1, 4]: Non-Toxic (label 0) first, then Toxic "
                           f"(label 1), whatever order or majority the labels come in; got {got}")


def test_label_counts__a_class_that_never_occurs(student):
    got = as_ints(student.call("count_labels", [0, 0, 0]), "count_labels")
    assert got == [3, 0], f"with no toxic rows the answer is still two counts: [3, 0]; got {got}"


# --- exercise: class_weights ------------------------------------------------------

def test_class_weights__full_jigsaw_counts(student):
    w = as_tensor(student.call("compute_class_weights", [144_277, 15_294]), "compute_class_weights")
    assert np.allclose(w.values, [0.0958, 0.9042], atol=1e-3), (
        f"inverse frequency, normalised to sum 1, should be about [0.0958, 0.9042] (the rare class weighs more); "
        f"got {np.round(w.values, 4).tolist()}")


def test_class_weights__float32_summing_to_one(student):
    w = as_tensor(student.call("compute_class_weights", [90, 10]), "compute_class_weights")
    assert w.dtype == "float32", f"use dtype torch.float32 (the model's), got {w.dtype}"
    assert abs(float(w.values.sum()) - 1) < 1e-5, f"the weights should sum to 1, they sum to {float(w.values.sum()):.4f}"


def test_class_weights__three_classes(student):
    w = as_tensor(student.call("compute_class_weights", [1, 2, 4]), "compute_class_weights")
    assert np.allclose(w.values, [4 / 7, 2 / 7, 1 / 7], atol=1e-6), (
        "for counts [1, 2, 4] the weights are 1/count normalised: [4/7, 2/7, 1/7] (a shortcut that only works for "
        f"two classes, such as 1 - frequency, fails here); got {np.round(w.values, 4).tolist()}")


# --- exercise: tokenize -----------------------------------------------------------

def reference_tokens(texts: list[str]) -> dict:
    """The lab tokenizer's own output: truncation to 256 tokens, no padding (computed here)."""
    return dict(objects.tokenizer()(texts, truncation=True, max_length=256))


def student_tokens(student, texts: list[str]) -> dict:
    out = student.call("tokenize", {"comment_text": texts})
    assert isinstance(out, dict) and "input_ids" in out, (
        f"return the tokenizer's output (it holds input_ids, attention_mask, ...), got {kind(out)}")
    return out


def test_tokenize__truncates_to_256_tokens(student):
    out = student_tokens(student, ["word " * 600])
    n = len(out["input_ids"][0])
    assert n == 256, (f"a 600-word comment should give exactly 256 tokens ([CLS], 254 pieces, [SEP]): "
                      f"truncation=True, max_length=256; got {n}")


def test_tokenize__no_padding(student):
    out = student_tokens(student, ["a short comment", "word " * 300])
    n = len(out["input_ids"][0])
    assert n == 5, f"do not pad here (the data collator pads each batch later): 'a short comment' is 5 tokens, got {n}"


def test_tokenize__model_inputs_from_the_tokenizer(student):
    texts = ["Hello THERE, editor!", "two words"]
    out, ref = student_tokens(student, texts), reference_tokens(texts)
    missing = sorted(set(ref) - set(out))
    assert not missing, f"return everything the tokenizer gives; missing {missing}"
    assert [list(map(int, r)) for r in out["input_ids"]] == ref["input_ids"], (
        "the ids differ from the lab tokenizer's own on two short comments: call tokenizer(batch['comment_text'], ...) "
        "with its default special tokens")


# --- exercise: cleanup ------------------------------------------------------------

def tokenized_sample(n: int = 3, label=None, toxic=None, extra: bool = False) -> dict:
    """A tokenized dataset's columns: text, the six labels, `label`, model inputs (and `id` when extra)."""
    from toxlab.data import LABELS

    toxic = list(toxic) if toxic is not None else [int(x) for x in np.random.default_rng(n).integers(0, 2, n)]
    n = len(toxic)
    cols = {"comment_text": [f"comment {i}" for i in range(n)], **{c: [0] * n for c in LABELS}}
    cols["toxic"] = toxic
    cols["insult"] = [1 - t for t in toxic]
    cols["label"] = list(label) if label is not None else list(toxic)
    cols.update(input_ids=[[101, 7 + i, 102] for i in range(n)], token_type_ids=[[0, 0, 0]] * n,
                attention_mask=[[1, 1, 1]] * n)
    if extra:
        cols["id"] = [f"{i:016x}" for i in range(n)]
    return cols


def student_dataset(student, cols: dict) -> Dataset:
    got = student.call("clean_columns", obj("dataset", columns=cols))
    assert isinstance(got, Dataset), f"clean_columns should return a datasets.Dataset, got {kind(got)}"
    return got


def test_cleanup__keeps_only_model_inputs_and_labels(student):
    out = student_dataset(student, tokenized_sample(extra=True))
    assert sorted(out.columns) == ["attention_mask", "input_ids", "labels", "token_type_ids"], (
        "keep input_ids, token_type_ids, attention_mask and `labels`, and remove every other column, whatever it "
        f"is called (this one also has an `id` column); got {sorted(out.columns)}")


def test_cleanup__labels_are_the_toxic_column(student):
    out = student_dataset(student, tokenized_sample(toxic=[0, 1, 1, 0], label=[1, 0, 1, 0]))
    assert as_ints(out.data.get("labels"), "labels") == [0, 1, 1, 0], (
        "`labels` should be the `toxic` column, renamed (here `label` holds something else)")


# --- exercise: metrics ------------------------------------------------------------

# 10 rows, imbalanced, both logits negative in some rows: binary, micro and weighted averages, a
# positive-logit threshold, and swapped arguments all give different numbers here than the answer.
LOGITS = [[2.0, -1.0], [-2.0, -1.0], [0.5, 1.0], [1.0, 0.0], [0.2, 0.1], [-0.5, 0.5], [3.0, 1.0],
          [1.5, 0.3], [-1.0, -3.0], [0.1, 2.0]]
LABELS10 = [0, 1, 0, 1, 0, 1, 0, 0, 0, 0]
# argmax predictions: [0, 1, 1, 0, 0, 1, 0, 0, 0, 1]
EXPECTED = {"accuracy": 0.7, "precision": 0.6666666666666667, "recall": 0.6904761904761905, "f1": 0.6703296703296704}


def student_metrics(student, logits, labels) -> dict:
    m = student.call("compute_metrics", obj("eval_prediction", predictions=np.asarray(logits, dtype=np.float32),
                                            label_ids=np.asarray(labels)))
    assert isinstance(m, dict), f"compute_metrics should return a dict, got {kind(m)}"
    return m


def test_metrics__returns_the_four_scores(student):
    m = student_metrics(student, LOGITS, LABELS10)
    assert set(m) >= {"accuracy", "precision", "recall", "f1"}, f"return accuracy, precision, recall and f1; got {sorted(m)}"
    for k in ("accuracy", "precision", "recall", "f1"):
        assert 0 <= as_float(m[k], k) <= 1, f"{k} should lie between 0 and 1"


def test_metrics__accuracy_of_the_argmax(student):
    m = student_metrics(student, LOGITS, LABELS10)
    assert as_float(m.get("accuracy"), "accuracy") == pytest.approx(EXPECTED["accuracy"]), (
        "the prediction is the argmax over the two logits (not `logit > 0`); accuracy here is 0.7")


def test_metrics__macro_precision_recall_f1(student):
    m = student_metrics(student, LOGITS, LABELS10)
    got = {k: as_float(m.get(k), k) for k in ("precision", "recall", "f1")}
    wrong = [k for k in got if got[k] != pytest.approx(EXPECTED[k])]
    assert not wrong, (
        f"{', '.join(wrong)} should be the macro average over both classes (average='macro', called with "
        f"(labels, predictions) in that order; f1 as sklearn's macro f1, not from the averaged precision and recall): "
        f"expected precision 0.667, recall 0.690, f1 0.670; got {', '.join(f'{k} {v:.3f}' for k, v in got.items())}")


# --- exercise: training_args -------------------------------------------------------

def student_args(student, output_dir: str = "grading-output", **overrides) -> dict:
    got = student.call("make_training_args", output_dir, **overrides)
    assert isinstance(got, Args), f"return transformers.TrainingArguments, got {kind(got)}"
    return got.values


def test_training_args__original_hyperparameters(student):
    a = student_args(student)
    got = {k: a.get(k) for k in ("learning_rate", "num_train_epochs", "per_device_train_batch_size",
                                 "per_device_eval_batch_size", "weight_decay")}
    want = {"learning_rate": 2e-5, "num_train_epochs": 3, "per_device_train_batch_size": 16,
            "per_device_eval_batch_size": 16, "weight_decay": 0.01}
    wrong = {k: v for k, v in got.items() if v != pytest.approx(want[k])}
    assert not wrong, f"the original recipe is {want}; these differ: {wrong}"


def test_training_args__best_epoch_by_f1_every_epoch(student):
    a = student_args(student)
    assert (a.get("eval_strategy"), a.get("save_strategy")) == ("epoch", "epoch"), (
        f"evaluate and save every epoch (eval_strategy and save_strategy 'epoch'); got "
        f"{a.get('eval_strategy')!r}, {a.get('save_strategy')!r}")
    assert a.get("load_best_model_at_end") is True and a.get("metric_for_best_model") in ("f1", "eval_f1"), (
        "load the best model at the end (load_best_model_at_end=True), chosen by metric_for_best_model='f1'")
    assert a.get("greater_is_better") is not False, "a higher f1 is better: leave greater_is_better alone (or True)"


def test_training_args__output_dir_and_overrides(student):
    a = student_args(student, "runs/elsewhere", num_train_epochs=1, learning_rate=5e-5, per_device_eval_batch_size=64)
    assert a.get("output_dir") == "runs/elsewhere", f"use the output_dir argument, got {a.get('output_dir')!r}"
    got = (a.get("num_train_epochs"), a.get("learning_rate"), a.get("per_device_eval_batch_size"))
    assert got == (1, 5e-5, 64), (
        "pass **overrides on to TrainingArguments, and let them win over the recipe (the run mode shortens training "
        f"this way): num_train_epochs=1, learning_rate=5e-5, per_device_eval_batch_size=64 gave {got}")


# --- exercise: weighted_loss -------------------------------------------------------

def loss_batch(labels=(0, 0, 0, 0, 1, 1), seed: int = 0, length: int = 7) -> dict:
    """A batch for compute_loss: token ids, an attention mask with padding in every other row, labels."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    ids = rng.integers(1000, 5000, size=(n, length))
    mask = np.ones((n, length), dtype=np.int64)
    mask[::2, max(1, length - 2):] = 0
    return {"input_ids": ids, "attention_mask": mask, "labels": np.asarray(labels)}


def batch_specs(batch: dict) -> dict:
    return {k: obj("tensor", values=v.tolist(), dtype="int64") for k, v in batch.items()}


def reference_loss(batch: dict, weights, seed: int = 0):
    """The class-weighted cross-entropy (weighted mean), its logits and classifier gradients, computed here."""
    import torch

    model = objects.model(seed=seed)
    inputs = {k: torch.tensor(v) for k, v in batch.items() if k != "labels"}
    logits = model(**inputs).logits
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(batch["labels"]),
                                             weight=torch.tensor(weights, dtype=torch.float32))
    loss.backward()
    grads = {n: p.grad.numpy() for n, p in model.named_parameters() if n.startswith("classifier.")}
    return float(loss), logits.detach().numpy(), grads


def student_loss(student, weights, batch: dict, seed: int = 0, call_seed: int | None = None, **kwargs) -> dict:
    """The student's WeightedLossTrainer.compute_loss on a real Trainer instance, with gradients."""
    what = "WeightedLossTrainer.compute_loss(...)"
    out = student.harness("trainer_method", ["WeightedLossTrainer", "compute_loss", batch_specs(batch)],
                          {"model": obj("model", seed=seed),
                           "call_model": obj("model", seed=call_seed) if call_seed is not None else None,
                           "init": {"class_weights": obj("tensor", values=list(weights))}, "grad": True, **kwargs},
                          what=what)
    assert isinstance(out, dict) and "value" in out, f"{what} gave no answer"
    return out


def loss_value(got, what: str = "compute_loss") -> float:
    assert isinstance(got, wire.Tensor) and got.shape == (), (
        f"{what} should return the loss as a scalar tensor (0 dimensions), got {kind(got)}")
    return float(got.values)


def test_weighted_loss__matches_weighted_cross_entropy(student):
    batch = loss_batch()
    loss = loss_value(student_loss(student, [0.1, 0.9], batch)["value"])
    expected, _, _ = reference_loss(batch, [0.1, 0.9])
    assert abs(loss - expected) < 1e-5, (
        f"loss {loss:.4f} differs from cross_entropy(logits, labels, weight=self.class_weights) = {expected:.4f}: "
        "weights in class order, the model run with the attention mask, logits (not probabilities) in, and the "
        "weighted mean (sum of weighted terms / sum of the weights used)")


def test_weighted_loss__returns_loss_and_outputs(student):
    batch = loss_batch(labels=(1, 0, 0, 1), seed=3)
    out = student_loss(student, [0.25, 0.75], batch, return_outputs=True)["value"]
    assert isinstance(out, tuple) and len(out) == 2, "with return_outputs=True, return the pair (loss, outputs)"
    expected, logits, _ = reference_loss(batch, [0.25, 0.75])
    assert abs(loss_value(out[0]) - expected) < 1e-5, "the loss in (loss, outputs) is wrong"
    got = out[1].get("logits") if isinstance(out[1], dict) else None
    assert isinstance(got, wire.Tensor) and np.allclose(got.values, logits, atol=1e-5), (
        "outputs is what model(**inputs) returned (it holds .logits), not the logits alone")


def test_weighted_loss__uses_the_model_it_is_given(student):
    batch = loss_batch(labels=(0, 1, 1), seed=4)
    loss = loss_value(student_loss(student, [0.4, 0.6], batch, seed=0, call_seed=5)["value"])
    expected, _, _ = reference_loss(batch, [0.4, 0.6], seed=5)
    assert abs(loss - expected) < 1e-5, (
        "run the `model` argument compute_loss receives (the Trainer may pass a wrapped model), not self.model")


def test_weighted_loss__num_items_in_batch_changes_nothing(student):
    batch = loss_batch(labels=(1, 1, 0, 0, 0), seed=6)
    loss = loss_value(student_loss(student, [0.3, 0.7], batch, num_items_in_batch=5)["value"])
    expected, _, _ = reference_loss(batch, [0.3, 0.7])
    assert abs(loss - expected) < 1e-5, (
        "with num_items_in_batch given the loss must still be the weighted mean: do not divide by it "
        "(loss_is_scaled_for_ga = False tells the Trainer to scale the loss itself)")


# --- exercise: predict_proba -------------------------------------------------------

def reference_proba(texts: list[str], seed: int) -> np.ndarray:
    """Softmax over the classes, one text at a time, truncated to 256 tokens, in eval mode (computed here)."""
    import torch

    model, tok = objects.model(seed=seed), objects.tokenizer()
    with torch.no_grad():
        rows = [torch.softmax(model(**tok([t], truncation=True, max_length=256, return_tensors="pt")).logits, -1)[0]
                for t in texts]
    return torch.stack(rows).numpy() if rows else np.zeros((0, 2), dtype=np.float32)


def student_proba(student, texts: list[str], seed: int, train: bool = False) -> np.ndarray:
    p = student.call("predict_proba", texts, obj("model", seed=seed, train=train), obj("tokenizer"))
    assert not isinstance(p, wire.Tensor), "return a numpy array (tensor.numpy()), not a torch tensor"
    assert isinstance(p, np.ndarray), f"return a numpy array of shape (n_texts, 2), got {kind(p)}"
    assert p.shape == (len(texts), 2), f"return an array of shape (n_texts, 2) = ({len(texts)}, 2), got {p.shape}"
    return p


def test_predict_proba__probabilities(student):
    p = student_proba(student, ["you are great", "a second comment"], seed=1)
    assert np.allclose(p.sum(axis=1), 1, atol=1e-4) and (p >= 0).all(), (
        f"each row should be probabilities summing to 1: a softmax over the class dimension; rows sum to {p.sum(axis=1)}")


def test_predict_proba__each_text_its_row_in_order(student):
    texts = ["a medium sized comment about the article", "short", "the longest comment of the three, by far, " * 3]
    p, ref = student_proba(student, texts, seed=2), reference_proba(texts, seed=2)
    assert np.allclose(p, ref, atol=1e-4), (
        "rows differ from softmax(model(text).logits) per text, in input order, class 0 = Non-Toxic first: "
        "mind the attention mask when padding a batch, the order of the rows, and softmax over classes (dim=-1)")


def test_predict_proba__eval_mode_and_256_tokens(student):
    texts = ["word " * 300, "a short one"]
    p, ref = student_proba(student, texts, seed=3, train=True), reference_proba(texts, seed=3)
    assert np.allclose(p, ref, atol=1e-4), (
        "with a model handed over in training mode, and a 300-word text: call model.eval() (dropout off) and "
        "truncate to max_length=256")


# --- exercise: identity_gap ---------------------------------------------------------

def scorer(template: str, table: dict) -> dict:
    """A scoring function for identity_gap: each filled-in template gets its term's score."""
    return obj("lookup_scorer", table={template.replace("{term}", t): p for t, p in table.items()})


def student_gap(student, template: str, table: dict, terms: list[str], echo: bool = False):
    call = student.call_echo if echo else student.call
    out = call("identity_gap", scorer(template, table), template, terms)
    res = out[0] if echo else out
    assert isinstance(res, dict) and {"scores", "gap", "lowest", "highest"} <= set(res), (
        f"return a dict with scores, gap, lowest and highest; got {sorted(res) if isinstance(res, dict) else kind(res)}")
    return out


def test_identity_gap__highest_minus_lowest(student):
    table = {"asian": 0.25, "black": 0.7, "white": 0.2, "latin": 0.3}
    res = student_gap(student, "you are {term}", table, list(table))
    assert as_float(res["gap"], "gap") == pytest.approx(0.5), (
        f"gap = highest score - lowest score (0.7 - 0.2 = 0.5), wherever they are in the list; got {res['gap']}")
    assert (res["lowest"], res["highest"]) == ("white", "black"), (
        f"lowest and highest name the terms ('white', 'black'), not their scores; got {(res['lowest'], res['highest'])}")


def test_identity_gap__scores_per_term_and_any_template(student):
    table = {"young": 0.123456, "old": 0.654321, "teenage": 0.4}
    res, args, _ = student_gap(student, "My neighbour is {term}.", table, ["young", "old", "teenage"], echo=True)
    scores = res.get("scores")
    assert isinstance(scores, dict) and {k: as_float(v, k) for k, v in scores.items()} == pytest.approx(table, abs=1e-9), (
        "scores maps each term to its own P(toxic), unrounded, for any template (here 'My neighbour is {term}.')")
    assert args[2] == ["young", "old", "teenage"], "do not change the list of terms you are given (no sort in place)"
