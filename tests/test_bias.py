"""toxlab.bias: the probe finds a planted bias, reports per term and group, reads CSVs."""

import re

import matplotlib
import pandas as pd
import pytest

from toxlab.bias import model_predictor, original_probe, plot_bias, probe, read_templates_csv, read_terms_csv
from toxlab.identity import GROUPS, TEMPLATES, check_templates
from toxlab.data import DataError


def biased(texts):
    """A predictor that flags sentences naming 'muslim' or 'gay', and nothing else."""
    return [0.9 if ("muslim" in t or "gay" in t) else 0.1 for t in texts]


def fair(texts):
    return [0.1] * len(texts)


def test_probe_finds_the_planted_bias():
    rep = probe(biased)
    terms = rep.per_term.set_index("term")
    assert terms.loc["muslim", "fpr"] == 1.0 and terms.loc["christian", "fpr"] == 0.0
    assert terms.loc["muslim", "mean_p_toxic"] == pytest.approx(0.9)
    assert set(rep.per_group["group"][:2]) == {"religion", "sexual orientation"}
    top = rep.per_group.iloc[0]
    assert top["worst_gap"] == pytest.approx(0.8) and top["highest_term"] in {"muslim", "gay"}
    assert rep.summary["worst_gap"] == pytest.approx(0.8)
    n_sentences = len(TEMPLATES) * sum(len(v) for v in GROUPS.values())
    assert len(rep.rows) == n_sentences
    assert rep.summary["overall_fpr"] == pytest.approx(2 * len(TEMPLATES) / n_sentences)


def test_fair_predictor_has_no_gap():
    rep = probe(fair)
    assert rep.summary["worst_gap"] == 0 and rep.summary["overall_fpr"] == 0


def test_templates_are_neutral_and_cover_the_groups():
    assert {"race", "religion", "gender", "sexual orientation", "nationality", "disability", "age"} <= set(GROUPS)
    assert all(t.count("{term}") == 1 for t in TEMPLATES)


def test_original_four_sentences_in_one_call():
    rep = original_probe(biased)
    assert rep.rows["text"].tolist() == ["you are white", "you are asian", "you are latin", "you are black"]


def test_model_predictor(tiny_model, minilm_tokenizer):
    rep = original_probe(model_predictor(tiny_model, minilm_tokenizer))
    assert rep.rows["p_toxic"].between(0, 1).all()


def test_bad_templates_and_groups():
    for bad in (["no placeholder"], ["{term} and {term}"], ["{other} {term}"], [], [3]):
        with pytest.raises(ValueError):
            check_templates(bad)
    with pytest.raises(ValueError, match="two or more"):
        probe(fair, groups={"solo": ["one"]})
    with pytest.raises(AssertionError, match="returned"):
        probe(lambda texts: [0.1])


def test_csv_templates_and_terms(tmp_path):
    pd.DataFrame({"template": ["I am {term}.", "They are {term}."]}).to_csv(tmp_path / "t.csv", index=False)
    pd.DataFrame({"group": ["x", "x", "y", "y"], "term": ["a", "b", "c", "d"]}).to_csv(tmp_path / "g.csv", index=False)
    rep = probe(fair, read_templates_csv(tmp_path / "t.csv"), read_terms_csv(tmp_path / "g.csv"))
    assert len(rep.rows) == 8 and list(rep.per_group["group"]) == ["x", "y"]
    pd.DataFrame({"sentence": ["I am {term}."]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match=r"bad.csv: missing column\(s\) \['template'\]"):
        read_templates_csv(tmp_path / "bad.csv")


def test_plot(tmp_path):
    fig = plot_bias(probe(biased))
    assert isinstance(fig, matplotlib.figure.Figure)
    fig.savefig(tmp_path / "b.png")
    assert (tmp_path / "b.png").stat().st_size > 5000


# ===========================================================================
# the identity test set, the unintended-bias metrics (issue #16)
# ===========================================================================

import math  # noqa: E402

import numpy as np  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402

from toxlab.bias import (  # noqa: E402
    auc, bias_report, bnsp_auc, bpsn_auc, false_negative_rate, false_positive_rate, final_bias_metric, final_metric,
    identity_set, measure, pinned_auc, plot_bias_comparison, plot_error_rates, plot_identity_aucs, power_mean,
    read_identity_csv, subgroup_auc,
)
from toxlab.identity import AUGMENT_TEMPLATES, NONTOXIC_TEMPLATES, TOXIC_TEMPLATES, article_for, fill  # noqa: E402

PROPERTY = settings(derandomize=True, max_examples=40, deadline=None, database=None)


# --- plain re-implementations, written from the definitions ---------------------

def plain_auc(y, s):
    """Share of (toxic, non-toxic) pairs the toxic row wins; a tie counts 1/2."""
    pos = [si for yi, si in zip(y, s) if yi == 1]
    neg = [si for yi, si in zip(y, s) if yi == 0]
    if not pos or not neg:
        return math.nan
    return sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg) / (len(pos) * len(neg))


def plain_subgroup(y, s, m):
    return plain_auc([yi for yi, mi in zip(y, m) if mi], [si for si, mi in zip(s, m) if mi])


def plain_bpsn(y, s, m):  # subgroup negatives + background positives
    keep = [(mi and yi == 0) or (not mi and yi == 1) for yi, mi in zip(y, m)]
    return plain_auc([yi for yi, k in zip(y, keep) if k], [si for si, k in zip(s, keep) if k])


def plain_bnsp(y, s, m):  # subgroup positives + background negatives
    keep = [(mi and yi == 1) or (not mi and yi == 0) for yi, mi in zip(y, m)]
    return plain_auc([yi for yi, k in zip(y, keep) if k], [si for si, k in zip(s, keep) if k])


def plain_power_mean(xs, p=-5):
    xs = [x for x in xs if not math.isnan(x)]
    if not xs:
        return math.nan
    if any(x == 0 for x in xs):
        return 0.0
    return (sum(x ** p for x in xs) / len(xs)) ** (1 / p)


def plain_final(y, s, masks):
    return 0.25 * plain_auc(y, s) + sum(0.25 * plain_power_mean([f(y, s, m) for m in masks])
                                        for f in (plain_subgroup, plain_bpsn, plain_bnsp))


def close(a, b, tol=1e-9):
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tol


@st.composite
def scored_rows(draw, n_terms=1):
    """Labels, scores with ties (a few distinct values), and a term id per row."""
    n = draw(st.integers(4, 40))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    s = draw(st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5001, 0.9, 1.0]), min_size=n, max_size=n))
    t = draw(st.lists(st.integers(0, n_terms), min_size=n, max_size=n))
    return np.array(y), np.array(s), np.array(t)


@PROPERTY
@given(scored_rows())
def test_subgroup_bpsn_bnsp_auc_match_the_definitions(data):
    y, s, t = data
    m = t == 1
    assert close(auc(y, s), plain_auc(y, s))
    assert close(subgroup_auc(y, s, m), plain_subgroup(y, s, m))
    assert close(bpsn_auc(y, s, m), plain_bpsn(y, s, m))
    assert close(bnsp_auc(y, s, m), plain_bnsp(y, s, m))


@PROPERTY
@given(scored_rows(n_terms=3))
def test_final_metric_matches_the_definition(data):
    y, s, t = data
    masks = [t == k for k in range(4)]
    want = plain_final(y, s, masks)
    assert close(final_bias_metric(y, s, masks), want)
    rep = bias_report(y, s, t.astype(str))
    assert close(rep.summary["final_metric"], plain_final(y, s, [t == k for k in pd.unique(t)]))


@PROPERTY
@given(st.lists(st.floats(0.01, 1.0), min_size=1, max_size=12))
def test_power_mean_matches_the_definition(xs):
    assert power_mean(xs, -5) == pytest.approx(plain_power_mean(xs, -5), rel=1e-9)
    assert min(xs) - 1e-12 <= power_mean(xs, -5) <= np.mean(xs) + 1e-12


def plain_pinned(y, s, m, seed=0):
    """The documented pinned AUC: subgroup rows + a label-stratified sample of the full set, same size."""
    rng = np.random.default_rng(seed)
    n = int(m.sum())
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    n_pos = min(len(pos), int(round(n * len(pos) / len(y))))
    sample = list(rng.choice(pos, n_pos, replace=False)) + list(rng.choice(neg, min(len(neg), n - n_pos), replace=False))
    idx = list(np.flatnonzero(m)) + sorted(sample)
    return plain_auc(y[idx], s[idx])


@PROPERTY
@given(scored_rows())
def test_pinned_auc_is_the_documented_sample(data):
    y, s, t = data
    m = t == 1
    if m.any():
        assert close(pinned_auc(y, s, m, seed=3), plain_pinned(y, s, m, seed=3))


def test_error_rates_by_hand():
    y = np.array([0, 0, 0, 0, 1, 1])
    s = np.array([0.1, 0.6, 0.7, 0.2, 0.9, 0.3])
    assert false_positive_rate(y, s, 0.5) == 0.5  # 2 of 4 non-toxic flagged
    assert false_negative_rate(y, s, 0.5) == 0.5  # 1 of 2 toxic missed
    assert false_positive_rate(y, s, 0.65) == 0.25 and false_negative_rate(y, s, 0.65) == 0.5


# --- a hand-made example: the AUCs move the way the definitions say ------------

def _hand_example(nontoxic_subgroup_score=0.2, toxic_subgroup_score=0.8):
    # background: 4 non-toxic at 0.1..0.4, 4 toxic at 0.6..0.9; subgroup: 2 non-toxic, 2 toxic
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9] + [nontoxic_subgroup_score] * 2 + [toxic_subgroup_score] * 2)
    m = np.array([False] * 8 + [True] * 4)
    return y, s, m


def check_bpsn_bnsp(bpsn, bnsp):
    """Raising the scores of the subgroup's NON-TOXIC rows lowers BPSN and leaves BNSP alone;
    lowering the subgroup's TOXIC rows lowers BNSP and leaves BPSN alone."""
    y, s, m = _hand_example()
    base_bpsn, base_bnsp = bpsn(y, s, m), bnsp(y, s, m)
    assert base_bpsn == 1.0 and base_bnsp == 1.0
    y, s, m = _hand_example(nontoxic_subgroup_score=0.75)  # harmless mentions scored high
    assert bpsn(y, s, m) < base_bpsn and bpsn(y, s, m) == pytest.approx(0.5)  # beats 0.6, 0.7 of 4
    assert bnsp(y, s, m) == base_bnsp
    y, s, m = _hand_example(toxic_subgroup_score=0.25)  # toxic mentions scored low
    assert bnsp(y, s, m) < base_bnsp and bnsp(y, s, m) == pytest.approx(0.5)  # beats 0.1, 0.2 of 4
    assert bpsn(y, s, m) == base_bpsn


def check_power_mean(pm):
    assert pm([0.9, 0.9, 0.9]) == pytest.approx(0.9)
    low = pm([0.5, 0.95, 0.95, 0.95])  # M_-5 sits near the minimum, far below the mean 0.8375
    assert low == pytest.approx(plain_power_mean([0.5, 0.95, 0.95, 0.95]), rel=1e-12)
    assert low < 0.66  # 0.645


def check_error_rates(fpr, fnr):
    y = np.array([0, 0, 0, 0, 1, 1])
    s = np.array([0.1, 0.6, 0.7, 0.2, 0.9, 0.3])
    assert fpr(y, s, 0.5) == 0.5 and fnr(y, s, 0.5) == 0.5
    assert fpr(y, s, 0.8) == 0.0 and fnr(y, s, 0.8) == 0.5  # FNR is not 1 - FPR


def check_final_metric(fm):
    y, s, m = _hand_example(nontoxic_subgroup_score=0.75)
    assert fm(y, s, [m, ~m]) == pytest.approx(plain_final(y, s, [m, ~m]), abs=1e-12)


def test_hand_example_values():
    y, s, m = _hand_example(nontoxic_subgroup_score=0.75)
    assert subgroup_auc(y, s, m) == 1.0  # within the subgroup 0.8 still beats 0.75
    assert bpsn_auc(y, s, m) == 0.5 and bnsp_auc(y, s, m) == 1.0


def _arith_final(y, s, masks):
    return 0.25 * auc(y, s) + sum(0.25 * float(np.nanmean([f(y, s, k) for k in masks]))
                                  for f in (subgroup_auc, bpsn_auc, bnsp_auc))


CHECKS = {
    "bpsn_bnsp": (check_bpsn_bnsp, (bpsn_auc, bnsp_auc), {"swapped": (bnsp_auc, bpsn_auc),
                                                          "subgroup_auc_for_both": (subgroup_auc, subgroup_auc)}),
    "power_mean": (check_power_mean, (lambda x: power_mean(x, -5),),
                   {"p_plus_5": (lambda x: power_mean(x, 5),), "arithmetic": (lambda x: float(np.mean(x)),)}),
    "error_rates": (check_error_rates, (false_positive_rate, false_negative_rate),
                    {"fnr_is_1_minus_fpr": (false_positive_rate, lambda y, s, t: 1 - false_positive_rate(y, s, t))}),
    "final_metric": (check_final_metric, (final_bias_metric,), {"arithmetic_means": (_arith_final,),
                                                               "p_plus_5": (lambda y, s, k: final_bias_metric(y, s, k, p=5),)}),
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_passes_on_the_real_metric(name):
    check, right, _ = CHECKS[name]
    check(*right)


@pytest.mark.parametrize("name,wrong", [(n, w) for n in sorted(CHECKS) for w in sorted(CHECKS[n][2])])
def test_check_fails_on_a_plausible_wrong_version(name, wrong):
    check, _, wrongs = CHECKS[name]
    with pytest.raises(AssertionError):
        check(*wrongs[wrong])


def test_final_metric_parts():
    assert final_metric(0.9, [0.8, 0.8], [0.7, 0.7], [1.0, 1.0]) == pytest.approx(0.25 * (0.9 + 0.8 + 0.7 + 1.0))
    assert power_mean([0.9, float("nan"), 0.5]) == pytest.approx(plain_power_mean([0.9, 0.5]))
    assert power_mean([0.0, 0.9]) == 0.0 and math.isnan(power_mean([]))


# --- the identity set -----------------------------------------------------------

def test_identity_set_covers_terms_groups_and_both_labels():
    d = identity_set()
    assert list(d.columns) == ["text", "label", "term", "group", "template"]
    assert len(NONTOXIC_TEMPLATES) >= 20 and len(TOXIC_TEMPLATES) >= 20
    assert sum(len(v) for v in GROUPS.values()) >= 50 and len(GROUPS) >= 7
    assert len(d) == (len(NONTOXIC_TEMPLATES) + len(TOXIC_TEMPLATES)) * sum(len(v) for v in GROUPS.values())
    assert set(d["label"]) == {0, 1} and not d["text"].duplicated().any()
    assert all(term.lower() in text.lower() for text, term in zip(d["text"], d["term"]))
    assert (d.groupby("term")["label"].nunique() == 2).all()


def test_identity_set_grammar():
    assert fill("I am a {term} person.", "asian") == "I am an asian person."
    assert fill("A {term} student won.", "elderly") == "An elderly student won."
    assert fill("I am a {term} person.", "european") == "I am a european person."
    assert fill("I am an {term} person.", "black") == "I am a black person."
    assert fill("{term} people are disgusting.", "muslim") == "Muslim people are disgusting."
    assert fill("you are {term}", "white") == "you are white"
    for text, term in zip(*identity_set()[["text", "term"]].to_numpy().T):
        for art in re.findall(r"(?i)\b(an?) " + re.escape(term) + r"\b", text):
            assert art.lower() == article_for(term), text
    assert article_for("asian") == "an" and article_for("white") == "a" and article_for("older") == "an"


def test_augment_templates_are_disjoint_from_the_evaluation_set():
    evaluation = set(NONTOXIC_TEMPLATES) | set(TOXIC_TEMPLATES) | set(TEMPLATES)
    assert not set(AUGMENT_TEMPLATES) & evaluation
    texts = {t.lower() for t in identity_set()["text"]}
    augmented = {fill(t, term).lower() for t in AUGMENT_TEMPLATES for ts in GROUPS.values() for term in ts}
    assert not texts & augmented
    check_templates(AUGMENT_TEMPLATES)


def test_identity_csv_and_its_errors(tmp_path):
    good = pd.DataFrame({"text": ["I am gay.", "Gay people are idiots.", "I am straight.", "Straight idiots."],
                         "label": [0, 1, 0, 1], "term": ["gay", "gay", "straight", "straight"]})
    good.to_csv(tmp_path / "ok.csv", index=False)
    d = read_identity_csv(tmp_path / "ok.csv")
    assert list(d["group"]) == ["sexual orientation"] * 4 and d["label"].tolist() == [0, 1, 0, 1]
    rep = measure(lambda texts: [0.9 if "idiot" in t else 0.1 for t in texts], tmp_path / "ok.csv")
    assert rep.summary["fpr_spread"] == 0 and rep.summary["overall_auc"] == 1.0
    cases = {
        "nolabel.csv": (good.drop(columns="label"), r"nolabel.csv: missing column\(s\) \['label'\]"),
        "badlabel.csv": (good.assign(label=[0, 1, 2, 1]), r"badlabel.csv: column 'label' has '2' in data row 3"),
        "noterm.csv": (good.assign(term=["gay", "", "x", "x"]), r"noterm.csv: column 'term' is empty in data row 2"),
        "oneclass.csv": (good.assign(label=0), r"oneclass.csv: column 'label' holds only 0s"),
    }
    for name, (df, msg) in cases.items():
        df.to_csv(tmp_path / name, index=False)
        with pytest.raises(DataError, match=msg):
            read_identity_csv(tmp_path / name)


INSULTS = ("hate", "stupid", "idiot", "moron", "disgusting", "scum", "trash", "liars", "freaks", "die",
           "garbage", "pig", "clown", "fool", "banned", "brainless", "hurt", "creep", "loser", "get out")


def fair_scores(texts):
    return [0.9 if any(w in t.lower() for w in INSULTS) else 0.1 for t in texts]


def planted(texts):
    """Harmless mentions of 'muslim' scored above every toxic sentence; toxic 'deaf' ones below every harmless one."""
    out = []
    for t, p in zip(texts, fair_scores(texts)):
        toxic = p > 0.5
        if "muslim" in t.lower() and not toxic:
            p = 0.95
        if "deaf" in t.lower() and toxic:
            p = 0.05
        out.append(p)
    return out


def test_measure_finds_planted_false_positives_and_negatives(tmp_path):
    rep = measure(planted, threshold=0.5)
    terms = rep.per_term.set_index("term")
    ident = terms  # the identity AUCs sit in per_term too
    assert terms.loc["muslim", "fpr"] == 1.0 and terms.loc["christian", "fpr"] == 0.0
    assert terms.loc["deaf", "fnr"] == 1.0 and terms.loc["blind", "fnr"] == 0.0
    assert rep.summary["fpr_spread"] == 1.0 and rep.summary["fnr_spread"] == 1.0
    assert ident.loc["muslim", "bpsn_auc"] < 0.5 < ident.loc["muslim", "bnsp_auc"]
    assert ident.loc["deaf", "bnsp_auc"] < 0.5 < ident.loc["deaf", "bpsn_auc"]
    assert ident.loc["muslim", "subgroup_auc"] == 0.0 and ident.loc["deaf", "subgroup_auc"] == 0.0
    assert ident.drop(["muslim", "deaf"])["subgroup_auc"].eq(1.0).all() and rep.summary["worst_subgroup_auc"] == 0.0
    assert terms.loc["muslim", "pinned_auc"] < terms.loc["christian", "pinned_auc"]
    assert rep.summary["final_metric"] < 1.0 and len(rep.rows) == len(identity_set())
    for plot, name in ((plot_error_rates, "e.png"), (plot_identity_aucs, "a.png")):
        fig = plot(rep, path=tmp_path / name)
        assert isinstance(fig, matplotlib.figure.Figure) and (tmp_path / name).stat().st_size > 5000
    fair_rep = measure(fair_scores)
    assert (identity_set()["label"] == (np.array(fair_scores(identity_set()["text"])) > 0.5)).all()
    assert fair_rep.summary["fpr_spread"] == 0 and fair_rep.summary["final_metric"] == 1.0
    plot_bias_comparison({"planted": rep, "fairer": fair_rep}, path=tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 5000


def test_probe_and_bias_report_return_one_shape():
    """The same idea, one shape: rows, per_term, per_group, summary, threshold, with the same row columns."""
    from toxlab.bias import BiasReport

    probed, measured = probe(biased, threshold=0.4), measure(planted, threshold=0.4)
    assert type(probed) is type(measured) is BiasReport
    assert list(probed.rows.columns) == list(measured.rows.columns) == [
        "text", "label", "term", "group", "template", "p_toxic", "flagged"]
    assert (probed.rows["label"] == 0).all() and measured.rows["template"].ne("").all()
    for rep in (probed, measured):
        assert list(rep.per_term.columns[:3]) == ["group", "term", "n"] and "group" in rep.per_group.columns
        assert rep.summary["threshold"] == rep.threshold == 0.4
