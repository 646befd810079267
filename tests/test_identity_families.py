"""The held-out identity family (issue #29): written apart from the augmentation, so a mitigation measured
on it cannot score its own sentences; and the real comments that mention identity terms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toxlab.bias import (family_table, heldout_identity_set, identity_families, identity_set, real_identity_rows,
                         real_identity_summary)
from toxlab.identity import (AUGMENT_TEMPLATES, DIVERSE_TEMPLATES, GROUPS, HELDOUT_GROUPS, HELDOUT_NONTOXIC_TEMPLATES,
                             HELDOUT_ONLY_TERMS, HELDOUT_TOXIC_TEMPLATES, NONTOXIC_TEMPLATES, TOXIC_TEMPLATES,
                             all_terms, family_overlap, find_terms)

HELDOUT = HELDOUT_NONTOXIC_TEMPLATES + HELDOUT_TOXIC_TEMPLATES

# A plausible wrong held-out family: the augmentation's sentences lightly reworded, over its own terms plus
# a few new ones. It "looks" new (no template is identical) but measures recall of the same shapes.
WRONG_TEMPLATES = [t.replace(".", "!").replace("My ", "Our ") for t in AUGMENT_TEMPLATES]
WRONG_GROUPS = {g: list(ts) + (["korean", "somali"] if g == "nationality" else []) for g, ts in GROUPS.items()}


def _independent(templates, groups) -> bool:
    o = family_overlap(templates, groups, AUGMENT_TEMPLATES + DIVERSE_TEMPLATES, GROUPS)
    return (not o["shared_templates"] and not o["shared_4grams"] and not o["shared_term_trigrams"]
            and o["term_overlap"] <= 2 / 3)


def test_the_heldout_family_shares_no_sentence_shape_with_the_augmentation():
    o = family_overlap(HELDOUT, HELDOUT_GROUPS, AUGMENT_TEMPLATES + DIVERSE_TEMPLATES, GROUPS)
    assert o["shared_templates"] == [] and o["shared_4grams"] == [] and o["shared_term_trigrams"] == []
    assert o["term_overlap"] <= 2 / 3 and len(o["new_terms"]) >= len(all_terms(HELDOUT_GROUPS)) / 3
    assert sorted(o["new_terms"]) == HELDOUT_ONLY_TERMS
    # nor a template of the first evaluation family, which the augmentation was modelled on
    assert not family_overlap(HELDOUT, HELDOUT_GROUPS, NONTOXIC_TEMPLATES + TOXIC_TEMPLATES, GROUPS)["shared_templates"]
    assert _independent(HELDOUT, HELDOUT_GROUPS)


def test_a_reworded_augmentation_family_is_caught():
    assert not _independent(WRONG_TEMPLATES, WRONG_GROUPS)
    o = family_overlap(WRONG_TEMPLATES, WRONG_GROUPS, AUGMENT_TEMPLATES, GROUPS)
    assert o["shared_4grams"] and o["term_overlap"] > 2 / 3
    # each half of the rule catches a wrong family on its own
    assert not _independent(HELDOUT, WRONG_GROUPS)  # the right sentences over the augmentation's terms
    assert not _independent(HELDOUT + ["The band's drummer is {term}, I think."], HELDOUT_GROUPS)


def test_the_heldout_family_differs_in_register_and_length():
    lengths = lambda ts: [len(t.split()) for t in ts]  # noqa: E731
    assert np.std(lengths(HELDOUT)) > 1.5 * np.std(lengths(AUGMENT_TEMPLATES))
    assert max(lengths(HELDOUT)) >= 2 * max(lengths(AUGMENT_TEMPLATES))
    assert any(t[:1].islower() for t in HELDOUT) and any(t.rstrip().endswith("?") for t in HELDOUT)
    assert sum(not t.startswith("{term}") and t.index("{term}") > 40 for t in HELDOUT) >= 3  # the term late


def test_the_heldout_family_has_short_context_free_sentences_of_both_labels():
    # Long sentences give a model harmless context to lean on; the unmitigated model flagged almost none of
    # the family's first 20 (FPR spread 0.05) while an independent set of short ones caught "gay" at FPR 1.00.
    short = lambda ts: [t for t in ts if len(t.split()) <= 6]  # noqa: E731
    assert len(short(HELDOUT_NONTOXIC_TEMPLATES)) >= 10
    assert len(short(HELDOUT_NONTOXIC_TEMPLATES)) == len(short(HELDOUT_TOXIC_TEMPLATES))
    assert len(HELDOUT_NONTOXIC_TEMPLATES) == len(HELDOUT_TOXIC_TEMPLATES)


def test_heldout_identity_set_is_balanced_per_term():
    d = heldout_identity_set()
    assert len(d) == len(HELDOUT) * len(all_terms(HELDOUT_GROUPS))
    per_term = d.groupby("term")["label"].agg(["size", "mean"])
    assert (per_term["mean"] == 0.5).all() and per_term["size"].nunique() == 1
    assert not set(d["text"]) & set(identity_set()["text"])


def test_identity_families_and_their_table():
    score = lambda texts: [0.9 if ("idiot" in t or "scum" in t) else 0.1 for t in texts]  # noqa: E731
    reports = identity_families(score, threshold=0.5)
    assert list(reports) == ["own family", "held-out family"]
    table = family_table(reports)
    assert list(table["family"]) == ["own family", "held-out family"] and table["terms"].tolist() == [61, 47]
    assert {"fpr_spread", "min_subgroup_auc", "highest_fpr", "final_metric"} <= set(table.columns)


def test_real_identity_rows_find_mentions_in_real_comments():
    texts = ["My gay neighbour is lovely.", "nothing here", "Those Pakistani idiots.", "a retired teacher"]
    rows = real_identity_rows(texts, [0, 0, 1, 0])
    assert rows["text"].tolist() == [texts[0], texts[2], texts[3]]
    assert rows["term"].tolist() == ["gay", "pakistani", "retired"] and rows["label"].tolist() == [0, 1, 0]
    s = real_identity_summary(rows, [0.8, 0.9, 0.1], 0.5, [0], [0.2])
    assert s["rows"] == 3 and s["toxic"] == 1 and s["fpr"] == pytest.approx(0.5) and s["background_fpr"] == 0.0


def test_find_terms_prefilter_changes_nothing():
    """find_terms passes only the terms whose first word the text holds to the alternation; the matches equal
    those of the alternation over every term (the code before the prefilter)."""
    from toxlab.identity import _any_term

    texts = ["African-American and african american", "MUSLIM women", "the old man", "middle aged", "whitewash",
             "gaylord", "Native Americans", "an Asian-American", "nonbinary, queer; trans.", "Old-school OLD folks"]
    terms = tuple(sorted(all_terms(GROUPS), key=len, reverse=True))
    for text in texts:
        expected = list(dict.fromkeys(terms[int(m.lastgroup[1:])] for m in _any_term(terms).finditer(text)))
        assert find_terms(text) == expected, text
