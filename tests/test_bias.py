"""toxlab.bias: the probe finds a planted bias, reports per term and group, reads CSVs."""

import matplotlib
import pandas as pd
import pytest

from toxlab.bias import (
    GROUPS, TEMPLATES, check_templates, model_predictor, original_probe, plot_bias, probe,
    read_templates_csv, read_terms_csv,
)
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
    assert len(rep.sentences) == n_sentences
    assert rep.summary["overall_fpr"] == pytest.approx(2 * len(TEMPLATES) / n_sentences)


def test_fair_predictor_has_no_gap():
    rep = probe(fair)
    assert rep.summary["worst_gap"] == 0 and rep.summary["overall_fpr"] == 0


def test_templates_are_neutral_and_cover_the_groups():
    assert {"race", "religion", "gender", "sexual orientation", "nationality", "disability", "age"} <= set(GROUPS)
    assert all(t.count("{term}") == 1 for t in TEMPLATES)


def test_original_four_sentences_in_one_call():
    rep = original_probe(biased)
    assert rep.sentences["text"].tolist() == ["you are white", "you are asian", "you are latin", "you are black"]


def test_model_predictor(tiny_model, minilm_tokenizer):
    rep = original_probe(model_predictor(tiny_model, minilm_tokenizer))
    assert rep.sentences["p_toxic"].between(0, 1).all()


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
    assert len(rep.sentences) == 8 and list(rep.per_group["group"]) == ["x", "y"]
    pd.DataFrame({"sentence": ["I am {term}."]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match=r"bad.csv: missing column\(s\) \['template'\]"):
        read_templates_csv(tmp_path / "bad.csv")


def test_plot(tmp_path):
    fig = plot_bias(probe(biased))
    assert isinstance(fig, matplotlib.figure.Figure)
    fig.savefig(tmp_path / "b.png")
    assert (tmp_path / "b.png").stat().st_size > 5000
