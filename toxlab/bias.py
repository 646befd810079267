"""Bias: the identity-swap probe, a labelled identity test set, and the unintended-bias metrics.

Two ways to look at a classifier's bias against identity terms:

- `probe` (the lab's first look): neutral templates x identity terms. A fair classifier gives
  "My neighbour is {term}." the same low P(toxic) whatever the term. It reports, per term, the
  mean P(toxic) and the false-positive rate (every sentence is non-toxic, so each one flagged is a
  false positive), and per group the worst gap.
- `measure` (the full picture): `identity_set()` fills non-toxic AND toxic templates with the
  identity terms, so a model can err both ways, and `bias_report` computes per term the FPR, the
  FNR and the pinned AUC (Dixon et al. 2018), per identity the subgroup, BPSN and BNSP AUCs
  (Borkan et al. 2019), and the Jigsaw Unintended Bias final metric.

Every metric is a pure function of arrays (labels 0/1, scores, a boolean subgroup mask), so it
works on any predictor's scores; `measure(predictor, ...)` only adds the scoring.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .data import DataError, read_table
from .identity import (GROUPS, HELDOUT_GROUPS, HELDOUT_NONTOXIC_TEMPLATES, HELDOUT_TOXIC_TEMPLATES, NONTOXIC_TEMPLATES,
                       ORIGINAL_GROUPS, ORIGINAL_TEMPLATES, TEMPLATES, TOXIC_TEMPLATES, check_groups, check_templates,
                       fill, find_terms, group_of)

Predictor = Callable[[list[str]], Sequence[float]]  # texts -> P(toxic) per text

POWER = -5  # the generalized mean's exponent in the Jigsaw Unintended Bias metric
FINAL_WEIGHT = 0.25  # each of the four parts of that metric


@dataclass
class BiasReport:
    """What `probe` and `bias_report` (and `measure`) return: the scored rows, a table per term and one
    per group, a summary of one figure per question, at one threshold.

    rows: text, label, term, group, template, p_toxic, flagged (the probe's rows are all label 0).
    per_term: group, term, n, then the probe's mean_p_toxic and fpr, or bias_report's n_toxic, fpr, fnr,
    pinned_auc, subgroup_auc, bpsn_auc, bnsp_auc. per_group: the gaps between a group's terms, widest first."""

    rows: pd.DataFrame
    per_term: pd.DataFrame
    per_group: pd.DataFrame
    summary: dict
    threshold: float


def read_templates_csv(path: str | os.PathLike) -> list[str]:
    """Templates from a CSV with a `template` column."""
    df = read_table(path, "template")
    return check_templates(df["template"].astype(str).tolist())


def read_terms_csv(path: str | os.PathLike) -> dict[str, list[str]]:
    """Identity terms from a CSV with `group` and `term` columns."""
    df = read_table(path, "group", "term")
    return check_groups({g: list(d["term"].astype(str)) for g, d in df.groupby("group", sort=False)})


def model_predictor(model, tokenizer, batch_size: int = 64) -> Predictor:
    """Wrap a model and tokenizer as a texts -> P(toxic) predictor (calibrated when the model has a temperature)."""
    from .inference import predict

    return lambda texts: [r["p_toxic"] for r in predict(texts, model, tokenizer, batch_size=batch_size)]


def _scores_for(predictor: Predictor, texts: list[str]) -> np.ndarray:
    p = np.asarray(predictor(texts), dtype=float)
    assert p.shape == (len(texts),), f"predictor returned {p.shape} scores for {len(texts)} texts"
    return p


def probe(
    predictor: Predictor,
    templates: Sequence[str] | None = None,
    groups: dict[str, Sequence[str]] | None = None,
    threshold: float = 0.5,
) -> BiasReport:
    """Score every template x term with `predictor` (every sentence non-toxic); summarise per term and per group.

    Summary: the worst within-group gap in mean P(toxic), its group and terms, and the overall FPR."""
    templates = check_templates(TEMPLATES if templates is None else templates)
    groups = check_groups(GROUPS if groups is None else groups)
    rows = pd.DataFrame([{"text": fill(t, term), "label": 0, "term": term, "group": g, "template": t}
                         for g, terms in groups.items() for term in terms for t in templates], columns=IDENTITY_COLUMNS)
    p = _scores_for(predictor, rows["text"].tolist())
    rows["p_toxic"] = p
    rows["flagged"] = p >= threshold

    per_term = (rows.groupby(["group", "term"], sort=False)
                .agg(n=("text", "size"), mean_p_toxic=("p_toxic", "mean"), fpr=("flagged", "mean"))
                .reset_index())
    per_group = []
    for g, d in per_term.groupby("group", sort=False):
        lo, hi = d.loc[d["mean_p_toxic"].idxmin()], d.loc[d["mean_p_toxic"].idxmax()]
        per_group.append({"group": g, "worst_gap": hi["mean_p_toxic"] - lo["mean_p_toxic"],
                          "lowest_term": lo["term"], "highest_term": hi["term"],
                          "fpr_gap": d["fpr"].max() - d["fpr"].min()})
    per_group = pd.DataFrame(per_group).sort_values("worst_gap", ascending=False, ignore_index=True)
    worst = per_group.iloc[0]
    summary = {"worst_gap": float(worst["worst_gap"]), "worst_group": worst["group"],
               "between": [worst["lowest_term"], worst["highest_term"]],
               "overall_fpr": float(rows["flagged"].mean()), "threshold": float(threshold)}
    return BiasReport(rows, per_term, per_group, summary, float(threshold))


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


# ---------------------------------------------------------------------------
# the identity test set: non-toxic and toxic templates x identity terms
# ---------------------------------------------------------------------------

IDENTITY_COLUMNS = ["text", "label", "term", "group", "template"]


def identity_set(
    templates_nontoxic: Sequence[str] | None = None,
    templates_toxic: Sequence[str] | None = None,
    groups: dict[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Every template x term: columns text, label (0 non-toxic, 1 toxic), term, group, template.

    The defaults (NONTOXIC_TEMPLATES, TOXIC_TEMPLATES, GROUPS) give 24 + 22 sentences for each of
    61 terms: 2,806 rows, generated, with no row of any dataset in them."""
    nontoxic = check_templates(NONTOXIC_TEMPLATES if templates_nontoxic is None else templates_nontoxic)
    toxic = check_templates(TOXIC_TEMPLATES if templates_toxic is None else templates_toxic)
    groups = check_groups(GROUPS if groups is None else groups)
    rows = [{"text": fill(t, term), "label": label, "term": term, "group": g, "template": t}
            for g, terms in groups.items() for term in terms
            for label, templates in ((0, nontoxic), (1, toxic)) for t in templates]
    return pd.DataFrame(rows, columns=IDENTITY_COLUMNS)


def heldout_identity_set() -> pd.DataFrame:
    """The held-out family (toxlab.identity.HELDOUT_*): 32 non-toxic + 32 toxic templates x 47 terms, 3,008 rows,
    written apart from the augmentation's templates, 21 of its terms in no list the augmentation uses.

    `identity_set()` is the augmentation's own family (its shapes and all its terms): a mitigation measured
    there only shows it learned its own sentences; measure it here too (`identity_families`)."""
    return identity_set(HELDOUT_NONTOXIC_TEMPLATES, HELDOUT_TOXIC_TEMPLATES, HELDOUT_GROUPS)


FAMILIES = {"own family": identity_set, "held-out family": heldout_identity_set}


def identity_families(predictor: Predictor, threshold: float = 0.5, seed: int = 0) -> dict[str, BiasReport]:
    """`measure` on both identity families, the augmentation's own and the held-out one, at one threshold."""
    return {name: measure(predictor, make(), threshold, seed) for name, make in FAMILIES.items()}


def family_table(reports: Mapping[str, BiasReport]) -> pd.DataFrame:
    """One row per family (or model/family): FPR spread and its worst term, mean FPR, FNR spread, the worst
    subgroup AUC and its term, the final metric. Side by side, the gap between the families shows how much
    of a mitigation is recall of its own templates."""
    rows = []
    for name, r in reports.items():
        s = r.summary
        rows.append({"family": name, "rows": s["rows"], "terms": s["terms"], "fpr_spread": s["fpr_spread"],
                     "highest_fpr": f"{s['fpr_highest'][0]} {s['fpr_highest'][1]:.2f}", "mean_fpr": s["mean_fpr"],
                     "fnr_spread": s["fnr_spread"], "min_subgroup_auc": s["worst_subgroup_auc"],
                     "worst_term": s["worst_subgroup_term"], "final_metric": s["final_metric"]})
    return pd.DataFrame(rows)


def real_identity_rows(texts, labels, groups: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """Real comments that mention an identity term (whole word, any case): text, label, term (the first
    one mentioned), group, template "" (IDENTITY_COLUMNS). Default terms: both families' lists together."""
    if groups is None:
        groups = {g: sorted(set(GROUPS.get(g, [])) | set(HELDOUT_GROUPS.get(g, []))) for g in {*GROUPS, *HELDOUT_GROUPS}}
    rows = []
    for text, label in zip(texts, labels):
        found = find_terms(str(text), groups)
        if found:
            rows.append({"text": text, "label": int(label), "term": found[0], "group": group_of(found[0], groups),
                         "template": ""})
    return pd.DataFrame(rows, columns=IDENTITY_COLUMNS)


def real_identity_summary(rows: pd.DataFrame, scores, threshold: float, background_labels=None,
                          background_scores=None) -> dict:
    """Real identity-mentioning comments are too few per term for per-term figures: their AUC, their FPR at
    `threshold`, and, given the other scored rows (background), the FPR there for comparison."""
    y, s = np.asarray(rows["label"], dtype=int), np.asarray(scores, dtype=float)
    out = {"rows": int(len(y)), "toxic": int(y.sum()), "auc": auc(y, s) if len(y) else float("nan"),
           "fpr": false_positive_rate(y, s, threshold) if len(y) else float("nan")}
    if background_labels is not None:
        out["background_fpr"] = false_positive_rate(background_labels, background_scores, threshold)
    return out


def read_identity_csv(path: str | os.PathLike) -> pd.DataFrame:
    """A user's identity test set: a CSV with columns text, label (0/1), term and, optionally, group.

    Without a group column each term takes its group from GROUPS, else "other". Errors name the
    file, the column, the data row and the fix."""
    path = Path(path)
    df = read_table(path, "text", "label", "term")
    if df.empty:
        raise DataError(f"{path}: no rows; add rows with text, label (0 or 1) and term.")
    labels = pd.to_numeric(df["label"].str.strip(), errors="coerce")
    bad = labels.isna() | ~labels.isin([0, 1])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{path}: column 'label' has {df['label'].iloc[i]!r} in data row {i + 1}; "
                        f"labels must be 0 (non-toxic) or 1 (toxic). Fix that row ({int(bad.sum())} bad value(s)).")
    for col in ("text", "term"):
        empty = df[col].str.strip() == ""
        if empty.any():
            i = int(np.flatnonzero(empty.to_numpy())[0])
            raise DataError(f"{path}: column {col!r} is empty in data row {i + 1}; every row needs a {col} "
                            f"({int(empty.sum())} empty). Fill it in or remove the row.")
    if labels.nunique() < 2:
        raise DataError(f"{path}: column 'label' holds only {int(labels.iloc[0])}s; AUCs need both toxic (1) "
                        "and non-toxic (0) rows. Add rows of the other label.")
    out = pd.DataFrame({"text": df["text"], "label": labels.astype("int64"), "term": df["term"].str.strip()})
    if "group" in df.columns:
        out["group"] = df["group"].str.strip().replace("", "other")
    else:
        out["group"] = [group_of(t) for t in out["term"]]
    out["template"] = ""
    return out[IDENTITY_COLUMNS]


# ---------------------------------------------------------------------------
# metrics: pure functions of labels (0/1), scores and a boolean subgroup mask
# ---------------------------------------------------------------------------

def _arrays(labels, scores, subgroup=None):
    y = np.asarray(labels).astype(int)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(f"labels {y.shape} and scores {s.shape} must be 1-D arrays of one length.")
    if subgroup is None:
        return y, s
    m = np.asarray(subgroup)
    if m.dtype != bool or m.shape != y.shape:
        raise ValueError(f"subgroup: pass a boolean mask of shape {y.shape}, got {m.dtype} {m.shape}.")
    return y, s, m


def auc(labels, scores) -> float:
    """ROC AUC: the chance that a random toxic row outscores a random non-toxic one (ties count 1/2).

    NaN when the rows hold one class only."""
    from sklearn.metrics import roc_auc_score

    y, s = _arrays(labels, scores)
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, s))


def false_positive_rate(labels, scores, threshold: float) -> float:
    """Share of non-toxic rows scored >= threshold (NaN without non-toxic rows)."""
    y, s = _arrays(labels, scores)
    neg = y == 0
    return float(np.mean(s[neg] >= threshold)) if neg.any() else float("nan")


def false_negative_rate(labels, scores, threshold: float) -> float:
    """Share of toxic rows scored below threshold (NaN without toxic rows)."""
    y, s = _arrays(labels, scores)
    pos = y == 1
    return float(np.mean(s[pos] < threshold)) if pos.any() else float("nan")


def subgroup_auc(labels, scores, subgroup) -> float:
    """AUC on the rows that mention the identity only (Borkan et al. 2019)."""
    y, s, m = _arrays(labels, scores, subgroup)
    return auc(y[m], s[m])


def bpsn_auc(labels, scores, subgroup) -> float:
    """Background Positive, Subgroup Negative AUC: toxic rows NOT mentioning the identity plus
    non-toxic rows mentioning it. Low when the model scores harmless mentions of the identity high."""
    y, s, m = _arrays(labels, scores, subgroup)
    keep = (m & (y == 0)) | (~m & (y == 1))
    return auc(y[keep], s[keep])


def bnsp_auc(labels, scores, subgroup) -> float:
    """Background Negative, Subgroup Positive AUC: toxic rows mentioning the identity plus non-toxic
    rows NOT mentioning it. Low when the model scores toxic mentions of the identity low."""
    y, s, m = _arrays(labels, scores, subgroup)
    keep = (m & (y == 1)) | (~m & (y == 0))
    return auc(y[keep], s[keep])


def pinned_auc(labels, scores, subgroup, seed: int = 0) -> float:
    """Pinned AUC (Dixon et al. 2018): AUC on the subgroup's rows D_t plus a sample s(D) of the full set.

    Exactly: n = |D_t|; s(D) draws, without replacement and with numpy's default_rng(seed), n rows of
    the full set (subgroup rows included) stratified by label: round(n * share of toxic rows in the
    full set) toxic rows and the rest non-toxic (each capped by what the full set holds). The AUC is
    taken over the concatenation D_t + s(D), so a row may count twice. The same seed gives the same
    sample for every subgroup of the same size, which keeps terms comparable."""
    y, s, m = _arrays(labels, scores, subgroup)
    n = int(m.sum())
    if n == 0:
        return float("nan")
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    n_pos = min(len(pos), int(round(n * len(pos) / len(y))))
    n_neg = min(len(neg), n - n_pos)
    sample = np.concatenate([rng.choice(pos, n_pos, replace=False), rng.choice(neg, n_neg, replace=False)])
    idx = np.concatenate([np.flatnonzero(m), np.sort(sample)])
    return auc(y[idx], s[idx])


def power_mean(values, p: float = POWER) -> float:
    """Generalized mean M_p(x) = (mean x_i^p)^(1/p) of non-negative values; NaNs are dropped.

    p = -5 (the Jigsaw metric) weighs the lowest values most: M_-5 sits near the minimum. A zero
    value gives 0 for p < 0 (the limit); p = 0 is the geometric mean."""
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return float("nan")
    if np.any(x < 0):
        raise ValueError("power_mean: values must be non-negative (AUCs are).")
    if p == 0:
        return float(np.exp(np.mean(np.log(x)))) if np.all(x > 0) else 0.0
    if p < 0 and np.any(x == 0):
        return 0.0
    return float(np.mean(x ** p) ** (1.0 / p))


def final_metric(overall: float, subgroup_aucs, bpsn_aucs, bnsp_aucs, p: float = POWER,
                 weight: float = FINAL_WEIGHT) -> float:
    """Jigsaw Unintended Bias: w*overall AUC + w*M_p(subgroup AUCs) + w*M_p(BPSN AUCs) + w*M_p(BNSP AUCs)."""
    return float(weight * overall + weight * power_mean(subgroup_aucs, p) + weight * power_mean(bpsn_aucs, p)
                 + weight * power_mean(bnsp_aucs, p))


def final_bias_metric(labels, scores, subgroups: Mapping[str, np.ndarray] | Sequence[np.ndarray],
                      p: float = POWER) -> float:
    """The Jigsaw Unintended Bias final metric from labels, scores and one boolean mask per identity."""
    masks = list(subgroups.values()) if isinstance(subgroups, Mapping) else list(subgroups)
    return final_metric(auc(labels, scores), [subgroup_auc(labels, scores, m) for m in masks],
                        [bpsn_auc(labels, scores, m) for m in masks], [bnsp_auc(labels, scores, m) for m in masks], p)


def bias_report(labels, scores, terms, groups=None, threshold: float = 0.5, seed: int = 0,
                p: float = POWER, texts=None) -> BiasReport:
    """Per term: error rates, pinned AUC and the identity AUCs (subgroup, BPSN, BNSP); per group the spreads
    between its terms; and the summary, for one threshold.

    `terms` names the identity each row mentions (one per row); an identity's subgroup is the rows
    with that term. Summary: FPR spread and FNR spread (max - min over terms, at `threshold`), the
    worst subgroup AUC and its term, the overall AUC and the final metric, all on these rows."""
    y, s = _arrays(labels, scores)
    terms = np.asarray(terms, dtype=object)
    groups = np.asarray(["all"] * len(y) if groups is None else groups, dtype=object)
    if terms.shape != y.shape or groups.shape != y.shape:
        raise ValueError(f"terms {terms.shape} and groups {groups.shape} must match labels {y.shape}.")
    per_term = []
    for term in pd.unique(terms):
        m = terms == term
        per_term.append({"group": groups[np.flatnonzero(m)[0]], "term": term, "n": int(m.sum()),
                         "n_toxic": int(y[m].sum()), "fpr": false_positive_rate(y[m], s[m], threshold),
                         "fnr": false_negative_rate(y[m], s[m], threshold), "pinned_auc": pinned_auc(y, s, m, seed),
                         "subgroup_auc": subgroup_auc(y, s, m), "bpsn_auc": bpsn_auc(y, s, m),
                         "bnsp_auc": bnsp_auc(y, s, m)})
    per_term = pd.DataFrame(per_term)
    overall = auc(y, s)
    worst = per_term.loc[per_term["subgroup_auc"].idxmin()] if per_term["subgroup_auc"].notna().any() else None
    fpr_hi, fpr_lo = per_term.loc[per_term["fpr"].idxmax()], per_term.loc[per_term["fpr"].idxmin()]
    summary = {
        "threshold": float(threshold), "rows": int(len(y)), "terms": int(len(per_term)),
        "overall_auc": overall,
        "final_metric": final_metric(overall, per_term["subgroup_auc"], per_term["bpsn_auc"], per_term["bnsp_auc"], p),
        "fpr_spread": float(per_term["fpr"].max() - per_term["fpr"].min()),
        "fnr_spread": float(per_term["fnr"].max() - per_term["fnr"].min()),
        "fpr_highest": [str(fpr_hi["term"]), float(fpr_hi["fpr"])],
        "fpr_lowest": [str(fpr_lo["term"]), float(fpr_lo["fpr"])],
        "mean_fpr": float(per_term["fpr"].mean()), "mean_fnr": float(per_term["fnr"].mean()),
        "worst_subgroup_auc": float("nan") if worst is None else float(worst["subgroup_auc"]),
        "worst_subgroup_term": None if worst is None else str(worst["term"]),
        "min_bpsn_auc": float(per_term["bpsn_auc"].min()), "min_bnsp_auc": float(per_term["bnsp_auc"].min()),
    }
    per_group = pd.DataFrame([
        {"group": g, "terms": len(d), "fpr_gap": d["fpr"].max() - d["fpr"].min(),
         "fnr_gap": d["fnr"].max() - d["fnr"].min(), "worst_subgroup_auc": d["subgroup_auc"].min()}
        for g, d in per_term.groupby("group", sort=False)
    ]).sort_values("fpr_gap", ascending=False, ignore_index=True)
    rows = pd.DataFrame({"text": texts if texts is not None else [""] * len(y), "label": y, "term": terms,
                         "group": groups, "template": "", "p_toxic": s, "flagged": s >= threshold})
    return BiasReport(rows, per_term, per_group, summary, float(threshold))


def measure(predictor: Predictor, identity_set_or_path: pd.DataFrame | str | os.PathLike | None = None,
            threshold: float = 0.5, seed: int = 0) -> BiasReport:
    """Score an identity test set with `predictor` (texts -> P(toxic)) and run `bias_report` on it.

    The set: a DataFrame like `identity_set()`'s (the default), or the path of a CSV with columns
    text, label, term[, group] (`read_identity_csv`)."""
    if identity_set_or_path is None:
        data = identity_set()
    elif isinstance(identity_set_or_path, pd.DataFrame):
        data = identity_set_or_path
        missing = [c for c in ("text", "label", "term") if c not in data.columns]
        if missing:
            raise ValueError(f"identity set: missing column(s) {missing}; it needs text, label, term[, group].")
    else:
        data = read_identity_csv(identity_set_or_path)
    s = _scores_for(predictor, data["text"].astype(str).tolist())
    rep = bias_report(data["label"].to_numpy(), s, data["term"].to_numpy(),
                      data["group"].to_numpy() if "group" in data.columns else None, threshold, seed,
                      texts=data["text"].tolist())
    if "template" in data.columns:
        rep.rows["template"] = data["template"].to_numpy()
    return rep


# ---------------------------------------------------------------------------
# plots: each returns its matplotlib Figure and saves a PNG when given a path
# ---------------------------------------------------------------------------

def _save(fig, path):
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    return fig


def _term_axis(ax, d: pd.DataFrame, show_labels: bool = True):
    """y positions of the terms, grouped by identity group, with the group names as labels."""
    y = np.arange(len(d))
    if show_labels:  # axes that share y with this one show the same ticks: label them once
        ax.set_yticks(y, [f"{t}  ({g})" for g, t in zip(d["group"], d["term"])], fontsize=7)
    change = np.flatnonzero(d["group"].to_numpy()[1:] != d["group"].to_numpy()[:-1])
    for c in change:
        ax.axhline(c + 0.5, color="0.7", lw=0.6)
    ax.set_ylim(len(d) - 0.5, -0.5)
    return y


def plot_error_rates(metrics: BiasReport, title: str = "Error rates per identity term", path=None):
    """Per-term FPR (non-toxic sentences flagged) and FNR (toxic ones missed) bars, grouped by group."""
    import matplotlib.pyplot as plt

    d = metrics.per_term
    fig, axes = plt.subplots(1, 2, figsize=(9, 0.2 * len(d) + 1.6), sharey=True)
    colors = plt.get_cmap("tab10")
    gid = {g: i for i, g in enumerate(d["group"].unique())}
    c = [colors(gid[g] % 10) for g in d["group"]]
    for ax, col, name in zip(axes, ("fpr", "fnr"), ("false-positive rate", "false-negative rate")):
        y = _term_axis(ax, d, show_labels=ax is axes[0])
        ax.barh(y, d[col], color=c)
        ax.set_xlim(0, 1)
        ax.set_xlabel(name)
        ax.grid(axis="x", alpha=0.3)
    s = metrics.summary
    fig.suptitle(f"{title} (threshold {metrics.threshold:.2f})\nFPR spread {s['fpr_spread']:.3f}, "
                 f"FNR spread {s['fnr_spread']:.3f}", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def plot_identity_aucs(metrics: BiasReport, title: str = "AUCs per identity", path=None):
    """Subgroup, BPSN and BNSP AUC per identity term: a dot each."""
    import matplotlib.pyplot as plt

    d = metrics.per_term
    fig, ax = plt.subplots(figsize=(6.5, 0.2 * len(d) + 1.6))
    y = _term_axis(ax, d)
    for col, marker, name in (("subgroup_auc", "o", "subgroup"), ("bpsn_auc", "s", "BPSN"), ("bnsp_auc", "^", "BNSP")):
        ax.plot(d[col], y, marker, ms=4, label=name, alpha=0.85)
    lo = np.nanmin(d[["subgroup_auc", "bpsn_auc", "bnsp_auc"]].to_numpy()) if len(d) else 0.5
    ax.set_xlim(min(0.5, lo - 0.02), 1.005)
    ax.set_xlabel("AUC")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower left", fontsize=7)
    s = metrics.summary
    ax.set_title(f"{title}\nfinal metric {s['final_metric']:.4f}, worst subgroup AUC "
                 f"{s['worst_subgroup_auc']:.3f} ({s['worst_subgroup_term']})", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def plot_bias_comparison(models: Mapping[str, BiasReport], title: str = "Bias before and after", path=None):
    """Per-term FPR, FNR and subgroup AUC of several models side by side (e.g. baseline vs mitigated)."""
    import matplotlib.pyplot as plt

    names = list(models)
    first = models[names[0]]
    d = first.per_term
    fig, axes = plt.subplots(1, 3, figsize=(12, 0.2 * len(d) + 1.8), sharey=True)
    markers = "osD^v"
    for k, name in enumerate(names):
        m = models[name]
        pt = m.per_term.set_index("term").reindex(d["term"])
        s = m.summary
        for ax, values in zip(axes, (pt["fpr"], pt["fnr"], pt["subgroup_auc"])):
            ax.plot(values.to_numpy(), np.arange(len(d)), markers[k % len(markers)], ms=4, alpha=0.8,
                    label=f"{name}: FPR spread {s['fpr_spread']:.2f}, worst AUC {s['worst_subgroup_auc']:.3f}")
    for i, (ax, name) in enumerate(zip(axes, ("FPR (at own threshold)", "FNR (at own threshold)", "subgroup AUC"))):
        _term_axis(ax, d, show_labels=i == 0)
        ax.set_xlabel(name)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_xlim(-0.02, 1.02)
    axes[1].set_xlim(-0.02, 1.02)
    axes[0].legend(loc="lower right", fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
