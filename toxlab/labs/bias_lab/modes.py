"""Lab 6c's run modes: which model it measures, on how many rows, and whether it retrains.

  gpu   : the model lab 6a saved; the whole identity set and test split; retrains with the gpu preset
  cpu   : the same model; the whole identity set, at most 2,000 test rows; retrains with the cpu recipe
          (the one lab 6a's cpu mode uses, a few minutes on a laptop)
  grade : under nbgrader: a tiny random BERT, a slice of the identity set, demo data, no retraining (seconds)

The model is the one lab 6a saved, found as in lab 6b (toxlab.labs.find_saved_model: $TOXLAB_MODEL_DIR,
else saved_models/ beside the notebook, then ../toxicity_lab/saved_models/); when there is none the
cpu recipe is trained into saved_models/cpu-recipe first. The mitigated model goes to
saved_models/mitigated-<method>/, and a folder already there is loaded, not trained over.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import SAVED, detect_mode, find_saved_model


@dataclass
class BiasConfig:
    """Everything that differs between the notebook's modes."""

    mode: str  # gpu | cpu | grade
    model_dir: str | None  # the model measured; None in grade mode (a tiny random BERT) or when none exists yet
    data: str | None  # a Kaggle folder/zip; None follows load_jigsaw's lookup order
    templates: int | None  # templates of each polarity in the identity set (None: all of them)
    test_rows: int | None  # test rows scored for AUC, F1 and calibration (None: all)
    preset: str | None  # the recipe the mitigated model is trained with (None: no retraining)
    note: str = ""

    def describe(self) -> str:
        return (f"mode={self.mode}: {self.note}\n  model={self.model_dir or '(none yet)'}, "
                f"data={self.data or 'lookup order'}, test rows={self.test_rows or 'all'}, "
                f"retraining preset={self.preset or 'none'}")


def lab_config(mode: str | None = None) -> BiasConfig:
    """The settings for a mode (see the module docstring)."""
    mode = detect_mode(mode)
    if mode == "grade":
        from ...data import make_demo_data

        data = make_demo_data(Path(tempfile.mkdtemp(prefix="toxlab-grade-")) / "data", n_train=120, n_test=60, seed=0)
        return BiasConfig(mode, None, str(data), templates=4, test_rows=None, preset=None,
                          note="grading: a tiny random model, a slice of the identity set, no retraining")
    found = find_saved_model()
    if mode == "cpu":
        return BiasConfig(mode, str(found) if found else None, None, templates=None, test_rows=2000, preset="cpu",
                          note="CPU: the model you trained in lab 6a; the mitigated model trains in a few minutes")
    return BiasConfig(mode, str(found) if found else None, None, templates=None, test_rows=None, preset="gpu",
                      note="GPU: the model you trained in lab 6a, every test row")


def identity_rows(cfg: BiasConfig, held_out: bool = False):
    """toxlab's identity test set, or with `held_out` the family written apart from the augmentation
    (`toxlab.bias.heldout_identity_set`): every term; in grade mode only the first few templates of each polarity."""
    from ...bias import identity_set
    from ...identity import (GROUPS, HELDOUT_GROUPS, HELDOUT_NONTOXIC_TEMPLATES, HELDOUT_TOXIC_TEMPLATES,
                             NONTOXIC_TEMPLATES, TOXIC_TEMPLATES)

    nontoxic, toxic, groups = ((HELDOUT_NONTOXIC_TEMPLATES, HELDOUT_TOXIC_TEMPLATES, HELDOUT_GROUPS) if held_out
                               else (NONTOXIC_TEMPLATES, TOXIC_TEMPLATES, GROUPS))
    n = cfg.templates
    return identity_set(nontoxic[:n], toxic[:n], groups)


def test_rows(ds, cfg: BiasConfig, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """(texts, labels) of the scored test split, a seeded sample of cfg.test_rows when it is larger."""
    test = ds["test"]
    if cfg.test_rows is not None and len(test) > cfg.test_rows:
        test = test.shuffle(seed=seed).select(range(cfg.test_rows))
    return list(test["comment_text"]), np.asarray(test["label"], dtype=int)


def validation_rows(ds, cfg: BiasConfig, seed: int = 42) -> tuple[list[str], np.ndarray]:
    """(texts, labels) to fit the temperature on: the validation split the model's training carved from
    train (same seed and size, read from its toxlab_training.json), or train()'s default share in grade mode."""
    from ...calibration import validation_rows as carved_rows
    from ...recipe import split_validation

    if cfg.model_dir is None:
        _, val = split_validation(ds["train"], seed=seed)
        return list(val["comment_text"]), np.asarray(val["label"], dtype=int)
    texts, labels, _how = carved_rows(Path(cfg.model_dir), ds)
    return texts, labels


def mitigated_model(cfg: BiasConfig, method: str = "identity-nontoxic", model=None, tokenizer=None, threshold=None):
    """(model, tokenizer, threshold, folder) trained with `--augment method` on the recipe of cfg.preset.

    In grade mode nothing is trained: the model passed in comes back, so the notebook runs in seconds.
    A folder saved_models/mitigated-<method>/ that already holds a model is loaded, never trained over."""
    from ...data import load_jigsaw
    from ...models import load_classifier
    from ...saved import model_threshold, model_threshold_choice
    from ...recipe import get_preset
    from ...training import train

    if cfg.preset is None:
        print("grade mode: no retraining; the 'after' model is the 'before' model.")
        return model, tokenizer, threshold, None
    out = SAVED / f"mitigated-{method}"
    if (out / "config.json").is_file():
        print(f"{out} already holds a model: loading it (delete the folder to train again).")
    else:
        preset = get_preset(cfg.preset)
        print(f"training the {cfg.preset} recipe with augment={method!r} into {out} "
              f"({preset.max_train_samples or 'all'} comments at most)...")
        new, tok = load_classifier("minilm")
        # the transformer alone, like 6a's model: the comparison changes the training data and nothing else
        train(load_jigsaw(cfg.data, verbose=False), new, tok, preset=cfg.preset, output_dir=out, augment=method,
              lexical=False)
    new, tok = load_classifier(out)
    # lab 6a's notebook picks its threshold as macro F1's argmax on its validation rows; train() saves a
    # threshold chosen another way (threshold_choice), so the comparison takes the one the same rule gave
    # on the mitigated model's own validation rows, which train() records beside it
    same_rule = (model_threshold_choice(new) or {}).get("validation_argmax")
    threshold = model_threshold(new) if same_rule is None else float(same_rule)
    print(f"mitigated model: threshold {threshold:.3f} (macro F1's argmax on its validation rows, as in lab 6a)")
    return new.eval(), tok, threshold, str(out)


# run-lab appends this cell to the executed notebook: it writes the lab's report into __REPORT_DIR__
REPORT_FILES = ("report.txt", "before_after.csv", "before_after.png", "per_term.csv", "identity_aucs.png",
                "reliability.png", "families.csv")
REPORT_CELL = """
import pathlib as _pathlib
_out = _pathlib.Path(__REPORT_DIR__)
_out.mkdir(parents=True, exist_ok=True)
comparison.to_csv(_out / "before_after.csv")
families.to_csv(_out / "families.csv", index=False)
plot_bias_comparison({"before": before, "after": after}).savefig(_out / "before_after.png", dpi=110)
before.per_term.to_csv(_out / "per_term.csv", index=False)
plot_identity_aucs(before).savefig(_out / "identity_aucs.png", dpi=110)
reliability_fig.savefig(_out / "reliability.png", dpi=110)
(_out / "report.txt").write_text(f"model: {cfg.model_dir or 'tiny random (grade mode)'}\\n"
                                 f"mitigated: {after_dir or 'none (grade mode)'}\\n"
                                 f"calibration (fitted on validation rows): T {t_shift:.3f} and toxic-logit shift "
                                 f"{shift:+.3f}: test ECE {ece_raw:.4f} -> {ece_cal:.4f} (T {temperature:.3f} alone: "
                                 f"{ece_t:.4f})\\n\\n"
                                 f"{comparison.to_string()}\\n")
"""
