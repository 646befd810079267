"""The `toxlab` command: doctor, demo-data, tour, train, evaluate, predict, bias.

Each subcommand's options are a small dataclass whose fields carry their help text;
bad input ends in one `toxlab: error: ...` line and exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

ORIGINAL_SENTENCES = ["you are white", "you are asian", "you are latin", "You are black"]


def opt(help: str, default=None, **kw):
    """A dataclass field that carries its argparse help text."""
    return field(default=default, metadata={"help": help, **kw})


# ---------------------------------------------------------------------------
# options, one dataclass per subcommand
# ---------------------------------------------------------------------------

@dataclass
class DoctorArgs:
    instructor: bool = opt("also require what grading needs (the toxlab-sandbox kernel)", False)
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
    preset: str = opt("recipe: seed (the original), cpu (a 2-core CPU, under 8 minutes), quick (the older CPU recipe), gpu",
                      "cpu", choices=["seed", "cpu", "quick", "gpu"])
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


@dataclass
class EvaluateArgs:
    model: str = opt("saved model folder (from toxlab train)", required=True)
    data: Optional[str] = opt("Kaggle folder or zip whose scored test rows are evaluated")
    label: str = opt("which Jigsaw label the model predicts", "toxic")
    threshold: Optional[float] = opt("decision threshold on P(toxic) (default: the one saved with the model)")
    plots: Optional[str] = opt("write confusion_matrix.png, precision_recall.png, label_counts.png here")
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
    from .data import class_counts, class_weights, is_synthetic, label_counts, load_jigsaw
    from .inference import predict
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
                disable_tqdm=False, **overrides)
    if res.trainer.is_world_process_zero():
        v = res.validation
        print(f"saved best model to {res.model_dir} (threshold {res.threshold:.3f}; validation: "
              f"ROC-AUC {v['roc_auc']:.4f}, macro F1 {v['f1']:.4f})")


def _scored(model_dir: str, texts: list[str], threshold, batch_size: int):
    from .inference import predict
    from .models import load_classifier, quiet

    quiet()
    model, tokenizer = load_classifier(model_dir)
    return predict(texts, model, tokenizer, batch_size=batch_size, threshold=threshold, progress=len(texts) > 256), model


def cmd_evaluate(a: EvaluateArgs) -> None:
    import json

    from .data import load_jigsaw
    from .inference import model_threshold
    from .metrics import plot_confusion_matrix, plot_label_counts, plot_precision_recall, report, scores

    ds = load_jigsaw(a.data, label=a.label)
    test = ds["test"]
    results, model = _scored(a.model, list(test["comment_text"]), a.threshold, a.batch_size)
    threshold = model_threshold(model) if a.threshold is None else a.threshold
    labels, p = list(test["label"]), [r["p_toxic"] for r in results]
    print(report(labels, p, threshold))
    print(json.dumps({"at_threshold": scores(labels, p, threshold), "at_0.5": scores(labels, p, 0.5)}, indent=1))
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
    from .inference import model_threshold
    from .models import load_classifier, quiet

    templates = read_templates_csv(a.templates) if a.templates else (ORIGINAL_TEMPLATES if a.original else None)
    groups = read_terms_csv(a.terms) if a.terms else (ORIGINAL_GROUPS if a.original else None)
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


COMMANDS: dict[str, tuple[type, Callable, str]] = {
    "doctor": (DoctorArgs, cmd_doctor, "check this environment for the labs: one line per item, with the fix; exit 1 if something is missing"),
    "demo-data": (DemoDataArgs, cmd_demo_data, "write synthetic demo data in the Kaggle layout"),
    "tour": (TourArgs, cmd_tour, "load the data and the model, print label counts, class weights and the original four predictions"),
    "train": (TrainArgs, cmd_train, "fine-tune a classifier with class weights and save the best model with its threshold"),
    "evaluate": (EvaluateArgs, cmd_evaluate, "metrics and the classification report on the scored test rows"),
    "predict": (PredictArgs, cmd_predict, "score texts (arguments, stdin or a CSV) with a saved model"),
    "bias": (BiasArgs, cmd_bias, "run the identity-swap bias probe on a model"),
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


if __name__ == "__main__":
    sys.exit(main())
