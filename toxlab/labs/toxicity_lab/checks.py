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
from toxlab.grading.answers import as_float, as_ints, as_tensor, hint_when_it_raises, kind  # noqa: F401 - as_float: the hidden checks'
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

MODEL_COLUMNS = ["attention_mask", "input_ids", "labels", "token_type_ids"]


def tokenized_sample(n: int = 3, label=None, toxic=None, extra: bool = False, empty=()) -> dict:
    """A tokenized dataset's columns: text, the six labels, `label`, model inputs; `extra` adds a column by another
    name (`source`), `empty` the indices of rows whose comment is empty (load_jigsaw keeps those as "")."""
    from toxlab.data import LABELS

    toxic = list(toxic) if toxic is not None else [int(x) for x in np.random.default_rng(n).integers(0, 2, n)]
    n = len(toxic)
    texts = ["" if i in empty else f"comment {i}" for i in range(n)]
    cols = {"comment_text": texts, **{c: [0] * n for c in LABELS}}
    cols["toxic"] = toxic
    cols["insult"] = [1 - t for t in toxic]
    cols["label"] = list(label) if label is not None else list(toxic)
    ids = [[101, 102] if i in empty else [101, 7 + i, 102] for i in range(n)]
    cols.update(input_ids=ids, token_type_ids=[[0] * len(r) for r in ids], attention_mask=[[1] * len(r) for r in ids])
    if extra:
        cols["source"] = ["wikipedia talk"] * n
    return cols


def student_dataset(student, cols: dict) -> Dataset:
    got = student.call("clean_columns", obj("dataset", columns=cols))
    assert isinstance(got, Dataset), f"clean_columns should return a datasets.Dataset, got {kind(got)}"
    return got


def test_cleanup__keeps_only_model_inputs_and_labels(student):
    cols = tokenized_sample(extra=True)
    out = student_dataset(student, cols)
    got = sorted(out.columns)
    missing, left = sorted(set(MODEL_COLUMNS) - set(got)), sorted(set(got) - set(MODEL_COLUMNS))
    assert not missing and not left, (
        "keep exactly input_ids, token_type_ids, attention_mask and `labels`, and remove every other column, whatever it "
        f"is called (this dataset has the Jigsaw columns and one more, `source`); missing {missing}, left in {left}")


def test_cleanup__labels_are_the_toxic_column(student):
    out = student_dataset(student, tokenized_sample(toxic=[0, 1, 1, 0], label=[1, 0, 1, 0]))
    assert "labels" in out.columns, f"no column named `labels` came back (the Trainer looks for that name); got {sorted(out.columns)}"
    assert as_ints(out.data.get("labels"), "labels") == [0, 1, 1, 0], (
        "`labels` should be the `toxic` column, renamed (here `label` holds something else)")


def test_cleanup__keeps_every_row(student):
    toxic = [0, 1, 0, 0, 1, 0]
    out = student_dataset(student, tokenized_sample(toxic=toxic, empty=(2, 4)))
    n = max((len(v) for v in out.data.values() if isinstance(v, list)), default=0)
    assert n == len(toxic), (
        f"keep every row: clean_columns changes columns only, but {n} of {len(toxic)} rows came back (two comments "
        "here are empty, which load_jigsaw keeps as \"\": they stay, with their labels)")


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
    got = as_float(m.get("accuracy"), "accuracy")
    positive = (np.asarray(LOGITS)[:, 1] > 0).astype(int)
    why = (": it is the accuracy of `logit > 0`; the prediction is the argmax over the two logits"
           if got == pytest.approx(float((positive == np.asarray(LABELS10)).mean())) else
           ": the share of rows whose argmax over the two logits equals the label")
    assert got == pytest.approx(EXPECTED["accuracy"]), f"accuracy here is 0.7, got {got:.3f}{why}"


def metric_mistakes(logits, labels) -> list[tuple[str, dict]]:
    """(the mistake, the precision, recall and f1 it gives) for the common wrong averages, worked out here."""
    from sklearn.metrics import precision_recall_fscore_support as prfs

    preds = np.asarray(logits).argmax(1)
    out = []
    for why, (p, r, f, _) in [
        ("the toxic class alone (average='binary', the default): use average='macro'", prfs(labels, preds, average="binary")),
        ("weighted by class size (average='weighted'): use average='macro'", prfs(labels, preds, average="weighted")),
        ("micro averages (average='micro'): use average='macro'", prfs(labels, preds, average="micro")),
        ("labels and predictions swapped: call with (labels, predictions) in that order",
         prfs(preds, labels, average="macro")),
    ]:
        out.append((why, {"precision": p, "recall": r, "f1": f}))
    positive = (np.asarray(logits)[:, 1] > 0).astype(int)
    out.append(("the scores of `logit > 0` predictions: the prediction is the argmax over the two logits",
                dict(zip(("precision", "recall", "f1"), prfs(labels, positive, average="macro", zero_division=0)[:3]))))
    p, r, _, _ = prfs(labels, preds, average="macro")
    out.append(("f1 worked out from the averaged precision and recall: take sklearn's macro f1 (the mean of each "
                "class's f1)", {"precision": p, "recall": r, "f1": 2 * p * r / (p + r)}))
    return out


def test_metrics__macro_precision_recall_f1(student):
    m = student_metrics(student, LOGITS, LABELS10)
    got = {k: as_float(m.get(k), k) for k in ("precision", "recall", "f1")}
    wrong = [k for k in got if got[k] != pytest.approx(EXPECTED[k])]
    matched = [why for why, values in metric_mistakes(LOGITS, LABELS10)
               if all(got[k] == pytest.approx(values[k]) for k in wrong)]
    why = matched[0] if matched else "each should be the mean over both classes of that class's score (average='macro')"
    assert not wrong, (
        f"{', '.join(wrong)} should be the macro average over both classes: expected precision 0.667, recall 0.690, "
        f"f1 0.670; got {', '.join(f'{k} {v:.3f}' for k, v in got.items())}: these look like {why}"
        if matched else
        f"{', '.join(wrong)} should be the macro average over both classes: expected precision 0.667, recall 0.690, "
        f"f1 0.670; got {', '.join(f'{k} {v:.3f}' for k, v in got.items())}: {why}")


# --- exercise: training_args -------------------------------------------------------

RECIPE_HINT = "make_training_args(output_dir) should build TrainingArguments with the original recipe"


def student_args(student, output_dir: str = "grading-output", **overrides) -> dict:
    got = student.call("make_training_args", output_dir, **overrides)
    assert isinstance(got, Args), f"return transformers.TrainingArguments, got {kind(got)}"
    return got.values


def test_training_args__original_hyperparameters(student):
    with hint_when_it_raises(RECIPE_HINT):
        a = student_args(student)
    got = {k: a.get(k) for k in ("learning_rate", "num_train_epochs", "per_device_train_batch_size",
                                 "per_device_eval_batch_size", "weight_decay")}
    want = {"learning_rate": 2e-5, "num_train_epochs": 3, "per_device_train_batch_size": 16,
            "per_device_eval_batch_size": 16, "weight_decay": 0.01}
    wrong = {k: v for k, v in got.items() if v != pytest.approx(want[k])}
    assert not wrong, f"the original recipe is {want}; these differ: {wrong}"


def test_training_args__length_set_by_the_epochs(student):
    with hint_when_it_raises(RECIPE_HINT):
        a = student_args(student)
    steps = a.get("max_steps")
    assert steps is None or steps <= 0, (
        f"max_steps={steps} is set, and a positive max_steps overrides num_train_epochs: training would stop after "
        f"{steps} steps instead of 3 epochs; remove it (a leftover from a quick test?) so the epochs set the length")


def test_training_args__best_epoch_by_f1_every_epoch(student):
    with hint_when_it_raises(RECIPE_HINT):
        a = student_args(student)
    assert (a.get("eval_strategy"), a.get("save_strategy")) == ("epoch", "epoch"), (
        f"evaluate and save every epoch (eval_strategy and save_strategy 'epoch'); got "
        f"{a.get('eval_strategy')!r}, {a.get('save_strategy')!r}")
    assert a.get("load_best_model_at_end") is True, (
        "load the best model at the end (load_best_model_at_end=True); without it the last epoch is kept")
    assert a.get("metric_for_best_model") in ("f1", "eval_f1"), (
        f"choose the best epoch by f1 (metric_for_best_model='f1'), got {a.get('metric_for_best_model')!r}")
    assert a.get("greater_is_better") is not False, "a higher f1 is better: leave greater_is_better alone (or True)"


def test_training_args__output_dir_and_overrides(student):
    overrides = dict(num_train_epochs=1, learning_rate=5e-5, per_device_eval_batch_size=64)
    with hint_when_it_raises(
            "overrides that name a recipe setting (here num_train_epochs=1, learning_rate=5e-5, "
            "per_device_eval_batch_size=64) must replace the recipe's value: 'got multiple values for keyword "
            "argument' means the recipe's keyword and the override were both passed; merge them into one dict, "
            "the overrides last ({**recipe, **overrides}), and pass that"):
        a = student_args(student, "runs/elsewhere", **overrides)
    assert a.get("output_dir") == "runs/elsewhere", f"use the output_dir argument, got {a.get('output_dir')!r}"
    got = (a.get("num_train_epochs"), a.get("learning_rate"), a.get("per_device_eval_batch_size"))
    if got == (3, 2e-5, 16):
        why = "the recipe's values came back: the overrides were ignored or applied before the recipe"
    else:
        why = "each override should replace the recipe's value"
    assert got == (1, 5e-5, 64), (
        "pass **overrides on to TrainingArguments, and let them win over the recipe (the run mode sets the whole "
        f"recipe this way): num_train_epochs=1, learning_rate=5e-5, per_device_eval_batch_size=64 gave {got}: {why}")


# --- exercise: weighted_loss -------------------------------------------------------
#
# Each check isolates one cause: where it can, it compares the student's compute_loss with itself (the same
# batch under other weights, another model, num_items_in_batch) rather than with the reference, so that a
# mistake elsewhere (say, probabilities fed to cross_entropy) fails only the check that names it.

def loss_batch(labels=(0, 0, 0, 0, 1, 1), seed: int = 0, length: int = 7) -> dict:
    """A batch for compute_loss: token ids, an attention mask with padding in every other row, labels."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    ids = rng.integers(1000, 5000, size=(n, length))
    mask = np.ones((n, length), dtype=np.int64)
    mask[::2, max(1, length - 2):] = 0
    return {"input_ids": ids, "attention_mask": mask, "labels": np.asarray(labels)}


def batch_rows(batch: dict, rows) -> dict:
    """Some rows of a batch, as a batch of their own (each row's ids and mask unchanged, so its logits too)."""
    return {k: v[list(rows)] for k, v in batch.items()}


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


def student_loss_value(student, weights, batch: dict, **kwargs) -> float:
    """The loss alone (return_outputs left at its default)."""
    return loss_value(student_loss(student, weights, batch, **kwargs)["value"])


def close(a: float, b: float, rel: float = 1e-4) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def test_weighted_loss__cross_entropy_of_the_logits(student):
    batch, other = loss_batch(), loss_batch(seed=9)  # the same labels, other ids
    with hint_when_it_raises("compute_loss(model, inputs) with class_weights [1, 1] on a batch of 6 rows"):
        loss = student_loss_value(student, [1.0, 1.0], batch)
    expected, logits, _ = reference_loss(batch, [1.0, 1.0])
    if close(loss, expected, 1e-5):
        return
    import torch

    labels = torch.tensor(batch["labels"])
    from_probs = float(torch.nn.functional.cross_entropy(torch.softmax(torch.tensor(logits), -1), labels))
    # a loss off by a constant factor has the right per-row terms and the wrong division: the ratio of two
    # batches with the same labels (so the same divisor, whatever it is) tells that apart from wrong terms
    with hint_when_it_raises("compute_loss(model, inputs) with class_weights [1, 1] on a batch of 6 rows"):
        scaled = close(loss / student_loss_value(student, [1.0, 1.0], other), expected / reference_loss(other, [1.0, 1.0])[0])
    if close(loss, from_probs):
        why = "it matches cross_entropy of softmax probabilities: pass the logits, cross_entropy applies log-softmax itself"
    elif scaled:
        why = (f"the per-row terms are right but the loss is {loss / expected:.2f} times their mean: with weights [1, 1] "
               "divide their sum by the number of rows, which is the sum of the weights of the batch's labels")
    else:
        why = ("pass the logits of model(**inputs), run on every input but the labels (attention mask included), "
               "to cross_entropy with the labels")
    raise AssertionError(f"with class weights [1, 1] the loss is plain cross-entropy, {expected:.4f}; got {loss:.4f}: {why}")


def test_weighted_loss__weights_in_class_order(student):
    # one Non-Toxic row and one Toxic row: every normalisation (the weights' sum, the rows, none) divides both
    # weightings below by the same number, so the ratio of the two losses depends on the weighting alone
    batch = loss_batch(labels=(0, 1), seed=2)
    with hint_when_it_raises("compute_loss on a batch of one Non-Toxic row and one Toxic row"):
        ce0, ce1 = (student_loss_value(student, [1.0, 1.0], batch_rows(batch, [i])) for i in (0, 1))
        toxic_heavy = student_loss_value(student, [0.2, 0.8], batch)
        non_toxic_heavy = student_loss_value(student, [0.8, 0.2], batch)
    got = toxic_heavy / non_toxic_heavy if non_toxic_heavy else float("inf")
    want = (0.2 * ce0 + 0.8 * ce1) / (0.8 * ce0 + 0.2 * ce1)
    if close(got, 1.0, 1e-3):
        why = "the class weights change nothing: pass weight=self.class_weights (the model's own outputs.loss is unweighted)"
    elif close(got, 1 / want, 1e-3):
        why = "the weights are applied the wrong way round: class_weights[0] is Non-Toxic's, class_weights[1] Toxic's"
    else:
        why = "weigh each row's cross-entropy by class_weights[its label]"
    assert close(got, want, 1e-3), (
        f"a row's cross-entropy counts by the weight of its own class: on one Non-Toxic and one Toxic row, the loss under "
        f"weights [0.2, 0.8] should be {want:.3f} times the loss under [0.8, 0.2] (from your own per-row losses "
        f"{ce0:.4f} and {ce1:.4f}), got {got:.3f}: {why}")


def test_weighted_loss__normalised_by_the_summed_weights(student):
    batch = loss_batch(labels=(1, 1, 1), seed=5)
    with hint_when_it_raises("compute_loss on a batch of three Toxic rows"):
        weighted = student_loss_value(student, [0.25, 0.75], batch)
        plain = student_loss_value(student, [1.0, 1.0], batch)
    assert close(weighted, plain, 1e-5), (
        f"on a batch whose rows are all Toxic the class weights cancel out: the loss under weights [0.25, 0.75] should "
        f"equal the loss under [1, 1] ({plain:.4f}), got {weighted:.4f}: divide the weighted sum by the sum of the "
        "weights of the batch's labels, sum(w[y] * ce) / sum(w[y]) (what nn.CrossEntropyLoss(weight=w) computes), "
        "not by the number of rows (.mean())")


def test_weighted_loss__uses_the_model_it_is_given(student):
    batch = loss_batch(labels=(0, 1, 1), seed=4)
    with hint_when_it_raises("compute_loss(model, inputs) with a model other than the Trainer's own"):
        handed_another = student_loss_value(student, [0.4, 0.6], batch, seed=0, call_seed=5)
        its_own = student_loss_value(student, [0.4, 0.6], batch, seed=5)
    assert close(handed_another, its_own, 1e-5), (
        "compute_loss was handed a model other than the Trainer's own (as a wrapped or distributed model is) and its "
        "loss changed: run the `model` argument compute_loss receives, not self.model")


def test_weighted_loss__num_items_in_batch_changes_nothing(student):
    batch = loss_batch(labels=(1, 1, 0, 0, 0), seed=6)
    with hint_when_it_raises("compute_loss(model, inputs, num_items_in_batch=5), as today's Trainer calls it: keep the "
                             "scaffold's signature"):
        with_items = student_loss_value(student, [0.3, 0.7], batch, num_items_in_batch=5)
        without = student_loss_value(student, [0.3, 0.7], batch)
    assert close(with_items, without, 1e-5), (
        f"num_items_in_batch=5 changed the loss ({without:.4f} without it, {with_items:.4f} with it): leave it unused "
        "(loss_is_scaled_for_ga = False tells the Trainer to scale the loss itself)")


def test_weighted_loss__returns_loss_and_outputs(student):
    batch = loss_batch(labels=(1, 0, 0, 1), seed=3)
    with hint_when_it_raises("compute_loss(model, inputs, return_outputs=True)"):
        out = student_loss(student, [0.25, 0.75], batch, return_outputs=True)["value"]
        alone = student_loss_value(student, [0.25, 0.75], batch)
    assert isinstance(out, tuple) and len(out) == 2, "with return_outputs=True, return the pair (loss, outputs)"
    assert close(loss_value(out[0], "the loss in (loss, outputs)"), alone, 1e-5), (
        "the loss in (loss, outputs) differs from the loss returned alone: return the same loss in both cases")
    got = out[1].get("logits") if isinstance(out[1], dict) else None
    assert isinstance(got, wire.Tensor) and got.shape == (4, 2), (
        f"outputs is what model(**inputs) returned (it holds .logits), not the logits alone; got {kind(out[1])}")


# --- exercise: predict_proba -------------------------------------------------------

def reference_proba(texts: list[str], seed: int) -> np.ndarray:
    """Softmax over the classes, one text at a time, truncated to 256 tokens, in eval mode (computed here)."""
    import torch

    model, tok = objects.model(seed=seed), objects.tokenizer()
    with torch.no_grad():
        rows = [torch.softmax(model(**tok([t], truncation=True, max_length=256, return_tensors="pt")).logits, -1)[0]
                for t in texts]
    return torch.stack(rows).numpy() if rows else np.zeros((0, 2), dtype=np.float32)


def unmasked_proba(texts: list[str], seed: int) -> np.ndarray:
    """What a padded batch gives when the attention mask is left out (the padding read as text)."""
    import torch

    model, tok = objects.model(seed=seed), objects.tokenizer()
    enc = tok(texts, truncation=True, max_length=256, padding=True, return_tensors="pt")
    with torch.no_grad():
        return torch.softmax(model(input_ids=enc["input_ids"]).logits, -1).numpy()


PADDING_HINT = ("texts of different lengths in one batch need padding=True in the tokenizer call, and the attention "
                "mask it returns passed to the model (model(**batch)); or score one text at a time")


def student_proba(student, texts: list[str], seed: int, train: bool = False) -> np.ndarray:
    with hint_when_it_raises(PADDING_HINT if len({len(t.split()) for t in texts}) > 1 else
                             "predict_proba(texts, model, tokenizer) should return the softmax probabilities"):
        p = student.call("predict_proba", texts, obj("model", seed=seed, train=train), obj("tokenizer"))
    assert not isinstance(p, wire.Tensor), "return a numpy array (tensor.numpy()), not a torch tensor"
    assert isinstance(p, np.ndarray), f"return a numpy array of shape (n_texts, 2), got {kind(p)}"
    assert p.shape == (len(texts), 2), f"return an array of shape (n_texts, 2) = ({len(texts)}, 2), got {p.shape}"
    return p


def test_predict_proba__probabilities(student):
    p = student_proba(student, ["you are great", "a second comment"], seed=1)
    assert np.allclose(p.sum(axis=1), 1, atol=1e-4) and (p >= 0).all(), (
        f"each row should be probabilities summing to 1: a softmax over the class dimension; rows sum to {p.sum(axis=1)}")


def proba_mistake(p: np.ndarray, ref: np.ndarray, texts: list[str], seed: int) -> str | None:
    """Which common mistake `p` shows against the reference rows `ref`, in words; None when none of them."""
    import itertools

    if not np.allclose(p.sum(axis=1), 1, atol=1e-4):
        return "the rows do not sum to 1: apply torch.softmax over the classes (dim=-1) of each text's logits"
    if np.allclose(p, ref[:, ::-1], atol=1e-4):
        return "the two columns are swapped: column 0 is Non-Toxic, column 1 Toxic"
    if any(np.allclose(p, ref[list(order)], atol=1e-4) for order in itertools.permutations(range(len(texts)))):
        return "the rows are right but in another order: return them in the order of the texts"
    if np.allclose(p, unmasked_proba(texts, seed), atol=1e-4):
        return "the shorter texts' rows change with the padding: pass the attention mask to the model with the ids"
    return None


def test_predict_proba__each_text_its_row_in_order(student):
    texts = ["a medium sized comment about the article", "short", "the longest comment of the three, by far, " * 3]
    p, ref = student_proba(student, texts, seed=2), reference_proba(texts, seed=2)
    assert np.allclose(p, ref, atol=1e-4), (
        f"three texts of different lengths: the rows differ from the model's probabilities: "
        f"{proba_mistake(p, ref, texts, 2) or 'each row should be softmax(model(text).logits) for its own text'}")


def test_predict_proba__eval_mode_and_256_tokens(student):
    texts = ["word " * 300, "a short one"]
    p, ref = student_proba(student, texts, seed=3, train=True), reference_proba(texts, seed=3)
    if np.allclose(p, ref, atol=1e-4):
        return
    if np.allclose(p[1], ref[1], atol=1e-4):
        why = "the 300-word text's row differs: truncate to max_length=256 tokens (truncation=True alone cuts at 512)"
    else:  # the mistakes the other checks name first, else dropout: the one cause left that changes every row
        why = proba_mistake(p, ref, texts, 3) or (
            "the rows differ from the model's own in eval mode: the model was handed over in training mode, so call "
            "model.eval() (dropout off) before scoring")
    raise AssertionError(f"a 300-word text and a short one, model in training mode: {why}")


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
