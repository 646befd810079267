"""The `toxlab` command: demo-data, tour, train, evaluate, predict, bias.

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


# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------

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


COMMANDS: dict[str, tuple[type, Callable, str]] = {
    "demo-data": (DemoDataArgs, cmd_demo_data, "write synthetic demo data in the Kaggle layout"),
    "tour": (TourArgs, cmd_tour, "load the data and the model, print label counts, class weights and the original four predictions"),
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
            parser.add_argument(f.name, help=help_text, **meta)
        elif f.type in ("bool", bool):
            parser.add_argument(f"--{name}", dest=f.name, action="store_true", help=help_text)
        else:
            typ = {"int": int, "float": float}.get(str(f.type).replace("Optional[", "").rstrip("]"), str)
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
        run(cls(**args))
    except (DataError, ModelNotFoundError, FileExistsError, FileNotFoundError, ValueError, TypeError) as e:
        print(f"toxlab: error: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
