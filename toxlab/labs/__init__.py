"""The course's labs: one registry, and one package per lab.

    toxlab/labs/<lab>/modes.py       what the notebook's modes (gpu, cpu, grade) run, and run-lab's report cell
    toxlab/labs/<lab>/checks.py      the visible checks its grade cells run (pytest tests, test_<exercise>__<what>)
    source/<lab>/<lab>.ipynb         the instructor notebook (nbgrader assignment <lab>)
    course/hidden_checks/<lab>.py    its hidden checks (the instructor's, never released)

Adding a lab: add those four files, its fixtures (tests/labs/<lab>/fixtures.py, which live with the
tests and are not installed), and one line to LABS below. The grading machinery (toxlab.grading)
knows no lab and imports none: it finds the labs, and what their checks need built (objects.py,
codecs.py, harnesses.py), through the entry point that names toxlab/labs/grading.py.

The modes are shared: every lab runs in grade mode under nbgrader, else in the mode its MODE cell
or $TOXLAB_MODE names, else gpu when CUDA is available, else cpu.
"""

from __future__ import annotations

import importlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

MODES = ("gpu", "cpu", "grade")
HERE = Path(__file__).resolve().parent
SAVED = Path("saved_models")  # where lab 6a saves its runs, beside the notebook


@dataclass(frozen=True)
class Lab:
    """One lab of the course."""

    name: str  # the nbgrader assignment, and the folder name under source/, release/ and toxlab/labs/
    title: str  # one line for listings

    @property
    def checks(self) -> Path:
        """The visible checks' file."""
        return HERE / self.name / "checks.py"

    def module(self, part: str):
        """toxlab.labs.<name>.<part> (modes or checks)."""
        return importlib.import_module(f"{__name__}.{self.name}.{part}")

    def exercises(self) -> list[str]:
        """The exercises its visible checks cover, in file order."""
        from ..grading.extensions import exercises_in  # here: importing toxlab.grading needs the course extra

        return exercises_in(self.checks)


LABS: dict[str, Lab] = {lab.name: lab for lab in [
    Lab("toxicity_lab", "6a: fine-tune a toxicity classifier, evaluate it, probe it for identity bias"),
    Lab("explain_lab", "6b: explain the classifier (occlusion, gradient x input, Integrated Gradients) and test faithfulness"),
    Lab("bias_lab", "6c: measure unintended bias (subgroup AUCs, error rates, calibration), mitigate it, measure again"),
]}


def get(name: str) -> Lab:
    """The lab whose assignment is `name`; a clear error for an unregistered one."""
    if name not in LABS:
        raise KeyError(f"no lab named {name!r} in toxlab.labs.LABS (known: {', '.join(LABS)}); "
                       "a new lab is registered there (see toxlab/labs/__init__.py)")
    return LABS[name]


def for_exercise(exercise: str) -> Lab:
    """The lab whose visible checks cover `exercise` (exercise names are unique across labs)."""
    from ..grading.extensions import find_exercise

    return find_exercise(exercise, LABS.values())


def detect_mode(mode: str | None = None) -> str:
    """grade under nbgrader, else the argument, else $TOXLAB_MODE, else gpu when CUDA is available, else cpu."""
    if os.environ.get("NBGRADER_EXECUTION"):
        mode = "grade"  # whatever a student's MODE cell says: grading must stay seconds per notebook
    mode = mode or os.environ.get("TOXLAB_MODE")
    if mode is None:
        import torch

        mode = "gpu" if torch.cuda.is_available() else "cpu"
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} (or $TOXLAB_MODE): choose one of {list(MODES)}.")
    return mode


def run_dir(root: str = "saved_models") -> str:
    """A fresh run folder under `root`, named by the time (runs never reuse a folder)."""
    return str(Path(root) / time.strftime("run-%Y%m%d-%H%M%S"))


TRAINER_LAB = "toxicity_lab"  # the lab that fine-tunes and saves the model the later labs study
MODEL_DIR_ENV = "TOXLAB_MODEL_DIR"  # a saved folder to use instead of searching
FALLBACK = SAVED / "cpu-recipe"  # where a later lab trains the cpu recipe when it finds no model from lab 6a


def model_search_roots() -> list[Path]:
    """Where the later labs look for lab 6a's saves, in order: saved_models/ beside the notebook, then the
    sibling assignment's (../toxicity_lab/saved_models/: nbgrader gives each assignment its own folder
    under one course folder, after a fetch as in a course directory)."""
    roots = [SAVED, Path("..") / TRAINER_LAB / SAVED]
    return [r for i, r in enumerate(roots) if r.resolve() not in {q.resolve() for q in roots[:i]}]


def find_saved_model(root: str | Path | None = None) -> Path | None:
    """The model a later lab starts from, or None.

    With `root`: root/best_model if it holds a model, else the newest root/run-*/ that does. Without:
    $TOXLAB_MODEL_DIR when set (it must hold a model), else the first hit over model_search_roots(), else
    the cpu recipe a later lab trained earlier (saved_models/cpu-recipe), which a model from lab 6a, saved
    after it, therefore outranks."""
    from ..saved import CONFIG_FILE

    if root is None:
        named = os.environ.get(MODEL_DIR_ENV)
        if named:
            if not (Path(named) / CONFIG_FILE).is_file():
                raise FileNotFoundError(f"${MODEL_DIR_ENV}={named}: no {CONFIG_FILE} there; point it at a folder "
                                        "lab 6a saved (saved_models/run-*/), or unset it to search.")
            return Path(named)
        for candidate in model_search_roots():
            found = find_saved_model(candidate)
            if found is not None:
                return found
        return FALLBACK if (FALLBACK / CONFIG_FILE).is_file() else None
    root = Path(root)
    best = root / "best_model"
    if (best / CONFIG_FILE).is_file():
        return best
    runs = sorted((p for p in root.glob("run-*") if (p / CONFIG_FILE).is_file()), key=lambda p: p.name)
    return runs[-1] if runs else None


def no_model_message() -> str:
    """What a later lab says when it finds no model from lab 6a: where it looked, and what to do."""
    looked = "\n".join(f"  {r / 'best_model'} and {r}/run-*/   ({r.resolve()})" for r in model_search_roots())
    return (f"No model from lab 6a found. Looked in:\n{looked}\n"
            f"To use yours: run lab 6a ({TRAINER_LAB}.ipynb) through its save cell, in the {TRAINER_LAB}/ folder beside "
            f"this one (as nbgrader lays out the course), or set ${MODEL_DIR_ENV} to the folder it saved.")


def train_cpu_recipe(data: str | None, out: Path = FALLBACK) -> Path:
    """Train toxlab's cpu recipe (the one lab 6a's cpu mode uses) into `out`; say why first."""
    from ..data import load_jigsaw
    from ..models import load_classifier
    from ..recipe import get_preset
    from ..training import train

    print(no_model_message() + "\n"
          f"Meanwhile, training the cpu recipe into {out}: {get_preset('cpu').max_train_samples:,} comments at most, "
          "a few minutes on a laptop CPU.")
    model, tokenizer = load_classifier("minilm")
    # the transformer alone, as 6a's notebook trains it (6b looks inside it; 6c compares against it)
    result = train(load_jigsaw(data), model, tokenizer, preset="cpu", output_dir=out, lexical=False)
    print(f"saved to {result.model_dir} (threshold {result.threshold:.2f})")
    return Path(result.model_dir)


def load_lab_model(cfg) -> tuple:
    """(model, tokenizer, threshold) a lab starts from, by its config (the one loader of every lab):

      a lab that fine-tunes (6a: cfg.model names the base, "tiny" in grade mode): that model, untrained
        ("tiny": a small random BERT with BERT's own initialisation), threshold 0.5;
      a lab that studies a trained model (6b, 6c: cfg.model_dir, cfg.data): the saved folder in eval mode and
        its threshold; the cpu recipe is trained first when there is none (cfg.model_dir is then set); in grade
        mode a tiny random BERT drawn wide enough (GRADING_INIT) that texts score differently, threshold 0.5."""
    from ..models import load_classifier, minilm_path, tiny_bert
    from ..saved import THRESHOLD_KEY, model_threshold

    base = getattr(cfg, "model", None)
    if base is not None:
        if base == "tiny":
            from transformers import AutoTokenizer

            return tiny_bert(), AutoTokenizer.from_pretrained(minilm_path()), 0.5
        model, tokenizer = load_classifier(base)
        return model, tokenizer, model_threshold(model)
    if cfg.mode == "grade":
        from transformers import AutoTokenizer

        from .objects import GRADING_INIT

        return tiny_bert(seed=0, initializer_range=GRADING_INIT).eval(), AutoTokenizer.from_pretrained(minilm_path()), 0.5
    if cfg.model_dir is None:
        cfg.model_dir = str(train_cpu_recipe(cfg.data))
    model, tokenizer = load_classifier(cfg.model_dir)
    threshold = model_threshold(model)
    print(f"model: {cfg.model_dir} ({Path(cfg.model_dir).resolve()}), threshold {threshold:.3f}"
          + ("" if getattr(model.config, THRESHOLD_KEY, None) is not None else " (none saved with it: 0.5)"))
    return model.eval(), tokenizer, threshold
