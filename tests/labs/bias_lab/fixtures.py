"""Student-style submissions for the seven autograded exercises of lab 6c (bias_lab).

Written by a reviewer from the exercise texts alone, before looking at the checks. Each WRONG entry
holds one realistic mistake in an otherwise working cell; each CORRECT entry is a differently
written, genuinely correct cell. tests/test_exercises.py runs every one against the checks (the
fixture matrix).

  WRONG   = {exercise: [(name, cell_source, mistake), ...]}
  CORRECT = {exercise: [(name, cell_source), ...]}
  SOLUTION_CELL[exercise] = the grade_id of the solution cell a source replaces
  POINTS[exercise] = the exercise's points in the source notebook

A cell source replaces the whole solution cell of the release notebook; it may use the
globals the notebook's setup cells define (np, math, re, pd, roc_auc_score). The final_metric cell
defines both power_mean and final_metric; no cell calls another exercise's function.

Note on sklearn: from 1.6 on, roc_auc_score on a single class returns nan with an
UndefinedMetricWarning instead of raising; it still raises ValueError on zero rows. The
"bare_sklearn" entries get the value right on one class, and the visible checks that record the
warnings a call raises (toxlab/labs/harnesses.py call_recording_warnings) catch them; so do the
"empty_mean_nan" entries, whose nan comes from numpy's mean of an empty array, with a RuntimeWarning.
"""

from labs import cell_source as _src

# ---------------------------------------------------------------------------
# Exercise 1: subgroup_auc
# ---------------------------------------------------------------------------

_SUBGROUP_WRONG = [
    ("all_rows", _src('''
        def subgroup_auc(labels, scores, subgroup):
            y = np.asarray(labels)
            if len(np.unique(y[subgroup])) < 2:
                return float("nan")
            return float(roc_auc_score(y, scores))
        '''), "Checks the subgroup for both classes, then takes the AUC over all rows."),
    ("background_rows", _src('''
        def subgroup_auc(labels, scores, subgroup):
            rows = ~subgroup
            y, s = labels[rows], scores[rows]
            if len(np.unique(y)) < 2:
                return float("nan")
            return float(roc_auc_score(y, s))
        '''), "Takes the rows that do not mention the identity (~subgroup)."),
    ("ties_count_zero", _src('''
        def subgroup_auc(labels, scores, subgroup):
            pos = scores[subgroup & (labels == 1)]
            neg = scores[subgroup & (labels == 0)]
            if len(pos) == 0 or len(neg) == 0:
                return float("nan")
            return float(np.mean(pos[:, None] > neg[None, :]))
        '''), "Hand-rolled pairwise AUC with a strict >: a tie counts 0, not one half."),
    ("ties_count_one", _src('''
        def subgroup_auc(labels, scores, subgroup):
            pos = scores[subgroup & (labels == 1)]
            neg = scores[subgroup & (labels == 0)]
            if pos.size == 0 or neg.size == 0:
                return float("nan")
            return float((pos[:, None] >= neg[None, :]).mean())
        '''), "Hand-rolled pairwise AUC with >=: a tie counts 1, not one half."),
    ("ordinal_ranks", _src('''
        def subgroup_auc(labels, scores, subgroup):
            y = labels[subgroup]
            s = scores[subgroup]
            n_pos = int(y.sum())
            n_neg = len(y) - n_pos
            if n_pos == 0 or n_neg == 0:
                return float("nan")
            ranks = np.argsort(np.argsort(s)) + 1
            return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
        '''), "Mann-Whitney from argsort ranks: tied scores get distinct ranks instead of their average."),
    ("half_for_undefined", _src('''
        def subgroup_auc(labels, scores, subgroup):
            y = labels[subgroup]
            if len(set(y.tolist())) < 2:
                return 0.5
            return float(roc_auc_score(y, scores[subgroup]))
        '''), "Returns 0.5 (chance) instead of NaN when the subgroup lacks a class."),
    ("none_for_undefined", _src('''
        def subgroup_auc(labels, scores, subgroup):
            y = labels[subgroup]
            if len(np.unique(y)) != 2:
                return None
            return float(roc_auc_score(y, scores[subgroup]))
        '''), "Returns None instead of NaN when the subgroup lacks a class."),
    ("only_no_toxic_checked", _src('''
        def subgroup_auc(labels, scores, subgroup):
            pos = scores[subgroup & (labels == 1)]
            neg = scores[subgroup & (labels == 0)]
            if len(pos) == 0:
                return float("nan")
            wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
            return wins / (len(pos) * len(neg))
        '''), "Returns NaN when the subgroup has no toxic row but divides by zero when it has no non-toxic row."),
    ("class_check_on_all_rows", _src('''
        def subgroup_auc(labels, scores, subgroup):
            if len(np.unique(labels)) < 2:
                return float("nan")
            y, s = labels[subgroup], scores[subgroup]
            diff = s[y == 1][:, None] - s[y == 0][None, :]
            wins = float((diff > 0).sum() + 0.5 * (diff == 0).sum())
            return wins / diff.size
        '''), "Checks all labels, not the subgroup's, for both classes: a one-class subgroup divides by zero."),
    ("bare_sklearn", _src('''
        def subgroup_auc(labels, scores, subgroup):
            return float(roc_auc_score(labels[subgroup], scores[subgroup]))
        '''), "No check for an undefined AUC: on one class roc_auc_score warns and returns nan (sklearn >= 1.6; "
              "older versions raise), and it raises on an empty subgroup."),
    ("empty_mean_nan", _src('''
        def subgroup_auc(labels, scores, subgroup):
            pos = scores[subgroup & (labels == 1)]
            neg = scores[subgroup & (labels == 0)]
            diff = pos[:, None] - neg[None, :]
            return float(np.mean((diff > 0) + 0.5 * (diff == 0)))
        '''), "No check for an undefined AUC: the nan comes from np.mean over no pairs, with a RuntimeWarning."),
    ("thresholded_scores", _src('''
        def subgroup_auc(labels, scores, subgroup):
            y = labels[subgroup]
            if len(np.unique(y)) < 2:
                return float("nan")
            return float(roc_auc_score(y, scores[subgroup] >= 0.5))
        '''), "Feeds roc_auc_score the 0/1 decisions at 0.5 instead of the scores."),
    ("pairs_reversed", _src('''
        def subgroup_auc(labels, scores, subgroup):
            toxic = scores[subgroup & (labels == 1)]
            clean = scores[subgroup & (labels == 0)]
            if toxic.size == 0 or clean.size == 0:
                return float("nan")
            return float(np.mean(clean[:, None] > toxic[None, :]) + 0.5 * np.mean(clean[:, None] == toxic[None, :]))
        '''), "Counts the pairs where the non-toxic row scores higher: 1 - AUC."),
]

_SUBGROUP_CORRECT = [
    ("sklearn_checked", _src('''
        def subgroup_auc(labels, scores, subgroup):
            y = labels[subgroup]
            s = scores[subgroup]
            if np.unique(y).size < 2:
                return float("nan")
            return float(roc_auc_score(y, s))
        ''')),
    ("pairwise_numpy", _src('''
        def subgroup_auc(labels, scores, subgroup):
            pos = scores[subgroup & (labels == 1)]
            neg = scores[subgroup & (labels == 0)]
            if len(pos) == 0 or len(neg) == 0:
                return float("nan")
            greater = (pos[:, None] > neg[None, :]).sum()
            ties = (pos[:, None] == neg[None, :]).sum()
            return (greater + 0.5 * ties) / (len(pos) * len(neg))
        ''')),
    ("rankdata_mann_whitney", _src('''
        from scipy.stats import rankdata


        def subgroup_auc(labels, scores, subgroup):
            y = np.asarray(labels)[subgroup]
            s = np.asarray(scores, dtype=float)[subgroup]
            n1 = int((y == 1).sum())
            n0 = int((y == 0).sum())
            if n1 == 0 or n0 == 0:
                return float("nan")
            r = rankdata(s)  # average ranks for ties
            u = r[y == 1].sum() - n1 * (n1 + 1) / 2
            return float(u / (n1 * n0))
        ''')),
    ("python_loops", _src('''
        def subgroup_auc(labels, scores, subgroup):
            toxic, clean = [], []
            for y, s, g in zip(labels, scores, subgroup):
                if g:
                    (toxic if y == 1 else clean).append(s)
            if not toxic or not clean:
                return float("nan")
            total = 0.0
            for a in toxic:
                for b in clean:
                    if a > b:
                        total += 1
                    elif a == b:
                        total += 0.5
            return total / (len(toxic) * len(clean))
        ''')),
]

# ---------------------------------------------------------------------------
# Exercise 2: bpsn_auc
# ---------------------------------------------------------------------------

_BPSN_WRONG = [
    ("swapped_with_bnsp", _src('''
        def bpsn_auc(labels, scores, subgroup):
            sub_pos = subgroup & (labels == 1)
            bg_neg = ~subgroup & (labels == 0)
            if not sub_pos.any() or not bg_neg.any():
                return float("nan")
            rows = sub_pos | bg_neg
            return float(roc_auc_score(labels[rows], scores[rows]))
        '''), "Computes BNSP (toxic subgroup rows vs non-toxic background rows): BPSN and BNSP swapped."),
    ("all_positives", _src('''
        def bpsn_auc(labels, scores, subgroup):
            sub_neg = subgroup & (labels == 0)
            if not sub_neg.any() or not (~subgroup & (labels == 1)).any():
                return float("nan")
            rows = sub_neg | (labels == 1)
            return float(roc_auc_score(labels[rows], scores[rows]))
        '''), "Keeps every toxic row, the subgroup's too, instead of the background's toxic rows only."),
    ("precedence_all_negatives", _src('''
        def bpsn_auc(labels, scores, subgroup):
            if not (subgroup & (labels == 0)).any() or not (~subgroup & (labels == 1)).any():
                return float("nan")
            rows = (labels == 0 & subgroup) | (labels == 1 & ~subgroup)
            return float(roc_auc_score(labels[rows], scores[rows]))
        '''), "Operator precedence (labels == 0 & subgroup): the mask keeps every non-toxic row, background's too."),
    ("only_subgroup_kind_checked", _src('''
        def bpsn_auc(labels, scores, subgroup):
            neg = scores[subgroup & (labels == 0)]
            pos = scores[~subgroup & (labels == 1)]
            if len(neg) == 0:
                return float("nan")
            wins = float(np.sum(pos[:, None] > neg[None, :]) + 0.5 * np.sum(pos[:, None] == neg[None, :]))
            return wins / (len(pos) * len(neg))
        '''), "Checks only the non-toxic subgroup rows for emptiness: no toxic background row divides by zero."),
    ("ties_count_zero", _src('''
        def bpsn_auc(labels, scores, subgroup):
            pos = scores[~subgroup & (labels == 1)]
            neg = scores[subgroup & (labels == 0)]
            if pos.size == 0 or neg.size == 0:
                return float("nan")
            return float((pos[:, None] > neg[None, :]).mean())
        '''), "Hand-rolled pairwise AUC with a strict >: a tie counts 0, not one half."),
    ("bare_sklearn", _src('''
        def bpsn_auc(labels, scores, subgroup):
            rows = (subgroup & (labels == 0)) | (~subgroup & (labels == 1))
            return float(roc_auc_score(labels[rows], scores[rows]))
        '''), "No check for an empty kind: one class warns and returns nan (sklearn >= 1.6), no rows raise."),
    ("half_for_undefined", _src('''
        def bpsn_auc(labels, scores, subgroup):
            rows = (subgroup & (labels == 0)) | (~subgroup & (labels == 1))
            y = labels[rows]
            if len(np.unique(y)) < 2:
                return 0.5
            return float(roc_auc_score(y, scores[rows]))
        '''), "Returns 0.5 instead of NaN when a kind has no rows."),
    ("subgroup_as_label", _src('''
        def bpsn_auc(labels, scores, subgroup):
            rows = (subgroup & (labels == 0)) | (~subgroup & (labels == 1))
            g = subgroup[rows]
            if g.all() or not g.any():
                return float("nan")
            return float(roc_auc_score(g, scores[rows]))
        '''), "Uses the identity mask, not the toxicity label, as y_true: gives 1 - BPSN."),
    ("int_mask_indexes_rows", _src('''
        def bpsn_auc(labels, scores, subgroup):
            if not (subgroup & (labels == 0)).any() or not (~subgroup & (labels == 1)).any():
                return float("nan")
            rows = (subgroup & (1 - labels)) | (~subgroup & labels)
            return float(roc_auc_score(labels[rows], scores[rows]))
        '''), "Builds the mask from 1 - labels, an int array: labels[rows] picks rows 0 and 1, not a boolean selection."),
]

_BPSN_CORRECT = [
    ("sklearn_mask", _src('''
        def bpsn_auc(labels, scores, subgroup):
            subgroup_negative = subgroup & (labels == 0)
            background_positive = ~subgroup & (labels == 1)
            if subgroup_negative.sum() == 0 or background_positive.sum() == 0:
                return float("nan")
            rows = subgroup_negative | background_positive
            return float(roc_auc_score(labels[rows], scores[rows]))
        ''')),
    ("pairwise_sign", _src('''
        def bpsn_auc(labels, scores, subgroup):
            pos = scores[np.logical_and(~subgroup, labels == 1)]
            neg = scores[np.logical_and(subgroup, labels == 0)]
            if len(pos) == 0 or len(neg) == 0:
                return float("nan")
            return float(np.mean((np.sign(pos[:, None] - neg[None, :]) + 1) / 2))
        ''')),
    ("pandas_rank", _src('''
        def bpsn_auc(labels, scores, subgroup):
            df = pd.DataFrame({"y": labels, "s": scores, "g": subgroup})
            keep = df[(df.g & (df.y == 0)) | (~df.g & (df.y == 1))]
            n1 = int((keep.y == 1).sum())
            n0 = int((keep.y == 0).sum())
            if n1 == 0 or n0 == 0:
                return float("nan")
            ranks = keep.s.rank(method="average")
            return (ranks[keep.y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
        ''')),
    ("concatenated", _src('''
        def bpsn_auc(labels, scores, subgroup):
            background_toxic = scores[(labels == 1) & ~subgroup]
            subgroup_clean = scores[(labels == 0) & subgroup]
            if min(len(background_toxic), len(subgroup_clean)) == 0:
                return float("nan")
            y = np.concatenate([np.ones(len(background_toxic)), np.zeros(len(subgroup_clean))])
            s = np.concatenate([background_toxic, subgroup_clean])
            return roc_auc_score(y, s)
        ''')),
    ("python_loops", _src('''
        def bpsn_auc(labels, scores, subgroup):
            pos = [s for y, s, g in zip(labels, scores, subgroup) if y == 1 and not g]
            neg = [s for y, s, g in zip(labels, scores, subgroup) if y == 0 and g]
            if not pos or not neg:
                return math.nan
            hits = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg)
            return hits / (len(pos) * len(neg))
        ''')),
]

# ---------------------------------------------------------------------------
# Exercise 3: bnsp_auc
# ---------------------------------------------------------------------------

_BNSP_WRONG = [
    ("swapped_with_bpsn", _src('''
        def bnsp_auc(labels, scores, subgroup):
            sub_neg = subgroup & (labels == 0)
            bg_pos = ~subgroup & (labels == 1)
            if not sub_neg.any() or not bg_pos.any():
                return float("nan")
            rows = sub_neg | bg_pos
            return float(roc_auc_score(labels[rows], scores[rows]))
        '''), "Computes BPSN (non-toxic subgroup rows vs toxic background rows): BNSP and BPSN swapped."),
    ("all_negatives", _src('''
        def bnsp_auc(labels, scores, subgroup):
            sub_pos = subgroup & (labels == 1)
            if not sub_pos.any() or not (~subgroup & (labels == 0)).any():
                return float("nan")
            rows = sub_pos | (labels == 0)
            return float(roc_auc_score(labels[rows], scores[rows]))
        '''), "Keeps every non-toxic row, the subgroup's too, instead of the background's non-toxic rows only."),
    ("all_positives", _src('''
        def bnsp_auc(labels, scores, subgroup):
            bg_neg = ~subgroup & (labels == 0)
            if not bg_neg.any() or not (subgroup & (labels == 1)).any():
                return float("nan")
            rows = (labels == 1) | bg_neg
            return float(roc_auc_score(labels[rows], scores[rows]))
        '''), "Keeps every toxic row, the background's too, instead of the subgroup's toxic rows only."),
    ("only_background_kind_checked", _src('''
        def bnsp_auc(labels, scores, subgroup):
            pos = scores[subgroup & (labels == 1)]
            neg = scores[~subgroup & (labels == 0)]
            if neg.size == 0:
                return float("nan")
            d = pos[:, None] - neg[None, :]
            return float((d > 0).sum() + 0.5 * (d == 0).sum()) / (pos.size * neg.size)
        '''), "Checks only the non-toxic background rows for emptiness: no toxic subgroup row divides by zero."),
    ("ties_count_one", _src('''
        def bnsp_auc(labels, scores, subgroup):
            pos = scores[subgroup & (labels == 1)]
            neg = scores[~subgroup & (labels == 0)]
            if len(pos) == 0 or len(neg) == 0:
                return float("nan")
            return float(np.mean(pos[:, None] >= neg[None, :]))
        '''), "Hand-rolled pairwise AUC with >=: a tie counts 1, not one half."),
    ("bare_sklearn", _src('''
        def bnsp_auc(labels, scores, subgroup):
            rows = (subgroup & (labels == 1)) | (~subgroup & (labels == 0))
            return float(roc_auc_score(labels[rows], scores[rows]))
        '''), "No check for an empty kind: one class warns and returns nan (sklearn >= 1.6), no rows raise."),
    ("empty_mean_nan", _src('''
        def bnsp_auc(labels, scores, subgroup):
            pos = scores[subgroup & (labels == 1)]
            neg = scores[~subgroup & (labels == 0)]
            wins = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
            return float(wins.mean())
        '''), "No check for an empty kind: the nan comes from the mean over no pairs, with a RuntimeWarning."),
    ("zero_for_undefined", _src('''
        def bnsp_auc(labels, scores, subgroup):
            pos = subgroup & (labels == 1)
            neg = ~subgroup & (labels == 0)
            if pos.sum() == 0 or neg.sum() == 0:
                return 0.0
            rows = pos | neg
            return float(roc_auc_score(labels[rows], scores[rows]))
        '''), "Returns 0.0 instead of NaN when a kind has no rows."),
    ("ordinal_ranks", _src('''
        def bnsp_auc(labels, scores, subgroup):
            rows = (subgroup & (labels == 1)) | (~subgroup & (labels == 0))
            y, s = labels[rows], scores[rows]
            n1, n0 = int((y == 1).sum()), int((y == 0).sum())
            if n1 == 0 or n0 == 0:
                return float("nan")
            order = np.argsort(s, kind="stable")
            ranks = np.empty(len(s))
            ranks[order] = np.arange(1, len(s) + 1)
            return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
        '''), "Mann-Whitney with ranks from argsort: tied scores get distinct ranks instead of their average."),
    ("thresholded_scores", _src('''
        def bnsp_auc(labels, scores, subgroup):
            rows = (subgroup & (labels == 1)) | (~subgroup & (labels == 0))
            y = labels[rows]
            if len(np.unique(y)) < 2:
                return float("nan")
            return float(roc_auc_score(y, (scores[rows] > 0.5).astype(int)))
        '''), "Feeds roc_auc_score the 0/1 decisions at 0.5 instead of the scores."),
]

_BNSP_CORRECT = [
    ("sklearn_checked", _src('''
        def bnsp_auc(labels, scores, subgroup):
            subgroup_positive = subgroup & (labels == 1)
            background_negative = ~subgroup & (labels == 0)
            if not subgroup_positive.any() or not background_negative.any():
                return float("nan")
            keep = subgroup_positive | background_negative
            return float(roc_auc_score(labels[keep], scores[keep]))
        ''')),
    ("subtract_outer", _src('''
        def bnsp_auc(labels, scores, subgroup):
            pos = scores[subgroup & (labels == 1)]
            neg = scores[~subgroup & (labels == 0)]
            if pos.size == 0 or neg.size == 0:
                return float("nan")
            d = np.subtract.outer(pos, neg)
            return float(np.where(d > 0, 1.0, np.where(d == 0, 0.5, 0.0)).mean())
        ''')),
    ("mannwhitneyu", _src('''
        from scipy.stats import mannwhitneyu


        def bnsp_auc(labels, scores, subgroup):
            pos = scores[subgroup & (labels == 1)]
            neg = scores[~subgroup & (labels == 0)]
            if len(pos) == 0 or len(neg) == 0:
                return float("nan")
            u = mannwhitneyu(pos, neg, alternative="two-sided").statistic
            return float(u) / (len(pos) * len(neg))
        ''')),
    ("searchsorted", _src('''
        def bnsp_auc(labels, scores, subgroup):
            pos = np.asarray(scores, dtype=float)[subgroup & (labels == 1)]
            neg = np.sort(np.asarray(scores, dtype=float)[~subgroup & (labels == 0)])
            if len(pos) == 0 or len(neg) == 0:
                return float("nan")
            below = np.searchsorted(neg, pos, side="left")
            at_or_below = np.searchsorted(neg, pos, side="right")
            return float((below + 0.5 * (at_or_below - below)).sum() / (len(pos) * len(neg)))
        ''')),
]

# ---------------------------------------------------------------------------
# Exercise 4: power_mean and final_metric (one cell)
# ---------------------------------------------------------------------------

_FINAL_WRONG = [
    ("arithmetic_mean", _src('''
        def power_mean(values, p=-5):
            v = np.asarray(values, dtype=float)
            v = v[~np.isnan(v)]
            if v.size == 0:
                return float("nan")
            return float(np.mean(v))


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            return 0.25 * overall_auc + 0.25 * power_mean(subgroup_aucs, p) + 0.25 * power_mean(bpsn_aucs, p) \\
                + 0.25 * power_mean(bnsp_aucs, p)
        '''), "power_mean ignores p: a plain arithmetic mean."),
    ("no_root", _src('''
        def power_mean(values, p=-5):
            v = np.asarray(values, dtype=float)
            v = v[~np.isnan(v)]
            if len(v) == 0:
                return float("nan")
            return float(np.mean(v ** p))


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            parts = [power_mean(a, p) for a in (subgroup_aucs, bpsn_aucs, bnsp_aucs)]
            return 0.25 * overall_auc + 0.25 * sum(parts)
        '''), "Forgets the 1/p root: returns the mean of v^p."),
    ("nan_not_dropped", _src('''
        def power_mean(values, p=-5):
            v = np.asarray(values, dtype=float)
            if len(v) == 0:
                return float("nan")
            return float(np.mean(v ** p) ** (1 / p))


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            parts = [power_mean(a, p) for a in (subgroup_aucs, bpsn_aucs, bnsp_aucs)]
            return 0.25 * overall_auc + 0.25 * sum(parts)
        '''), "Does not leave the NaN values out: one NaN makes the mean NaN."),
    ("nan_identity_check", _src('''
        def power_mean(values, p=-5):
            kept = [v for v in values if v is not np.nan]
            if not kept:
                return float("nan")
            return (sum(v ** p for v in kept) / len(kept)) ** (1 / p)


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            return 0.25 * (overall_auc + power_mean(subgroup_aucs, p) + power_mean(bpsn_aucs, p)
                           + power_mean(bnsp_aucs, p))
        '''), "Drops NaN with `is not np.nan`: misses float('nan') and NaN array elements (identity, not value)."),
    ("nan_counted_in_denominator", _src('''
        def power_mean(values, p=-5):
            v = np.asarray(values, dtype=float)
            if np.isnan(v).all():
                return float("nan")
            return float((np.nansum(v ** p) / len(v)) ** (1 / p))


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            return 0.25 * overall_auc + 0.25 * (power_mean(subgroup_aucs, p) + power_mean(bpsn_aucs, p)
                                                + power_mean(bnsp_aucs, p))
        '''), "nansum over the values but divides by the count including the NaNs."),
    ("zero_division_when_empty", _src('''
        def power_mean(values, p=-5):
            kept = [float(v) for v in values if not math.isnan(v)]
            return (sum(v ** p for v in kept) / len(kept)) ** (1 / p)


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            return 0.25 * overall_auc + 0.25 * power_mean(subgroup_aucs, p) + 0.25 * power_mean(bpsn_aucs, p) \\
                + 0.25 * power_mean(bnsp_aucs, p)
        '''), "No NaN return when nothing is left: ZeroDivisionError on all-NaN (or empty) values."),
    ("zero_when_empty", _src('''
        def power_mean(values, p=-5):
            v = np.array([x for x in values if not np.isnan(x)], dtype=float)
            if v.size == 0:
                return 0.0
            return float(np.mean(np.power(v, p)) ** (1.0 / p))


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            return 0.25 * overall_auc + 0.25 * power_mean(subgroup_aucs, p) + 0.25 * power_mean(bpsn_aucs, p) \\
                + 0.25 * power_mean(bnsp_aucs, p)
        '''), "Returns 0.0 instead of NaN when no value is left."),
    ("hard_coded_p", _src('''
        def power_mean(values, p=-5):
            v = np.asarray(values, dtype=float)
            v = v[~np.isnan(v)]
            if v.size == 0:
                return float("nan")
            return float(np.mean(v ** -5) ** (-1 / 5))


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            return 0.25 * overall_auc + 0.25 * power_mean(subgroup_aucs, p) + 0.25 * power_mean(bpsn_aucs, p) \\
                + 0.25 * power_mean(bnsp_aucs, p)
        '''), "power_mean hard-codes p = -5 and ignores its p argument."),
    ("final_ignores_p", _src('''
        def power_mean(values, p=-5):
            v = np.asarray(values, dtype=float)
            v = v[~np.isnan(v)]
            if v.size == 0:
                return float("nan")
            return float(np.mean(v ** p) ** (1 / p))


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            return 0.25 * overall_auc + 0.25 * power_mean(subgroup_aucs) + 0.25 * power_mean(bpsn_aucs) \\
                + 0.25 * power_mean(bnsp_aucs)
        '''), "final_metric does not pass its p on: the power means always use -5."),
    ("final_hard_codes_minus_five", _src('''
        def power_mean(values, p=-5):
            v = np.asarray(values, dtype=float)
            v = v[~np.isnan(v)]
            if v.size == 0:
                return float("nan")
            return float(np.mean(v ** p) ** (1 / p))


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            means = [power_mean(a, -5) for a in (subgroup_aucs, bpsn_aucs, bnsp_aucs)]
            return 0.25 * overall_auc + 0.25 * sum(means)
        '''), "final_metric calls power_mean with -5 written out instead of its p."),
    ("pooled_bias_aucs", _src('''
        def power_mean(values, p=-5):
            v = np.asarray(values, dtype=float)
            v = v[~np.isnan(v)]
            if v.size == 0:
                return float("nan")
            return float(np.mean(v ** p) ** (1 / p))


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            pooled = list(subgroup_aucs) + list(bpsn_aucs) + list(bnsp_aucs)
            return 0.25 * overall_auc + 0.75 * power_mean(pooled, p)
        '''), "One power mean over the three lists pooled instead of one per list."),
    ("bpsn_twice", _src('''
        def power_mean(values, p=-5):
            v = np.asarray(values, dtype=float)
            v = v[~np.isnan(v)]
            if v.size == 0:
                return float("nan")
            return float(np.mean(v ** p) ** (1 / p))


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            return (0.25 * overall_auc + 0.25 * power_mean(subgroup_aucs, p) + 0.25 * power_mean(bpsn_aucs, p)
                    + 0.25 * power_mean(bpsn_aucs, p))
        '''), "Copy-paste slip: the BPSN power mean twice, the BNSP AUCs never used."),
    ("list_indexed_with_mask", _src('''
        def power_mean(values, p=-5):
            values = values[~np.isnan(values)]
            if len(values) == 0:
                return float("nan")
            return float(np.mean(np.power(values, p)) ** (1 / p))


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            return 0.25 * overall_auc + 0.25 * power_mean(subgroup_aucs, p) + 0.25 * power_mean(bpsn_aucs, p) \\
                + 0.25 * power_mean(bnsp_aucs, p)
        '''), "Indexes values with a numpy mask without converting it: a plain list raises TypeError."),
]

_FINAL_CORRECT = [
    ("numpy_isnan", _src('''
        def power_mean(values, p=-5):
            v = np.asarray(values, dtype=float)
            v = v[~np.isnan(v)]
            if v.size == 0:
                return float("nan")
            return float(np.mean(v ** p) ** (1 / p))


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            return (0.25 * overall_auc
                    + 0.25 * power_mean(subgroup_aucs, p)
                    + 0.25 * power_mean(bpsn_aucs, p)
                    + 0.25 * power_mean(bnsp_aucs, p))
        ''')),
    ("python_math", _src('''
        def power_mean(values, p=-5):
            kept = [float(v) for v in values if not math.isnan(v)]
            if len(kept) == 0:
                return float("nan")
            return math.pow(sum(math.pow(v, p) for v in kept) / len(kept), 1.0 / p)


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            parts = [overall_auc] + [power_mean(a, p=p) for a in (subgroup_aucs, bpsn_aucs, bnsp_aucs)]
            return sum(parts) / 4
        ''')),
    ("pandas_dropna", _src('''
        def power_mean(values, p=-5):
            s = pd.Series(list(values), dtype=float).dropna()
            if s.empty:
                return float("nan")
            return s.pow(p).mean() ** (1 / p)


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            weights = {"overall": 0.25, "subgroup": 0.25, "bpsn": 0.25, "bnsp": 0.25}
            parts = {"overall": overall_auc, "subgroup": power_mean(subgroup_aucs, p),
                     "bpsn": power_mean(bpsn_aucs, p), "bnsp": power_mean(bnsp_aucs, p)}
            return sum(weights[k] * parts[k] for k in weights)
        ''')),
    ("nanmean_guarded", _src('''
        def power_mean(values, p=-5):
            v = np.array(values, dtype=float)
            if np.all(np.isnan(v)):
                return float("nan")
            return np.nanmean(v ** p) ** (1 / p)


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            bias = [power_mean(x, p) for x in (subgroup_aucs, bpsn_aucs, bnsp_aucs)]
            return float(np.mean([overall_auc, *bias]))
        ''')),
    ("scipy_pmean", _src('''
        from scipy.stats import pmean


        def power_mean(values, p=-5):
            v = np.asarray(values, dtype=float)
            v = v[np.isfinite(v)]
            if len(v) == 0:
                return float("nan")
            return float(pmean(v, p))


        def final_metric(overall_auc, subgroup_aucs, bpsn_aucs, bnsp_aucs, p=-5):
            total = 0.25 * overall_auc
            for aucs in (subgroup_aucs, bpsn_aucs, bnsp_aucs):
                total += 0.25 * power_mean(aucs, p)
            return total
        ''')),
]

# ---------------------------------------------------------------------------
# Exercise 5: expected_calibration_error
# ---------------------------------------------------------------------------

_ECE_WRONG = [
    ("unweighted_bins", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = np.asarray(labels, dtype=float)
            probs = np.asarray(probs, dtype=float)
            idx = np.minimum((probs * n_bins).astype(int), n_bins - 1)
            gaps = []
            for b in range(n_bins):
                m = idx == b
                if m.any():
                    gaps.append(abs(labels[m].mean() - probs[m].mean()))
            return float(np.mean(gaps))
        '''), "Averages the bins' gaps with equal weight instead of weighting by the bin's share of rows."),
    ("empty_bins_counted", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = np.asarray(labels, dtype=float)
            probs = np.asarray(probs, dtype=float)
            idx = np.minimum(np.floor(probs * n_bins).astype(int), n_bins - 1)
            gaps = np.zeros(n_bins)
            for b in range(n_bins):
                m = idx == b
                if m.any():
                    gaps[b] = abs(labels[m].mean() - probs[m].mean())
            return float(gaps.mean())
        '''), "Means the gaps over all n_bins bins, empty ones as 0, instead of weighting by rows."),
    ("one_lost", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = np.asarray(labels, dtype=float)
            probs = np.asarray(probs, dtype=float)
            n = len(probs)
            ece = 0.0
            for i in range(n_bins):
                lo, hi = i / n_bins, (i + 1) / n_bins
                m = (probs >= lo) & (probs < hi)
                if m.sum() > 0:
                    ece += m.sum() / n * abs(labels[m].mean() - probs[m].mean())
            return float(ece)
        '''), "Every bin is half-open, the last too: rows with p = 1 fall in no bin."),
    ("one_own_bin", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = np.asarray(labels, dtype=float)
            probs = np.asarray(probs, dtype=float)
            idx = (probs * n_bins).astype(int)
            counts = np.bincount(idx)
            toxic = np.bincount(idx, weights=labels)
            conf = np.bincount(idx, weights=probs)
            full = counts > 0
            gaps = np.abs(toxic[full] / counts[full] - conf[full] / counts[full])
            return float(np.sum(counts[full] / len(probs) * gaps))
        '''), "int(p * n_bins) without clipping: p = 1 gets a bin (n_bins) of its own instead of joining the last bin."),
    ("digitize_right", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = np.asarray(labels, dtype=float)
            probs = np.asarray(probs, dtype=float)
            edges = np.linspace(0.0, 1.0, n_bins + 1)
            idx = np.digitize(probs, edges, right=True) - 1
            n_rows = np.zeros(n_bins)
            n_toxic = np.zeros(n_bins)
            p_sum = np.zeros(n_bins)
            np.add.at(n_rows, idx, 1)
            np.add.at(n_toxic, idx, labels)
            np.add.at(p_sum, idx, probs)
            ece = 0.0
            for b in range(n_bins):
                if n_rows[b]:
                    ece += n_rows[b] / len(probs) * abs(n_toxic[b] / n_rows[b] - p_sum[b] / n_rows[b])
            return ece
        '''), "np.digitize(right=True) makes the bins (lo, hi]: p on an edge goes one bin down, and p = 0 to index -1, "
              "the last bin."),
    ("top_label", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = np.asarray(labels)
            probs = np.asarray(probs, dtype=float)
            conf = np.maximum(probs, 1 - probs)
            correct = ((probs >= 0.5).astype(int) == labels).astype(float)
            idx = np.minimum((conf * n_bins).astype(int), n_bins - 1)
            ece = 0.0
            for b in range(n_bins):
                m = idx == b
                if m.any():
                    ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
            return float(ece)
        '''), "Top-label ECE: compares max(p, 1-p) with accuracy instead of P(toxic) with the share of toxic rows."),
    ("histogram_no_range", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = np.asarray(labels, dtype=float)
            probs = np.asarray(probs, dtype=float)
            counts, _ = np.histogram(probs, bins=n_bins)
            toxic, _ = np.histogram(probs, bins=n_bins, weights=labels)
            conf, _ = np.histogram(probs, bins=n_bins, weights=probs)
            full = counts > 0
            return float(np.sum(counts[full] / counts.sum()
                                * np.abs(toxic[full] / counts[full] - conf[full] / counts[full])))
        '''), "np.histogram without range=(0, 1): the bins span the data's min..max, not [0, 1]."),
    ("ten_bins_always", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = np.asarray(labels, dtype=float)
            probs = np.asarray(probs, dtype=float)
            idx = np.minimum((probs * 10).astype(int), 9)
            ece = 0.0
            for b in range(10):
                m = idx == b
                if m.any():
                    ece += m.sum() / len(probs) * abs(labels[m].mean() - probs[m].mean())
            return float(ece)
        '''), "Hard-codes 10 bins and ignores n_bins."),
    ("abs_outside_sum", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = np.asarray(labels, dtype=float)
            probs = np.asarray(probs, dtype=float)
            idx = np.clip((probs * n_bins).astype(int), 0, n_bins - 1)
            total = 0.0
            for b in np.unique(idx):
                m = idx == b
                total += m.mean() * (labels[m].mean() - probs[m].mean())
            return float(abs(total))
        '''), "Takes the absolute value of the weighted sum instead of each bin's gap: over- and under-confident bins "
              "cancel."),
    ("squared_gaps", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = np.asarray(labels, dtype=float)
            probs = np.asarray(probs, dtype=float)
            idx = np.clip((probs * n_bins).astype(int), 0, n_bins - 1)
            total = 0.0
            for b in np.unique(idx):
                m = idx == b
                total += m.mean() * (labels[m].mean() - probs[m].mean()) ** 2
            return float(total)
        '''), "Squares the gaps (a Brier-style calibration term) instead of taking their absolute value."),
    ("bin_midpoint", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = np.asarray(labels, dtype=float)
            probs = np.asarray(probs, dtype=float)
            idx = np.minimum((probs * n_bins).astype(int), n_bins - 1)
            ece = 0.0
            for b in range(n_bins):
                m = idx == b
                if m.any():
                    mid = (b + 0.5) / n_bins
                    ece += m.sum() / len(probs) * abs(labels[m].mean() - mid)
            return float(ece)
        '''), "Compares the share of toxic rows with the bin's midpoint instead of the bin's mean P(toxic)."),
    ("linspace_n_edges", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = np.asarray(labels, dtype=float)
            probs = np.asarray(probs, dtype=float)
            edges = np.linspace(0, 1, n_bins)
            ece = 0.0
            for i in range(len(edges) - 1):
                lo, hi = edges[i], edges[i + 1]
                if i == len(edges) - 2:
                    m = (probs >= lo) & (probs <= hi)
                else:
                    m = (probs >= lo) & (probs < hi)
                if m.any():
                    ece += m.sum() / len(probs) * abs(labels[m].mean() - probs[m].mean())
            return float(ece)
        '''), "np.linspace(0, 1, n_bins) gives n_bins edges, so n_bins - 1 bins of the wrong width."),
    ("not_normalized", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = np.asarray(labels, dtype=float)
            probs = np.asarray(probs, dtype=float)
            idx = np.minimum((probs * n_bins).astype(int), n_bins - 1)
            ece = 0.0
            for b in range(n_bins):
                m = idx == b
                if m.any():
                    ece += m.sum() * abs(labels[m].mean() - probs[m].mean())
            return float(ece)
        '''), "Weights each gap by the bin's row count, not its share of all rows (never divides by the total)."),
]

_ECE_CORRECT = [
    ("floor_clip_loop", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = np.asarray(labels, dtype=float)
            probs = np.asarray(probs, dtype=float)
            bins = np.minimum(np.floor(probs * n_bins).astype(int), n_bins - 1)
            ece = 0.0
            for b in range(n_bins):
                in_bin = bins == b
                if in_bin.any():
                    ece += in_bin.mean() * abs(labels[in_bin].mean() - probs[in_bin].mean())
            return ece
        ''')),
    ("histogram_range", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            y = np.asarray(labels, dtype=float)
            p = np.asarray(probs, dtype=float)
            counts, _ = np.histogram(p, bins=n_bins, range=(0.0, 1.0))
            toxic, _ = np.histogram(p, bins=n_bins, range=(0.0, 1.0), weights=y)
            conf, _ = np.histogram(p, bins=n_bins, range=(0.0, 1.0), weights=p)
            full = counts > 0
            gaps = np.abs(toxic[full] - conf[full]) / counts[full]
            return float(np.sum(counts[full] / len(p) * gaps))
        ''')),
    ("pandas_groupby", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            df = pd.DataFrame({"y": np.asarray(labels, dtype=float), "p": np.asarray(probs, dtype=float)})
            df["bin"] = np.clip((df["p"] * n_bins).astype(int), 0, n_bins - 1)
            per_bin = df.groupby("bin").agg(n=("y", "size"), acc=("y", "mean"), conf=("p", "mean"))
            return float((per_bin["n"] / len(df) * (per_bin["acc"] - per_bin["conf"]).abs()).sum())
        ''')),
    ("digitize_interior_edges", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = np.asarray(labels, dtype=float)
            probs = np.asarray(probs, dtype=float)
            inner = np.arange(1, n_bins) / n_bins
            which = np.digitize(probs, inner)  # 0 .. n_bins - 1, and p = 1 lands in the last bin
            n = len(probs)
            total = 0.0
            for b in np.unique(which):
                sel = which == b
                total += sel.sum() / n * abs(labels[sel].mean() - probs[sel].mean())
            return float(total)
        ''')),
    ("explicit_edges", _src('''
        def expected_calibration_error(labels, probs, n_bins=10):
            labels = [float(y) for y in labels]
            probs = [float(p) for p in probs]
            n = len(probs)
            ece = 0.0
            for i in range(n_bins):
                lo, hi = i / n_bins, (i + 1) / n_bins
                rows = [j for j, p in enumerate(probs) if lo <= p < hi or (i == n_bins - 1 and p == 1.0)]
                if not rows:
                    continue
                acc = sum(labels[j] for j in rows) / len(rows)
                conf = sum(probs[j] for j in rows) / len(rows)
                ece += len(rows) / n * abs(acc - conf)
            return ece
        ''')),
]

# ---------------------------------------------------------------------------
# Exercise 6: swap_term
# ---------------------------------------------------------------------------

_SWAP_WRONG = [
    ("str_replace_variants", _src('''
        def swap_term(text, term, replacement):
            def caps(s):
                return " ".join(w.capitalize() for w in s.split(" "))

            for sep in (" ", "-"):
                t = term.replace(" ", sep)
                text = text.replace(t.upper(), replacement.upper())
                text = text.replace(caps(term).replace(" ", sep), caps(replacement))
                text = text.replace(t, replacement)
            return text
        '''), "str.replace on case variants: replaces inside other words ('gaylord') and misses mixed-case mentions."),
    ("no_word_boundary", _src(r'''
        def swap_term(text, term, replacement):
            pattern = r"[ -]".join(re.escape(w) for w in term.split())

            def repl(m):
                s = m.group(0)
                if s.isupper():
                    return replacement.upper()
                if s[0].isupper():
                    return " ".join(w[:1].upper() + w[1:] for w in replacement.split(" "))
                return replacement

            return re.sub(pattern, repl, text, flags=re.IGNORECASE)
        '''), "No word boundaries: the term is also replaced inside longer words ('gaylord')."),
    ("case_not_matched", _src(r'''
        def swap_term(text, term, replacement):
            pattern = r"\b" + r"[ -]".join(re.escape(w) for w in term.split()) + r"\b"
            return re.sub(pattern, replacement, text, flags=re.IGNORECASE)
        '''), "Replacement always as given: 'Gay' or 'GAY' mentions get a lower-case replacement."),
    ("capitalize_first_word_only", _src(r'''
        def swap_term(text, term, replacement):
            pattern = re.compile(r"\b" + r"[ -]".join(map(re.escape, term.split())) + r"\b", re.IGNORECASE)

            def fix_case(m):
                mention = m.group(0)
                if mention.isupper():
                    return replacement.upper()
                if mention[0].isupper():
                    return replacement.capitalize()
                return replacement

            return pattern.sub(fix_case, text)
        '''), "replacement.capitalize() capitalizes only the first word: 'Native american', not 'Native American'."),
    ("capitalize_test_lowers_rest", _src(r'''
        def swap_term(text, term, replacement):
            pattern = re.compile(r"\b" + r"[ -]".join(map(re.escape, term.split())) + r"\b", re.IGNORECASE)

            def fix_case(m):
                mention = m.group(0)
                if mention == mention.upper():
                    return replacement.upper()
                if mention == mention.capitalize():
                    return " ".join(w.capitalize() for w in replacement.split())
                return replacement

            return pattern.sub(fix_case, text)
        '''), "Tests 'starts with a capital' as mention == mention.capitalize(), which lowers the rest: "
              "'African American' is not seen as capitalized."),
    ("istitle_check", _src(r'''
        def swap_term(text, term, replacement):
            words = [re.escape(w) for w in term.split()]
            pattern = r"(?<!\w)" + "[ -]".join(words) + r"(?!\w)"

            def repl(m):
                s = m.group(0)
                if s.isupper():
                    return replacement.upper()
                if s.istitle():
                    return replacement.title()
                return replacement

            return re.sub(pattern, repl, text, flags=re.I)
        '''), "Uses str.istitle() for 'starts with a capital': 'African-american' or 'African AMERICAN' "
              "keeps the replacement lower case."),
    ("only_first_occurrence", _src(r'''
        def swap_term(text, term, replacement):
            pattern = r"\b" + r"[ -]".join(re.escape(w) for w in term.split()) + r"\b"

            def repl(m):
                s = m.group(0)
                if s.isupper():
                    return replacement.upper()
                if s[0].isupper():
                    return " ".join(w.capitalize() for w in replacement.split())
                return replacement

            return re.sub(pattern, repl, text, count=1, flags=re.IGNORECASE)
        '''), "count=1: only the first mention is replaced."),
    ("hyphen_not_handled", _src(r'''
        def swap_term(text, term, replacement):
            pattern = r"\b" + re.escape(term) + r"\b"

            def repl(m):
                s = m.group(0)
                if s.isupper():
                    return replacement.upper()
                if s[0].isupper():
                    return " ".join(w.capitalize() for w in replacement.split())
                return replacement

            return re.sub(pattern, repl, text, flags=re.IGNORECASE)
        '''), "Matches the multi-word term with a space only: 'african-american' is not a mention."),
    ("whitespace_collapsed", _src(r'''
        def swap_term(text, term, replacement):
            text = " ".join(text.split())
            pattern = r"\b" + r"[ -]".join(re.escape(w) for w in term.split()) + r"\b"

            def repl(m):
                s = m.group(0)
                if s.isupper():
                    return replacement.upper()
                if s[0].isupper():
                    return " ".join(w.capitalize() for w in replacement.split())
                return replacement

            return re.sub(pattern, repl, text, flags=re.IGNORECASE)
        '''), "Normalizes the text with split/join first: double spaces, tabs, newlines and edge spaces are lost."),
    ("no_all_caps", _src(r'''
        def swap_term(text, term, replacement):
            pattern = r"\b" + r"[ -]".join(re.escape(w) for w in term.split()) + r"\b"

            def repl(m):
                if m.group(0)[0].isupper():
                    return " ".join(w.capitalize() for w in replacement.split())
                return replacement

            return re.sub(pattern, repl, text, flags=re.IGNORECASE)
        '''), "No all-capitals case: 'MUSLIM' gives 'Christian', not 'CHRISTIAN'."),
    ("space_delimited_only", _src(r'''
        def swap_term(text, term, replacement):
            pattern = r"(?<!\S)" + r"[ -]".join(re.escape(w) for w in term.split()) + r"(?!\S)"

            def repl(m):
                s = m.group(0)
                if s.isupper():
                    return replacement.upper()
                if s[0].isupper():
                    return " ".join(w.capitalize() for w in replacement.split())
                return replacement

            return re.sub(pattern, repl, text, flags=re.IGNORECASE)
        '''), "A mention must be between whitespace: 'Gay!' or '(gay)' or 'gay,' are missed."),
    ("article_adjusted", _src(r'''
        def swap_term(text, term, replacement):
            pattern = r"\b(?:(an?) )?(" + r"[ -]".join(re.escape(w) for w in term.split()) + r")\b"

            def repl(m):
                article, s = m.group(1), m.group(2)
                if s.isupper():
                    new = replacement.upper()
                elif s[0].isupper():
                    new = " ".join(w.capitalize() for w in replacement.split())
                else:
                    new = replacement
                if article is None:
                    return new
                fixed = "an" if new[0].lower() in "aeiou" else "a"
                if article[0].isupper():
                    fixed = fixed.capitalize()
                return fixed + " " + new

            return re.sub(pattern, repl, text, flags=re.IGNORECASE)
        '''), "Changes 'a'/'an' before the mention to fit the replacement; the text says to leave it."),
    ("wordwise_case", _src(r'''
        def swap_term(text, term, replacement):
            pattern = r"\b" + r"[ -]".join(re.escape(w) for w in term.split()) + r"\b"

            def repl(m):
                s = m.group(0)
                if s.isupper():
                    return replacement.upper()
                mention_words = re.split(r"[ -]", s)
                out = []
                for i, w in enumerate(replacement.split(" ")):
                    model = mention_words[min(i, len(mention_words) - 1)]
                    out.append(w.capitalize() if model[0].isupper() else w)
                return " ".join(out)

            return re.sub(pattern, repl, text, flags=re.IGNORECASE)
        '''), "Copies the case word by word: 'African-american' gives 'Native american', not 'Native American'."),
    ("text_lowercased", _src(r'''
        def swap_term(text, term, replacement):
            original = text
            low = text.lower()
            out, last = [], 0
            for m in re.finditer(r"\b" + r"[ -]".join(re.escape(w) for w in term.split()) + r"\b", low):
                s = original[m.start():m.end()]
                if s.isupper():
                    new = replacement.upper()
                elif s[0].isupper():
                    new = " ".join(w.capitalize() for w in replacement.split())
                else:
                    new = replacement
                out.append(low[last:m.start()])
                out.append(new)
                last = m.end()
            out.append(low[last:])
            return "".join(out)
        '''), "Builds the result from the lower-cased text: every other word loses its capitals."),
    ("word_tokens_only", _src(r'''
        def swap_term(text, term, replacement):
            def repl(m):
                w = m.group(0)
                if w.lower() != term:
                    return w
                if w.isupper():
                    return replacement.upper()
                if w[0].isupper():
                    return " ".join(x.capitalize() for x in replacement.split())
                return replacement

            return re.sub(r"\w+", repl, text)
        '''), "Compares the term with one word at a time: a multi-word term is never found."),
]

_SWAP_CORRECT = [
    ("lookarounds_sub", _src(r'''
        def swap_term(text, term, replacement):
            words = term.split(" ")
            pattern = re.compile(r"(?<!\w)" + "[ -]".join(re.escape(w) for w in words) + r"(?!\w)", re.IGNORECASE)

            def match_case(m):
                mention = m.group(0)
                if mention.isupper():
                    return replacement.upper()
                if mention[0].isupper():
                    return " ".join(w[:1].upper() + w[1:] for w in replacement.split(" "))
                return replacement

            return pattern.sub(match_case, text)
        ''')),
    ("capwords", _src(r'''
        import string


        def swap_term(text, term, replacement):
            body = re.escape(term).replace(r"\ ", " ").replace(" ", "(?: |-)")
            rx = re.compile(rf"\b{body}\b", flags=re.I)

            def sub(m):
                s = m.group()
                if s == s.upper():
                    return replacement.upper()
                if s[:1] == s[:1].upper():
                    return string.capwords(replacement)
                return replacement

            return rx.sub(sub, text)
        ''')),
    ("finditer_pieces", _src(r'''
        def swap_term(text, term, replacement):
            pattern = r"\b" + r"[\x20-]".join(re.escape(w) for w in term.split()) + r"\b"
            pieces, pos = [], 0
            for m in re.finditer(pattern, text, flags=re.IGNORECASE):
                mention = m.group(0)
                if mention.isupper():
                    new = replacement.upper()
                elif mention[0].isupper():
                    new = " ".join(w.capitalize() for w in replacement.split())
                else:
                    new = replacement
                pieces += [text[pos:m.start()], new]
                pos = m.end()
            pieces.append(text[pos:])
            return "".join(pieces)
        ''')),
    ("scan_without_re", _src('''
        def swap_term(text, term, replacement):
            def is_word_char(c):
                return c.isalnum() or c == "_"

            n = len(term)
            out = []
            i = 0
            while i < len(text):
                chunk = text[i:i + n]
                if (len(chunk) == n and chunk.lower().replace("-", " ") == term
                        and (i == 0 or not is_word_char(text[i - 1]))
                        and (i + n == len(text) or not is_word_char(text[i + n]))):
                    if chunk.isupper():
                        out.append(replacement.upper())
                    elif chunk[0].isupper():
                        out.append(" ".join(w[0].upper() + w[1:] for w in replacement.split(" ")))
                    else:
                        out.append(replacement)
                    i += n
                else:
                    out.append(text[i])
                    i += 1
            return "".join(out)
        ''')),
]

# ---------------------------------------------------------------------------
# Exercise 7: term_fnr
# ---------------------------------------------------------------------------

_FNR_WRONG = [
    ("at_threshold_missed", _src('''
        def term_fnr(labels, scores, terms, threshold):
            out = {}
            for t in np.unique(terms):
                toxic = (terms == t) & (labels == 1)
                if toxic.sum() == 0:
                    out[t] = float("nan")
                else:
                    out[t] = float(np.mean(scores[toxic] <= threshold))
            return out
        '''), "Counts a score equal to the threshold as not flagged (<= instead of <)."),
    ("all_rows_denominator", _src('''
        def term_fnr(labels, scores, terms, threshold):
            out = {}
            for t in np.unique(terms):
                rows = terms == t
                toxic = rows & (labels == 1)
                if not toxic.any():
                    out[t] = float("nan")
                    continue
                missed = toxic & (scores < threshold)
                out[t] = missed.sum() / rows.sum()
            return out
        '''), "Divides the missed toxic rows by all of the term's rows, not by its toxic rows."),
    ("zero_for_no_toxic", _src('''
        def term_fnr(labels, scores, terms, threshold):
            out = {}
            for t in np.unique(terms):
                toxic = (terms == t) & (labels == 1)
                n = toxic.sum()
                out[t] = float((toxic & (scores < threshold)).sum() / n) if n else 0.0
            return out
        '''), "Returns 0.0 instead of NaN for a term with no toxic row."),
    ("skips_terms_without_toxic", _src('''
        def term_fnr(labels, scores, terms, threshold):
            df = pd.DataFrame({"term": terms, "y": labels, "s": scores})
            toxic = df[df["y"] == 1]
            return (toxic["s"] < threshold).groupby(toxic["term"]).mean().to_dict()
        '''), "Groups only the toxic rows: a term with no toxic row is missing from the dict instead of NaN."),
    ("mean_of_no_rows_warns", _src('''
        def term_fnr(labels, scores, terms, threshold):
            terms = np.asarray(terms)
            return {str(t): float(np.mean(scores[(terms == t) & (labels == 1)] < threshold))
                    for t in dict.fromkeys(terms.tolist())}
        '''), "Right values, but a term with no toxic row gets its nan from numpy's mean of an empty array, "
         "with a RuntimeWarning (a new student's lazy answer, issue #27 review)."),
    ("false_positive_rate", _src('''
        def term_fnr(labels, scores, terms, threshold):
            out = {}
            for t in np.unique(terms):
                clean = (terms == t) & (labels == 0)
                if not clean.any():
                    out[t] = float("nan")
                else:
                    out[t] = float(np.mean(scores[clean] >= threshold))
            return out
        '''), "Share of non-toxic rows flagged (FPR) instead of toxic rows not flagged."),
    ("true_positive_rate", _src('''
        def term_fnr(labels, scores, terms, threshold):
            out = {}
            for t in np.unique(terms):
                toxic = (terms == t) & (labels == 1)
                out[t] = float(np.mean(scores[toxic] >= threshold)) if toxic.any() else float("nan")
            return out
        '''), "Share of toxic rows flagged (TPR, the recall) instead of not flagged."),
    ("false_omission_rate", _src('''
        def term_fnr(labels, scores, terms, threshold):
            out = {}
            for t in np.unique(terms):
                rows = terms == t
                if not (rows & (labels == 1)).any():
                    out[t] = float("nan")
                    continue
                not_flagged = rows & (scores < threshold)
                out[t] = float(labels[not_flagged].mean()) if not_flagged.any() else 0.0
            return out
        '''), "Share of not-flagged rows that are toxic (FN / (FN + TN)) instead of FN / (FN + TP)."),
    ("global_denominator", _src('''
        def term_fnr(labels, scores, terms, threshold):
            all_toxic = int((labels == 1).sum())
            out = {}
            for t in np.unique(terms):
                toxic = (terms == t) & (labels == 1)
                if not toxic.any():
                    out[t] = float("nan")
                else:
                    out[t] = float((toxic & (scores < threshold)).sum() / all_toxic)
            return out
        '''), "Divides by every toxic row of the data, not by the term's toxic rows."),
    ("threshold_half", _src('''
        def term_fnr(labels, scores, terms, threshold):
            out = {}
            for t in np.unique(terms):
                toxic = (terms == t) & (labels == 1)
                out[t] = float(np.mean(scores[toxic] < 0.5)) if toxic.any() else float("nan")
            return out
        '''), "Uses 0.5 instead of the threshold argument."),
    ("none_for_no_toxic", _src('''
        def term_fnr(labels, scores, terms, threshold):
            out = {}
            for t in set(terms):
                toxic = (terms == t) & (labels == 1)
                out[t] = float(np.mean(scores[toxic] < threshold)) if toxic.any() else None
            return out
        '''), "Uses None instead of NaN for a term with no toxic row."),
    ("list_compared_to_string", _src('''
        def term_fnr(labels, scores, terms, threshold):
            flagged = scores >= threshold
            result = {}
            for term in np.unique(terms):
                toxic = (terms == term) & (labels == 1)
                if toxic.sum() == 0:
                    result[term] = float("nan")
                else:
                    result[term] = float(np.mean(~flagged[toxic]))
            return result
        '''), "Compares the list of terms with a string (terms == term): a list is never equal to a string, so "
         "every term gets nan."),
]

_FNR_CORRECT = [
    ("pandas_groupby", _src('''
        def term_fnr(labels, scores, terms, threshold):
            df = pd.DataFrame({"term": terms, "toxic": labels == 1, "missed": (labels == 1) & (scores < threshold)})
            g = df.groupby("term")[["toxic", "missed"]].sum()
            fnr = g["missed"] / g["toxic"].where(g["toxic"] > 0)
            return {str(k): float(v) for k, v in fnr.items()}
        ''')),
    ("python_counts", _src('''
        def term_fnr(labels, scores, terms, threshold):
            toxic = {}
            missed = {}
            for y, s, t in zip(labels, scores, terms):
                toxic.setdefault(t, 0)
                missed.setdefault(t, 0)
                if y == 1:
                    toxic[t] += 1
                    if not s >= threshold:
                        missed[t] += 1
            return {t: (missed[t] / toxic[t] if toxic[t] else math.nan) for t in toxic}
        ''')),
    ("bincount_inverse", _src('''
        def term_fnr(labels, scores, terms, threshold):
            names, inv = np.unique(terms, return_inverse=True)
            inv = inv.ravel()
            toxic = np.bincount(inv, weights=(labels == 1).astype(float), minlength=len(names))
            missed = np.bincount(inv, weights=((labels == 1) & (scores < threshold)).astype(float),
                                 minlength=len(names))
            with np.errstate(invalid="ignore", divide="ignore"):
                fnr = np.where(toxic > 0, missed / np.where(toxic > 0, toxic, 1), np.nan)
            return dict(zip(names.tolist(), fnr))
        ''')),
    ("unique_loop_numpy_keys", _src('''
        def term_fnr(labels, scores, terms, threshold):
            labels, scores, terms = np.asarray(labels), np.asarray(scores, dtype=float), np.asarray(terms)
            out = {}
            for t in np.unique(terms):  # the keys are numpy str_, a str subclass: a new student's natural loop
                toxic = (terms == t) & (labels == 1)
                out[t] = float(np.mean(scores[toxic] < threshold)) if toxic.any() else float("nan")
            return out
        ''')),
]


WRONG = {
    "subgroup_auc": _SUBGROUP_WRONG,
    "bpsn": _BPSN_WRONG,
    "bnsp": _BNSP_WRONG,
    "final_metric": _FINAL_WRONG,
    "ece": _ECE_WRONG,
    "swap": _SWAP_WRONG,
    "term_fnr": _FNR_WRONG,
}

CORRECT = {
    "subgroup_auc": _SUBGROUP_CORRECT,
    "bpsn": _BPSN_CORRECT,
    "bnsp": _BNSP_CORRECT,
    "final_metric": _FINAL_CORRECT,
    "ece": _ECE_CORRECT,
    "swap": _SWAP_CORRECT,
    "term_fnr": _FNR_CORRECT,
}


SOLUTION_CELL = {
    "subgroup_auc": "subgroup_auc", "bpsn": "bpsn_auc", "bnsp": "bnsp_auc", "final_metric": "final_metric",
    "ece": "expected_calibration_error", "swap": "swap_term", "term_fnr": "term_fnr",
}

# points per autograded exercise, as in the source notebook
POINTS = {"subgroup_auc": 1, "bpsn": 1, "bnsp": 1, "final_metric": 2, "ece": 2, "swap": 2, "term_fnr": 1}

# two per exercise through real autograde: one a visible check catches, one a subtler one (bare_sklearn: only the
# warning tells it apart, which the checks see through the executor's harness call_recording_warnings)
THROUGH_AUTOGRADE = [("subgroup_auc", "all_rows"), ("subgroup_auc", "bare_sklearn"),
                     ("bpsn", "swapped_with_bnsp"), ("bpsn", "half_for_undefined"),
                     ("bnsp", "all_negatives"), ("bnsp", "ordinal_ranks"),
                     ("final_metric", "arithmetic_mean"), ("final_metric", "nan_identity_check"),
                     ("ece", "unweighted_bins"), ("ece", "one_lost"),
                     ("swap", "str_replace_variants"), ("swap", "capitalize_test_lowers_rest"),
                     ("term_fnr", "at_threshold_missed"), ("term_fnr", "skips_terms_without_toxic")]
# numpy, scipy and pandas answers through the real wire
CORRECT_THROUGH_AUTOGRADE = [("subgroup_auc", "rankdata_mann_whitney"), ("bpsn", "pandas_rank"),
                             ("bnsp", "mannwhitneyu"), ("final_metric", "scipy_pmean"), ("ece", "pandas_groupby"),
                             ("swap", "capwords"), ("term_fnr", "bincount_inverse")]


def grade_globals() -> dict:
    """What the notebook's setup cell defines (imports only: no exercise needs the model)."""
    import math
    import re

    import numpy as np
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    return {"np": np, "math": math, "re": re, "pd": pd, "roc_auc_score": roc_auc_score}


# library names that a fixture cell may import although another exercise's cell imports them too
SHARED_IMPORTS = set()
