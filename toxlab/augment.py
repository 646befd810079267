"""Bias mitigation by data augmentation, for `toxlab.training.train(..., augment=...)`.

Five methods, each adding rows to the training subset after it is drawn (never to validation); which of
them held on the held-out identity family, and which did not, is in the README (bench/bias.py):

- ``counterfactual`` (counterfactual data augmentation, e.g. Garg et al. 2019): every training
  comment that mentions an identity term gets a copy with that term swapped for another term of its
  group (seeded), the label kept. Whatever the model learns about "gay" it then also sees about
  "straight". At most `max_rows` copies (default: 10% of the subset, so a quick or cpu training
  grows by at most a tenth); comments to copy are drawn at random when more qualify.
- ``identity-nontoxic`` (Dixon et al. 2018): non-toxic sentences from `AUGMENT_TEMPLATES` x every
  identity term, label 0: 20 templates x 61 terms = 1,220 short rows with the defaults, so that a
  term no longer co-occurs mostly with toxic comments. `AUGMENT_TEMPLATES` shares no template with
  the evaluation set (`toxlab.bias.identity_set`).
- ``identity-real`` (Dixon et al.'s own data: real comments): the training subset's non-toxic comments that
  mention identity terms, copied until each term's share of toxic mentions is the subset's own; a term short
  of real comments borrows its group's, the term swapped in (`identity_real_rows`).
- ``identity-combined``: identity-real plus identity-nontoxic.
- ``identity-diverse`` ("much more diverse templates"): as many rows as identity-nontoxic (20 per term), each
  term's 20 drawn (seeded) from `DIVERSE_TEMPLATES`, 80 sentences of every shape and register, written by
  another hand than the held-out family's and without sight of it (`identity_diverse_rows`).

Which of them carries over to sentences and terms they were not built from is measured on the held-out
identity family (`toxlab.bias.heldout_identity_set`, bench/bias.py), never on their own templates.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .identity import AUGMENT_TEMPLATES, DIVERSE_TEMPLATES, GROUPS, article_for, check_groups, check_templates, fill, find_terms, term_regex

METHODS = ("counterfactual", "identity-nontoxic", "identity-real", "identity-combined", "identity-diverse")
DIVERSE_PER_TERM = 20  # identity-diverse: as many rows per term as identity-nontoxic adds, other shapes
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
    return _nontoxic_frame([fill(t, term) for ts in groups.values() for term in ts for t in templates], columns,
                           text_column)


def _nontoxic_frame(texts: list[str], columns: Sequence[str], text_column: str) -> pd.DataFrame:
    """`texts` as training rows in the dataset's columns: label 0 (and 0 in every other column), ids made up."""
    out = pd.DataFrame({text_column: texts})
    for c in columns:
        if c == "id":
            out["id"] = [f"augment-{i}" for i in range(len(texts))]
        elif c != text_column:
            out[c] = 0
    if "label" not in out.columns:
        out["label"] = 0
    return out


def identity_diverse_rows(groups: Mapping[str, Sequence[str]] | None = None, per_term: int = DIVERSE_PER_TERM,
                          seed: int = 0, columns: Sequence[str] = (), text_column: str = "comment_text") -> pd.DataFrame:
    """Dixon-style non-toxic rows in many shapes: for each term, `per_term` templates drawn without replacement
    (seeded, a fresh draw per term) from DIVERSE_TEMPLATES, label 0. Defaults: 20 x 61 = 1,220 rows, the size of
    identity-nontoxic's, so the two differ in variety alone."""
    templates = check_templates(DIVERSE_TEMPLATES)
    if not 0 < per_term <= len(templates):
        raise ValueError(f"per_term={per_term}: choose 1 to {len(templates)} (the DIVERSE_TEMPLATES there are).")
    rng = np.random.default_rng(seed)
    picks = {term: rng.choice(len(templates), per_term, replace=False)
             for ts in check_groups(GROUPS if groups is None else groups).values() for term in ts}
    return _nontoxic_frame([fill(templates[i], term) for term, idx in picks.items() for i in sorted(idx)], columns,
                           text_column)


def _cut(rows: pd.DataFrame, max_rows: int | None, seed: int) -> pd.DataFrame:
    """At most `max_rows` of `rows`, drawn seeded, in their order."""
    if max_rows is None or len(rows) <= max_rows:
        return rows
    keep = np.random.default_rng(seed).choice(len(rows), int(max_rows), replace=False)
    return rows.iloc[np.sort(keep)].reset_index(drop=True)


def augment_dataset(ds, method: str, seed: int = 0, max_rows: int | None = None,
                    groups: Mapping[str, Sequence[str]] | None = None):
    """`ds` (a datasets.Dataset with comment_text and label) plus the rows of `method`: (dataset, info).

    counterfactual: at most `max_rows` copies (default COUNTERFACTUAL_SHARE of len(ds)).
    identity-nontoxic: AUGMENT_TEMPLATES x terms, cut to `max_rows` (seeded) when given.
    identity-real: at most `max_rows` real non-toxic identity rows (default REAL_SHARE of len(ds)).
    identity-combined: both of the last two, `max_rows` capping each.
    identity-diverse: 20 DIVERSE_TEMPLATES per term, cut to `max_rows` (seeded) when given."""
    from datasets import Dataset, concatenate_datasets

    if method not in METHODS:
        raise ValueError(f"augment={method!r}: choose one of {list(METHODS)}.")
    df = ds.to_pandas()
    if method == "counterfactual":
        cap = int(round(COUNTERFACTUAL_SHARE * len(ds))) if max_rows is None else int(max_rows)
        added = counterfactual_rows(df, groups, max_rows=cap, seed=seed)
    else:
        parts = []
        if method in ("identity-real", "identity-combined"):
            parts.append(identity_real_rows(df, groups, max_rows=max_rows, seed=seed))
        if method in ("identity-nontoxic", "identity-combined"):
            parts.append(_cut(identity_nontoxic_rows(groups=groups, columns=list(df.columns)), max_rows, seed))
        if method == "identity-diverse":
            parts.append(_cut(identity_diverse_rows(groups, seed=seed, columns=list(df.columns)), max_rows, seed))
        added = pd.concat([p[list(df.columns)] for p in parts], ignore_index=True)
    info = {"method": method, "rows_added": int(len(added)), "rows_before": int(len(ds)),
            "toxic_added": int(added["label"].sum()) if len(added) else 0}
    if not len(added):
        return ds, info
    extra = Dataset.from_pandas(added[list(df.columns)], features=ds.features, preserve_index=False)
    return concatenate_datasets([ds, extra]), info


# ---------------------------------------------------------------------------
# Dixon et al.'s own approach: real non-toxic comments that mention identity terms, balanced per term
# ---------------------------------------------------------------------------

REAL_SHARE = 0.2  # default cap on identity-real rows, as a share of the training subset
REAL_MIN_PER_TERM = 8  # every term gets at least this many non-toxic real contexts


def identity_real_rows(df: pd.DataFrame, groups: Mapping[str, Sequence[str]] | None = None,
                       max_rows: int | None = None, seed: int = 0, min_per_term: int = REAL_MIN_PER_TERM,
                       text_column: str = "comment_text") -> pd.DataFrame:
    """Non-toxic rows of `df` that mention identity terms, copied so that each term's share of toxic mentions
    falls to the subset's own toxic share (Dixon et al. 2018 balanced per term with real comments).

    For term t with k toxic and n non-toxic mentions in `df`, where r is df's toxic share: t needs
    max(ceil(k (1 - r) / r), min_per_term) - n more non-toxic mentions. They come from df's non-toxic rows
    that mention t, then (a term short of real rows borrows its group's) from non-toxic rows mentioning
    another term of its group with that term swapped for t (`swap_identity`), drawn seeded, cycling when
    the need exceeds the supply. Drawn from the training rows themselves: nothing the threshold is chosen
    on, nothing evaluated, is added. At most `max_rows` rows (default REAL_SHARE of len(df)): every term's
    need is scaled down alike when they add up to more. Labels (every label column) stay 0."""
    groups = check_groups(GROUPS if groups is None else groups)
    rng = np.random.default_rng(seed)
    texts = df[text_column].astype(str).tolist()
    y = np.asarray(df["label"]).astype(int)
    r = float(y.mean()) if len(y) else 0.0
    found = [find_terms(t, groups) for t in texts]
    mentions: dict[str, list[int]] = {}  # term -> non-toxic rows mentioning it
    need = {}
    for term in (t for ts in groups.values() for t in ts):
        rows_t = [i for i, f in enumerate(found) if term in f]
        k = int(sum(y[i] for i in rows_t))
        mentions[term] = [i for i in rows_t if y[i] == 0]
        target = max(int(np.ceil(k * (1 - r) / r)) if 0 < r < 1 else 0, min_per_term)
        need[term] = max(target - len(mentions[term]), 0)
    supply = {}  # term -> (row, term to swap for it or None): its own non-toxic mentions, then its group's
    for terms in groups.values():
        for term in terms:
            borrowed = [(i, other) for other in terms if other != term for i in mentions[other] if term not in found[i]]
            supply[term] = [(i, None) for i in mentions[term]] + borrowed
    need = {t: n for t, n in need.items() if supply[t]}  # a term nothing can be drawn for takes no share of the cap
    cap = int(round(REAL_SHARE * len(df))) if max_rows is None else int(max_rows)
    total = sum(need.values())
    if total > cap:  # scale every need alike; the rows floor() drops go to the largest remainders
        quota = {t: n * cap / total for t, n in need.items()}
        need = {t: int(np.floor(q)) for t, q in quota.items()}
        for t in sorted(quota, key=lambda t: need[t] - quota[t])[:cap - sum(need.values())]:
            need[t] += 1
    picked, new_texts = [], []
    for terms in groups.values():
        for term in terms:
            if not need.get(term):
                continue
            order = [supply[term][j] for j in rng.permutation(len(supply[term]))]
            for j in range(need[term]):
                i, other = order[j % len(order)]
                picked.append(i)
                new_texts.append(texts[i] if other is None else swap_identity(texts[i], other, term))
    out = df.iloc[picked].copy() if picked else df.iloc[:0].copy()
    out[text_column] = new_texts
    for c in out.columns:
        if c not in (text_column, "id") and pd.api.types.is_numeric_dtype(out[c]):
            out[c] = 0  # picked rows are non-toxic already; other label columns too (a mention is no insult)
    if "id" in out.columns:
        out["id"] = out["id"].astype(str) + "-real"
    return out.reset_index(drop=True)
