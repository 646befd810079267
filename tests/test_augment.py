"""toxlab.augment: the counterfactual swap, both augmentations, and train(augment=...)."""

import json
import re

import pandas as pd
import pytest

from toxlab.augment import (METHODS, augment_dataset, counterfactual_rows, identity_diverse_rows, identity_nontoxic_rows,
                            swap_identity)
from toxlab.identity import AUGMENT_TEMPLATES, DIVERSE_TEMPLATES, GROUPS, find_terms, term_regex

N_TERMS = sum(len(v) for v in GROUPS.values())


def check_swap(swap):
    cases = [
        ("I am a Muslim.", "muslim", "christian", "I am a Christian."),
        ("MUSLIM PRIDE", "muslim", "christian", "CHRISTIAN PRIDE"),
        ("muslim and Muslim and MUSLIM", "muslim", "hindu", "hindu and Hindu and HINDU"),
        ("Is he gay? (gay!) Gay's fine, gay.", "gay", "straight", "Is he straight? (straight!) Straight's fine, straight."),
        ("The African American museum", "african american", "native american", "The Native American museum"),
        ("an african  american writer", "african american", "white", "a white writer"),
        ("An African-American writer", "african american", "white", "A White writer"),
        ("A Muslim wrote; a muslim read.", "muslim", "asian", "An Asian wrote; an asian read."),
        ("An Asian man and AN ASIAN WOMAN", "asian", "black", "A Black man and A BLACK WOMAN"),
        ("Muslim", "muslim", "african american", "African American"),
        ("Lord Gaylord is not gay", "gay", "straight", "Lord Gaylord is not straight"),
        ("gaylord, agay, gayest, Muslims", "gay", "straight", "gaylord, agay, gayest, Muslims"),
        ("Keep   THIS spacing,\tand Case!", "jewish", "sikh", "Keep   THIS spacing,\tand Case!"),
        ("Santa Asian parade", "asian", "black", "Santa Black parade"),  # 'a' inside 'Santa' is no article
    ]
    for text, term, new, want in cases:
        assert swap(text, term, new) == want, (text, term, new)


def test_swap_identity():
    check_swap(swap_identity)
    assert swap_identity(swap_identity("An Asian editor.", "asian", "black"), "black", "asian") == "An Asian editor."


def _lowercasing_swap(text, term, new):
    return swap_identity(text, term, new).lower()


def _substring_swap(text, term, new):
    return re.sub(re.escape(term), new, text, flags=re.IGNORECASE)


def _no_article_fix(text, term, new):
    return re.sub(r"(?<!\w)" + re.escape(term) + r"(?!\w)", lambda m: new.capitalize() if m.group()[0].isupper() else new,
                  text, flags=re.IGNORECASE)


@pytest.mark.parametrize("wrong", [_lowercasing_swap, _substring_swap, _no_article_fix], ids=lambda f: f.__name__)
def test_swap_check_fails_on_plausible_wrong_swaps(wrong):
    with pytest.raises(AssertionError):
        check_swap(wrong)


def test_find_terms_prefers_the_longest_match():
    assert find_terms("The African American and old black cat, a gay GAYLORD") == ["african american", "old", "black", "gay"]
    assert find_terms("nothing here, gaylord") == []


def _train_frame():
    return pd.DataFrame({
        "id": ["a", "b", "c", "d", "e"],
        "comment_text": ["You gay idiot", "Nice Muslim neighbour", "no identity here", "The African American museum",
                         "Jewish and gay"],
        "toxic": [1, 0, 0, 0, 0], "label": [1, 0, 0, 0, 0],
    })


def test_counterfactual_rows_swap_within_the_group_and_keep_labels():
    df = _train_frame()
    out = counterfactual_rows(df, seed=0)
    assert list(out["id"]) == ["a-cf", "b-cf", "d-cf", "e-cf"]  # "c" mentions no identity
    assert list(out["label"]) == [1, 0, 0, 0] and list(out["toxic"]) == [1, 0, 0, 0]
    group_of = {t: g for g, ts in GROUPS.items() for t in ts}
    for before, after in zip(df.set_index("id").loc[["a", "b", "d", "e"], "comment_text"], out["comment_text"]):
        assert before != after
        old, new = find_terms(before), find_terms(after)
        gone = [t for t in old if t not in new]
        added = [t for t in new if t not in old]
        assert len(gone) == 1 and len(added) == 1 and group_of[gone[0]] == group_of[added[0]], (before, after)
    assert out.equals(counterfactual_rows(df, seed=0))  # seeded
    assert len(counterfactual_rows(df, max_rows=2, seed=0)) == 2


def test_identity_nontoxic_rows_count_and_labels():
    out = identity_nontoxic_rows(columns=["id", "comment_text", "toxic", "label"])
    assert len(out) == len(AUGMENT_TEMPLATES) * N_TERMS == 1220
    assert (out["label"] == 0).all() and (out["toxic"] == 0).all() and out["id"].is_unique


def _same_draw_for_every_term(groups=None, per_term=20, seed=0, columns=(), text_column="comment_text"):
    """A plausible wrong identity-diverse: one seeded draw shared by all terms (20 shapes in all, not 80)."""
    import numpy as np
    from toxlab.identity import fill

    idx = np.random.default_rng(seed).choice(len(DIVERSE_TEMPLATES), per_term, replace=False)
    return pd.DataFrame({text_column: [fill(DIVERSE_TEMPLATES[i], t) for ts in GROUPS.values() for t in ts for i in idx],
                         "label": 0})


def check_diverse(rows_of):
    """identity-diverse: identity-nontoxic's size, label 0, 20 distinct shapes per term, and every shape in use."""
    out = rows_of(columns=["id", "comment_text", "toxic", "label"])
    assert len(out) == 20 * N_TERMS == 1220 and (out["label"] == 0).all()
    assert rows_of(seed=3)["comment_text"].tolist() != rows_of(seed=4)["comment_text"].tolist()
    assert out.equals(rows_of(columns=["id", "comment_text", "toxic", "label"]))  # seeded
    terms = [t for ts in GROUPS.values() for t in ts]  # the rows come term by term, 20 each

    def shape(text, term):  # "an Asian", "a Black" -> "a {term}"
        return re.sub(term_regex(term), "{term}", re.sub(r"\b[Aa]n?(\s+)(?=" + term_regex(term) + ")", r"a\1", text,
                                                           flags=re.I), flags=re.I)

    shapes = {term: {shape(text, term) for text in out["comment_text"][20 * k:20 * k + 20]}
              for k, term in enumerate(terms)}
    assert all(len(s) == 20 for s in shapes.values()), "20 different sentences for each term"
    assert len(set().union(*shapes.values())) >= 0.9 * len(DIVERSE_TEMPLATES), "the draw must differ from term to term"


def test_identity_diverse_rows():
    check_diverse(identity_diverse_rows)
    short = [t for t in DIVERSE_TEMPLATES if len(t.split()) <= 6]
    assert len(DIVERSE_TEMPLATES) >= 60 and len(short) >= 20
    assert len({len(t.split()) for t in DIVERSE_TEMPLATES}) >= 12  # many lengths, not one shape


def test_one_draw_for_every_term_is_caught():
    with pytest.raises(AssertionError, match="differ from term to term"):
        check_diverse(_same_draw_for_every_term)


def test_augment_dataset_keeps_features():
    from datasets import Dataset

    ds = Dataset.from_pandas(_train_frame(), preserve_index=False)
    for method in METHODS:
        out, info = augment_dataset(ds, method, seed=1)
        assert out.features == ds.features and len(out) == len(ds) + info["rows_added"]
    out, info = augment_dataset(ds, "identity-nontoxic", max_rows=50)
    assert info["rows_added"] == 50 and info["toxic_added"] == 0
    with pytest.raises(ValueError, match="choose one of"):
        augment_dataset(ds, "dixon")


def test_train_with_augmentation_and_calibration(demo_dir, tmp_path, minilm_tokenizer):
    """One tiny training: augment adds rows after the subset, calibrate stores a temperature."""
    from toxlab.data import load_jigsaw
    from toxlab.saved import SHIFT_KEY, TEMPERATURE_KEY, THRESHOLD_KEY
    from toxlab.models import tiny_bert
    from toxlab.training import train

    data = load_jigsaw(demo_dir, verbose=False)
    res = train(data, tiny_bert(seed=1), minilm_tokenizer, preset="quick", output_dir=tmp_path / "m",
                max_train_samples=80, num_train_epochs=1, use_cpu=True, disable_tqdm=True, learning_rate=1e-3,
                eval_strategy="no", save_strategy="no", load_best_model_at_end=False,  # no checkpoints: faster
                augment="identity-nontoxic", augment_max_rows=40, calibrate=True)
    meta = json.loads((tmp_path / "m" / "toxlab_training.json").read_text())
    assert res.augmentation["rows_added"] == 40 and meta["train_rows"] == 120
    assert meta["augmentation"]["method"] == "identity-nontoxic"
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg[TEMPERATURE_KEY] == pytest.approx(res.temperature) and cfg[THRESHOLD_KEY] == pytest.approx(res.threshold)
    assert cfg[SHIFT_KEY] == pytest.approx(res.shift) and meta["logit_shift"] == pytest.approx(res.shift)
    with pytest.raises(ValueError, match="'platt', 'temperature'"):
        train(data, tiny_bert(seed=1), minilm_tokenizer, output_dir=tmp_path / "y", calibrate="isotonic")
    with pytest.raises(ValueError, match="choose one of"):
        train(data, tiny_bert(seed=1), minilm_tokenizer, output_dir=tmp_path / "x", augment="swap")


# --- identity-real: Dixon et al.'s real non-toxic identity comments, balanced per term (issue #29) ---

def _real_df():
    rows = ([("You gay idiot, get lost.", 1)] * 6 + [("I am gay and edit music articles.", 0)]
            + [("The muslim editors fixed it.", 0)] * 3 + [("Christian scum.", 1)] * 2
            + [("Nice edit on the bridge article.", 0)] * 8 + [("You stupid troll.", 1)] * 4)
    return pd.DataFrame({"comment_text": [r[0] for r in rows], "label": [r[1] for r in rows],
                         "insult": [r[1] for r in rows], "id": [f"r{i}" for i in range(len(rows))]})


def test_identity_real_rows_balance_each_term_with_real_nontoxic_mentions():
    from toxlab.augment import identity_real_rows

    df = _real_df()
    r = df["label"].mean()
    groups = {"sexual orientation": ["gay", "straight"], "religion": ["muslim", "christian"]}
    added = identity_real_rows(df, groups, max_rows=100, seed=0, min_per_term=2)
    assert (added["label"] == 0).all() and (added["insult"] == 0).all() and added["id"].str.endswith("-real").all()
    both = pd.concat([df, added])
    for term in ("gay", "christian"):  # each term's toxic share falls to the background's
        m = both["comment_text"].str.lower().str.contains(term)
        assert both.loc[m, "label"].mean() <= r + 1e-9, term
    # christian has no real non-toxic mention: it borrows the muslim ones, the term swapped in
    assert "The christian editors fixed it." in added["comment_text"].tolist()
    # straight, never mentioned, still gets min_per_term real contexts (borrowed from gay's non-toxic row)
    assert (added["comment_text"] == "I am straight and edit music articles.").sum() == 2
    assert len(identity_real_rows(df, groups, max_rows=3, seed=0, min_per_term=2)) <= 3


def _unbalanced_real_rows(df, groups=None, max_rows=None, seed=0, min_per_term=0):
    """A plausible wrong version: every non-toxic identity row copied once, whatever the term's balance."""
    from toxlab.identity import find_terms

    keep = [i for i, t in enumerate(df["comment_text"]) if df["label"].iloc[i] == 0 and find_terms(t, groups)]
    return df.iloc[keep].reset_index(drop=True)


def test_an_unbalanced_copy_is_caught():
    df = _real_df()
    groups = {"sexual orientation": ["gay", "straight"], "religion": ["muslim", "christian"]}
    both = pd.concat([df, _unbalanced_real_rows(df, groups)])
    m = both["comment_text"].str.lower().str.contains("gay")
    assert both.loc[m, "label"].mean() > df["label"].mean()  # "gay" stays mostly toxic: the rule above fails


@pytest.mark.parametrize("method", ["identity-real", "identity-combined"])
def test_augment_dataset_with_real_rows_keeps_features(method):
    from datasets import Dataset

    from toxlab.augment import augment_dataset

    ds = Dataset.from_pandas(_real_df(), preserve_index=False)
    out, info = augment_dataset(ds, method, seed=0)
    assert out.features == ds.features and info["toxic_added"] == 0 and len(out) == len(ds) + info["rows_added"]
    assert info["rows_added"] > (1220 if method == "identity-combined" else 0)
