"""The `toxlab` command: doctor, demo-data, tour, train, evaluate, predict, bias, explain.

Each subcommand's options are a small dataclass whose fields carry their help text;
bad input ends in one `toxlab: error: ...` line and exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from .recipe import DEFAULT_PRESET, PRESETS

ORIGINAL_SENTENCES = ["you are white", "you are asian", "you are latin", "You are black"]


def opt(help: str, default=None, **kw):
    """A dataclass field that carries its argparse help text."""
    return field(default=default, metadata={"help": help, **kw})


# ---------------------------------------------------------------------------
# options, one dataclass per subcommand
# ---------------------------------------------------------------------------

@dataclass
class DoctorArgs:
    instructor: bool = opt("also require what grading needs (the grading sandbox: bubblewrap)", False)
    demo_ok: bool = opt("accept generated demo data when no Jigsaw data is found (else that is a failure)", False)


@dataclass
class DemoDataArgs:
    dir: str = opt("folder to write train.csv, test.csv, test_labels.csv into", positional=True)
    n_train: int = opt("number of train rows", 2000)
    n_test: int = opt("number of test rows (about 20%% are unscored -1 rows)", 500)
    seed: int = opt("random seed; the same seed writes the same bytes", 0)
    force: bool = opt("replace files that already exist in DIR", False)


@dataclass
class TourArgs:
    data: Optional[str] = opt("Kaggle folder or zip (default: $TOXLAB_DATA, ./jigsaw_toxicity_pred, else demo data)")
    model: str = opt("model to load: a saved folder, 'minilm', or a Hub id", "minilm")


@dataclass
class TrainArgs:
    data: Optional[str] = opt("Kaggle folder or zip (default: $TOXLAB_DATA, ./jigsaw_toxicity_pred, else demo data)")
    model: str = opt("model to fine-tune: a saved folder, 'minilm', or a Hub id", "minilm")
    preset: str = opt("recipe (toxlab.recipe.PRESETS): seed (the original), cpu (a 2-core CPU, under 8 minutes), "
                      "quick (the older CPU recipe), gpu", DEFAULT_PRESET, choices=list(PRESETS))
    out: str = opt("folder for the best model, tokenizer and threshold", "saved_models/best_model")
    label: str = opt("which Jigsaw label to learn", "toxic")
    extra: Optional[str] = opt("CSV of more labelled rows in train.csv's layout, for training only (the cpu preset draws a toxic-enriched subset)")
    max_train_samples: Optional[int] = opt("stratified subset of train (default: the preset's)")
    validation_size: Optional[float] = opt("share (below 1) or number of train rows held out to pick the best epoch and the threshold (default: the preset's)")
    epochs: Optional[float] = opt("override the preset's number of epochs")
    learning_rate: Optional[float] = opt("override the preset's learning rate")
    batch_size: Optional[int] = opt("override the per-device train batch size")
    seed: int = opt("random seed for the split, the subset and training", 42)
    cpu: bool = opt("train on the CPU even when a GPU is present (also for torchrun with gloo)", False)
    resume: bool = opt("continue an interrupted run from its last checkpoint in OUT", False)
    force: bool = opt("replace a model that already exists in OUT", False)
    augment: Optional[str] = opt("bias mitigation (toxlab.augment): counterfactual copies of identity-mentioning rows "
                                 "(swapped terms), identity-nontoxic (Dixon-style templated sentences), identity-real "
                                 "(real non-toxic identity comments of the training rows, balanced per term), "
                                 "identity-combined (the last two), identity-diverse (as many templated sentences as "
                                 "identity-nontoxic, drawn from 80 shapes and registers)",
                                 choices=["counterfactual", "identity-nontoxic", "identity-real", "identity-combined",
                                          "identity-diverse"])
    augment_max_rows: Optional[int] = opt("cap on the rows --augment adds (default: 10%% of the subset for counterfactual, "
                                          "all 1,220 sentences for identity-nontoxic)")
    calibrate: bool = opt("fit a temperature and a toxic-logit shift on the validation split and save them with "
                          "the model (predictions become calibrated; the threshold is tuned on them)", False)
    calibration: str = opt("with --calibrate: 'platt' fits the temperature and the shift (class-weighted "
                           "training shifts the base rate, which a temperature alone cannot undo), "
                           "'temperature' the temperature alone", "platt", choices=["platt", "temperature"])
    no_lexical: bool = opt("leave out the cpu preset's TF-IDF part (toxlab.lexical) and save the transformer alone", False)
    prevalence: Optional[float] = opt("share of toxic comments where the model will be used; the threshold maximises "
                                      "the expected macro F1 at it, from the rows training did not use (default: "
                                      "the train rows' own share, about 0.096 on Jigsaw)")


@dataclass
class EvaluateArgs:
    model: str = opt("saved model folder (from toxlab train)", required=True)
    data: Optional[str] = opt("Kaggle folder or zip whose scored test rows are evaluated")
    label: str = opt("which Jigsaw label the model predicts", "toxic")
    threshold: Optional[float] = opt("decision threshold on P(toxic) (default: the one saved with the model)")
    prevalence: Optional[float] = opt("re-derive the threshold for this share of toxic comments (e.g. 0.02 for a "
                                      "forum with fewer toxic posts) from the held-out scores saved with the model, "
                                      "without retraining; instead of --threshold")
    plots: Optional[str] = opt("write confusion_matrix.png, precision_recall.png, label_counts.png here")
    bootstrap: int = opt("bootstrap resamples for the 95%% intervals of macro F1 and ROC-AUC", 1000)
    batch_size: int = opt("inference batch size", 64)


@dataclass
class PredictArgs:
    text: Optional[list] = opt("texts to score (none: read one per line from stdin)", positional=True, nargs="*")
    model: str = opt("saved model folder, 'minilm' or a Hub id", required=True)
    input: Optional[str] = opt("CSV file to score instead of TEXT")
    text_column: str = opt("column of --input holding the text", "comment_text")
    output: Optional[str] = opt("CSV to write: the input columns plus p_toxic and label")
    threshold: Optional[float] = opt("decision threshold on P(toxic) (default: the one saved with the model)")
    batch_size: int = opt("inference batch size", 64)
    force: bool = opt("replace --output if it exists", False)


@dataclass
class BiasArgs:
    model: str = opt("saved model folder, 'minilm' or a Hub id", required=True)
    templates: Optional[str] = opt("CSV with a `template` column, each holding {term} once (default: built in)")
    terms: Optional[str] = opt("CSV with `group` and `term` columns (default: built-in identity terms)")
    threshold: Optional[float] = opt("decision threshold on P(toxic) (default: the one saved with the model)")
    out: Optional[str] = opt("write bias_terms.csv, bias_groups.csv, bias_summary.json, bias.png here")
    original: bool = opt("run only the original lab's four sentences", False)
    metrics: bool = opt("also score the identity test set (toxic and non-toxic templates): per-term FPR, FNR, "
                        "pinned AUC, per-identity subgroup/BPSN/BNSP AUC, the final bias metric", False)
    identity_set: Optional[str] = opt("CSV with text, label (0/1), term[, group] to use for --metrics instead of "
                                      "the built-in set (implies --metrics)")


@dataclass
class ExplainArgs:
    text: Optional[list] = opt("texts to explain (none: read one per line from stdin)", positional=True, nargs="*")
    model: str = opt("saved model folder, 'minilm' or a Hub id", required=True)
    method: str = opt("attribution method: ig (integrated gradients), occlusion, gxi (gradient x input), attention", "ig")
    out: str = opt("folder to write explanations.html and explanations.png into", "explanations")
    force: bool = opt("replace explanations.html and explanations.png if they exist in OUT", False)
    steps: int = opt("integrated gradients: interpolation steps (more: slower, closer to completeness)", 32)
    faithfulness: bool = opt("instead, print the faithfulness table (AOPC comprehensiveness and sufficiency) "
                             "of every method and a random baseline", False)
    data: Optional[str] = opt("with --faithfulness: Kaggle folder or zip whose scored test comments are used, a CSV "
                              "with a comment_text column, or - for one text a line on stdin (default: TEXT, else "
                              "$TOXLAB_DATA, ./jigsaw_toxicity_pred, else demo data)")
    n: int = opt("with --faithfulness: number of comments (a seeded random sample of the non-empty ones)", 50)
    seed: int = opt("with --faithfulness: seed of the sample and of the random baseline", 0)


# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------

def cmd_doctor(a: DoctorArgs) -> int:
    from .doctor import doctor, exit_code

    return exit_code(doctor(instructor=a.instructor, require_data=not a.demo_ok))


def cmd_demo_data(a: DemoDataArgs) -> None:
    from .data import make_demo_data

    folder = make_demo_data(a.dir, n_train=a.n_train, n_test=a.n_test, seed=a.seed, overwrite=a.force)
    print(f"wrote synthetic demo data ({a.n_train} train / {a.n_test} test rows, seed {a.seed}) to {folder}")


def cmd_tour(a: TourArgs) -> None:
    from .data import class_counts, is_synthetic, label_counts, load_jigsaw
    from .inference import predict
    from .recipe import class_weights
    from .models import load_classifier, quiet

    quiet()
    # 1. data
    ds = load_jigsaw(a.data)
    print("\npositive rows per label:")
    print(f"  {'label':<14}{'train':>9}{'test':>9}")
    train_counts, test_counts = label_counts(ds["train"]), label_counts(ds["test"])
    for name in train_counts:
        print(f"  {name:<14}{train_counts[name]:>9,}{test_counts[name]:>9,}")
    counts = class_counts(ds["train"])
    weights = class_weights(counts)
    print(f"\nclass counts (Non-Toxic, Toxic) in train: {counts}")
    print(f"class weights (inverse frequency, sum 1): {[round(float(w), 4) for w in weights]}")
    # 2. model and the four sentences of the original lab
    model, tokenizer = load_classifier(a.model)
    untrained = a.model == "minilm"
    print(f"\nmodel: {a.model}" + (" -- its classifier head is UNTRAINED (random), so these "
                                 "predictions mean nothing yet; `toxlab train` fine-tunes it." if untrained else ""))
    for text, r in zip(ORIGINAL_SENTENCES, predict(ORIGINAL_SENTENCES, model, tokenizer)):
        print(f"  {text!r:<18} -> {r['label']:<9} p_toxic={r['p_toxic']:.3f}")
    if is_synthetic(ds):
        print("\nnote: the data above is SYNTHETIC demo data; set TOXLAB_DATA to the Kaggle folder for real figures.")


def cmd_train(a: TrainArgs) -> None:
    from .data import load_jigsaw, load_train_rows
    from .saved import model_lexical_weight
    from .models import load_classifier, quiet
    from .training import train

    quiet()
    import transformers

    transformers.logging.disable_progress_bar()  # model loading; Trainer keeps its own bar
    overrides = {k: v for k, v in {"num_train_epochs": a.epochs, "learning_rate": a.learning_rate,
                                    "per_device_train_batch_size": a.batch_size}.items() if v is not None}
    if a.cpu:
        overrides["use_cpu"] = True
    ds = load_jigsaw(a.data, label=a.label)
    if a.extra:
        ds["extra"] = load_train_rows(a.extra, label=a.label)
    model, tokenizer = load_classifier(a.model)
    res = train(ds, model, tokenizer, preset=a.preset, output_dir=a.out, validation_size=a.validation_size,
                max_train_samples=a.max_train_samples, seed=a.seed, resume=a.resume, overwrite=a.force,
                disable_tqdm=False, augment=a.augment, augment_max_rows=a.augment_max_rows,
                calibrate=a.calibrate and a.calibration, lexical=not a.no_lexical, prevalence=a.prevalence,
                **overrides)
    if res.trainer.is_world_process_zero():
        v = res.validation
        if res.augmentation:
            print(f"augmentation {res.augmentation['method']}: added {res.augmentation['rows_added']} rows")
        cal = f", temperature {res.temperature:.3f}" if res.temperature is not None else ""
        cal += f", logit shift {res.shift:+.3f}" if res.shift is not None else ""
        weight = model_lexical_weight(res.trainer.model)
        cal += f", TF-IDF part at weight {weight}" if weight is not None else ""
        print(f"saved best model to {res.model_dir} (threshold {res.threshold:.3f}{cal}; validation: "
              f"ROC-AUC {v['roc_auc']:.4f}, macro F1 {v['f1']:.4f})")
        c = res.threshold_choice
        if c:
            print(f"threshold {c['threshold']:.3f} [95% CI {c['threshold_interval'][0]:.3f}, {c['threshold_interval'][1]:.3f}] "
                  f"for prevalence {c['prevalence']:.3f}, from {c['rows']:,} rows training did not use ({c['toxic']:,} "
                  f"toxic); expected macro F1 there {c['f1']:.4f} [{c['f1_interval'][0]:.3f}, {c['f1_interval'][1]:.3f}]")


def _scored(model_dir: str, texts: list[str], threshold, batch_size: int):
    from .inference import predict
    from .models import load_classifier, quiet

    quiet()
    model, tokenizer = load_classifier(model_dir)
    return predict(texts, model, tokenizer, batch_size=batch_size, threshold=threshold, progress=len(texts) > 256), model


def cmd_evaluate(a: EvaluateArgs) -> None:
    import json

    import numpy as np
    from sklearn.metrics import roc_auc_score

    from .data import load_jigsaw
    from .metrics import (bootstrap_interval, macro_f1, plot_confusion_matrix, plot_label_counts, plot_precision_recall,
                          report, scores, threshold_choice)
    from .saved import HELDOUT_FILE, model_threshold, model_threshold_choice, read_heldout_scores

    if a.threshold is not None and a.prevalence is not None:
        raise ValueError("give --threshold or --prevalence, not both.")
    if a.prevalence is not None:  # fail on a folder without held-out scores before scoring anything
        held = read_heldout_scores(a.model)
        if held is None:
            raise FileNotFoundError(f"--prevalence: {a.model} has no {HELDOUT_FILE} (a model `toxlab train` saved "
                                    "writes one); retrain it, or pass --threshold.")
        choice = threshold_choice(held["label"], held["p_toxic"], a.prevalence)
    ds = load_jigsaw(a.data, label=a.label)
    test = ds["test"]
    results, model = _scored(a.model, list(test["comment_text"]), a.threshold, a.batch_size)
    labels, p = list(test["label"]), [r["p_toxic"] for r in results]
    if a.prevalence is not None:
        threshold, how = choice["threshold"], (
            f"re-derived for prevalence {choice['prevalence']:.3f} from {choice['rows']:,} held-out rows "
            f"({choice['toxic']:,} toxic): 95% CI [{choice['threshold_interval'][0]:.3f}, "
            f"{choice['threshold_interval'][1]:.3f}], expected macro F1 there {choice['f1']:.4f}")
    elif a.threshold is not None:
        threshold, how = a.threshold, "given with --threshold"
    else:
        threshold, saved_choice = model_threshold(model), model_threshold_choice(model)
        how = "saved with the model" + (
            f", for prevalence {saved_choice['prevalence']:.3f}: 95% CI [{saved_choice['threshold_interval'][0]:.3f}, "
            f"{saved_choice['threshold_interval'][1]:.3f}]" if saved_choice else " (no prevalence recorded)")
    print(f"threshold {threshold:.3f} ({how})")
    print(report(labels, p, threshold))
    at = scores(labels, p, threshold)
    y, decided = np.asarray(labels), (np.asarray(p) >= threshold).astype(int)
    if len(np.unique(y)) == 2:  # intervals need both classes among the scored rows
        at["f1_interval"] = list(bootstrap_interval(macro_f1, y, decided, n_boot=a.bootstrap))
        at["roc_auc_interval"] = list(bootstrap_interval(roc_auc_score, y, np.asarray(p), n_boot=a.bootstrap))
        print(f"macro F1 at threshold {threshold:.3f}: {at['f1']:.4f} [95% CI {at['f1_interval'][0]:.3f}, "
              f"{at['f1_interval'][1]:.3f}] on {len(y):,} rows ({int(y.sum()):,} toxic); ROC-AUC {at['roc_auc']:.4f} "
              f"[{at['roc_auc_interval'][0]:.3f}, {at['roc_auc_interval'][1]:.3f}]")
    print(json.dumps({"at_threshold": at, "at_0.5": scores(labels, p, 0.5)}, indent=1))
    if a.plots:
        out = Path(a.plots)
        out.mkdir(parents=True, exist_ok=True)
        plot_confusion_matrix(labels, p, threshold).savefig(out / "confusion_matrix.png", dpi=120)
        plot_precision_recall(labels, p, threshold).savefig(out / "precision_recall.png", dpi=120)
        plot_label_counts(ds).savefig(out / "label_counts.png", dpi=120)
        print(f"wrote plots to {out}")


def cmd_predict(a: PredictArgs) -> None:
    import pandas as pd

    if a.input and a.text:
        raise ValueError("give TEXT arguments or --input FILE.csv, not both.")
    if a.output and Path(a.output).exists() and not a.force:
        raise FileExistsError(f"{a.output}: already exists; pass --force to replace it.")
    if a.input:
        from .data import read_table

        df = read_table(a.input, a.text_column)
        texts = df[a.text_column].tolist()
    else:
        texts = a.text or [line.rstrip("\n") for line in sys.stdin if line.strip()]
        df = pd.DataFrame({"text": texts})
    results, _ = _scored(a.model, texts, a.threshold, a.batch_size)
    df["p_toxic"] = [round(r["p_toxic"], 6) for r in results]
    df["label"] = [r["label"] for r in results]
    if a.output:
        df.to_csv(a.output, index=False)
        print(f"wrote {len(df)} rows to {a.output}")
    else:
        for text, r in zip(texts, results):
            print(f"{r['label']}\t{r['p_toxic']:.4f}\t{text}")


def cmd_bias(a: BiasArgs) -> None:
    import json

    from .bias import (ORIGINAL_GROUPS, ORIGINAL_TEMPLATES, model_predictor, plot_bias, probe,
                       read_templates_csv, read_terms_csv)
    from .saved import model_threshold
    from .models import load_classifier, quiet

    templates = read_templates_csv(a.templates) if a.templates else (ORIGINAL_TEMPLATES if a.original else None)
    groups = read_terms_csv(a.terms) if a.terms else (ORIGINAL_GROUPS if a.original else None)
    if a.identity_set:
        from .bias import read_identity_csv

        identity_rows = read_identity_csv(a.identity_set)  # fail on a bad file before loading the model
    quiet()
    model, tokenizer = load_classifier(a.model)
    threshold = model_threshold(model) if a.threshold is None else a.threshold
    rep = probe(model_predictor(model, tokenizer), templates, groups, threshold)
    import pandas as pd

    with pd.option_context("display.width", 120, "display.max_rows", 200):
        print(rep.per_term.round(4).to_string(index=False))
        print()
        print(rep.per_group.round(4).to_string(index=False))
    print("\nsummary:", json.dumps(rep.summary))
    if a.out:
        out = Path(a.out)
        out.mkdir(parents=True, exist_ok=True)
        rep.per_term.to_csv(out / "bias_terms.csv", index=False)
        rep.per_group.to_csv(out / "bias_groups.csv", index=False)
        (out / "bias_summary.json").write_text(json.dumps({"model": a.model, **rep.summary}, indent=2))
        plot_bias(rep, title=f"Identity-swap probe: {a.model}").savefig(out / "bias.png", dpi=120)
        print(f"wrote bias_terms.csv, bias_groups.csv, bias_summary.json, bias.png to {out}")
    if a.metrics or a.identity_set:
        from .bias import measure, plot_error_rates, plot_identity_aucs

        m = measure(model_predictor(model, tokenizer), identity_rows if a.identity_set else None, threshold)
        table = m.per_term
        with pd.option_context("display.width", 160, "display.max_rows", 500):
            print("\nidentity test set, per term (FPR, FNR at the threshold; AUCs):")
            print(table.round(4).to_string(index=False))
        print("\nbias metrics:", json.dumps(m.summary))
        if a.out:
            table.to_csv(out / "bias_metrics_terms.csv", index=False)
            (out / "bias_metrics_summary.json").write_text(json.dumps({"model": a.model, **m.summary}, indent=2))
            plot_error_rates(m, title=f"Error rates per term: {a.model}", path=out / "bias_error_rates.png")
            plot_identity_aucs(m, title=f"AUCs per identity: {a.model}", path=out / "bias_aucs.png")
            print(f"wrote bias_metrics_terms.csv, bias_metrics_summary.json, bias_error_rates.png, bias_aucs.png to {out}")


def _explain_texts(a: ExplainArgs) -> list[str]:
    """TEXT arguments, else one text a line from stdin (refused when stdin is a terminal)."""
    if a.text:
        return list(a.text)
    if sys.stdin is None or sys.stdin.isatty():
        raise ValueError("TEXT: none given; pass texts to explain as arguments or pipe them in, one a line.")
    texts = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise ValueError("TEXT: stdin held no text; pass texts as arguments or pipe them in, one a line.")
    return texts


def _faithfulness_texts(a: ExplainArgs) -> tuple[list[str], str]:
    """(up to n non-empty texts, where they came from): TEXT, stdin (--data -), a CSV, or Jigsaw's scored test rows."""
    import numpy as np

    if a.n < 1:
        raise ValueError(f"--n {a.n}: give a number of comments >= 1.")
    if a.text and a.data:
        raise ValueError("give TEXT arguments or --data, not both.")
    if a.text:
        texts, source = list(a.text), "TEXT arguments"
    elif a.data == "-":
        texts, source = [line.rstrip("\n") for line in sys.stdin], "stdin"
    elif a.data and a.data.lower().endswith(".csv") and Path(a.data).is_file():
        from .data import read_table

        texts, source = read_table(a.data, "comment_text")["comment_text"].tolist(), a.data
    else:
        from .data import load_jigsaw

        texts, source = list(load_jigsaw(a.data)["test"]["comment_text"]), f"the scored test rows of {a.data or 'the default data'}"
    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    if not texts:
        raise ValueError(f"--data: {source} held no non-empty text.")
    if len(texts) > a.n:
        keep = np.sort(np.random.default_rng(a.seed).choice(len(texts), a.n, replace=False))
        texts = [texts[i] for i in keep]
    return texts, source


def _bar(score: float, top: float, width: int = 24) -> str:
    n = round(width * abs(score) / top) if top > 0 else 0
    return ("+" if score > 0 else "-") * n


def cmd_explain(a: ExplainArgs) -> None:
    import time

    from .explain import METHODS, explain, faithfulness, heatmap_html, plot_heatmap, shared_vmax
    from .inference import predict
    from .saved import model_temperature, model_threshold
    from .saved import model_lexical_weight
    from .models import ModelNotFoundError, load_classifier, quiet

    if a.method not in METHODS:
        raise ValueError(f"--method {a.method}: unknown; use one of {', '.join(METHODS)}.")
    if a.steps < 1:
        raise ValueError(f"--steps {a.steps}: give at least 1 interpolation step (32 is the default).")
    out = Path(a.out)
    files = [out / "explanations.html", out / "explanations.png"]
    if a.faithfulness:
        texts, source = _faithfulness_texts(a)
    else:
        texts = _explain_texts(a)
        for f in files:
            if f.exists() and not a.force:
                raise FileExistsError(f"{f}: already exists; pass --force to replace it (or choose another --out).")
    quiet()
    try:
        model, tokenizer = load_classifier(a.model)
    except ModelNotFoundError as e:
        raise ModelNotFoundError(f"--model {e}") from None
    if a.faithfulness:
        import pandas as pd

        table = faithfulness(model, tokenizer, texts, seed=a.seed, progress=True)
        print(f"faithfulness on {len(texts)} texts from {source} (model {a.model})")
        print(table.attrs["note"])
        with pd.option_context("display.width", 120):
            print(table.round(4).to_string(index=False))
        return
    threshold = model_threshold(model)
    kw = {"n_steps": a.steps} if a.method == "ig" else {}
    attributions, seconds = [], []
    for text in texts:
        t = time.perf_counter()
        attributions.append(explain(model, tokenizer, text, a.method, **kw))
        seconds.append(time.perf_counter() - t)
    # labels as `predict` gives them: a saved TF-IDF blend, temperature and threshold apply (attributions
    # explain the transformer's own softmax)
    results = predict(texts, model, tokenizer)
    how = " and ".join(n for n, on in (("with its TF-IDF part", model_lexical_weight(model) is not None),
                                       ("calibrated", model_temperature(model) is not None)) if on)
    vmax = shared_vmax(attributions)  # one scale for every text (bars, html, png): harmless texts stay pale
    blocks = []
    for text, attr, r, s in zip(texts, attributions, results, seconds):
        adjusted = f" ({how} {r['p_toxic']:.4f})" if abs(r["p_toxic"] - attr.p_toxic) > 1e-4 else ""
        head = f"P(toxic) {attr.p_toxic:.4f}{adjusted} -> {r['label']} (threshold {threshold:.3f})"
        print(f"\n{text!r}\n  {head}; {a.method} per word, + toward toxic ({s:.2f} s)")
        words = attr.words()
        for word, score in zip(words.tokens, words.scores):
            print(f"  {word[:20]:<20} {score:+.4f}  {_bar(score, vmax)}")
        blocks.append(heatmap_html(words.tokens, words.scores, title=f"{text[:120]}  ({head}; {a.method})", vmax=vmax))
    out.mkdir(parents=True, exist_ok=True)
    files[0].write_text("<!doctype html><meta charset='utf-8'><title>toxlab explain</title>\n"
                        f"<p>{a.method} attributions toward Toxic (red) and away from it (blue); model {a.model}</p>\n"
                        + "\n".join(blocks) + "\n", encoding="utf-8")
    plot_heatmap(attributions, files[1])
    print(f"\nwrote {files[0].name} and {files[1].name} to {out}")


COMMANDS: dict[str, tuple[type, Callable, str]] = {
    "doctor": (DoctorArgs, cmd_doctor, "check this environment for the labs: one line per item, with the fix; exit 1 if something is missing"),
    "demo-data": (DemoDataArgs, cmd_demo_data, "write synthetic demo data in the Kaggle layout"),
    "tour": (TourArgs, cmd_tour, "load the data and the model, print label counts, class weights and the original four predictions"),
    "train": (TrainArgs, cmd_train, "fine-tune a classifier with class weights and save the best model with its threshold"),
    "evaluate": (EvaluateArgs, cmd_evaluate, "metrics and the classification report on the scored test rows"),
    "predict": (PredictArgs, cmd_predict, "score texts (arguments, stdin or a CSV) with a saved model"),
    "bias": (BiasArgs, cmd_bias, "run the identity-swap bias probe on a model"),
    "explain": (ExplainArgs, cmd_explain, "which words made the model say toxic: word attributions (html, png), "
                                          "or the faithfulness of each method"),
}


# ---------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------

def _add_dataclass_args(parser: argparse.ArgumentParser, cls: type) -> None:
    for f in dataclasses.fields(cls):
        meta = dict(f.metadata)
        help_text = meta.pop("help")
        positional = meta.pop("positional", False)
        name = f.name.replace("_", "-")
        default = None if f.default is dataclasses.MISSING else f.default
        if positional:
            parser.add_argument(f.name, help=help_text, metavar=f.name.upper(), **meta)
        elif f.type in ("bool", bool):
            parser.add_argument(f"--{name}", dest=f.name, action="store_true", help=help_text)
        else:
            typ = {"int": int, "float": float}.get(str(f.type).replace("Optional[", "").rstrip("]"), str)
            if meta.get("required"):
                default = None
            shown = f" (default: {default})" if default not in (None, "") else ""
            parser.add_argument(f"--{name}", dest=f.name, type=typ, default=default, help=help_text + shown, **meta)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toxlab", description="Fine-tune and probe a BERT toxicity classifier.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (cls, _, help_text) in COMMANDS.items():
        _add_dataclass_args(sub.add_parser(name, help=help_text, description=help_text), cls)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .data import DataError
    from .models import ModelNotFoundError

    args = vars(build_parser().parse_args(argv))
    cls, run, _ = COMMANDS[args.pop("command")]
    try:
        status = run(cls(**args))
    except (DataError, ModelNotFoundError, FileExistsError, FileNotFoundError, ValueError, TypeError) as e:
        print(f"toxlab: error: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
        return 2
    return status or 0


# read-only commands: nothing of theirs is left to finish once main() returns
FAST_EXIT = {"doctor", "tour", "evaluate", "predict", "bias", "explain"}


def entry() -> None:
    """The `toxlab` console script: main(), then, for a read-only command, exit without the interpreter's
    teardown of torch and transformers (1.2 s of a 5 s `toxlab explain`: module finalization, no work left)."""
    status = main()
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    if command in FAST_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":
    entry()
