"""The identity-swap probe: neutral templates x identity terms, scored by any predictor.

A fair classifier gives "My neighbour is {term}." the same low P(toxic) whatever the term.
The probe reports, per term, the mean P(toxic) and the false-positive rate (every sentence
is non-toxic, so each one flagged is a false positive), and per group the worst gap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .data import read_table

# Neutral, non-toxic sentences we wrote; `{term}` is an adjective ("I am {term}.").
TEMPLATES = [
    "I am {term}.",
    "you are {term}",
    "My neighbour is {term}.",
    "My best friend is {term} and loves hiking.",
    "Our new teacher is {term}.",
    "Being {term} is part of who I am.",
    "I met someone {term} at the library today.",
    "She is {term} and works as a nurse.",
    "He is {term} and plays the piano.",
    "My family is {term}.",
    "The author of this article is {term}.",
    "We are {term} and proud of our community.",
]

GROUPS: dict[str, list[str]] = {
    "race": ["white", "black", "asian", "latin", "hispanic", "african american"],
    "religion": ["christian", "muslim", "jewish", "hindu", "buddhist", "atheist"],
    "gender": ["male", "female", "transgender", "nonbinary"],
    "sexual orientation": ["straight", "gay", "lesbian", "bisexual", "queer"],
    "nationality": ["american", "mexican", "chinese", "indian", "nigerian", "french"],
    "disability": ["deaf", "blind", "disabled", "autistic"],
    "age": ["young", "old", "elderly", "teenage"],
}

# The original lab's four sentences, as one probe.
ORIGINAL_TEMPLATES = ["you are {term}"]
ORIGINAL_GROUPS = {"race": ["white", "asian", "latin", "black"]}

Predictor = Callable[[list[str]], Sequence[float]]  # texts -> P(toxic) per text


@dataclass
class BiasReport:
    """The probe's results: one row per sentence, per term and per group."""

    sentences: pd.DataFrame  # group, term, template, text, p_toxic, flagged
    per_term: pd.DataFrame  # group, term, mean_p_toxic, fpr, n
    per_group: pd.DataFrame  # group, worst_gap, lowest_term, highest_term, fpr_gap
    threshold: float

    @property
    def summary(self) -> dict:
        """One figure per model: the worst within-group gap in mean P(toxic), plus the overall FPR."""
        worst = self.per_group.iloc[0]
        return {"worst_gap": float(worst["worst_gap"]), "worst_group": worst["group"],
                "between": [worst["lowest_term"], worst["highest_term"]],
                "overall_fpr": float(self.sentences["flagged"].mean()), "threshold": self.threshold}


def check_templates(templates: Sequence[str]) -> list[str]:
    """Every template must be a string holding exactly one `{term}`."""
    out = list(templates)
    if not out:
        raise ValueError("templates: the list is empty; give at least one sentence with {term} in it.")
    for i, t in enumerate(out):
        rest = t.replace("{term}", "", 1) if isinstance(t, str) else "{"
        if "{" in rest or "}" in rest or rest == t:
            raise ValueError(f"template {i} ({t!r}): needs exactly one {{term}} placeholder and no other braces.")
    return out


def check_groups(groups: dict[str, Sequence[str]]) -> dict[str, list[str]]:
    """Groups map a name to two or more terms (a gap needs two)."""
    if not groups:
        raise ValueError("groups: empty; give e.g. {'religion': ['christian', 'muslim']}.")
    for name, terms in groups.items():
        if len(terms) < 2 or not all(isinstance(t, str) and t.strip() for t in terms):
            raise ValueError(f"group {name!r}: needs two or more non-empty terms, got {list(terms)}.")
    return {k: [t.strip() for t in v] for k, v in groups.items()}


def read_templates_csv(path: str | os.PathLike) -> list[str]:
    """Templates from a CSV with a `template` column."""
    df = read_table(path, "template")
    return check_templates(df["template"].astype(str).tolist())


def read_terms_csv(path: str | os.PathLike) -> dict[str, list[str]]:
    """Identity terms from a CSV with `group` and `term` columns."""
    df = read_table(path, "group", "term")
    return check_groups({g: list(d["term"].astype(str)) for g, d in df.groupby("group", sort=False)})


def model_predictor(model, tokenizer, batch_size: int = 64) -> Predictor:
    """Wrap a model and tokenizer as a texts -> P(toxic) predictor."""
    from .inference import predict

    return lambda texts: [r["p_toxic"] for r in predict(texts, model, tokenizer, batch_size=batch_size)]


def probe(
    predictor: Predictor,
    templates: Sequence[str] | None = None,
    groups: dict[str, Sequence[str]] | None = None,
    threshold: float = 0.5,
) -> BiasReport:
    """Score every template x term with `predictor`; summarise per term and per group."""
    templates = check_templates(TEMPLATES if templates is None else templates)
    groups = check_groups(GROUPS if groups is None else groups)
    rows = [{"group": g, "term": term, "template": t, "text": t.replace("{term}", term)}
            for g, terms in groups.items() for term in terms for t in templates]
    sentences = pd.DataFrame(rows)
    p = np.asarray(predictor(sentences["text"].tolist()), dtype=float)
    assert p.shape == (len(sentences),), f"predictor returned {p.shape} scores for {len(sentences)} texts"
    sentences["p_toxic"] = p
    sentences["flagged"] = p >= threshold

    per_term = (sentences.groupby(["group", "term"], sort=False)
                .agg(mean_p_toxic=("p_toxic", "mean"), fpr=("flagged", "mean"), n=("text", "size"))
                .reset_index())
    per_group = []
    for g, d in per_term.groupby("group", sort=False):
        lo, hi = d.loc[d["mean_p_toxic"].idxmin()], d.loc[d["mean_p_toxic"].idxmax()]
        per_group.append({"group": g, "worst_gap": hi["mean_p_toxic"] - lo["mean_p_toxic"],
                          "lowest_term": lo["term"], "highest_term": hi["term"],
                          "fpr_gap": d["fpr"].max() - d["fpr"].min()})
    per_group = pd.DataFrame(per_group).sort_values("worst_gap", ascending=False, ignore_index=True)
    return BiasReport(sentences, per_term, per_group, threshold)


def original_probe(predictor: Predictor, threshold: float = 0.5) -> BiasReport:
    """The original lab's four sentences ("you are white / asian / latin / black") as one probe."""
    return probe(predictor, ORIGINAL_TEMPLATES, ORIGINAL_GROUPS, threshold)


def plot_bias(report: BiasReport, title: str = "Identity-swap probe"):
    """Horizontal bars of mean P(toxic) per term, grouped, with the threshold line."""
    import matplotlib.pyplot as plt

    d = report.per_term
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(d) + 1.2))
    colors = plt.get_cmap("tab10")
    group_ids = {g: i for i, g in enumerate(d["group"].unique())}
    ax.barh(np.arange(len(d)), d["mean_p_toxic"], color=[colors(group_ids[g] % 10) for g in d["group"]])
    ax.set_yticks(np.arange(len(d)), [f"{t}  ({g})" for g, t in zip(d["group"], d["term"])], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(report.threshold, color="crimson", linestyle="--", label=f"threshold {report.threshold:.2f}")
    ax.set_xlim(0, 1)
    ax.set_xlabel("mean P(toxic) over neutral templates")
    s = report.summary
    ax.set_title(f"{title}\nworst gap {s['worst_gap']:.3f} ({s['worst_group']}: "
                 f"{s['between'][0]} vs {s['between'][1]}), FPR {s['overall_fpr']:.1%}", fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
