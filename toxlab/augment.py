"""Bias mitigation by data augmentation, for `toxlab.training.train(..., augment=...)`.

Two methods, both adding rows to the training subset after it is drawn (never to validation):

- ``counterfactual`` (counterfactual data augmentation, e.g. Garg et al. 2019): every training
  comment that mentions an identity term gets a copy with that term swapped for another term of its
  group (seeded), the label kept. Whatever the model learns about "gay" it then also sees about
  "straight". At most `max_rows` copies (default: 10% of the subset, so a quick or cpu training
  grows by at most a tenth); comments to copy are drawn at random when more qualify.
- ``identity-nontoxic`` (Dixon et al. 2018): non-toxic sentences from `AUGMENT_TEMPLATES` x every
  identity term, label 0: 20 templates x 61 terms = 1,220 short rows with the defaults, so that a
  term no longer co-occurs mostly with toxic comments. `AUGMENT_TEMPLATES` shares no template with
  the evaluation set (`toxlab.bias.identity_set`).
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .identity import AUGMENT_TEMPLATES, GROUPS, article_for, check_groups, check_templates, fill, find_terms, term_regex

METHODS = ("counterfactual", "identity-nontoxic")
COUNTERFACTUAL_SHARE = 0.1  # default cap on counterfactual copies, as a share of the training subset


def _all_caps(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


def _case_like(original: str, replacement: str) -> str:
    """`replacement` written in the case pattern of `original`: UPPER, Title Case, Capitalized or lower."""
    letters = [c for c in original if c.isalpha()]
    if not letters:
        return replacement
    if _all_caps(original):
        return replacement.upper()
    words = original.replace("-", " ").split()
    if len(words) > 1 and all(w[:1].isupper() for w in words):  # "African American" -> "Native American"
        return " ".join(w[:1].upper() + w[1:] for w in replacement.split())
    if letters[0].isupper():
        if len(words) == 1 and len(replacement.split()) > 1:  # "Muslim" -> "African American"
            return " ".join(w[:1].upper() + w[1:] for w in replacement.split())
        return replacement[:1].upper() + replacement[1:]
    if all(c.islower() for c in letters):
        return replacement.lower()
    return replacement


def swap_identity(text: str, term: str, replacement: str) -> str:
    """`text` with every whole-word mention of `term` replaced by `replacement`.

    Case-insensitive; the replacement copies the case pattern of each mention ("Muslim" ->
    "Christian", "MUSLIM" -> "CHRISTIAN"); no partial words ("gay" is not in "gaylord"); every
    other character is kept; an "a"/"an" right before a mention is fixed for the new word
    ("an Asian" -> "a Black" and back)."""
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__}.")
    pattern = re.compile(r"(?:(?<![\w'])(an?)(\s+))?(" + term_regex(term) + ")", re.IGNORECASE)

    def sub(m: re.Match) -> str:
        new = _case_like(m.group(3), replacement)
        if m.group(1) is None:
            return new
        old_article, art = m.group(1), article_for(new)
        if old_article.isupper() and (len(old_article) > 1 or _all_caps(m.group(3))):  # "AN ASIAN" -> "A BLACK"
            art = art.upper()
        elif old_article[0].isupper():  # "An Asian" -> "A Black"
            art = art.capitalize()
        return art + m.group(2) + new

    return pattern.sub(sub, text)


def counterfactual_rows(df: pd.DataFrame, groups: Mapping[str, Sequence[str]] | None = None,
                        max_rows: int | None = None, seed: int = 0, text_column: str = "comment_text") -> pd.DataFrame:
    """Counterfactual copies of the rows of `df` that mention an identity term.

    For each chosen row: one of the terms it mentions (seeded choice), swapped everywhere in the text
    for another term of the same group (seeded), all other columns kept (labels included); an `id`
    column gets the suffix "-cf". At most `max_rows` rows, drawn at random (seeded) when more qualify."""
    groups = check_groups(GROUPS if groups is None else groups)
    group_of = {t: g for g, ts in groups.items() for t in ts}
    rng = np.random.default_rng(seed)
    texts = df[text_column].astype(str).tolist()
    found = [find_terms(t, groups) for t in texts]
    candidates = np.flatnonzero([bool(f) for f in found])
    if max_rows is not None and len(candidates) > max_rows:
        candidates = np.sort(rng.choice(candidates, max_rows, replace=False))
    out = df.iloc[candidates].copy()
    new_texts = []
    for i in candidates:
        term = found[i][rng.integers(len(found[i]))]
        others = [t for t in groups[group_of[term]] if t != term]
        new_texts.append(swap_identity(texts[i], term, others[rng.integers(len(others))]))
    out[text_column] = new_texts
    if "id" in out.columns:
        out["id"] = out["id"].astype(str) + "-cf"
    return out.reset_index(drop=True)


def identity_nontoxic_rows(templates: Sequence[str] | None = None, groups: Mapping[str, Sequence[str]] | None = None,
                           columns: Sequence[str] = (), text_column: str = "comment_text") -> pd.DataFrame:
    """Dixon-style non-toxic rows: every template x term, label 0 (and 0 in every other `columns`).

    Defaults: AUGMENT_TEMPLATES x GROUPS, 20 x 61 = 1,220 rows."""
    templates = check_templates(AUGMENT_TEMPLATES if templates is None else templates)
    groups = check_groups(GROUPS if groups is None else groups)
    texts = [fill(t, term) for ts in groups.values() for term in ts for t in templates]
    out = pd.DataFrame({text_column: texts})
    for c in columns:
        if c == "id":
            out["id"] = [f"augment-{i}" for i in range(len(texts))]
        elif c != text_column:
            out[c] = 0
    if "label" not in out.columns:
        out["label"] = 0
    return out


def augment_dataset(ds, method: str, seed: int = 0, max_rows: int | None = None,
                    groups: Mapping[str, Sequence[str]] | None = None):
    """`ds` (a datasets.Dataset with comment_text and label) plus the rows of `method`: (dataset, info).

    counterfactual: at most `max_rows` copies (default COUNTERFACTUAL_SHARE of len(ds)).
    identity-nontoxic: AUGMENT_TEMPLATES x terms, cut to `max_rows` (seeded) when given."""
    from datasets import Dataset, concatenate_datasets

    if method not in METHODS:
        raise ValueError(f"augment={method!r}: choose one of {list(METHODS)}.")
    df = ds.to_pandas()
    if method == "counterfactual":
        cap = int(round(COUNTERFACTUAL_SHARE * len(ds))) if max_rows is None else int(max_rows)
        added = counterfactual_rows(df, groups, max_rows=cap, seed=seed)
    else:
        added = identity_nontoxic_rows(groups=groups, columns=list(df.columns))
        if max_rows is not None and len(added) > max_rows:
            keep = np.random.default_rng(seed).choice(len(added), int(max_rows), replace=False)
            added = added.iloc[np.sort(keep)].reset_index(drop=True)
    info = {"method": method, "rows_added": int(len(added)), "rows_before": int(len(ds)),
            "toxic_added": int(added["label"].sum()) if len(added) else 0}
    if not len(added):
        return ds, info
    extra = Dataset.from_pandas(added[list(df.columns)], features=ds.features, preserve_index=False)
    return concatenate_datasets([ds, extra]), info
