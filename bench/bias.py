"""Bias mitigation benchmark: the cpu recipe trained as is and with each augmentation, measured on the
augmentation's own identity family AND on a held-out family, side by side (issue #29).

    .venv/bin/python bench/bias.py                      # baseline + every mitigation in toxlab.augment
    .venv/bin/python bench/bias.py --methods identity-combined --baseline runs/bench-quality/cpu-test
    .venv/bin/python bench/bias.py --reuse              # score folders already in --out

Each model is MiniLM trained with the same preset and seed on ../shared/data/jigsaw-sample's train rows
plus jigsaw-extra (training only). Every figure is at the model's own saved threshold (train()'s: expected
macro F1 at train's prevalence). Printed per model:

- on jigsaw-sample's 440 test rows: ROC-AUC and macro F1 with 95% bootstrap intervals;
- on the augmentation's own family (`toxlab.bias.identity_set`: 61 terms x 24 non-toxic + 22 toxic
  templates, the shapes and every term the augmentation's sentences use) and on the held-out family
  (`toxlab.bias.heldout_identity_set`: 47 terms, 21 of them in no augmentation list, x 32 + 32 templates
  written apart): FPR spread and its worst terms, mean FPR, FNR spread, min subgroup AUC, final metric;
  on the held-out family also the FPR spread over its 21 new terms alone;
- the real test comments that mention an identity term: their count, AUC and FPR against the other rows'.

Then issue #29's acceptance for each mitigation: on the held-out family FPR spread <= 0.15 and min subgroup
AUC >= 0.97, and test ROC-AUC not below the baseline's interval. --calibrate also fits a temperature and
shift (toxlab.calibration, the issue #16 figures) before scoring; it re-tunes the threshold on validation.
Models go to --out (default runs/bench-bias/<preset>-<variant>); --baseline scores an already trained
baseline folder (bench/quality.py --keep trains the same model as its test row).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from toxlab.augment import METHODS  # noqa: E402
from toxlab.bias import (bias_report, heldout_identity_set, identity_set, plot_bias_comparison,  # noqa: E402
                         real_identity_rows, real_identity_summary)
from toxlab.identity import HELDOUT_ONLY_TERMS  # noqa: E402
from toxlab.metrics import bootstrap_interval, macro_f1  # noqa: E402
from toxlab.calibration import calibrate  # noqa: E402
from toxlab.data import load_jigsaw, load_train_rows  # noqa: E402
from toxlab.inference import predict_logits, probabilities  # noqa: E402
from toxlab.metrics import scores  # noqa: E402
from toxlab.models import load_classifier, quiet  # noqa: E402
from toxlab.saved import model_logit_shift, model_temperature, model_threshold, read_training_meta  # noqa: E402
from toxlab.training import train  # noqa: E402

MITIGATIONS = tuple(m for m in METHODS if m != "counterfactual") + ("counterfactual",)


def train_variant(name: str, out: Path, args, ds) -> float:
    """Train one variant into `out` (or reuse it); returns the training seconds (of the run that trained it)."""
    log = out.parent / "train_seconds.json"  # {folder name: seconds}, so that --reuse still reports them
    seconds = json.loads(log.read_text()) if log.is_file() else {}
    if args.reuse and (out / "config.json").is_file():
        print(f"[{name}] reusing {out}", flush=True)
        return float(seconds.get(out.name, float("nan")))
    model, tokenizer = load_classifier("minilm")
    t0 = time.perf_counter()
    res = train(ds, model, tokenizer, preset=args.preset, output_dir=out, seed=args.seed, overwrite=True,
                augment=None if name == "baseline" else name, disable_tqdm=True, use_cpu=True)
    seconds[out.name] = time.perf_counter() - t0
    log.write_text(json.dumps(seconds, indent=1))
    print(f"[{name}] trained in {seconds[out.name]:.0f} s: threshold {res.threshold:.3f}, validation ROC-AUC "
          f"{res.validation['roc_auc']:.4f}, augmentation {res.augmentation}", flush=True)
    return seconds[out.name]


def _bias(ident, p, threshold):
    return bias_report(ident["label"].to_numpy(), p, ident["term"].to_numpy(), ident["group"].to_numpy(), threshold,
                       texts=ident["text"].tolist())


def score_variant(name: str, out: Path, ds, families: dict, calibrate_first: bool, n_boot: int) -> dict:
    """Score the test rows, both identity families and the real identity comments at the model's own threshold
    (after calibrating it, with --calibrate)."""
    model, tokenizer = load_classifier(out)
    r = {"name": name, "dir": str(out)}
    if calibrate_first:
        rec = calibrate(out, ds, model=model, tokenizer=tokenizer, force=True)
        print(f"[{name}] calibrated: T={rec['temperature']:.3f}, shift {rec['shift']:+.3f}, threshold "
              f"{rec['threshold_before']:.3f} -> {rec['threshold']:.3f}", flush=True)
    t, b, threshold = model_temperature(model), model_logit_shift(model), model_threshold(model)
    prob = lambda texts: probabilities(predict_logits(list(texts), model, tokenizer), t, b)[:, 1]  # noqa: E731
    test = ds["test"]
    y, p = np.asarray(test["label"]), prob(test["comment_text"])
    decided = (p >= threshold).astype(int)
    s = scores(y, p, threshold)
    r.update(threshold=threshold, test_auc=s["roc_auc"], test_f1=s["f1"],
             test_auc_ci=bootstrap_interval(roc_auc_score, y, p, n_boot=n_boot),
             test_f1_ci=bootstrap_interval(macro_f1, y, decided, n_boot=n_boot), y=y, p=p)
    for fam, ident in families.items():
        r[fam] = _bias(ident, prob(ident["text"]), threshold)
    held = r["held-out family"].per_term
    new = held[held["term"].isin(HELDOUT_ONLY_TERMS)]
    r["new_terms_fpr_spread"] = float(new["fpr"].max() - new["fpr"].min())
    r["shared_terms_fpr_spread"] = float(held.loc[~held["term"].isin(HELDOUT_ONLY_TERMS), "fpr"].agg(np.ptp))
    real = real_identity_rows(test["comment_text"], test["label"])
    mask = np.isin(np.asarray(test["comment_text"], dtype=object), real["text"].to_numpy())
    r["real"] = real_identity_summary(real, p[mask], threshold, y[~mask], p[~mask])
    meta = read_training_meta(out)
    r.update(train_rows=meta.get("train_rows"), augmentation=meta.get("augmentation"),
             threshold_choice=meta.get("threshold_choice"))
    return r


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(SHARED / "jigsaw-sample"))
    ap.add_argument("--extra", default=str(SHARED / "jigsaw-extra" / "train_extra.csv"))
    ap.add_argument("--preset", default="cpu", choices=["quick", "cpu"])
    ap.add_argument("--methods", nargs="*", default=list(MITIGATIONS), choices=MITIGATIONS)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default=str(ROOT / "runs" / "bench-bias"))
    ap.add_argument("--reuse", action="store_true", help="score model folders already in --out instead of training")
    ap.add_argument("--baseline", default=None, help="an already trained baseline folder (same preset, seed, data)")
    ap.add_argument("--calibrate", action="store_true", help="calibrate each model first (issue #16's figures)")
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples per interval")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    args = ap.parse_args(argv)
    quiet()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch threads {torch.get_num_threads()}, load average {tuple(round(x, 2) for x in os.getloadavg())}",
          flush=True)
    ds = load_jigsaw(args.data)
    if args.extra:
        ds["extra"] = load_train_rows(args.extra)
    families = {"own family": identity_set(), "held-out family": heldout_identity_set()}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    # a given --baseline folder may still be training (bench/quality.py --keep): then train the mitigations first
    waiting = args.baseline and not (Path(args.baseline) / "config.json").is_file()
    order = [*args.methods, "baseline"] if waiting else ["baseline", *args.methods]
    for name in order:
        folder = Path(args.baseline) if name == "baseline" and args.baseline else out / f"{args.preset}-{name}"
        if name == "baseline" and args.baseline:
            train_s = float("nan")
            while not (folder / "config.json").is_file():  # wait for bench/quality.py to save it
                time.sleep(30)
        else:
            train_s = train_variant(name, folder, args, ds)
        results.append(score_variant(name, folder, ds, families, args.calibrate, args.bootstrap))
        results[-1]["train_s"] = train_s
        results.sort(key=lambda r: r["name"] != "baseline")  # the baseline's column first once it is there
        report(results, families, args, out)
    return 0


def _ci(value: float, ci) -> str:
    return f"{value:.4f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def report(results: list[dict], families: dict, args, out: Path) -> None:
    """Print the tables and acceptance and write results.json, terms-*.csv and the plot (after every model, so
    that a long run cut short keeps what it measured)."""
    rows = [("train rows (incl. added)", lambda r: f"{r['train_rows']:,}" if r["train_rows"] else "-"),
            ("rows added", lambda r: f"{(r['augmentation'] or {}).get('rows_added', 0):,}"),
            ("train seconds", lambda r: f"{r['train_s']:.0f}"),
            ("threshold (own)", lambda r: f"{r['threshold']:.3f}"),
            ("test ROC-AUC [95% CI]", lambda r: _ci(r["test_auc"], r["test_auc_ci"])),
            ("test macro F1 [95% CI]", lambda r: _ci(r["test_f1"], r["test_f1_ci"]))]
    for fam in families:
        rows += [(f"{fam}: FPR spread", lambda r, f=fam: f"{r[f].summary['fpr_spread']:.3f}"),
                 ("  highest-FPR term", lambda r, f=fam: "{} {:.2f}".format(*r[f].summary["fpr_highest"])),
                 ("  mean FPR", lambda r, f=fam: f"{r[f].summary['mean_fpr']:.3f}"),
                 ("  FNR spread", lambda r, f=fam: f"{r[f].summary['fnr_spread']:.3f}"),
                 ("  min subgroup AUC", lambda r, f=fam: f"{r[f].summary['worst_subgroup_auc']:.4f}"),
                 ("  worst subgroup term", lambda r, f=fam: str(r[f].summary["worst_subgroup_term"])),
                 ("  final bias metric", lambda r, f=fam: f"{r[f].summary['final_metric']:.4f}")]
    rows += [("held-out: FPR spread, new terms", lambda r: f"{r['new_terms_fpr_spread']:.3f}"),
             ("held-out: FPR spread, shared", lambda r: f"{r['shared_terms_fpr_spread']:.3f}"),
             ("real test identity rows (toxic)", lambda r: f"{r['real']['rows']} ({r['real']['toxic']})"),
             ("  their AUC", lambda r: f"{r['real']['auc']:.4f}"),
             ("  their FPR / other rows' FPR", lambda r: f"{r['real']['fpr']:.3f} / {r['real']['background_fpr']:.3f}")]
    width = 2 + max(len(x) for r in results for x in [r["name"]] + [get(r) for _, get in rows])
    print(f"\npreset {args.preset}, seed {args.seed}; test = {len(results[0]['y'])} rows of {args.data}; "
          + "; ".join(f"{f} = {len(d)} rows ({d['term'].nunique()} terms)" for f, d in families.items()))
    print(f"{'':<34}" + "".join(f"{r['name']:>{width}}" for r in results))
    for label, get in rows:
        print(f"{label:<34}" + "".join(f"{get(r):>{width}}" for r in results))

    base = results[0] if results[0]["name"] == "baseline" else None
    print("\nacceptance (issue #29), each mitigation on the held-out family, at its own threshold:")
    verdicts = {}
    for r in results if base is None else results[1:]:
        h = r["held-out family"].summary
        checks = {"held-out FPR spread <= 0.15": (h["fpr_spread"] <= 0.15, f"{h['fpr_spread']:.3f}"),
                  "held-out min subgroup AUC >= 0.97": (h["worst_subgroup_auc"] >= 0.97,
                                                        f"{h['worst_subgroup_auc']:.4f} ({h['worst_subgroup_term']})"),
                  }
        if base is not None:
            checks["test ROC-AUC >= baseline's CI"] = (r["test_auc"] >= base["test_auc_ci"][0],
                                                       f"{r['test_auc']:.4f} vs baseline [{base['test_auc_ci'][0]:.3f}, "
                                                       f"{base['test_auc_ci'][1]:.3f}]")
        verdicts[r["name"]] = {k: bool(ok) for k, (ok, _) in checks.items()}
        for k, (ok, txt) in checks.items():
            print(f"  {r['name']:<18} {k:<36} {'MET' if ok else 'MISSED':<7} {txt}")

    for fam in families:
        plot_bias_comparison({r["name"]: r[fam] for r in results},
                             title=f"{args.preset} recipe: bias before and after mitigation ({fam})",
                             path=out / f"bias_before_after-{fam.split()[0]}.png")
    summary = {r["name"]: {k: v for k, v in r.items() if k not in ("y", "p", *families)}
               | {f: r[f].summary for f in families} for r in results}
    (out / "results.json").write_text(json.dumps({"preset": args.preset, "seed": args.seed, "models": summary,
                                                  "acceptance": verdicts}, indent=2, default=str))
    for r in results:
        for fam in families:
            r[fam].per_term.to_csv(out / f"terms-{r['name']}-{fam.split()[0]}.csv", index=False)
    print(f"\nwrote {out / 'results.json'}, terms-*.csv and bias_before_after-*.png", flush=True)


if __name__ == "__main__":
    sys.exit(main())
