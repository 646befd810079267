"""The saved model folder: what toxlab adds to a Hugging Face model folder, read and written here only.

    <folder>/config.json            the HF config, plus toxlab's keys:
        toxlab_threshold            the decision threshold on P(toxic) (calibrated P once calibrated)
        toxlab_temperature          T of temperature scaling (toxlab.calibration), absent when uncalibrated
        toxlab_logit_shift          b added to the toxic logit after T (calibration method "platt"), else null
        toxlab_calibration          how T and b were fitted (method, rows, ECE and NLL before and after)
        toxlab_lexical_weight       w, the TF-IDF part's share of the toxic margin (toxlab.lexical)
        toxlab_format               this module's FORMAT_VERSION when the folder was written
        toxlab_prevalence           the share of toxic comments the threshold assumes (train(prevalence=...)), when known
        toxlab_threshold_choice     how train() chose the threshold: method, rows, toxic rows, bootstrap intervals
                                    of the threshold and of the expected macro F1 (toxlab.metrics.threshold_choice)
    <folder>/lexical.npz            the TF-IDF part, when toxlab_lexical_weight is set
    <folder>/toxlab_training.json   what train() did: preset, recipe, seed, validation size, rows, scores
    <folder>/toxlab_validation.csv  the validation rows the threshold was chosen on (comment_text, label),
                                    when the saver had them (lab 6a's notebook, save_model_folder)
    <folder>/toxlab_heldout.csv     P(toxic) and label of every row the threshold was chosen from (validation and
                                    unseen pool rows; column source), so that `toxlab evaluate --prevalence P`
                                    re-derives the threshold for another prevalence without retraining

Format versions: 0 is every folder written before this module existed (no toxlab_format key); 1 adds
the key and nothing else, so both load the same way. The optional toxlab_validation.csv, toxlab_heldout.csv,
toxlab_prevalence and toxlab_threshold_choice came later without a version change: a reader that does not know it ignores it, and one that does falls back when it is absent. A reader meeting a newer version than it knows
refuses it with the fix (upgrade toxlab) instead of guessing. tests/fixtures/saved_v0 is a version-0
folder that must keep loading and predicting the same probabilities.

Every key is read off a model's config object (what `from_pretrained` loaded) or written into it before
`save_pretrained`; `update_config` rewrites config.json of a folder in place (toxlab.calibration).
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

FORMAT_VERSION = 1
FORMAT_KEY = "toxlab_format"
THRESHOLD_KEY = "toxlab_threshold"
TEMPERATURE_KEY = "toxlab_temperature"
SHIFT_KEY = "toxlab_logit_shift"
CALIBRATION_KEY = "toxlab_calibration"
LEXICAL_WEIGHT_KEY = "toxlab_lexical_weight"
PREVALENCE_KEY = "toxlab_prevalence"
THRESHOLD_CHOICE_KEY = "toxlab_threshold_choice"
# what further fine-tuning makes stale: a temperature fitted to other weights calibrates nothing
CALIBRATION_KEYS = (TEMPERATURE_KEY, SHIFT_KEY, CALIBRATION_KEY)

CONFIG_FILE = "config.json"
LEXICAL_FILE = "lexical.npz"
TRAINING_FILE = "toxlab_training.json"
VALIDATION_FILE = "toxlab_validation.csv"
HELDOUT_FILE = "toxlab_heldout.csv"

DEFAULT_THRESHOLD = 0.5  # equals argmax for two classes; used when a model carries no tuned threshold


# ---------------------------------------------------------------------------
# reading a loaded model's keys
# ---------------------------------------------------------------------------

def check_format(config) -> int:
    """The folder format of a loaded config (0 when it has no toxlab_format key); a newer one than this
    toxlab knows is refused with the fix."""
    version = int(getattr(config, FORMAT_KEY, None) or 0)
    if version > FORMAT_VERSION:
        raise ValueError(f"{FORMAT_KEY}={version} in the model's {CONFIG_FILE}: this folder was written by a newer "
                         f"toxlab (this one reads formats up to {FORMAT_VERSION}); upgrade toxlab (pip install -U toxlab).")
    return version


def model_threshold(model) -> float:
    """The decision threshold saved with a model, or 0.5 when it has none.

    In a calibrated model (one with a temperature) it is a threshold on calibrated P(toxic)."""
    saved = getattr(model.config, THRESHOLD_KEY, None)
    return DEFAULT_THRESHOLD if saved is None else float(saved)


def _saved_number(model, key: str, valid, rule: str, fix: str) -> float | None:
    """A number toxlab saved in the model's config, or None; a value that breaks `rule` is refused with `fix`."""
    saved = getattr(model.config, key, None)
    if saved is None:
        return None
    value = float(saved)
    if not (math.isfinite(value) and valid(value)):
        raise ValueError(f"{key}={saved!r} in the model's {CONFIG_FILE}: {rule}; {fix}.")
    return value


_RECALIBRATE = "re-run toxlab.calibration.calibrate(model_dir, data, force=True)"


def model_temperature(model) -> float | None:
    """The temperature saved with a model (toxlab.calibration), or None: then `predict` uses plain softmax.

    `predict` divides the logits by it before the softmax. The transformers pipeline
    (`make_pipeline`) does not know it and gives uncalibrated probabilities."""
    return _saved_number(model, TEMPERATURE_KEY, lambda t: t > 0, "a temperature must be a positive number",
                         _RECALIBRATE)


def model_logit_shift(model) -> float | None:
    """The shift added to the toxic logit after the temperature (toxlab.calibration, method "platt"), or None."""
    return _saved_number(model, SHIFT_KEY, lambda b: True, "the shift must be a finite number", _RECALIBRATE)


def model_lexical_weight(model) -> float | None:
    """The lexical share saved with a model, or None for a transformer alone."""
    return _saved_number(model, LEXICAL_WEIGHT_KEY, lambda w: 0.0 <= w <= 1.0, "it must lie in [0, 1]",
                         "retrain the model")


# ---------------------------------------------------------------------------
# writing a model's keys before save_pretrained
# ---------------------------------------------------------------------------

def set_threshold(model, threshold: float, choice: dict | None = None) -> None:
    """Store the decision threshold in the model's config (saved with it); with `choice`
    (toxlab.metrics.threshold_choice), also the prevalence it assumes and how it was chosen."""
    model.config.update({THRESHOLD_KEY: float(threshold), FORMAT_KEY: FORMAT_VERSION})
    if choice is not None:
        model.config.update({PREVALENCE_KEY: float(choice["prevalence"]), THRESHOLD_CHOICE_KEY: dict(choice)})


def model_prevalence(model) -> float | None:
    """The prevalence the saved threshold assumes, or None (a folder saved without it: lab 6a's, older ones)."""
    return _saved_number(model, PREVALENCE_KEY, lambda p: 0.0 < p < 1.0, "a prevalence lies strictly between 0 and 1",
                         "retrain the model, or pass --threshold")


def model_threshold_choice(model) -> dict | None:
    """How train() chose the saved threshold (method, rows, intervals), or None."""
    choice = getattr(model.config, THRESHOLD_CHOICE_KEY, None)
    return dict(choice) if choice else None


def set_calibration(model, record: dict) -> None:
    """Store a calibration record (toxlab.calibration.calibration_record) and its T, b and threshold."""
    model.config.update(calibration_keys(record))


def calibration_keys(record: dict) -> dict:
    """The config keys a calibration record sets: T, b, the re-tuned threshold and the record itself."""
    return {TEMPERATURE_KEY: record["temperature"], SHIFT_KEY: record["shift"], THRESHOLD_KEY: record["threshold"],
            CALIBRATION_KEY: record, FORMAT_KEY: FORMAT_VERSION}


def clear_calibration(model) -> None:
    """Forget a model's temperature, shift and calibration record (fine-tuning it further makes them stale)."""
    for key in CALIBRATION_KEYS:
        if hasattr(model.config, key):
            delattr(model.config, key)


def set_lexical_weight(model, weight: float) -> None:
    model.config.update({LEXICAL_WEIGHT_KEY: float(weight)})


def clear_lexical_weight(model) -> None:
    if hasattr(model.config, LEXICAL_WEIGHT_KEY):
        delattr(model.config, LEXICAL_WEIGHT_KEY)


# ---------------------------------------------------------------------------
# the folder's files
# ---------------------------------------------------------------------------

def lexical_path(folder: str | os.PathLike) -> Path:
    return Path(folder) / LEXICAL_FILE


def read_config(folder: str | os.PathLike) -> dict:
    """config.json of a saved folder as a dict; a clear error when the folder holds no model."""
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{Path(folder)}: no {CONFIG_FILE}; point at a folder toxlab train (save_pretrained) wrote.")
    return json.loads(path.read_text())


def update_config(folder: str | os.PathLike, keys: dict) -> dict:
    """Merge `keys` into the folder's config.json (written atomically: a crash leaves the old file) and
    return the new config."""
    path = Path(folder) / CONFIG_FILE
    config = {**read_config(folder), **keys}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return config


def read_training_meta(folder: str | os.PathLike) -> dict:
    """toxlab_training.json of a folder train() wrote, or {} (a folder from elsewhere has none)."""
    path = Path(folder) / TRAINING_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def write_training_meta(folder: str | os.PathLike, meta: dict) -> Path:
    """Write what train() did to the folder's toxlab_training.json (with the format version)."""
    path = Path(folder) / TRAINING_FILE
    path.write_text(json.dumps({**meta, "format": FORMAT_VERSION}, indent=2, default=str))
    return path


def write_validation(folder: str | os.PathLike, texts, labels) -> Path:
    """Write the validation rows (comment_text, label) beside a saved model, so that a later lab or
    calibration uses the very rows the threshold was chosen on instead of re-carving a split."""
    texts, labels = list(texts), [int(y) for y in labels]
    if len(texts) != len(labels):
        raise ValueError(f"validation: {len(texts)} texts but {len(labels)} labels; pass two sequences of one length.")
    if not set(labels) <= {0, 1}:
        raise ValueError(f"validation: labels must be 0/1, got {sorted(set(labels) - {0, 1})[:3]}.")
    path = Path(folder) / VALIDATION_FILE
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["comment_text", "label"])
        writer.writerows(zip(texts, labels))
    return path


def read_validation(folder: str | os.PathLike) -> tuple[list[str], list[int]] | None:
    """The validation rows saved with a model (write_validation), or None when the folder has none."""
    path = Path(folder) / VALIDATION_FILE
    if not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if rows and not {"comment_text", "label"} <= set(rows[0]):
        raise ValueError(f"{path}: needs the columns comment_text and label; delete the file to fall back to "
                         "re-carving the validation split.")
    return [r["comment_text"] for r in rows], [int(r["label"]) for r in rows]


def write_heldout_scores(folder: str | os.PathLike, p_toxic, label, source) -> Path:
    """Write the scored rows the threshold was chosen from (p_toxic, label, source) beside a saved model."""
    p_toxic, label, source = [float(x) for x in p_toxic], [int(y) for y in label], [str(x) for x in source]
    if not len(p_toxic) == len(label) == len(source):
        raise ValueError(f"held-out scores: {len(p_toxic)} scores, {len(label)} labels, {len(source)} sources; "
                         "pass three sequences of one length.")
    path = Path(folder) / HELDOUT_FILE
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["p_toxic", "label", "source"])
        writer.writerows(zip((repr(p) for p in p_toxic), label, source))
    return path


def read_heldout_scores(folder: str | os.PathLike) -> dict | None:
    """The held-out scores saved with a model as {"p_toxic", "label", "source"} lists, or None when absent."""
    path = Path(folder) / HELDOUT_FILE
    if not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if rows and not {"p_toxic", "label"} <= set(rows[0]):
        raise ValueError(f"{path}: needs the columns p_toxic and label; retrain the model to rewrite it.")
    return {"p_toxic": [float(r["p_toxic"]) for r in rows], "label": [int(r["label"]) for r in rows],
            "source": [r.get("source", "") for r in rows]}


def save_model_folder(folder: str | os.PathLike, model, tokenizer, threshold: float, validation=None,
                      overwrite: bool = False) -> Path:
    """Save a fine-tuned model as one folder every toxlab reader (load_classifier, the labs, the CLI) loads
    whole: the model with its decision threshold in config.json, its tokenizer, and, given as
    (texts, labels), the validation rows the threshold was chosen on.

    A folder that already holds a model is refused unless overwrite=True: a re-run must not silently
    replace a model a later lab measured."""
    folder = Path(folder)
    if (folder / CONFIG_FILE).is_file() and not overwrite:
        raise FileExistsError(f"{folder} already holds a model ({CONFIG_FILE}); save into a fresh folder "
                              "(toxlab.labs.run_dir()) or pass overwrite=True to replace it.")
    threshold = float(threshold)
    if not (math.isfinite(threshold) and 0.0 <= threshold <= 1.0):
        raise ValueError(f"threshold={threshold!r}: a threshold on P(toxic) lies in [0, 1].")
    set_threshold(model, threshold)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    if validation is not None:
        write_validation(folder, *validation)
    return folder
