"""Hidden exercise checks of lab 6a (toxicity_lab): the instructor's, never released.

The grade cells' hidden regions call toxlab.grading.check(..., hidden=True); the tests here,
named test_<exercise>__<what>, take the same `student` fixture as the visible checks. Each
compares the student's function with a reference written here, on many inputs that Hypothesis
generates with a fixed seed and a bounded number of examples (so grading is deterministic and
quick): class order and imbalance, absent classes, ties, lengths around the 256-token limit,
empty strings, padding, non-default arguments.

Under autograde they run in the trusted checker after every visible check. A failure shows only
a message that stands literally in this file, followed by the first failing input, which the
checker made: never the student's output and never the expected one. Together they are one
share of the exercise's points.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from toxlab.grading import fail, wire
from toxlab.grading.answers import bounded, same
from toxlab.grading.wire import obj
from toxlab.labs.toxicity_lab.checks import (
    as_float, loss_batch, reference_loss, reference_proba, reference_tokens, scorer, student_args,
    student_dataset, student_loss, tokenized_sample,
)


# --- label_counts -------------------------------------------------------------------

labels01 = st.lists(st.integers(0, 1), max_size=60)


@bounded(30)
@given(labels=labels01, kind=st.sampled_from(["list", "column", "array"]))
def test_label_counts__any_labels_any_container(student, labels, kind):
    arg = {"list": labels, "column": obj("column", values=labels), "array": np.asarray(labels, dtype=np.int64)}[kind]
    got = student.call("count_labels", arg)
    got = [int(x) for x in got] if isinstance(got, (list, tuple, np.ndarray)) else got
    if not same(got, [labels.count(0), labels.count(1)]):
        raise fail("count_labels must give [n_non_toxic, n_toxic] for any labels", labels=labels, given_as=kind)


# --- class_weights ------------------------------------------------------------------

@bounded(25)
@given(counts=st.lists(st.integers(1, 2_000_000), min_size=2, max_size=5))
def test_class_weights__inverse_frequency_for_any_counts(student, counts):
    got, args, _ = student.call_echo("compute_class_weights", list(counts))
    inverse = 1.0 / np.asarray(counts, dtype=np.float64)
    want = inverse / inverse.sum()
    if not (isinstance(got, wire.Tensor) and got.dtype == "float32" and got.shape == want.shape
            and np.allclose(got.values, want, rtol=1e-5, atol=1e-7)):
        raise fail("weights must be 1/count normalised to sum 1, as a float32 tensor", counts=counts)
    if not same(args[0], list(counts)):
        raise fail("compute_class_weights must not change the counts it is given", counts=counts)


# --- tokenize -----------------------------------------------------------------------

words = st.sampled_from(["the", "editor", "THANKS", "ünïcode", "🙂", "wikipedia", "don't", "x", "...", "anti-vandalism"])
# short ones, odd ones, and ones around and past the 256-token limit (Hypothesis rarely draws long lists unasked)
comments = st.one_of(st.just(""), st.lists(words, max_size=30).map(" ".join), st.text(max_size=40),
                     st.lists(words, min_size=200, max_size=320).map(" ".join))


@bounded(20)
@given(texts=st.lists(comments, min_size=1, max_size=4))
def test_tokenize__same_as_the_tokenizer_on_any_comments(student, texts):
    out = student.call("tokenize", {"comment_text": texts})
    ref = reference_tokens(texts)
    if not isinstance(out, dict) or sorted(out) != sorted(ref):
        raise fail("tokenize must return the tokenizer's fields", texts=texts)
    for key in ref:
        if not same([[int(t) for t in row] for row in out[key]], ref[key]):
            raise fail("tokenize must give the tokenizer's own ids, truncated to 256 tokens and unpadded", texts=texts)


# --- cleanup ------------------------------------------------------------------------

@bounded(15)
@given(toxic=st.lists(st.integers(0, 1), min_size=1, max_size=12), flip=st.booleans(), extra=st.booleans(),
       empty=st.sets(st.integers(0, 11), max_size=3))
def test_cleanup__any_rows_and_columns(student, toxic, flip, extra, empty):
    label = [1 - t for t in toxic] if flip else toxic
    empty = sorted(i for i in empty if i < len(toxic))  # rows whose comment is "" (load_jigsaw keeps them)
    out = student_dataset(student, tokenized_sample(len(toxic), label=label, toxic=toxic, extra=extra, empty=empty))
    if sorted(out.columns) != ["attention_mask", "input_ids", "labels", "token_type_ids"]:
        raise fail("clean_columns must keep the three model inputs and labels only", rows=len(toxic), extra_column=extra)
    labels = out.data.get("labels")
    if not (isinstance(labels, list) and all(type(x) is int for x in labels) and labels == toxic):
        raise fail("labels must be the toxic column as integers, every row kept", toxic=toxic, label=label,
                   empty_comments=empty)


# --- metrics ------------------------------------------------------------------------

@st.composite
def predictions(draw):
    n = draw(st.integers(2, 40))
    labels = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n).filter(lambda ls: 0 < sum(ls) < len(ls)))
    # no ties or near-ties: a softmax in float32 can round two close logits to the same probability, and
    # which class wins a tie is not the exercise
    pair = st.tuples(st.floats(-5, 5, width=32), st.floats(-5, 5, width=32)).filter(lambda t: abs(t[0] - t[1]) > 1e-3)
    logits = draw(st.lists(pair, min_size=n, max_size=n))
    return np.asarray(logits, dtype=np.float32), np.asarray(labels)


@bounded(25)
@given(data=predictions())
def test_metrics__macro_scores_on_any_predictions(student, data):
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    logits, labels = data
    m = student.call("compute_metrics", obj("eval_prediction", predictions=logits, label_ids=labels))
    preds = logits.argmax(1)
    p, r, f, _ = precision_recall_fscore_support(labels, preds, average="macro", zero_division=0)
    want = {"accuracy": accuracy_score(labels, preds), "precision": p, "recall": r, "f1": f}
    try:
        ok = isinstance(m, dict) and all(abs(as_float(m.get(k), k) - v) < 1e-6 for k, v in want.items())
    except AssertionError:
        ok = False
    if not ok:
        raise fail("accuracy and macro precision, recall, f1 of the argmax predictions",
                   logits=np.round(logits, 3).tolist(), labels=labels.tolist())


# --- training_args --------------------------------------------------------------------

RECIPE = {"learning_rate": 2e-5, "num_train_epochs": 3, "per_device_train_batch_size": 16,
          "per_device_eval_batch_size": 16, "weight_decay": 0.01, "eval_strategy": "epoch", "save_strategy": "epoch",
          "load_best_model_at_end": True, "max_steps": -1}  # -1: the epochs set the length
OVERRIDES = st.fixed_dictionaries({}, optional={
    "learning_rate": st.sampled_from([1e-5, 3e-5, 5e-5]), "num_train_epochs": st.integers(1, 5),
    "per_device_train_batch_size": st.sampled_from([8, 32]), "per_device_eval_batch_size": st.sampled_from([8, 64]),
    "weight_decay": st.sampled_from([0.0, 0.1]), "seed": st.integers(0, 99), "warmup_steps": st.integers(0, 50),
    "logging_steps": st.integers(1, 100)})


@bounded(15)
@given(overrides=OVERRIDES, out=st.sampled_from(["grading-out", "runs/x", "saved_models/run-1"]))
def test_training_args__recipe_plus_any_overrides(student, overrides, out):
    a = student_args(student, out, **overrides)
    want = {**RECIPE, **overrides, "output_dir": out}
    wrong = [k for k, v in want.items() if not same(a.get(k), v) and not (
        isinstance(v, float) and isinstance(a.get(k), float) and abs(a.get(k) - v) < 1e-12)]
    if wrong or a.get("metric_for_best_model") not in ("f1", "eval_f1") or a.get("greater_is_better") is False:
        raise fail("the recipe, with every override applied on top", output_dir=out, overrides=overrides)


# --- weighted_loss --------------------------------------------------------------------

@bounded(6)
@given(labels=st.lists(st.integers(0, 1), min_size=1, max_size=8), w0=st.floats(0.05, 0.95),
       seed=st.integers(0, 3), call_seed=st.integers(4, 6), outputs=st.booleans(),
       items=st.one_of(st.none(), st.integers(1, 64)))
def test_weighted_loss__any_batch_weights_model_and_arguments(student, labels, w0, seed, call_seed, outputs, items):
    batch = loss_batch(labels=tuple(labels), seed=seed + 10)
    weights = [round(w0, 4), round(1 - w0, 4)]
    extra = {"num_items_in_batch": items} if items is not None else {}
    out = student_loss(student, weights, batch, seed=seed, call_seed=call_seed, return_outputs=outputs, **extra)
    value = out["value"]
    expected, logits, grads = reference_loss(batch, weights, seed=call_seed)
    if outputs:  # (loss, outputs): the model's outputs, holding the logits
        pair_ok = isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict) and isinstance(
            value[1].get("logits"), wire.Tensor) and np.allclose(value[1]["logits"].values, logits, atol=1e-5)
        value = value[0] if pair_ok else None
    ok = isinstance(value, wire.Tensor) and value.shape == () and abs(float(value.values) - expected) < 1e-5
    got = out.get("grad", {})
    ok = ok and value.requires_grad and set(got) == set(grads) and all(
        isinstance(got[k], wire.Tensor) and np.allclose(got[k].values, grads[k], atol=1e-5) for k in grads)
    if not ok:
        raise fail("the weighted cross-entropy of the model passed in, with its gradient, for any batch and weights",
                   labels=labels, weights=weights, return_outputs=outputs, num_items_in_batch=items)


# --- predict_proba ----------------------------------------------------------------------

@bounded(8)
@given(texts=st.lists(comments, min_size=1, max_size=5), seed=st.integers(0, 3))
def test_predict_proba__any_texts_in_order(student, texts, seed):
    p = student.call("predict_proba", texts, obj("model", seed=seed, train=True), obj("tokenizer"))
    ref = reference_proba(texts, seed)
    if not (isinstance(p, np.ndarray) and p.shape == ref.shape and np.allclose(p, ref, atol=1e-4)):
        raise fail("softmax probabilities per text, in order, eval mode, 256 tokens", texts=texts)


# --- identity_gap -----------------------------------------------------------------------

TERMS = ["black", "white", "asian", "latino", "gay", "straight", "muslim", "christian", "jewish", "old", "young",
         "deaf", "blind", "french", "mexican"]


@bounded(25)
@given(terms=st.lists(st.sampled_from(TERMS), min_size=1, max_size=8, unique=True),
       scores=st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.333333, 0.5, 0.75, 0.9, 1.0]), min_size=8, max_size=8),
       template=st.sampled_from(["you are {term}", "I am {term}.", "{term} people live here", "Being {term} is fine"]))
def test_identity_gap__any_terms_scores_and_template(student, terms, scores, template):
    table = dict(zip(terms, scores))
    res, args, _ = student.call_echo("identity_gap", scorer(template, table), template, list(terms))
    top, low = max(table.values()), min(table.values())
    try:
        ok = (isinstance(res, dict) and abs(as_float(res.get("gap"), "gap") - (top - low)) < 1e-9
              and res.get("lowest") in [t for t in terms if table[t] == low]
              and res.get("highest") in [t for t in terms if table[t] == top]
              and isinstance(res.get("scores"), dict) and sorted(res["scores"]) == sorted(terms)
              and all(abs(as_float(res["scores"][t], t) - table[t]) < 1e-9 for t in terms)
              and args[2] == list(terms))
    except AssertionError:
        ok = False
    if not ok:
        raise fail("scores per term, the gap between the extremes, and their terms, for any terms and template",
                   template=template, scores=table)

