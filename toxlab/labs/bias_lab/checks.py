"""Visible exercise checks for lab 6c (bias_lab): pytest tests run by toxlab.grading.check.

Each test is named test_<exercise>__<what> and takes the `student` fixture (toxlab.grading). The
references are toxlab's own (toxlab.bias, toxlab.calibration), except the swap, whose exercise
leaves "a"/"an" alone where toxlab.augment.swap_identity fixes them: its reference is here. The
examples are small enough to work out by hand, and hold the usual traps: ties, a subgroup with one
class (answered with nan and no warning), NaN AUCs, P(toxic) of exactly 0 and 1, low and high bins
whose errors would cancel in a top-label ECE, a p other than -5, a score equal to the threshold,
capitals, hyphens and "gaylord". Every hint names the one mistake its check detects; when the
student's function raises, the failure still says what the check expects (ask). An exercise's points
are shared out: one share per visible check here, one for the hidden checks together
(course/hidden_checks/bias_lab.py). Helpers that the hidden checks share live here too.
"""

from __future__ import annotations

import math
import re

import numpy as np

from toxlab import bias
from toxlab.calibration import expected_calibration_error as ref_ece
from toxlab.grading import wire
from toxlab.grading.answers import kind

# --- helpers ----------------------------------------------------------------------------------


def number(got, what: str) -> float:
    """A float (NaN allowed) from a returned number or one-element array; else a readable failure."""
    if isinstance(got, wire.Tensor):
        got = got.values
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    assert type(got) in (int, float), f"{what} should return a number (a float), got {kind(got)}"
    return float(got)


def number_or_none(got) -> float | None:
    """The answer as a float (NaN allowed), or None when it is not a number."""
    try:
        return number(got, "")
    except AssertionError:
        return None


def close(a: float | None, b: float) -> bool:
    """Equal to 1e-9, NaN equal to NaN; None (not a number) equals nothing."""
    if a is None:
        return False
    return (math.isnan(a) and math.isnan(b)) or (not math.isnan(a) and not math.isnan(b) and abs(a - b) < 1e-9)


def ask(student, name: str, *args, expect: str, **kwargs) -> object:
    """student.call(name, *args, **kwargs); when the student's function raises (or is not defined yet) the
    failure still says what the check expects, after the exception: the exercise's hint, not the exception alone."""
    try:
        return student.call(name, *args, **kwargs)
    except AssertionError as e:
        raise AssertionError(f"{e}; {expect}") from None


def ask_recording_warnings(student, name: str, *args, expect: str) -> tuple[object, list[str]]:
    """(the answer, the warnings the call raised, as "Category: message" lines), through the course's harness
    call_recording_warnings (toxlab/labs/harnesses.py): the checks' own run ignores warnings."""
    try:
        student.function(name)
        reply = student.harness("call_recording_warnings", [name, *args], what=f"{name}(...)")
    except AssertionError as e:
        raise AssertionError(f"{e}; {expect}") from None
    assert isinstance(reply, dict) and isinstance(reply.get("warnings"), list), f"{name}(...) gave no answer"
    return reply.get("value"), [str(w) for w in reply["warnings"]]


def show(x: float | None) -> str:
    return "not a number" if x is None else ("nan" if math.isnan(x) else f"{x:.4f}")


def data(labels, scores, subgroup=None) -> list:
    """The arguments as the notebook passes them: int labels, float scores, a bool mask (numpy arrays)."""
    out = [np.asarray(labels, dtype=np.int64), np.asarray(scores, dtype=np.float64)]
    return out + ([np.asarray(subgroup, dtype=bool)] if subgroup is not None else [])


def ref_swap(text: str, term: str, replacement: str) -> str:
    """The exercise's swap: whole-word mentions in any case, a space or hyphen between a term's words, the
    replacement in the mention's case (capitals, or every word capitalized, or as given), all else kept."""
    pattern = re.compile(r"(?<!\w)" + "[ -]".join(re.escape(w) for w in term.split()) + r"(?!\w)", re.IGNORECASE)

    def case_like(m: re.Match) -> str:
        mention = m.group(0)
        letters = [c for c in mention if c.isalpha()]
        if len(letters) > 1 and all(c.isupper() for c in letters):
            return replacement.upper()
        if mention[:1].isupper():
            return " ".join(w[:1].upper() + w[1:] for w in replacement.split(" "))
        return replacement

    return pattern.sub(case_like, text)


def ref_term_fnr(labels, scores, terms, threshold: float) -> dict[str, float]:
    y, s, t = np.asarray(labels), np.asarray(scores, dtype=np.float64), np.asarray(terms, dtype=object)
    return {term: bias.false_negative_rate(y[t == term], s[t == term], threshold) for term in dict.fromkeys(terms)}


def student_fnr(student, labels, scores, terms, threshold, expect: str) -> dict:
    got = ask(student, "term_fnr", *data(labels, scores), list(terms), threshold, expect=expect)
    assert isinstance(got, dict), f"term_fnr should return a dict {{term: FNR}}, got {kind(got)}"
    return got


# --- exercise: subgroup_auc -----------------------------------------------------------------

# ten comments, six mention the identity (True), ties across every part: subgroup AUC 0.611, BPSN 0.75, BNSP 0.583
LABELS = [1, 0, 1, 0, 0, 1, 1, 0, 0, 1]
SCORES = [0.9, 0.45, 0.4, 0.6, 0.5, 0.7, 0.5, 0.5, 0.3, 0.5]
SUBGROUP = [False, False, True, True, True, True, False, False, True, True]


def test_subgroup_auc__only_the_rows_that_mention_the_identity(student):
    want = bias.subgroup_auc(*data(LABELS, SCORES, SUBGROUP))
    expect = ("the AUC over the six rows where subgroup is True only (the toxic ones scored 0.4, 0.7, 0.5, the "
              f"non-toxic 0.6, 0.5, 0.3; the tie 0.5 vs 0.5 counts one half): expected {want:.4f}")
    got = number(ask(student, "subgroup_auc", *data(LABELS, SCORES, SUBGROUP), expect=expect), "subgroup_auc")
    everything = bias.auc(LABELS, SCORES)
    assert close(got, want), (f"{expect}, got {show(got)}"
                              + (" (the AUC over all ten rows: the subgroup mask is not applied)"
                                 if close(got, everything) else ""))


# the subgroup's rows are the two non-toxic ones, then the two toxic ones: one class, so no AUC
ONE_CLASS = ([1, 0, 0, 1], [0.9, 0.2, 0.7, 0.1], [False, True, True, False])
ALL_TOXIC = ([1, 0, 0, 1], [0.9, 0.2, 0.7, 0.1], [True, False, False, True])
ONE_CLASS_EXPECT = ("when the subgroup's rows are all toxic (or all non-toxic) the AUC is undefined: check for both "
                    "classes yourself and return float('nan')")


def test_subgroup_auc__one_class_gives_nan(student):
    got = [number(ask(student, "subgroup_auc", *data(*rows), expect=ONE_CLASS_EXPECT), "subgroup_auc")
           for rows in (ONE_CLASS, ALL_TOXIC)]
    assert all(math.isnan(g) for g in got), (
        f"{ONE_CLASS_EXPECT}; got {show(got[0])} for an all-non-toxic subgroup, {show(got[1])} for an all-toxic one")


def test_subgroup_auc__one_class_without_a_warning(student):
    _, warned = ask_recording_warnings(student, "subgroup_auc", *data(*ONE_CLASS), expect=ONE_CLASS_EXPECT)
    assert not warned, (
        f"the subgroup's rows here are all non-toxic, and subgroup_auc warned ({warned[0]}): the nan must be your "
        "own, returned before any call that warns (roc_auc_score on one class warns and returns nan in recent "
        "scikit-learn, and raises in older ones; numpy's mean of an empty array warns too)")


# --- exercises: bpsn and bnsp (mirror images: one helper each for the example and the empty part) ------

MIXED = {"bpsn_auc": (bias.bpsn_auc, "BPSN", "NON-toxic", "0.6, 0.5, 0.3", "TOXIC", "0.9, 0.5", "BNSP"),
         "bnsp_auc": (bias.bnsp_auc, "BNSP", "TOXIC", "0.4, 0.7, 0.5", "NON-toxic", "0.45, 0.5", "BPSN")}


def check_mixed_auc(student, name: str) -> None:
    """BPSN or BNSP on the ten-row example, naming the swap when the answer is the other metric."""
    reference, short, sub_kind, sub_scores, back_kind, back_scores, other = MIXED[name]
    want = reference(*data(LABELS, SCORES, SUBGROUP))
    expect = (f"{short}: the {sub_kind} rows that mention the identity (scores {sub_scores}) against the {back_kind} "
              f"rows that do not ({back_scores}; a tie counts one half): expected {want:.4f}")
    got = number(ask(student, name, *data(LABELS, SCORES, SUBGROUP), expect=expect), name)
    swapped = MIXED[f"{other.lower()}_auc"][0](*data(LABELS, SCORES, SUBGROUP))
    assert close(got, want), (f"{expect}, got {show(got)}"
                              + (f" (that is {other}: the two kinds are swapped)" if close(got, swapped) else ""))


# each kind of rows empty in turn (labels [1, 0, 0, 1]): the background's kind, then the subgroup's
EMPTY_PART = {"bpsn_auc": [([True, True, False, True],
                            "every toxic row here mentions the identity, so BPSN has no background positives"),
                           ([True, False, False, False],
                            "no non-toxic row here mentions the identity, so BPSN has no subgroup negatives")],
              "bnsp_auc": [([False, True, True, True],
                            "every non-toxic row here mentions the identity, so BNSP has no background negatives"),
                           ([False, True, False, False],
                            "no toxic row here mentions the identity, so BNSP has no subgroup positives")]}


def check_nan_when_a_part_is_empty(student, name: str) -> None:
    for subgroup, why in EMPTY_PART[name]:
        expect = f"{why}: return float('nan')"
        got = number(ask(student, name, *data([1, 0, 0, 1], [0.8, 0.3, 0.6, 0.9], subgroup), expect=expect), name)
        assert math.isnan(got), f"{expect}; got {show(got)}"


def check_no_warning_when_a_part_is_empty(student, name: str) -> None:
    subgroup, why = EMPTY_PART[name][0]
    _, warned = ask_recording_warnings(student, name, *data([1, 0, 0, 1], [0.8, 0.3, 0.6, 0.9], subgroup),
                                       expect=f"{why}: return float('nan')")
    assert not warned, (
        f"{why}, and {name} warned ({warned[0]}): check that both kinds have rows and return float('nan') yourself, "
        "before any call that warns (roc_auc_score on one class warns and returns nan in recent scikit-learn, and "
        "raises in older ones; numpy's mean of an empty array warns too)")


def test_bpsn__subgroup_negatives_against_background_positives(student):
    check_mixed_auc(student, "bpsn_auc")


def test_bpsn__nan_when_a_kind_has_no_rows(student):
    check_nan_when_a_part_is_empty(student, "bpsn_auc")


def test_bpsn__no_warning_when_a_kind_has_no_rows(student):
    check_no_warning_when_a_part_is_empty(student, "bpsn_auc")


def test_bnsp__subgroup_positives_against_background_negatives(student):
    check_mixed_auc(student, "bnsp_auc")


def test_bnsp__nan_when_a_kind_has_no_rows(student):
    check_nan_when_a_part_is_empty(student, "bnsp_auc")


def test_bnsp__no_warning_when_a_kind_has_no_rows(student):
    check_no_warning_when_a_part_is_empty(student, "bnsp_auc")


# --- exercise: final_metric -------------------------------------------------------------------

def test_final_metric__power_mean(student):
    values = [0.9, 0.6, 0.8]
    want = [bias.power_mean(values, p) for p in (-5, 2)]
    expect = ("M_p = (mean of v**p) ** (1/p), with the p you are given: power_mean([0.9, 0.6, 0.8], -5) is "
              f"{want[0]:.4f} (near the smallest value; the plain mean is 0.7667) and with p=2 {want[1]:.4f}")
    got = [number(ask(student, "power_mean", values, p, expect=expect), "power_mean") for p in (-5, 2)]
    assert all(close(g, w) for g, w in zip(got, want)), f"{expect}; got {show(got[0])} and {show(got[1])}"


def test_final_metric__nan_values_are_left_out(student):
    want = bias.power_mean([0.9, 0.7], -5)
    expect = ("an identity whose AUC is nan is left out: power_mean([0.9, nan, 0.7]) is power_mean([0.9, 0.7]) = "
              f"{want:.4f} (p=-5 by default)")
    got = number(ask(student, "power_mean", [0.9, float("nan"), 0.7], expect=expect), "power_mean")
    assert close(got, want), f"{expect}; got {show(got)}"


def test_final_metric__nan_when_no_value_is_left(student):
    expect = "when every value is nan (no identity has an AUC) none is left: power_mean([nan, nan]) is float('nan')"
    got = number(ask(student, "power_mean", [float("nan"), float("nan")], expect=expect), "power_mean")
    assert math.isnan(got), f"{expect}; got {show(got)}"


FINAL_ARGS = (0.95, [0.9, 0.7, 0.85], [0.8, 0.75, 0.9], [0.97, 0.6, 0.99])


def test_final_metric__weights_a_quarter_each(student):
    want = bias.final_metric(*FINAL_ARGS)
    expect = ("0.25 * overall AUC + 0.25 * M_-5(subgroup AUCs) + 0.25 * M_-5(BPSN AUCs) + 0.25 * M_-5(BNSP AUCs): "
              f"final_metric(0.95, [0.9, 0.7, 0.85], [0.8, 0.75, 0.9], [0.97, 0.6, 0.99]) is {want:.4f}")
    got = number(ask(student, "final_metric", *FINAL_ARGS, expect=expect), "final_metric")
    assert close(got, want), f"{expect}; got {show(got)}"


def test_final_metric__uses_its_p(student):
    want = {p: bias.final_metric(*FINAL_ARGS, p=p) for p in (1, -2)}
    expect = ("final_metric's p is the power means' p: on the same AUCs, final_metric(..., p=1) (plain means) is "
              f"{want[1]:.4f} and final_metric(..., p=-2) {want[-2]:.4f}")
    got = {p: number(ask(student, "final_metric", *FINAL_ARGS, p, expect=expect), "final_metric") for p in want}
    at_minus_five = bias.final_metric(*FINAL_ARGS)
    assert all(close(got[p], want[p]) for p in want), (
        f"{expect}; got {show(got[1])} and {show(got[-2])}"
        + (" (the value for p=-5: the p given to final_metric does not reach power_mean)"
           if any(close(got[p], at_minus_five) for p in want) else ""))


# --- exercise: ece ------------------------------------------------------------------------------

def test_ece__bins_weighted_by_their_rows(student):
    labels = [0, 0, 1, 0, 1, 1, 1, 0]
    probs = [0.05, 0.12, 0.15, 0.35, 0.62, 0.68, 0.71, 0.77]
    want = ref_ece(labels, probs, 5)
    expect = ("with 5 bins over [0, 1]: [0, 0.2) holds 3 rows (1 toxic, mean P 0.107), [0.2, 0.4) 1 row, [0.4, 0.6) "
              "and [0.8, 1] none, [0.6, 0.8) 4 rows; sum |toxic share - mean P| * (rows in bin / 8) over the bins that "
              f"hold rows: expected {want:.4f}")
    got = number(ask(student, "expected_calibration_error", *data(labels, probs), 5, expect=expect),
                 "expected_calibration_error")
    assert close(got, want), f"{expect}, got {show(got)}"


def test_ece__zero_and_one(student):
    labels = [1, 0, 1, 0, 1, 0, 1]
    probs = [0.0, 1.0, 1.0, 0.45, 0.55, 0.02, 0.93]
    want = ref_ece(labels, probs, 10)
    expect = ("P(toxic) = 1 belongs to the last bin [0.9, 1], with the row at 0.93 (not to a bin of its own), and 0 to "
              f"the first [0, 0.1) (n_bins=10 by default): expected {want:.4f}")
    got = number(ask(student, "expected_calibration_error", *data(labels, probs), expect=expect),
                 "expected_calibration_error")
    assert close(got, want), f"{expect}, got {show(got)}"


def top_label_ece(labels, probs, n_bins: int) -> float:
    """The other ECE, for the hint only: bins of confidence max(p, 1 - p), compared with accuracy at 0.5."""
    y, p = np.asarray(labels), np.asarray(probs, dtype=np.float64)
    confidence = np.maximum(p, 1 - p)
    return ref_ece((p >= 0.5).astype(int) == y, confidence, n_bins)


def test_ece__p_toxic_not_top_label(student):
    # the low bin's and the high bin's errors have the same sign here: folded onto one confidence bin, as top-label
    # ECE does, they cancel, so the two ECEs differ (the examples above cannot tell them apart)
    labels = [1, 0, 0, 1, 1, 1]
    probs = [0.1, 0.1, 0.3, 0.7, 0.9, 0.9]
    want = ref_ece(labels, probs, 5)
    expect = ("the bins are bins of P(toxic), each compared with its share of toxic rows: the two rows at 0.1 (one "
              "toxic) sit in [0, 0.2) and the two at 0.9 in [0.8, 1], so with 5 bins the ECE is (2 * |0.5 - 0.1| + "
              f"|0 - 0.3| + |1 - 0.7| + 2 * |1 - 0.9|) / 6 = {want:.4f}")
    got = number(ask(student, "expected_calibration_error", *data(labels, probs), 5, expect=expect),
                 "expected_calibration_error")
    assert close(got, want), (
        f"{expect}; got {show(got)}"
        + (" (the top-label ECE: it bins max(p, 1 - p) and compares it with accuracy, which puts the rows at 0.1 in "
           "the bin of 0.9)" if close(got, top_label_ece(labels, probs, 5)) else ""))


# --- exercise: swap ---------------------------------------------------------------------------------

def test_swap__whole_words_in_their_case(student):
    text = "Gay people, gaylords and GAY pride: gay! Isn't it gay?"
    want = ref_swap(text, "gay", "straight")
    expect = ("every whole-word mention in any case, the replacement in the mention's case, and 'gaylords' untouched: "
              f"expected {want!r}")
    got = ask(student, "swap_term", text, "gay", "straight", expect=expect)
    assert got == want, f"{expect}, got {got!r}"


def test_swap__several_words(student):
    text = "African-American voters,  african american art\tand the African American Museum (African-american)"
    want = ref_swap(text, "african american", "native american")
    expect = ("a term of two words matches with a space or a hyphen between them, every word of the replacement is "
              "capitalized after a capital, and every other character (the double space, the tab) stays: "
              f"expected {want!r}")
    got = ask(student, "swap_term", text, "african american", "native american", expect=expect)
    assert got == want, f"{expect}, got {got!r}"


def test_swap__one_word_becomes_two(student):
    text = "A Muslim neighbour and a muslim-owned shop. MUSLIM!"
    want = ref_swap(text, "muslim", "asian american")
    expect = ("the replacement may have more words than the term: 'Muslim' becomes 'Asian American', 'MUSLIM' "
              f"'ASIAN AMERICAN', and 'A'/'a' stay as they are: expected {want!r}")
    got = ask(student, "swap_term", text, "muslim", "asian american", expect=expect)
    assert got == want, f"{expect}, got {got!r}"


# --- exercise: term_fnr -----------------------------------------------------------------------------

def test_term_fnr__share_of_toxic_rows_missed(student):
    labels = [1, 1, 0, 1, 1, 0, 1]
    scores = [0.3, 0.5, 0.9, 0.7, 0.2, 0.1, 0.6]
    terms = ["gay", "gay", "gay", "muslim", "muslim", "muslim", "muslim"]
    want = ref_term_fnr(labels, scores, terms, 0.5)
    expect = ("per term: the toxic rows scored below the threshold / the toxic rows (a score equal to the threshold is "
              f"flagged, so not missed): expected {want}")
    got = student_fnr(student, labels, scores, terms, 0.5, expect)
    assert set(got) == set(want) and all(close(number_or_none(got[t]), want[t]) for t in want), f"{expect}, got {got}"


def test_term_fnr__a_term_without_toxic_rows(student):
    labels = [0, 0, 1, 1]
    scores = [0.9, 0.2, 0.8, 0.1]
    terms = ["jewish", "jewish", "deaf", "deaf"]
    want = ref_term_fnr(labels, scores, terms, 0.5)
    expect = ("every term gets an entry; a term with no toxic rows has FNR float('nan') (not 0: nothing could be "
              f"missed): expected {want}")
    got = student_fnr(student, labels, scores, terms, 0.5, expect)
    assert set(got) == {"jewish", "deaf"} and all(close(number_or_none(got[t]), want[t]) for t in want), (
        f"{expect}, got {got}")


def test_term_fnr__no_warning_for_a_term_without_toxic_rows(student):
    expect = "a term with no toxic rows gets float('nan'), without a warning"
    _, warned = ask_recording_warnings(student, "term_fnr", *data([0, 0, 1, 1], [0.9, 0.2, 0.8, 0.1]),
                                       ["jewish", "jewish", "deaf", "deaf"], 0.5, expect=expect)
    assert not warned, (
        f"term_fnr warned for 'jewish', a term with no toxic rows ({warned[0]}): check that a term has toxic rows "
        "and return float('nan') yourself, before taking a mean over no rows (numpy warns, then gives nan)")
