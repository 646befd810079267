"""Hidden exercise checks of lab 6c (bias_lab): the instructor's, never released.

The grade cells' hidden regions call toxlab.grading.check(..., hidden=True). Each test compares the
student's function with toxlab's reference (toxlab.bias, toxlab.calibration, or the swap reference in
toxlab/labs/bias_lab/checks.py) on inputs that Hypothesis generates with a fixed seed and a bounded
number of examples: scores on a coarse grid (ties), subgroups with one class or none, NaN AUCs,
P(toxic) of exactly 0 and 1 with every other probability off the bin edges, scores equal to the
threshold, mentions in every case, with hyphens and inside longer words. A failure shows only a
message that stands literally here, then the failing input; a student function that raises fails with
the same message (answer), so the exercise's hint shows instead of "(details hidden)".
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from toxlab import bias
from toxlab.calibration import expected_calibration_error as ref_ece
from toxlab.grading import fail
from toxlab.grading.answers import bounded
from toxlab.labs.bias_lab.checks import close, data, number_or_none, ref_swap, ref_term_fnr

grid = st.integers(0, 8).map(lambda x: x / 8)  # P(toxic) on a coarse grid: ties are common


@st.composite
def scored_rows(draw, min_size: int = 0):
    """(labels, scores, subgroup) of one length: any mix, including one class and empty subgroups."""
    n = draw(st.integers(min_size, 14))
    labels = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    scores = draw(st.lists(grid, min_size=n, max_size=n))
    subgroup = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return labels, scores, subgroup


def answer(student, message: str, name: str, *args, **inputs) -> object:
    """student.call(name, *args); when the student's function raises, fail(message, inputs): the check's own
    literal message and the input, which the checker shows (an exception's text is the student's, and hidden)."""
    try:
        return student.call(name, *args)
    except AssertionError:
        raise fail(message, **inputs) from None


# each literal, so the checker shows it (a hidden check's message must stand in this file as written)
AUC_MESSAGES = {
    "subgroup_auc": "subgroup_auc must match its definition on any rows (nan when a part lacks rows)",
    "bpsn_auc": "bpsn_auc must match its definition on any rows (nan when a part lacks rows)",
    "bnsp_auc": "bnsp_auc must match its definition on any rows (nan when a part lacks rows)",
}


def auc_case(student, name: str, reference, rows) -> None:
    labels, scores, subgroup = rows
    message = AUC_MESSAGES[name]
    got = number_or_none(answer(student, message, name, *data(labels, scores, subgroup),
                                labels=labels, scores=scores, subgroup=subgroup))
    if not close(got, reference(*data(labels, scores, subgroup))):
        raise fail(message, labels=labels, scores=scores, subgroup=subgroup)


# --- the three AUCs -------------------------------------------------------------------------------

@bounded(30)
@given(rows=scored_rows(min_size=2))
@example(rows=([1, 0], [0.5, 0.5], [False, False]))  # no subgroup rows at all
@example(rows=([1, 1, 0], [0.5, 0.75, 0.25], [True, True, False]))  # an all-toxic subgroup
def test_subgroup_auc__any_rows(student, rows):
    auc_case(student, "subgroup_auc", bias.subgroup_auc, rows)


@bounded(30)
@given(rows=scored_rows(min_size=2))
@example(rows=([1, 0], [0.5, 0.5], [True, False]))  # neither kind has a row
def test_bpsn__any_rows(student, rows):
    auc_case(student, "bpsn_auc", bias.bpsn_auc, rows)


@bounded(30)
@given(rows=scored_rows(min_size=2))
@example(rows=([0, 1], [0.5, 0.5], [True, False]))  # neither kind has a row
def test_bnsp__any_rows(student, rows):
    auc_case(student, "bnsp_auc", bias.bnsp_auc, rows)


# --- power mean and final metric ------------------------------------------------------------------

auc_values = st.lists(st.one_of(st.integers(1, 20).map(lambda x: x / 20), st.just(float("nan"))), min_size=1,
                      max_size=8)
powers = st.sampled_from([-5, -2, -1, 1, 2, 3])


@bounded(25)
@given(values=auc_values, p=powers)
def test_final_metric__any_power_mean(student, values, p):
    message = "power_mean must be (mean of v**p) ** (1/p) over the values that are not nan"
    got = number_or_none(answer(student, message, "power_mean", values, p, values=values, p=p))
    if not close(got, bias.power_mean(values, p)):
        raise fail(message, values=values, p=p)


@bounded(25)
@given(overall=st.integers(10, 20).map(lambda x: x / 20), sub=auc_values, bpsn=auc_values, bnsp=auc_values,
       p=powers)
def test_final_metric__any_aucs(student, overall, sub, bpsn, bnsp, p):
    message = "final_metric must weigh the overall AUC and the three power means 0.25 each"
    inputs = dict(overall=overall, subgroup_aucs=sub, bpsn_aucs=bpsn, bnsp_aucs=bnsp, p=p)
    got = number_or_none(answer(student, message, "final_metric", overall, sub, bpsn, bnsp, p, **inputs))
    if not close(got, bias.final_metric(overall, sub, bpsn, bnsp, p)):
        raise fail(message, **inputs)


# --- ECE ------------------------------------------------------------------------------------------

N_BINS = [4, 5, 8, 10, 20, 25]  # each divides 1000: (j + 0.5) / 1000 is never on a bin edge
prob = st.one_of(st.integers(0, 999).map(lambda j: (j + 0.5) / 1000), st.sampled_from([0.0, 1.0]))


@bounded(30)
@given(n_bins=st.sampled_from(N_BINS), data_=st.data())
def test_ece__any_rows(student, n_bins, data_):
    n = data_.draw(st.integers(1, 20))
    labels = data_.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    probs = data_.draw(st.lists(prob, min_size=n, max_size=n))
    message = "expected_calibration_error must weigh |toxic share - mean P| of each equal-width bin by its rows"
    got = number_or_none(answer(student, message, "expected_calibration_error", *data(labels, probs), n_bins,
                                labels=labels, probs=probs, n_bins=n_bins))
    if not close(got, ref_ece(labels, probs, n_bins)):
        raise fail(message, labels=labels, probs=probs, n_bins=n_bins)


# --- swap -----------------------------------------------------------------------------------------

TERMS = {"gay": "straight", "muslim": "christian", "african american": "native american", "deaf": "blind",
         "asian": "middle eastern"}
FRAGMENTS = ["Gay", "gay", "GAY!", "gaylord", "gay-friendly", "gays", "Muslim", "MUSLIM", "muslims", "(muslim)",
             "African American", "african-american", "African-american", "AFRICAN AMERICAN",
             "deaf,", "Deaf", "deafening", "Asian", "an", "a", "the", "You", "are", "idiot", "ok.", "  ", "\t"]
text_st = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=10).map(" ".join)


@bounded(40)
@given(text=text_st, term=st.sampled_from(sorted(TERMS)))
def test_swap__any_text(student, text, term):
    message = "swap_term must swap whole-word mentions in their case and keep every other character"
    got = answer(student, message, "swap_term", text, term, TERMS[term], text=text, term=term, replacement=TERMS[term])
    if not (isinstance(got, str) and got == ref_swap(text, term, TERMS[term])):
        raise fail(message, text=text, term=term, replacement=TERMS[term])


# --- term_fnr -------------------------------------------------------------------------------------

@bounded(30)
@given(rows=scored_rows(min_size=1), threshold=grid, data_=st.data())
def test_term_fnr__any_rows(student, rows, threshold, data_):
    labels, scores, _ = rows
    terms = data_.draw(st.lists(st.sampled_from(["gay", "muslim", "deaf", "jewish"]), min_size=len(labels),
                                max_size=len(labels)))
    message = "term_fnr must give every term the share of its toxic rows scored below the threshold, or nan"
    inputs = dict(labels=labels, scores=scores, terms=terms, threshold=threshold)
    got = answer(student, message, "term_fnr", *data(labels, scores), terms, threshold, **inputs)
    want = ref_term_fnr(labels, scores, terms, threshold)
    ok = isinstance(got, dict) and set(got) == set(want) and all(close(number_or_none(got[t]), want[t]) for t in want)
    if not ok:
        raise fail(message, **inputs)
