"""Visible exercise checks for lab 6c (bias_lab): pytest tests run by toxlab.grading.check.

Each test is named test_<exercise>__<what> and takes the `student` fixture (toxlab.grading). The
references are toxlab's own (toxlab.bias, toxlab.calibration), except the swap, whose exercise
leaves "a"/"an" alone where toxlab.augment.swap_identity fixes them: its reference is here. The
examples are small enough to work out by hand, and hold the usual traps: ties, a subgroup with one
class, NaN AUCs, P(toxic) of exactly 0 and 1, a score equal to the threshold, capitals, hyphens and
"gaylord". An exercise's points are shared out: one share per visible check here, one for the hidden
checks together (course/hidden_checks/bias_lab.py). Helpers that the hidden checks share live here too.
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


def student_fnr(student, labels, scores, terms, threshold) -> dict:
    got = student.call("term_fnr", *data(labels, scores), list(terms), threshold)
    assert isinstance(got, dict), f"term_fnr should return a dict {{term: FNR}}, got {kind(got)}"
    return got


# --- exercise: subgroup_auc -----------------------------------------------------------------

# ten comments, six mention the identity (True), ties across every part: subgroup AUC 0.611, BPSN 0.75, BNSP 0.583
LABELS = [1, 0, 1, 0, 0, 1, 1, 0, 0, 1]
SCORES = [0.9, 0.45, 0.4, 0.6, 0.5, 0.7, 0.5, 0.5, 0.3, 0.5]
SUBGROUP = [False, False, True, True, True, True, False, False, True, True]


def test_subgroup_auc__only_the_rows_that_mention_the_identity(student):
    got = number(student.call("subgroup_auc", *data(LABELS, SCORES, SUBGROUP)), "subgroup_auc")
    want = bias.subgroup_auc(*data(LABELS, SCORES, SUBGROUP))
    assert close(got, want), (
        "the AUC over the six rows where subgroup is True only (the toxic ones scored 0.4, 0.7, 0.5, the non-toxic "
        f"0.6, 0.5, 0.3; the tie 0.5 vs 0.5 counts one half): expected {want:.4f}, got {show(got)} "
        f"(the AUC over all ten rows is {bias.auc(LABELS, SCORES):.4f})")


def test_subgroup_auc__one_class_gives_nan(student):
    got = number(student.call("subgroup_auc", *data([1, 0, 0, 1], [0.9, 0.2, 0.7, 0.1],
                                                   [False, True, True, False])), "subgroup_auc")
    assert got is not None and math.isnan(got), (
        "when the subgroup's rows are all toxic (or all non-toxic) the AUC is undefined: return float('nan') "
        f"(roc_auc_score raises there, so check first); got {show(got)}")


# --- exercises: bpsn and bnsp (mirror images: one helper each for the example and the empty part) ------

MIXED = {"bpsn_auc": (bias.bpsn_auc, "BPSN", "NON-toxic", "0.6, 0.5, 0.3", "TOXIC", "0.9, 0.5", "BNSP"),
         "bnsp_auc": (bias.bnsp_auc, "BNSP", "TOXIC", "0.4, 0.7, 0.5", "NON-toxic", "0.45, 0.5", "BPSN")}


def check_mixed_auc(student, name: str) -> None:
    """BPSN or BNSP on the ten-row example, naming the swap when the answer is the other metric."""
    reference, short, sub_kind, sub_scores, back_kind, back_scores, other = MIXED[name]
    got = number(student.call(name, *data(LABELS, SCORES, SUBGROUP)), name)
    want = reference(*data(LABELS, SCORES, SUBGROUP))
    swapped = MIXED[f"{other.lower()}_auc"][0](*data(LABELS, SCORES, SUBGROUP))
    assert close(got, want), (
        f"{short}: the {sub_kind} rows that mention the identity (scores {sub_scores}) against the {back_kind} rows "
        f"that do not ({back_scores}; a tie counts one half): expected {want:.4f}, got {show(got)}"
        + (f" (that is {other}: the two kinds are swapped)" if close(got, swapped) else ""))


def check_nan_when_a_part_is_empty(student, name: str, subgroup: list[bool], why: str) -> None:
    got = number(student.call(name, *data([1, 0, 0, 1], [0.8, 0.3, 0.6, 0.9], subgroup)), name)
    assert got is not None and math.isnan(got), f"{why}: return float('nan'); got {show(got)}"


def test_bpsn__subgroup_negatives_against_background_positives(student):
    check_mixed_auc(student, "bpsn_auc")


def test_bpsn__nan_without_background_positives(student):
    check_nan_when_a_part_is_empty(student, "bpsn_auc", [True, True, False, True],
                                   "every toxic row here mentions the identity, so BPSN has no background positives")


def test_bnsp__subgroup_positives_against_background_negatives(student):
    check_mixed_auc(student, "bnsp_auc")


def test_bnsp__nan_without_background_negatives(student):
    check_nan_when_a_part_is_empty(student, "bnsp_auc", [False, True, True, True],
                                   "every non-toxic row here mentions the identity, so BNSP has no background negatives")


# --- exercise: final_metric -------------------------------------------------------------------

def test_final_metric__power_mean(student):
    values = [0.9, 0.6, 0.8]
    got = [number(student.call("power_mean", values, p), "power_mean") for p in (-5, 2)]
    want = [bias.power_mean(values, p) for p in (-5, 2)]
    assert all(close(g, w) for g, w in zip(got, want)), (
        "M_p = (mean of v**p) ** (1/p), with the p you are given: power_mean([0.9, 0.6, 0.8], -5) is "
        f"{want[0]:.4f} (near the smallest value; the plain mean is 0.7667) and with p=2 {want[1]:.4f}; "
        f"got {show(got[0])} and {show(got[1])}")


def test_final_metric__nan_values_are_left_out(student):
    got = number(student.call("power_mean", [0.9, float("nan"), 0.7]), "power_mean")
    want = bias.power_mean([0.9, 0.7], -5)
    assert close(got, want), (
        "an identity whose AUC is nan is left out: power_mean([0.9, nan, 0.7]) is power_mean([0.9, 0.7]) = "
        f"{want:.4f} (p=-5 by default); got {show(got)}")


def test_final_metric__weights_a_quarter_each(student):
    args = (0.95, [0.9, 0.7, 0.85], [0.8, 0.75, 0.9], [0.97, 0.6, 0.99])
    got = number(student.call("final_metric", *args), "final_metric")
    want = bias.final_metric(*args)
    assert close(got, want), (
        "0.25 * overall AUC + 0.25 * M_-5(subgroup AUCs) + 0.25 * M_-5(BPSN AUCs) + 0.25 * M_-5(BNSP AUCs): "
        f"final_metric(0.95, [0.9, 0.7, 0.85], [0.8, 0.75, 0.9], [0.97, 0.6, 0.99]) is {want:.4f}; got {show(got)}")


# --- exercise: ece ------------------------------------------------------------------------------

def test_ece__bins_weighted_by_their_rows(student):
    labels = [0, 0, 1, 0, 1, 1, 1, 0]
    probs = [0.05, 0.12, 0.15, 0.35, 0.62, 0.68, 0.71, 0.77]
    got = number(student.call("expected_calibration_error", *data(labels, probs), 5), "expected_calibration_error")
    want = ref_ece(labels, probs, 5)
    assert close(got, want), (
        "with 5 bins over [0, 1]: [0, 0.2) holds 3 rows (1 toxic, mean P 0.107), [0.2, 0.4) 1 row, [0.4, 0.6) and "
        "[0.8, 1] none, [0.6, 0.8) 4 rows; sum |toxic share - mean P| * (rows in bin / 8) over the bins that hold rows: "
        f"expected {want:.4f}, got {show(got)}")


def test_ece__zero_and_one(student):
    labels = [1, 0, 1, 0, 1, 0]
    probs = [0.0, 1.0, 1.0, 0.45, 0.55, 0.02]
    got = number(student.call("expected_calibration_error", *data(labels, probs)), "expected_calibration_error")
    want = ref_ece(labels, probs, 10)
    assert close(got, want), (
        "P(toxic) = 1 belongs to the last bin [0.9, 1] and 0 to the first [0, 0.1) (n_bins=10 by default), and "
        f"the gap compares P(toxic) with the share of toxic rows, not max(p, 1-p) with accuracy: expected {want:.4f}, got {show(got)}")


# --- exercise: swap ---------------------------------------------------------------------------------

def test_swap__whole_words_in_their_case(student):
    text = "Gay people, gaylords and GAY pride: gay! Isn't it gay?"
    got = student.call("swap_term", text, "gay", "straight")
    want = ref_swap(text, "gay", "straight")
    assert got == want, (
        "every whole-word mention in any case, the replacement in the mention's case, and 'gaylords' untouched: "
        f"expected {want!r}, got {got!r}")


def test_swap__several_words(student):
    text = "African-American voters,  african american art\tand the African American Museum (African-american)"
    got = student.call("swap_term", text, "african american", "native american")
    want = ref_swap(text, "african american", "native american")
    assert got == want, (
        "a term of two words matches with a space or a hyphen between them, every word of the replacement is "
        "capitalized after a capital, and every other character (the double space, the tab) stays: "
        f"expected {want!r}, got {got!r}")


def test_swap__one_word_becomes_two(student):
    text = "A Muslim neighbour and a muslim-owned shop. MUSLIM!"
    got = student.call("swap_term", text, "muslim", "asian american")
    want = ref_swap(text, "muslim", "asian american")
    assert got == want, (
        "the replacement may have more words than the term: 'Muslim' becomes 'Asian American', 'MUSLIM' "
        f"'ASIAN AMERICAN', and 'A'/'a' stay as they are: expected {want!r}, got {got!r}")


# --- exercise: term_fnr -----------------------------------------------------------------------------

def test_term_fnr__share_of_toxic_rows_missed(student):
    labels = [1, 1, 0, 1, 1, 0, 1]
    scores = [0.3, 0.5, 0.9, 0.7, 0.2, 0.1, 0.6]
    terms = ["gay", "gay", "gay", "muslim", "muslim", "muslim", "muslim"]
    got = student_fnr(student, labels, scores, terms, 0.5)
    want = ref_term_fnr(labels, scores, terms, 0.5)
    assert set(got) == set(want) and all(close(number_or_none(got[t]), want[t]) for t in want), (
        "per term: the toxic rows scored below the threshold / the toxic rows (a score equal to the threshold is "
        f"flagged, so not missed): expected {want}, got {got}")


def test_term_fnr__a_term_without_toxic_rows(student):
    labels = [0, 0, 1, 1]
    scores = [0.9, 0.2, 0.8, 0.1]
    terms = ["jewish", "jewish", "deaf", "deaf"]
    got = student_fnr(student, labels, scores, terms, 0.5)
    want = ref_term_fnr(labels, scores, terms, 0.5)
    assert set(got) == {"jewish", "deaf"} and all(close(number_or_none(got[t]), want[t]) for t in want), (
        "every term gets an entry; a term with no toxic rows has FNR float('nan') (not 0: nothing could be "
        f"missed): expected {want}, got {got}")
