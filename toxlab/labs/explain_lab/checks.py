"""Visible exercise checks for lab 6b (explain_lab): pytest tests run by toxlab.grading.check.

Each test is named test_<exercise>__<what> and takes the `student` fixture (toxlab.grading). The
scoring functions handed to the student's code are `word_scorer`s (toxlab.labs.objects): a
sigmoid of the summed weights of a text's words, so every answer can be worked out here exactly.
The examples hold the usual traps: a word that occurs twice, ties (in a list longer than 16, where
np.argsort's default sort stops keeping them in order), k% that must round up, words the text's
order and the ranking's order disagree on, a term inside a longer word. The Integrated Gradients
exercise gets the tiny grading BERT (toxlab.labs.objects.model) and is compared with toxlab.explain's
own Integrated Gradients on the same model. An exercise's points are shared out: one share per
visible check here, one for the hidden checks together (course/hidden_checks/explain_lab.py).
Helpers that the hidden checks share live here too.

When the student's function raises, the failure names the error and what that check asks (call()),
so the hint is not lost to a traceback.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np

from toxlab.explain import n_top
from toxlab.explain import top_k as ref_top_k
from toxlab.grading.answers import as_float, as_ints, hint_when_it_raises, kind
from toxlab.grading.wire import Tensor, obj
from toxlab.labs import objects

SPECIAL = ("[CLS]", "[SEP]", "[PAD]")

# --- helpers ----------------------------------------------------------------------------------


def scorer(weights: dict, bias: float = 0.0, pairs: dict | None = None) -> dict:
    """The scoring function handed to the student (built in their process from plain arguments)."""
    return obj("word_scorer", weights=weights, bias=bias, pairs=pairs)


def p(weights: dict, bias: float, text: str, pairs: dict | None = None) -> float:
    """What that scoring function gives `text` (the same code, built here)."""
    return objects.word_scorer(weights, bias, pairs)([text])[0]


def call(student, asks: str, name: str, *args, echo: bool = False):
    """student.call (or call_echo) of the student's `name`; when their function raises, the failure says what
    this check asks beside the error, so a crash still shows the exercise's hint."""
    with hint_when_it_raises(f"what this check asks: {asks}"):
        return student.call_echo(name, *args) if echo else student.call(name, *args)


def as_floats(got, n: int, what: str, per: str = "word") -> list[float]:
    """A list of n finite floats from a returned list, tuple, 1-D array or tensor; else a readable failure."""
    if isinstance(got, Tensor):
        got = got.values
    if isinstance(got, np.ndarray) and got.ndim == 1 and got.dtype.kind in "fiu":
        got = got.tolist()
    assert isinstance(got, (list, tuple)) and all(type(x) in (int, float) for x in got), (
        f"{what} should be a list of floats, got {kind(got)}")
    assert len(got) == n, f"{what} should be {n} numbers (one per {per}), got {len(got)}"
    return [float(x) for x in got]


def number(got, what: str) -> float:
    """One float from a returned number, one-element array or tensor; else a readable failure."""
    if isinstance(got, Tensor):
        got = got.values
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    assert type(got) in (int, float), f"{what} should be a number, got {kind(got)}"
    return float(got)


def ref_occlusion(weights: dict, bias: float, words: list[str], pairs: dict | None = None) -> list[float]:
    full = p(weights, bias, " ".join(words), pairs)
    return [full - p(weights, bias, " ".join(words[:i] + words[i + 1:]), pairs) for i in range(len(words))]


def ref_merge(tokens: list[str], scores: list[float]) -> tuple[list[str], list[float]]:
    words: list[str] = []
    merged: list[float] = []
    for t, s in zip(tokens, scores):
        if t in SPECIAL:
            continue
        if t.startswith("##") and words:
            words[-1] += t[2:]
            merged[-1] += s
        else:
            words.append(t)
            merged.append(s)
    return words, merged


def ref_erased(words: list[str], ranking: list[int], k: float, keep: bool) -> str:
    top = set(ranking[:n_top(len(words), k)])
    return " ".join(w for i, w in enumerate(words) if (i in top) == keep)


def ref_comprehensiveness(weights, bias, words, ranking, k, pairs=None) -> float:
    return p(weights, bias, " ".join(words), pairs) - p(weights, bias, ref_erased(words, ranking, k, keep=False), pairs)


def ref_sufficiency(weights, bias, words, ranking, k, pairs=None) -> float:
    return p(weights, bias, " ".join(words), pairs) - p(weights, bias, ref_erased(words, ranking, k, keep=True), pairs)


def ref_term_share(texts: list[str], labels: list[int], term: str) -> float:
    pattern = re.compile(r"\b" + re.escape(term) + r"\b", re.IGNORECASE)
    hits = [y for t, y in zip(texts, labels) if pattern.search(t)]
    return sum(hits) / len(hits) if hits else float("nan")


def close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) < 1e-9


# --- exercise: occlusion ------------------------------------------------------------

INSULT = {"idiot": 3.0, "complete": 1.0, "you": 0.5, "stupid": 2.0, "thanks": -1.0}
PAIRS = {"you idiot": 2.0}  # word order counts: "you idiot" is worse than "you ... idiot" or "idiot you"


def test_occlusion__leave_one_word_out(student):
    words = ["thanks", "you", "are", "a", "complete", "idiot"]
    want = ref_occlusion(INSULT, -2.0, words, PAIRS)
    got = as_floats(call(student, f"one score per word, P(all the words) - P(without it): {[round(w, 3) for w in want]}",
                         "occlusion_scores", scorer(INSULT, -2.0, PAIRS), words), 6, "occlusion_scores' answer")
    assert all(close(g, w) for g, w in zip(got, want)), (
        "each score is P(toxic | all the words) - P(toxic | the words without that one, joined by single "
        f"spaces): 'idiot' should score about {want[5]:.3f} (positive: it pushed toward toxic), 'thanks' about "
        f"{want[0]:.3f} (negative); got {[round(g, 3) for g in got]}")


def test_occlusion__a_word_that_occurs_twice(student):
    words = ["you", "are", "idiot", "you", "idiot"]
    want = ref_occlusion(INSULT, -2.0, words, PAIRS)
    got = as_floats(call(student, f"a word that occurs twice, left out at one position at a time: "
                                  f"{[round(w, 3) for w in want]}", "occlusion_scores", scorer(INSULT, -2.0, PAIRS), words),
                    5, "occlusion_scores' answer")
    assert all(close(g, w) for g, w in zip(got, want)), (
        "leave out the word at that position only, and put nothing in its place: removing the second 'you' keeps "
        "the first, and removing 'are' makes 'you idiot' (with the same scorer, word order counts): expected "
        f"{[round(w, 3) for w in want]}, got {[round(g, 3) for g in got]}")


# --- exercise: merge_words ----------------------------------------------------------

def student_merge(student, tokens: list[str], scores: list[float]) -> tuple[list[str], list[float]]:
    words, merged = ref_merge(tokens, scores)
    got = call(student, f"merge_pieces({tokens}, ...) gives the words {words} with the scores {merged}",
               "merge_pieces", tokens, scores)
    assert isinstance(got, (list, tuple)) and len(got) == 2, (
        f"merge_pieces should return two lists, (words, word_scores); got {kind(got)}")
    words, merged = got
    assert isinstance(words, (list, tuple)) and all(isinstance(w, str) for w in words), (
        f"the words should be a list of strings, got {kind(words)}")
    return list(words), as_floats(merged, len(words), "merge_pieces' word_scores")


def test_merge_words__pieces_join_their_word(student):
    tokens = ["[CLS]", "you", "are", "st", "##up", "##id", "[SEP]", "[PAD]"]
    words, _ = student_merge(student, tokens, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.0, 0.0])
    assert words == ["you", "are", "stupid"], (
        "a piece starting with ## continues the word before it (without the ##), and [CLS], [SEP] and [PAD] "
        f"are dropped: expected ['you', 'are', 'stupid'], got {words}")


def test_merge_words__a_word_scores_the_sum_of_its_pieces(student):
    tokens = ["[CLS]", "un", "##bel", "##ievable", "!", "#", "tag", "[UNK]", "[SEP]"]
    scores = [0.9, 0.25, -0.5, 0.75, 0.125, 0.5, 0.25, 0.0625, -0.9]
    words, merged = student_merge(student, tokens, scores)
    want_words, want = ref_merge(tokens, scores)
    assert words == want_words, (
        "keep every token except [CLS], [SEP] and [PAD] ('!', '#' and [UNK] are words too; only a token starting "
        f"with ## continues a word): expected {want_words}, got {words}")
    assert all(close(g, w) for g, w in zip(merged, want)), (
        f"a word's score is the SUM of its pieces' scores (here 0.25 - 0.5 + 0.75 = 0.5), the specials' scores "
        f"left out: expected {want}, got {merged}")


# --- exercise: integrated_gradients ------------------------------------------------------------

IG_TEXT = "you are a complete idiot"
IG_STEPS = (2, 4, 8, 16, 32, 64)  # on the grading model, from [PAD], delta goes -0.083, -0.634, -0.388, -0.141,
IG_TOL = 0.05  # +0.025, -0.0004 here: not steadily down, and negative at first, so "delta < tol" stops at 2, not 32


@lru_cache(maxsize=1)
def ig_model():
    """The model the student's ig_scores gets (toxlab.labs.objects.model, built the same way here)."""
    return objects.model()


def token_id(token: str) -> int:
    return int(objects.tokenizer().convert_tokens_to_ids(token))


@lru_cache(maxsize=None)
def ref_ig(text: str, baseline_id: int, n_steps: int) -> tuple[list[float], float, float, float]:
    """toxlab's Integrated Gradients on the grading model: (one score per token, [CLS] and [SEP] included at 0,
    Captum's delta, P(toxic | text), P(toxic | baseline))."""
    from toxlab.explain import integrated_gradients

    a = integrated_gradients(ig_model(), objects.tokenizer(), text, n_steps=n_steps, baseline=baseline_id)
    return [0.0, *a.scores.tolist(), 0.0], float(a.delta), a.p_toxic, a.p_baseline


def ref_ig_steps(text: str, baseline_id: int, steps, tol: float) -> int:
    """The first step count whose |delta| < tol, else the last one."""
    return next((n for n in steps if abs(ref_ig(text, baseline_id, n)[1]) < tol), steps[-1])


def n_tokens(text: str) -> int:
    return len(objects.tokenizer()(text)["input_ids"])


_ig_answers: dict = {}  # this run's answers: several checks look at one call (each call runs IG up to 6 times)


def student_ig(student, text: str, baseline: str, steps=IG_STEPS, tol: float = IG_TOL):
    """(scores, delta, n_steps) from the student's ig_scores on the grading model, checked for shape only."""
    key = (id(student), text, baseline, tuple(steps), tol)
    if key not in _ig_answers:
        n_want = ref_ig_steps(text, token_id(baseline), steps, tol)
        asks = (f"ig_scores(model, tokenizer, {text!r}, baseline_id={token_id(baseline)} ({baseline}), "
                f"steps={steps}, tol={tol}) returns (scores, delta, n_steps): {n_tokens(text)} scores, "
                f"n_steps {n_want}")
        _ig_answers[key] = call(student, asks, "ig_scores", obj("model"), obj("tokenizer"), text,
                                token_id(baseline), steps, tol)
    got = _ig_answers[key]
    assert isinstance(got, (list, tuple)) and len(got) == 3, (
        f"ig_scores should return three things, (scores, delta, n_steps); got {kind(got)}"
        + (f" of {len(got)}" if isinstance(got, (list, tuple)) else ""))
    scores, delta, n = got
    if isinstance(scores, Tensor) and scores.values.ndim == 2 and scores.values.shape[0] == 1:
        scores = Tensor(scores.values[0], scores.requires_grad)  # a batch of one: (1, tokens) reads as (tokens,)
    if isinstance(scores, Tensor) and scores.values.ndim == 1:
        scores = scores.values
    return scores, number(delta, "ig_scores' delta"), n


def test_integrated_gradients__one_score_per_token(student):
    scores, _, _ = student_ig(student, IG_TEXT, "[PAD]")
    n = n_tokens(IG_TEXT)
    size = (len(scores) if isinstance(scores, (list, tuple, np.ndarray)) and np.ndim(scores) >= 1 else None)
    assert size == n and np.ndim(scores) == 1, (
        f"one score per token of tokenizer(text), [CLS] and [SEP] included ({n} for {IG_TEXT!r}): Captum's "
        f"attributions have the shape (1, tokens, embedding size), so sum them over the embedding size, the last "
        f"axis, and take the one row; got {kind(scores)}" + (f" of length {size}" if size is not None else ""))
    as_floats(scores, n, "ig_scores' scores", per="token")


def test_integrated_gradients__the_baseline_is_not_the_text(student):
    scores, _, _ = student_ig(student, IG_TEXT, "[PAD]")
    scores = as_floats(scores, n_tokens(IG_TEXT), "ig_scores' scores", per="token")
    assert any(abs(s) > 1e-6 for s in scores), (
        "every score is 0, as when the baseline is the text itself (nothing changes along the path): the baseline "
        "is the text with every piece between [CLS] and [SEP] replaced by baseline_id")


def test_integrated_gradients__cls_and_sep_keep_their_place(student):
    scores, _, _ = student_ig(student, IG_TEXT, "[PAD]")
    scores = as_floats(scores, n_tokens(IG_TEXT), "ig_scores' scores", per="token")
    assert abs(scores[0]) < 1e-6 and abs(scores[-1]) < 1e-6, (
        "[CLS] and [SEP] should score 0: keep them in the baseline (only the pieces between them become "
        f"baseline_id), so that the baseline differs from the text only where its words are; got "
        f"{scores[0]:+.4f} for [CLS] and {scores[-1]:+.4f} for [SEP]")


def test_integrated_gradients__the_scores_add_up(student):
    scores, delta, _ = student_ig(student, IG_TEXT, "[PAD]")
    scores = as_floats(scores, n_tokens(IG_TEXT), "ig_scores' scores", per="token")
    _, _, p_text, p_base = ref_ig(IG_TEXT, token_id("[PAD]"), IG_STEPS[0])
    got = sum(scores) - delta
    assert abs(got - (p_text - p_base)) < 1e-4, (
        "completeness: Captum's delta is what the scores' sum misses of P(toxic | text) - P(toxic | baseline), so "
        f"sum(scores) - delta should be {p_text:.4f} - {p_base:.4f} = {p_text - p_base:+.4f} (P(toxic): the "
        f"softmax's column 1); got sum(scores) {sum(scores):+.4f} - delta {delta:+.4f} = {got:+.4f}")


def test_integrated_gradients__captums_scores_at_your_steps(student):
    scores, delta, n = student_ig(student, IG_TEXT, "[MASK]")
    scores = as_floats(scores, n_tokens(IG_TEXT), "ig_scores' scores", per="token")
    assert type(n) is int and n >= 1, f"n_steps should be the step count (an int) you used, got {kind(n)}"
    want, _, _, _ = ref_ig(IG_TEXT, token_id("[MASK]"), n)
    assert np.allclose(scores, want, atol=1e-4, rtol=1e-3), (
        f"with baseline_id={token_id('[MASK]')} ([MASK]) and the {n} steps you return, Captum's "
        "LayerIntegratedGradients of P(toxic) over model.get_input_embeddings() gives "
        f"{[round(w, 4) for w in want]}; got {[round(g, 4) for g in scores]}")


def test_integrated_gradients__the_first_step_count_within_tol(student):
    _, _, n = student_ig(student, IG_TEXT, "[PAD]")
    want = ref_ig_steps(IG_TEXT, token_id("[PAD]"), IG_STEPS, IG_TOL)
    # the deltas up to the answer (the ones after it are never computed, which is the point)
    deltas = ", ".join(f"{m}: {ref_ig(IG_TEXT, token_id('[PAD]'), m)[1]:+.3f}" for m in IG_STEPS[:IG_STEPS.index(want) + 1])
    assert n == want, (
        f"try the step counts in order and stop at the first whose |delta| < tol: with steps={IG_STEPS} and "
        f"tol={IG_TOL} that is {want} (delta at each count up to it: {deltas}); got n_steps {n}")


# --- exercise: top_k ----------------------------------------------------------------

def student_top(student, scores, k: int) -> list[int]:
    want = ref_top_k(scores, k)
    return as_ints(call(student, f"top_k({np.asarray(scores).tolist()}, {k}) is {want}", "top_k", scores, k), "top_k")


def test_top_k__highest_signed_scores_first(student):
    scores = np.array([0.1, -0.9, 0.5, 0.3])
    got, args, _ = call(student, "top_k(array([0.1, -0.9, 0.5, 0.3]), 2) is [2, 3]", "top_k", scores, 2, echo=True)
    got = as_ints(got, "top_k")
    assert got == [2, 3], (
        "the positions of the k highest scores, highest first, ranked by the signed score (-0.9 pushes away from "
        f"toxic: it is the lowest, not the largest): top_k(array([0.1, -0.9, 0.5, 0.3]), 2) is [2, 3]; got {got}")
    left = getattr(args[0], "values", args[0])
    assert np.array_equal(np.asarray(left), scores), (
        f"leave the scores you are given as they were (the faithfulness cell ranks one array for five ks): "
        f"top_k changed them to {np.asarray(left).tolist()}")


def test_top_k__ties_and_a_large_k(student):
    got = student_top(student, np.array([0.2, 0.5, 0.2, 0.5]), 10)
    assert got == [1, 3, 0, 2], (
        "ties go to the earlier position, and a k larger than the number of scores returns every position: "
        f"top_k(array([0.2, 0.5, 0.2, 0.5]), 10) is [1, 3, 0, 2]; got {got}")


# 24 word scores on a coarse grid, as a long comment's rounded attributions are: many ties. np.argsort's
# default sort is not stable past 16 elements, so np.argsort(-s)[:k] lists tied positions out of order here
# (on every numpy sort path tried: generic, AVX2 and AVX-512)
LONG_TIES = [0.05, 0.4, 0.1, 0.1, 0.25, 0.1, 0.4, 0.0, 0.1, 0.25, 0.1, 0.05,
             0.1, 0.4, 0.25, 0.1, 0.0, 0.1, 0.25, 0.1, 0.4, 0.05, 0.1, 0.25]


def test_top_k__ties_in_a_long_list(student):
    want = ref_top_k(LONG_TIES, 10)
    got = student_top(student, np.array(LONG_TIES), 10)
    assert got == want, (
        f"in a list of any length, tied scores go to the earlier position (a sort that is not stable, such as "
        f"np.argsort's default, may reorder ties in lists longer than 16): for these 24 scores the top 10 are {want}; "
        f"got {got}")


# --- exercise: comprehensiveness -----------------------------------------------------

TEN = "you are a complete idiot and your edits are stupid".split()
TEN_RANKING = [4, 9, 0, 3, 7, 6, 8, 1, 2, 5]  # idiot, stupid, you, complete, ...


def student_metric(student, name: str, weights, bias, words, ranking, k, pairs=None) -> float:
    ref = {"comprehensiveness": ref_comprehensiveness, "sufficiency": ref_sufficiency}[name]
    want = ref(weights, bias, words, ranking, k, pairs)
    asks = (f"{name}(score, {words}, {list(ranking)}, {k}) is {want:.4f} (the top ceil(n * k / 100) words, at "
            f"least one, {'removed' if name == 'comprehensiveness' else 'kept alone, in text order'})")
    return as_float(call(student, asks, name, scorer(weights, bias, pairs), words, ranking, k), name)


def test_comprehensiveness__remove_the_top_words(student):
    got = student_metric(student, "comprehensiveness", INSULT, -2.0, TEN, TEN_RANKING, 20)
    want = ref_comprehensiveness(INSULT, -2.0, TEN, TEN_RANKING, 20)
    assert close(got, want), (
        "remove the top k% words (k=20 of 10 words: the first two positions of the ranking, 'idiot' and 'stupid') "
        f"and return P(full) - P(the rest, in order): expected {want:.4f}, got {got:.4f}")


def test_comprehensiveness__k_percent_rounds_up(student):
    words = "you are a complete idiot".split() + ["idiot", "today"]
    ranking = [4, 3, 5, 0, 1, 2, 6]  # the first 'idiot' first; the second one third
    got = [student_metric(student, "comprehensiveness", INSULT, -2.0, words, ranking, k) for k in (10, 20)]
    want = [ref_comprehensiveness(INSULT, -2.0, words, ranking, k) for k in (10, 20)]
    assert all(close(g, w) for g, w in zip(got, want)), (
        "the top k% of 7 words is ceil(7 * k / 100): 1 word for k=10 (at least one), 2 for k=20, the first positions "
        "of the ranking; remove them by position (for k=10 the first 'idiot' goes and the second stays): expected "
        f"{[round(w, 4) for w in want]}, got {[round(g, 4) for g in got]}")


# --- exercise: sufficiency ------------------------------------------------------------

def test_sufficiency__keep_only_the_top_words(student):
    got = student_metric(student, "sufficiency", INSULT, -2.0, TEN, TEN_RANKING, 20)
    want = ref_sufficiency(INSULT, -2.0, TEN, TEN_RANKING, 20)
    assert close(got, want), (
        "keep only the top k% words (k=20 of 10: 'idiot' and 'stupid') and return P(full) - P(only those words): "
        f"expected {want:.4f}, got {got:.4f}")


def test_sufficiency__in_text_order_rounding_up(student):
    pairs = {"you idiot": 1.5}  # word order counts: "you idiot" scores higher than "idiot you"
    words = ["you", "are", "an", "idiot", "ok"]
    ranking = [3, 0, 4, 2, 1]  # idiot, you, ...; in the text: you ... idiot
    seen = [(student_metric(student, "sufficiency", INSULT, -1.5, words, ranking, k, pairs),
             ref_sufficiency(INSULT, -1.5, words, ranking, k, pairs)) for k in (25, 40)]  # 2 words each
    assert all(close(g, w) for g, w in seen), (
        "the top k% of 5 words is ceil(5 * k / 100) (2 words for k=25), kept in the order they have in the text "
        f"('you idiot', not the ranking's 'idiot you'): expected {[round(w, 4) for _, w in seen]}, "
        f"got {[round(g, 4) for g, _ in seen]}")


def test_sufficiency__a_top_word_that_occurs_twice(student):
    words = ["stupid", "edits", "are", "stupid", "ok"]
    ranking = [0, 3, 4, 1, 2]  # the first 'stupid' is the top word; the second is not
    got = student_metric(student, "sufficiency", INSULT, -1.0, words, ranking, 20)
    want = ref_sufficiency(INSULT, -1.0, words, ranking, 20)
    assert close(got, want), (
        "keep the top words by position: with k=20 of 5 words only the first 'stupid' is kept, not every copy of it: "
        f"expected {want:.4f}, got {got:.4f}")


# --- exercise: term_toxicity ----------------------------------------------------------

def student_share(student, texts, labels, term, as_column: bool = False) -> float:
    arg = obj("column", values=labels) if as_column else labels
    want = ref_term_share(texts, labels, term)
    got = call(student, f"P(toxic | {term!r}) over {texts} with labels {labels} is {want:.4f}",
               "p_toxic_given_term", texts, arg, term)
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    assert type(got) in (int, float), f"p_toxic_given_term should return a number, got {kind(got)}"
    return float(got)


def test_term_toxicity__whole_words_in_any_case(student):
    texts = ["Gay pride parade today", "gaylord is his name", "I am GAY!", "a gay-friendly cafe", "Nothing here"]
    labels = [0, 1, 1, 0, 1]
    got = student_share(student, texts, labels, "gay", as_column=True)
    assert close(got, 1 / 3), (
        "'gay' is in 'Gay pride...', 'I am GAY!' and 'a gay-friendly cafe' (whole words, any case: regex \\b with "
        f"re.IGNORECASE) but not in 'gaylord'; one of those three is toxic: 1/3; got {got:.4f}")


def test_term_toxicity__share_of_the_texts_that_mention_it(student):
    texts = ["muslim muslim muslim go away", "my muslim neighbour", "a quiet street", "you idiot", "the muslim council"]
    labels = [1, 0, 1, 1, 0]
    got = student_share(student, texts, labels, "muslim")
    assert close(got, 1 / 3), (
        "among the 3 texts that mention 'muslim' (each counts once, however often it says it), 1 is toxic: "
        f"P(toxic | term) = 1/3, not P(term | toxic) nor a count of mentions; got {got:.4f}")


def test_term_toxicity__nan_when_no_text_mentions_it(student):
    got = student_share(student, ["a quiet street", "you idiot"], [0, 1], "buddhist")
    assert math.isnan(got), f"no text mentions 'buddhist': return float('nan') (the data says nothing), got {got}"
