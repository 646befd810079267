"""Bias mitigation benchmark: the quick recipe trained as is and with each augmentation, side by side.

    .venv/bin/python bench/bias.py                      # baseline + identity-nontoxic + counterfactual
    .venv/bin/python bench/bias.py --methods identity-nontoxic --reuse

Each model is MiniLM trained with the same preset and seed on ../shared/data/jigsaw-sample's train rows
plus jigsaw-extra (training only), then calibrated (`toxlab.calibration.calibrate`, method "platt": a
temperature and a toxic-logit shift fitted on the validation split train() carved). Printed from one
run, per model:

- on jigsaw-sample's 440 test rows: ROC-AUC, macro F1 at the model's own (saved) threshold, and the
  ECE of P(toxic) raw, after a temperature alone, and after the temperature and shift (both fitted on
  the validation split; the test rows are never used to fit);
- on the generated identity test set (`toxlab.bias.identity_set`: 61 terms x 24 non-toxic + 22 toxic
  templates): FPR spread and FNR spread over terms at the model's own threshold, worst subgroup AUC,
  the Jigsaw final bias metric.

Then the acceptance checks of issue #16 for each mitigation against the baseline (FPR spread at most
half, worst subgroup AUC higher, test ROC-AUC at most 0.01 lower), and a before/after plot. Models go
to --out (default runs/bench-bias/<variant>); --reuse scores folders that are already there.
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

from toxlab.bias import bias_report, identity_set, plot_bias_comparison  # noqa: E402
from toxlab.calibration import (  # noqa: E402
    apply_temperature, calibrate, expected_calibration_error, fit_temperature, reliability_diagram, validation_rows,
)
from toxlab.data import load_jigsaw, load_train_rows  # noqa: E402
from toxlab.inference import predict_logits, probabilities  # noqa: E402
from toxlab.metrics import scores  # noqa: E402
from toxlab.models import load_classifier, quiet  # noqa: E402
from toxlab.saved import model_logit_shift, model_temperature, model_threshold, read_training_meta  # noqa: E402
from toxlab.training import train  # noqa: E402

MITIGATIONS = ("identity-nontoxic", "counterfactual")


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


def score_variant(name: str, out: Path, ds, ident) -> dict:
    """Calibrate (again: the folder's config.json gets T, b and the re-tuned threshold), then score test rows and
    the identity set with the model's own threshold; also the test ECE of a temperature alone, for comparison."""
    model, tokenizer = load_classifier(out)
    rec = calibrate(out, ds, model=model, tokenizer=tokenizer, force=True)
    print(f"[{name}] calibrated: T={rec['temperature']:.3f}, shift {rec['shift']:+.3f}, validation ECE "
          f"{rec['ece_before']:.4f} -> {rec['ece_after']:.4f}, threshold {rec['threshold_before']:.3f} -> "
          f"{rec['threshold']:.3f}", flush=True)
    t, b, threshold = model_temperature(model), model_logit_shift(model), model_threshold(model)
    val_texts, val_y, _ = validation_rows(out, ds)
    t_alone = fit_temperature(predict_logits(val_texts, model, tokenizer), val_y)
    test = ds["test"]
    logits = predict_logits(list(test["comment_text"]), model, tokenizer)
    raw, cal = probabilities(logits)[:, 1], probabilities(logits, t, b)[:, 1]
    y = np.asarray(test["label"])
    s = scores(y, cal, threshold)
    id_logits = predict_logits(ident["text"].tolist(), model, tokenizer)
    rep = bias_report(ident["label"].to_numpy(), probabilities(id_logits, t, b)[:, 1], ident["term"].to_numpy(),
                      ident["group"].to_numpy(), threshold, texts=ident["text"].tolist())
    meta = read_training_meta(out)
    return {"name": name, "dir": str(out), "threshold": threshold, "temperature": t, "shift": b, "t_alone": t_alone,
            "ece_t_alone": expected_calibration_error(y, apply_temperature(logits, t_alone)[:, 1]),
            "test_auc": s["roc_auc"], "test_f1": s["f1"],
            "ece_before": expected_calibration_error(y, raw), "ece_after": expected_calibration_error(y, cal),
            "train_rows": meta["train_rows"], "augmentation": meta.get("augmentation"),
            "bias": rep, "raw": raw, "cal": cal, "y": y}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(SHARED / "jigsaw-sample"))
    ap.add_argument("--extra", default=str(SHARED / "jigsaw-extra" / "train_extra.csv"))
    ap.add_argument("--preset", default="quick", choices=["quick", "cpu"])
    ap.add_argument("--methods", nargs="+", default=list(MITIGATIONS), choices=MITIGATIONS)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default=str(ROOT / "runs" / "bench-bias"))
    ap.add_argument("--reuse", action="store_true", help="score model folders already in --out instead of training")
    args = ap.parse_args(argv)
    quiet()
    import torch

    print(f"torch threads {torch.get_num_threads()}, load average {tuple(round(x, 2) for x in os.getloadavg())}",
          flush=True)
    ds = load_jigsaw(args.data)
    if args.extra:
        ds["extra"] = load_train_rows(args.extra)
    ident = identity_set()
    out = Path(args.out)
    results, seconds = [], {}
    for name in ["baseline", *args.methods]:
        seconds[name] = train_variant(name, out / f"{args.preset}-{name}", args, ds)
        results.append(score_variant(name, out / f"{args.preset}-{name}", ds, ident))
        results[-1]["train_s"] = seconds[name]

    rows = [("model folder", lambda r: Path(r["dir"]).name, "{}"),
            ("train rows (incl. added)", lambda r: r["train_rows"], "{:,}"),
            ("train seconds", lambda r: r["train_s"], "{:.0f}"),
            ("threshold (calibrated P)", lambda r: r["threshold"], "{:.3f}"),
            ("temperature T (with shift)", lambda r: r["temperature"], "{:.3f}"),
            ("toxic-logit shift b", lambda r: r["shift"], "{:+.3f}"),
            ("T alone (no shift)", lambda r: r["t_alone"], "{:.3f}"),
            ("test ROC-AUC", lambda r: r["test_auc"], "{:.4f}"),
            ("test macro F1 @ own thr", lambda r: r["test_f1"], "{:.4f}"),
            ("test ECE raw", lambda r: r["ece_before"], "{:.4f}"),
            ("test ECE, T alone", lambda r: r["ece_t_alone"], "{:.4f}"),
            ("test ECE, T and shift", lambda r: r["ece_after"], "{:.4f}"),
            ("identity overall AUC", lambda r: r["bias"].summary["overall_auc"], "{:.4f}"),
            ("FPR spread @ own thr", lambda r: r["bias"].summary["fpr_spread"], "{:.3f}"),
            ("  highest-FPR term", lambda r: "{} {:.2f}".format(*r["bias"].summary["fpr_highest"]), "{}"),
            ("  mean FPR", lambda r: r["bias"].summary["mean_fpr"], "{:.3f}"),
            ("FNR spread @ own thr", lambda r: r["bias"].summary["fnr_spread"], "{:.3f}"),
            ("  mean FNR", lambda r: r["bias"].summary["mean_fnr"], "{:.3f}"),
            ("worst subgroup AUC", lambda r: r["bias"].summary["worst_subgroup_auc"], "{:.4f}"),
            ("  worst subgroup term", lambda r: r["bias"].summary["worst_subgroup_term"], "{}"),
            ("min BPSN AUC", lambda r: r["bias"].summary["min_bpsn_auc"], "{:.4f}"),
            ("min BNSP AUC", lambda r: r["bias"].summary["min_bnsp_auc"], "{:.4f}"),
            ("final bias metric", lambda r: r["bias"].summary["final_metric"], "{:.4f}")]
    width = 2 + max(len(x) for r in results for x in [r["name"]] + [fmt.format(get(r)) for _, get, fmt in rows])
    print(f"\npreset {args.preset}, seed {args.seed}; test = {len(results[0]['y'])} rows of {args.data}; "
          f"identity set = {len(ident)} rows ({ident['term'].nunique()} terms)")
    print(f"{'':<26}" + "".join(f"{r['name']:>{width}}" for r in results))
    for label, get, fmt in rows:
        print(f"{label:<26}" + "".join(f"{fmt.format(get(r)):>{width}}" for r in results))

    base = results[0]
    print("\nacceptance (issue #16), each mitigation against the baseline:")
    verdicts = {}
    for r in results[1:]:
        b, m = base["bias"].summary, r["bias"].summary
        ratio = m["fpr_spread"] / b["fpr_spread"] if b["fpr_spread"] > 0 else float("nan")
        checks = {
            "FPR spread halved": (m["fpr_spread"] <= 0.5 * b["fpr_spread"],
                                  f"{b['fpr_spread']:.3f} -> {m['fpr_spread']:.3f} (x{ratio:.2f}; needs <= x0.50)"),
            "worst subgroup AUC raised": (m["worst_subgroup_auc"] > b["worst_subgroup_auc"],
                                          f"{b['worst_subgroup_auc']:.4f} -> {m['worst_subgroup_auc']:.4f} "
                                          f"({m['worst_subgroup_auc'] - b['worst_subgroup_auc']:+.4f})"),
            "test ROC-AUC cost <= 0.01": (r["test_auc"] >= base["test_auc"] - 0.01,
                                          f"{base['test_auc']:.4f} -> {r['test_auc']:.4f} "
                                          f"({r['test_auc'] - base['test_auc']:+.4f})"),
        }
        verdicts[r["name"]] = {k: bool(ok) for k, (ok, _) in checks.items()}
        for k, (ok, txt) in checks.items():
            print(f"  {r['name']:<18} {k:<28} {'MET' if ok else 'MISSED':<7} {txt}")

    print("\ncalibration (issue #16: it lowers the ECE on the test split), each model:")
    for r in results:
        ok = r["ece_after"] < r["ece_before"]
        verdicts.setdefault(r["name"], {})["test ECE lowered"] = bool(ok)
        print(f"  {r['name']:<18} {'test ECE lowered':<28} {'MET' if ok else 'MISSED':<7} {r['ece_before']:.4f} -> "
              f"{r['ece_after']:.4f} with T and shift (T alone: {r['ece_t_alone']:.4f})")

    plot_bias_comparison({r["name"]: r["bias"] for r in results},
                         title=f"{args.preset} recipe: bias before and after mitigation (identity test set)",
                         path=out / "bias_before_after.png")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4.6 * len(results), 4.6), squeeze=False)
    for ax, r in zip(axes[0], results):
        ax.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1)
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="mean P(toxic) in bin", ylabel="share of toxic rows in bin",
               title=f"{r['name']}: test rows")
        reliability_diagram(r["y"], r["raw"], label="raw", ax=ax)
        reliability_diagram(r["y"], r["cal"], label=f"T={r['temperature']:.2f}, b={r['shift']:+.2f}", ax=ax)
    fig.tight_layout()
    fig.savefig(out / "reliability.png", dpi=120)
    summary = {r["name"]: {k: v for k, v in r.items() if k not in ("bias", "raw", "cal", "y")}
               | {"bias": r["bias"].summary} for r in results}
    (out / "results.json").write_text(json.dumps({"preset": args.preset, "seed": args.seed, "models": summary,
                                                  "acceptance": verdicts}, indent=2, default=str))
    for r in results:
        r["bias"].per_term.to_csv(out / f"terms-{r['name']}.csv", index=False)
    print(f"\nwrote {out / 'bias_before_after.png'}, {out / 'reliability.png'}, {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
