"""Hidden exercise checks of lab 6b (explain_lab): the instructor's, never released.

The grade cells' hidden regions call toxlab.grading.check(..., hidden=True). Each test compares the
student's function with the reference in toxlab/labs/explain_lab/checks.py on inputs that
Hypothesis generates with a fixed seed and a bounded number of examples: sentences with repeated
words, ties among the scores, every k from 1 to 100, word pieces in runs, terms inside longer words,
multi-word terms, and for Integrated Gradients other texts, baselines, step counts and tolerances (one
that no step count reaches). A failure shows only a message that stands literally here, then the failing input.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from toxlab.explain import top_k as ref_top_k
from toxlab.grading import fail, wire
from toxlab.grading.answers import bounded
from toxlab.grading.wire import obj
from toxlab.labs.explain_lab.checks import (
    close,
    ref_comprehensiveness,
    ref_ig,
    ref_ig_steps,
    ref_merge,
    ref_occlusion,
    ref_sufficiency,
    ref_term_share,
    scorer,
    token_id,
)

VOCAB = ["you", "are", "an", "idiot", "stupid", "great", "edit", "the", "page", "thanks"]
words_st = st.lists(st.sampled_from(VOCAB), min_size=1, max_size=12)  # repeats are likely
weights_st = st.fixed_dictionaries({w: st.integers(-8, 8).map(lambda x: x / 4) for w in VOCAB})
pairs_st = st.dictionaries(st.sampled_from(["you idiot", "idiot you", "stupid edit", "great page"]),
                           st.integers(-8, 8).map(lambda x: x / 4), max_size=3)


def scores_for(n: int):
    """n attribution scores on a coarse grid, so that ties are common."""
    return st.lists(st.integers(-4, 4).map(lambda x: x / 4), min_size=n, max_size=n)


def floats_or_none(got):
    """The answer as a list of floats, or None when it is not one."""
    if isinstance(got, wire.Tensor):
        got = got.values
    if isinstance(got, np.ndarray) and got.ndim == 1:
        got = got.tolist()
    if isinstance(got, (list, tuple)) and all(type(x) in (int, float) for x in got):
        return [float(x) for x in got]
    return None


def number_or_none(got):
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    return float(got) if type(got) in (int, float) else None


# --- occlusion ------------------------------------------------------------------------

@bounded(25)
@given(words=words_st, weights=weights_st, pairs=pairs_st, bias=st.integers(-8, 8).map(lambda x: x / 4))
def test_occlusion__any_sentence(student, words, weights, pairs, bias):
    got = floats_or_none(student.call("occlusion_scores", scorer(weights, bias, pairs), words))
    want = ref_occlusion(weights, bias, words, pairs)
    if got is None or len(got) != len(want) or not all(close(g, w) for g, w in zip(got, want)):
        raise fail("occlusion_scores must give P(full) - P(without the word at each position) for any words",
                   words=words)


# --- merge_words ------------------------------------------------------------------------

piece_st = st.one_of(st.sampled_from(["[CLS]", "[SEP]", "[PAD]", "[UNK]", ",", "!", "#"]),
                     st.sampled_from(["you", "are", "st", "un", "bel", "idi"]),
                     st.sampled_from(["##up", "##id", "##ot", "##ievable", "##s"]))


@bounded(30)
# a word first: the exercise does not say what a ## piece with no word before it becomes
@given(tokens=st.lists(piece_st, max_size=14).map(lambda t: ["[CLS]", "you", *t, "[SEP]"]), data=st.data())
def test_merge_words__any_pieces(student, tokens, data):
    scores = data.draw(scores_for(len(tokens)))
    got = student.call("merge_pieces", tokens, scores)
    want_words, want = ref_merge(tokens, scores)
    ok = isinstance(got, (list, tuple)) and len(got) == 2 and list(got[0]) == want_words
    merged = floats_or_none(got[1]) if ok else None
    if not ok or merged is None or len(merged) != len(want) or not all(close(g, w) for g, w in zip(merged, want)):
        raise fail("merge_pieces must join ## pieces to their word, sum their scores and drop only the specials",
                   tokens=tokens, scores=scores)


# --- integrated_gradients ----------------------------------------------------------------------

def ig_answer_or_none(got):
    """(scores, delta, n_steps) as plain numbers, or None when the answer is not shaped like one."""
    if not (isinstance(got, (list, tuple)) and len(got) == 3):
        return None
    scores, delta, n = got
    if isinstance(scores, wire.Tensor):
        scores = scores.values
    if isinstance(scores, np.ndarray) and scores.ndim == 2 and scores.shape[0] == 1:
        scores = scores[0]
    scores = floats_or_none(scores)
    if isinstance(delta, wire.Tensor):
        delta = delta.values
    delta = number_or_none(delta)
    return (scores, delta, n) if scores is not None and delta is not None and type(n) is int else None


@bounded(8)
@given(words=st.lists(st.sampled_from(VOCAB), min_size=1, max_size=6), baseline=st.sampled_from(["[PAD]", "[MASK]", "[UNK]"]),
       steps=st.sampled_from([(4, 16, 64), (2, 8, 32), (8,), (3, 6, 12, 24)]), tol=st.sampled_from([0.2, 0.05, 0.01, 1e-9]))
def test_integrated_gradients__any_text_baseline_and_steps(student, words, baseline, steps, tol):
    text = " ".join(words)
    got = ig_answer_or_none(student.call("ig_scores", obj("model"), obj("tokenizer"), text, token_id(baseline),
                                         steps, tol))
    n = ref_ig_steps(text, token_id(baseline), steps, tol)
    want, delta, _, _ = ref_ig(text, token_id(baseline), n)
    if (got is None or got[2] != n or len(got[0]) != len(want)
            or not np.allclose(got[0], want, atol=1e-4, rtol=1e-3) or abs(got[1] - delta) > 1e-4):
        raise fail("ig_scores must give Captum's scores and delta at the first step count with |delta| < tol, else the last",
                   text=text, baseline=baseline, steps=steps, tol=tol)


# --- top_k --------------------------------------------------------------------------------

@bounded(30)
@given(scores=st.lists(st.integers(-4, 4).map(lambda x: x / 4), max_size=12), k=st.integers(0, 15),
       as_array=st.booleans())
def test_top_k__any_scores(student, scores, k, as_array):
    got = student.call("top_k", np.asarray(scores, dtype=np.float64) if as_array else scores, k)
    got = [int(x) for x in got.tolist()] if isinstance(got, np.ndarray) else got
    if not (isinstance(got, (list, tuple)) and list(got) == ref_top_k(scores, k)):
        raise fail("top_k must give the positions of the k highest signed scores, ties to the earlier one",
                   scores=scores, k=k)


# --- comprehensiveness and sufficiency --------------------------------------------------------

metric_case = st.tuples(words_st, weights_st, pairs_st, st.integers(1, 100))


def metric_answers(student, name, reference, words, weights, pairs, k, data):
    ranking = data.draw(st.permutations(range(len(words))))
    got = number_or_none(student.call(name, scorer(weights, -1.0, pairs), words, ranking, k))
    want = reference(weights, -1.0, words, ranking, k, pairs)
    return got, want, ranking


@bounded(30)
@given(case=metric_case, data=st.data())
def test_comprehensiveness__any_k(student, case, data):
    words, weights, pairs, k = case
    got, want, ranking = metric_answers(student, "comprehensiveness", ref_comprehensiveness, words, weights, pairs,
                                        k, data)
    if got is None or not close(got, want):
        raise fail("comprehensiveness must remove the top ceil(n*k/100) words by position, at least one",
                   words=words, ranking=ranking, k=k)


@bounded(30)
@given(case=metric_case, data=st.data())
def test_sufficiency__any_k(student, case, data):
    words, weights, pairs, k = case
    got, want, ranking = metric_answers(student, "sufficiency", ref_sufficiency, words, weights, pairs, k, data)
    if got is None or not close(got, want):
        raise fail("sufficiency must keep only the top ceil(n*k/100) words, in text order, at least one",
                   words=words, ranking=ranking, k=k)


# --- term_toxicity --------------------------------------------------------------------------

TERMS = ["gay", "muslim", "african american", "black"]
FRAGMENTS = ["Gay", "gay", "GAY!", "gaylord", "gay-friendly", "gays", "Muslim", "muslims", "muslim.",
             "African American", "african-american", "african americans", "black", "blackboard", "(black)",
             "the", "a", "comment", "you", "are", "idiot"]
text_st = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=8).map(" ".join)


@bounded(40)
@given(texts=st.lists(text_st, max_size=8), term=st.sampled_from(TERMS), as_column=st.booleans(), data=st.data())
def test_term_toxicity__any_texts(student, texts, term, as_column, data):
    labels = data.draw(st.lists(st.integers(0, 1), min_size=len(texts), max_size=len(texts)))
    arg = obj("column", values=labels) if as_column else labels
    got = number_or_none(student.call("p_toxic_given_term", texts, arg, term))
    want = ref_term_share(texts, labels, term)
    if got is None or not close(got, want):
        raise fail("p_toxic_given_term must give the toxic share of the texts with the whole term, any case, "
                   "or nan", texts=texts, labels=labels, term=term)

