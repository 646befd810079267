"""Quality in one table: toxlab's cpu recipe (at its own threshold and at the old rule's), the old quick
preset and alt-profanity-check.

Each model is trained (the shipped peer: only its threshold is chosen) and scored twice:
  test : on all 5,000 shared train rows, scored on the 440 shared test rows;
  cv   : k-fold cross-validation on the 5,000 train rows (pooled out-of-fold rows).
The cpu recipe also draws from ../shared/data/jigsaw-extra (training rows only, never scored), as a
user with the full Kaggle data would. Every model is scored at its own threshold: toxlab's from its
validation split (saved with the model), the peer's chosen on the rows it is fitted to, never the
scored rows. Intervals are 95% percentile bootstraps over the scored rows.
The cpu recipe's two halves (MiniLM alone, its TF-IDF part alone) are scored from the same runs.
The shipped peer was trained on the full Kaggle train set, these 5,000 rows included, so its cv row
is not a fair peer; "its recipe, refit" (TF-IDF + calibrated linear SVM, fitted on each fold's rows
and the extra rows) is.

Thresholds (issue #29): toxlab's is train()'s own (expected macro F1 at train's prevalence, from the rows
training did not use); the peers' are chosen the same way (toxlab.metrics.threshold_choice) on the rows
they are given, at the same prevalence. "cpu, old rule" scores the same cpu model at the threshold the old
rule saved (macro-F1 argmax on the validation split alone). After the table: per model, the threshold's
spread across folds and the optimism (expected F1 where the threshold was chosen minus the F1 on the fold
it was not chosen on).

Usage: python bench/quality.py [--folds 5] [--skip-cv] [--models cpu,quick,peer,peer-refit] [--threads 2]
Install the peer first: pip install -e ".[bench]" (alt-profanity-check). It takes long: each toxlab
model trains folds + 1 times (about 4 and 7 minutes per run on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from toxlab.data import load_jigsaw, load_train_rows
from toxlab.inference import predict
from toxlab.metrics import bootstrap_interval, choose_threshold, macro_f1, macro_f1_by_threshold, threshold_choice
from toxlab.models import load_classifier, quiet
from toxlab.saved import model_threshold, model_threshold_choice

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


@dataclass
class Scored:
    """One model's probabilities and decisions on scored rows, with its training time."""

    labels: np.ndarray
    p: np.ndarray
    decided: np.ndarray  # 0/1 at the model's own threshold (per fold in cross-validation)
    threshold: float  # mean over folds in cross-validation
    train_s: float  # mean over folds in cross-validation
    thresholds: tuple = ()  # one per fold in cross-validation
    chosen_f1: tuple = ()  # expected macro F1 where each fold's threshold was chosen
    fold_f1: tuple = ()  # macro F1 on each held-out fold


@dataclass
class Fitted:
    """One fitted row of the table: P(toxic) for texts, its own threshold, the seconds it took to fit."""

    name: str
    prob: Callable[[list[str]], np.ndarray]
    threshold: float
    train_s: float
    chosen_f1: float = float("nan")  # expected macro F1 where the threshold was chosen (for the optimism)


def prevalence_of(train_ds) -> float:
    """The share of toxic rows in the natural-prevalence rows a model is given (never the extra rows)."""
    return float(np.mean(train_ds["label"]))


def fit_toxlab(preset: str, train_ds, extra, workdir: Path, seed: int = 42, halves: bool = False) -> list[Fitted]:
    """Train a toxlab preset and score its saved folder, as a user would. A recipe with a TF-IDF part
    also gives its two halves, each at a threshold chosen on the same validation rows (no extra training)."""
    import datasets

    from toxlab.calibration import validation_rows
    from toxlab.inference import predict_logits, probabilities
    from toxlab.lexical import lexical_log_odds, model_lexical
    from toxlab.training import train

    data = datasets.DatasetDict(train=train_ds, **({"extra": extra} if extra is not None else {}))
    model, tokenizer = load_classifier("minilm")
    t = time.perf_counter()
    train(data, model, tokenizer, preset=preset, output_dir=workdir, seed=seed, overwrite=True,
          disable_tqdm=True, use_cpu=True)
    seconds = time.perf_counter() - t
    saved, saved_tok = load_classifier(workdir)
    prob = lambda texts: np.array([r["p_toxic"] for r in predict(texts, saved, saved_tok)])
    choice = model_threshold_choice(saved)
    fitted = [Fitted(preset, prob, model_threshold(saved), seconds, choice["f1"])]
    if choice.get("validation_argmax") is not None:  # the same model at the old rule's threshold
        fitted.append(Fitted(f"{preset}-old", prob, choice["validation_argmax"], seconds))
    pipe = model_lexical(saved)
    if pipe is not None and halves:
        val_texts, val_y, _ = validation_rows(workdir, data)
        minilm = lambda texts: probabilities(predict_logits(texts, saved, saved_tok, lexical=False))[:, 1]
        tfidf = lambda texts: 1 / (1 + np.exp(-lexical_log_odds(pipe, texts)))
        fitted += [Fitted(f"{preset}-minilm", minilm, choose_threshold(val_y, minilm(val_texts)), seconds),
                   Fitted(f"{preset}-tfidf", tfidf, choose_threshold(val_y, tfidf(val_texts)), seconds)]
    return fitted


def fit_peer(train_ds, extra, workdir: Path, seed: int = 42) -> list[Fitted]:
    """alt-profanity-check: pretrained; only its threshold is chosen, on the rows it is given."""
    from profanity_check import predict_prob

    t = time.perf_counter()
    choice = threshold_choice(train_ds["label"], predict_prob(list(train_ds["comment_text"])), prevalence_of(train_ds),
                              seed=seed)
    return [Fitted("peer", lambda texts: predict_prob(list(texts)), choice["threshold"], time.perf_counter() - t,
                   choice["f1"])]


def fit_peer_refit(train_ds, extra, workdir: Path, seed: int = 42) -> list[Fitted]:
    """alt-profanity-check's own training recipe (TF-IDF, calibrated linear SVM) fitted on the rows the cpu
    recipe gets, threshold on the same kind of validation split: the fair peer in cross-validation, where
    the shipped peer has seen every train row."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    from toxlab.recipe import split_validation

    t = time.perf_counter()
    fit_rows, val = split_validation(train_ds, seed=seed)  # train()'s own share, as the toxlab rows had
    texts = list(fit_rows["comment_text"]) + (list(extra["comment_text"]) if extra is not None else [])
    labels = list(fit_rows["label"]) + (list(extra["label"]) if extra is not None else [])
    pipe = make_pipeline(TfidfVectorizer(stop_words="english", min_df=0.0001),
                         CalibratedClassifierCV(LinearSVC(class_weight="balanced", dual=False, tol=1e-2, max_iter=100_000)))
    pipe.fit(texts, labels)
    prob = lambda texts: pipe.predict_proba(list(texts))[:, 1]
    val_p = prob(val["comment_text"])
    choice = threshold_choice(val["label"], val_p, prevalence_of(train_ds), seed=seed)
    seconds = time.perf_counter() - t
    # the same model at the old rule's threshold (macro-F1 argmax on the validation split): a cheap second look
    # at the two rules across folds, where the cpu recipe's folds take an hour each on a shared 2-core machine
    return [Fitted("peer-refit", prob, choice["threshold"], seconds, choice["f1"]),
            Fitted("peer-refit-old", prob, choose_threshold(val["label"], val_p), seconds,
                   float(np.max(macro_f1_by_threshold(val["label"], val_p)[1])))]


MODELS = {  # name: (fit function, uses the extra rows)
    "cpu": (lambda *a, **k: fit_toxlab("cpu", *a, **k), True),
    "quick": (lambda *a, **k: fit_toxlab("quick", *a, **k), False),
    "peer": (fit_peer, False),
    "peer-refit": (fit_peer_refit, True),
}
LABELS = {  # a row's name in the table
    "cpu": "toxlab cpu recipe", "cpu-old": "  cpu, old rule", "quick-old": "  quick, old rule", "cpu-minilm": "  its MiniLM alone", "cpu-tfidf": "  its TF-IDF alone",
    "quick": "toxlab quick (old)", "peer": "alt-profanity-check", "peer-refit": "  its recipe, refit",
    "peer-refit-old": "  refit, old rule",
}


def score_test(name: str, ds, extra, workdir: Path) -> dict[str, Scored]:
    """Fit on all train rows, score the test rows: one Scored per row of the table."""
    fit, uses_extra = MODELS[name]
    y, texts = np.asarray(ds["test"]["label"]), list(ds["test"]["comment_text"])
    out = {}
    cache = {}  # one scoring per model: the "old rule" row shares the cpu model's probabilities
    for f in fit(ds["train"], extra if uses_extra else None, workdir / f"{name}-test"):
        if id(f.prob) not in cache:
            cache[id(f.prob)] = f.prob(texts)
        p = cache[id(f.prob)]
        decided = (p >= f.threshold).astype(int)
        out[f.name] = Scored(y, p, decided, f.threshold, f.train_s, (f.threshold,), (f.chosen_f1,), (macro_f1(y, decided),))
    return out


def score_cv(name: str, train_ds, extra, workdir: Path, folds: int, max_folds: int | None) -> dict[str, Scored]:
    """k-fold on the train rows: each fold scored by a model fitted on the others, at that model's threshold."""
    fit, uses_extra = MODELS[name]
    y = np.asarray(train_ds["label"])
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=0).split(np.zeros(len(y)), y))[:max_folds]
    parts: dict[str, list] = {}  # row name -> [(held rows, p, decided, threshold, seconds), ...]
    for k, (fit_idx, held_idx) in enumerate(splits):
        held = list(train_ds.select(held_idx)["comment_text"])
        cache = {}
        for f in fit(train_ds.select(fit_idx), extra if uses_extra else None, workdir / f"{name}-fold{k}"):
            if id(f.prob) not in cache:
                cache[id(f.prob)] = f.prob(held)
            p = cache[id(f.prob)]
            decided = (p >= f.threshold).astype(int)
            parts.setdefault(f.name, []).append((held_idx, p, decided, f.threshold, f.train_s, f.chosen_f1,
                                                 macro_f1(y[held_idx], decided)))
            print(f"  {f.name} fold {k + 1}/{len(splits)}: ROC-AUC {roc_auc_score(y[held_idx], p):.4f}, "
                  f"macro F1 {macro_f1(y[held_idx], decided):.4f} at {f.threshold:.3f} (expected where chosen "
                  f"{f.chosen_f1:.4f}), {f.train_s:.0f} s", flush=True)
    out = {}
    for row, got in parts.items():
        idx = np.concatenate([g[0] for g in got])
        out[row] = Scored(y[idx], np.concatenate([g[1] for g in got]), np.concatenate([g[2] for g in got]),
                          float(np.mean([g[3] for g in got])), float(np.mean([g[4] for g in got])),
                          tuple(g[3] for g in got), tuple(g[5] for g in got), tuple(g[6] for g in got))
    return out


def summarise(s: Scored, n_boot: int) -> dict:
    """Point figures and bootstrap intervals."""
    out = {"rows": len(s.labels), "toxic": int(s.labels.sum()), "threshold": s.threshold, "train_s": s.train_s,
           "thresholds": list(s.thresholds), "chosen_f1": list(s.chosen_f1), "fold_f1": list(s.fold_f1)}
    for key, metric, values in (("roc_auc", roc_auc_score, s.p), ("pr_auc", average_precision_score, s.p),
                                ("macro_f1", macro_f1, s.decided)):
        out[key] = float(metric(s.labels, values))
        out[key + "_ci"] = bootstrap_interval(metric, s.labels, values, n_boot=n_boot)
    return out


HEAD = f"{'model':<22}{'eval':<11}{'ROC-AUC [95% CI]':>24}{'PR-AUC [95% CI]':>24}{'macro F1 [95% CI]':>24}{'thr':>7}{'train s':>9}"


def table_row(name: str, where: str, r: dict) -> str:
    """One line of the table."""
    cells = "".join(f"{r[k]:>9.4f} [{r[k + '_ci'][0]:.3f}, {r[k + '_ci'][1]:.3f}]" for k in ("roc_auc", "pr_auc", "macro_f1"))
    return f"{LABELS[name]:<22}{where:<11}{cells}{r['threshold']:>7.3f}{r['train_s']:>9.0f}"


def print_table(results: dict) -> None:
    """One table: a row per (model, evaluation); then the thresholds' spread and the optimism."""
    print("\n" + HEAD + "\n" + "-" * len(HEAD))
    for (name, where), r in results.items():
        print(table_row(name, where, r))
    print(f"\n{'model':<22}{'eval':<11}{'threshold per fold':<40}{'spread':>8}{'F1 where chosen':>17}"
          f"{'F1 where not':>14}{'optimism':>10}")
    for (name, where), r in results.items():
        chosen, held = np.array(r["chosen_f1"], dtype=float), np.array(r["fold_f1"], dtype=float)
        ok = ~np.isnan(chosen)
        optimism = f"{np.mean(chosen[ok] - held[ok]):>+10.4f}" if ok.any() else f"{'-':>10}"
        where_chosen = f"{np.mean(chosen[ok]):>17.4f}" if ok.any() else f"{'-':>17}"
        per_fold = " ".join(f"{t:.3f}" for t in r["thresholds"])
        print(f"{LABELS[name]:<22}{where:<11}{per_fold:<40}{np.ptp(r['thresholds']):>8.3f}{where_chosen}"
              f"{np.mean(held):>14.4f}{optimism}")


def save(results: dict, out: Path) -> Path:
    """Write quality.json (after every row, so that a long run interrupted keeps what it measured)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "quality.json").write_text(json.dumps({f"{n} | {w}": r for (n, w), r in results.items()}, indent=2))
    return out / "quality.json"


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(SHARED / "jigsaw-sample"), help="Kaggle folder (train and scored test rows)")
    ap.add_argument("--extra", default=str(SHARED / "jigsaw-extra" / "train_extra.csv"), help="extra training rows for the cpu recipe")
    ap.add_argument("--models", default="cpu,peer,peer-refit", help=f"comma-separated, from {list(MODELS)}")
    ap.add_argument("--halves", action="store_true", help="also score the cpu recipe's MiniLM and TF-IDF halves")
    ap.add_argument("--keep", default=None, help="keep the trained model folders here (e.g. for bench/bias.py "
                                                "--baseline) instead of a temporary folder")
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    ap.add_argument("--max-folds", type=int, default=None, help="run only the first N folds (a quicker, rougher CV)")
    ap.add_argument("--skip-cv", action="store_true", help="only the test rows")
    ap.add_argument("--skip-test", action="store_true", help="only cross-validation")
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples per interval")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"), help="where quality.json goes")
    a = ap.parse_args()

    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    quiet()
    ds = load_jigsaw(a.data, verbose=False)
    extra = load_train_rows(a.extra)
    names = [n.strip() for n in a.models.split(",")]
    results = {}
    if a.halves:
        MODELS["cpu"] = (lambda *x, **k: fit_toxlab("cpu", *x, halves=True, **k), True)
    with tempfile.TemporaryDirectory(prefix="toxlab-quality-") as tmp:
        tmp = a.keep or tmp
        for name in names:
            if not a.skip_test:
                print(f"{name}: test", flush=True)
                for row, scored in score_test(name, ds, extra, Path(tmp)).items():
                    results[(row, "test 440")] = summarise(scored, a.bootstrap)
                    print(table_row(row, "test 440", results[(row, "test 440")]), flush=True)
                save(results, Path(a.out))
            if not a.skip_cv:
                print(f"{name}: {a.folds}-fold CV", flush=True)
                folds = f"{a.max_folds or a.folds}/{a.folds}" if a.max_folds else str(a.folds)
                for row, scored in score_cv(name, ds["train"], extra, Path(tmp), a.folds, a.max_folds).items():
                    results[(row, f"cv {folds}")] = summarise(scored, a.bootstrap)
                    print(table_row(row, f"cv {folds}", results[(row, f"cv {folds}")]), flush=True)
                save(results, Path(a.out))
    print_table(results)
    print(f"\nmachine: {os.cpu_count()} cores, torch threads {torch.get_num_threads()}; "
          "train s: wall seconds of one training run (mean over folds for cv)")
    print(f"wrote {save(results, Path(a.out))}")
    return results


if __name__ == "__main__":
    main()
