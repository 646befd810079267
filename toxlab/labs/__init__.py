"""The course's labs: one registry, and one package per lab.

    toxlab/labs/<lab>/modes.py       what the notebook's modes (gpu, cpu, grade) run, and run-lab's report cell
    toxlab/labs/<lab>/checks.py      the visible checks its grade cells run (pytest tests, test_<exercise>__<what>)
    source/<lab>/<lab>.ipynb         the instructor notebook (nbgrader assignment <lab>)
    course/hidden_checks/<lab>.py    its hidden checks (the instructor's, never released)

Adding a lab: add those four files, its fixtures (tests/labs/<lab>/fixtures.py, which live with the
tests and are not installed), and one line to LABS below. The grading machinery
(toxlab.grading) knows no lab by name: it finds a lab by assignment name or by exercise name here.

The modes are shared: every lab runs in grade mode under nbgrader, else in the mode its MODE cell
or $TOXLAB_MODE names, else gpu when CUDA is available, else cpu.
"""

from __future__ import annotations

import importlib
import os
import re
import time
from dataclasses import dataclass
from functools import lru_cache
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
        return _exercises(self.checks)


LABS: dict[str, Lab] = {lab.name: lab for lab in [
    Lab("toxicity_lab", "6a: fine-tune a toxicity classifier, evaluate it, probe it for identity bias"),
    Lab("explain_lab", "6b: explain the classifier (occlusion, gradient x input, Integrated Gradients) and test faithfulness"),
    Lab("bias_lab", "6c: measure unintended bias (subgroup AUCs, error rates, calibration), mitigate it, measure again"),
]}


@lru_cache(maxsize=None)
def _exercises(checks: Path) -> list[str]:
    names = re.findall(r"^def test_(\w+?)__\w+\(", checks.read_text(), re.M)
    return list(dict.fromkeys(names))


def get(name: str) -> Lab:
    """The lab whose assignment is `name`; a clear error for an unregistered one."""
    if name not in LABS:
        raise KeyError(f"no lab named {name!r} in toxlab.labs.LABS (known: {', '.join(LABS)}); "
                       "a new lab is registered there (see toxlab/labs/__init__.py)")
    return LABS[name]


def for_exercise(exercise: str) -> Lab:
    """The lab whose visible checks cover `exercise` (exercise names are unique across labs)."""
    found = [lab for lab in LABS.values() if exercise in lab.exercises()]
    if not found:
        known = ", ".join(e for lab in LABS.values() for e in lab.exercises())
        raise KeyError(f"no lab has checks named test_{exercise}__*; is the exercise name right? (known: {known})")
    assert len(found) == 1, f"exercise {exercise!r} is in {[lab.name for lab in found]}: names must be unique"
    return found[0]


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


def find_saved_model(root: str | Path = SAVED) -> Path | None:
    """saved_models/best_model if it holds a model, else the newest saved_models/run-*/ that does, else None."""
    root = Path(root)
    best = root / "best_model"
    if (best / "config.json").is_file():
        return best
    runs = sorted((p for p in root.glob("run-*") if (p / "config.json").is_file()), key=lambda p: p.name)
    return runs[-1] if runs else None


def train_cpu_recipe(data: str | None, out: Path = SAVED / "best_model") -> Path:
    """Train toxlab's cpu recipe (the one lab 6a's cpu mode uses) into `out`; say so first."""
    from ..data import load_jigsaw
    from ..models import load_classifier
    from ..training import PRESETS, train

    print(f"No saved model in {SAVED / 'best_model'} or {SAVED}/run-*/ (lab 6a saves one there).\n"
          f"Training the cpu recipe into {out} first: {PRESETS['cpu'].max_train_samples:,} comments at most, "
          "a few minutes on a laptop CPU.")
    model, tokenizer = load_classifier("minilm")
    # the transformer alone, as 6a's notebook trains it (6b looks inside it; 6c compares against it)
    result = train(load_jigsaw(data), model, tokenizer, preset="cpu", output_dir=out, lexical=False)
    print(f"saved to {result.model_dir} (threshold {result.threshold:.2f})")
    return Path(result.model_dir)


def load_lab_model(cfg):
    """(model, tokenizer, threshold) for a lab config (mode, model_dir, data): the saved model, or a tiny random
    BERT in grade mode; trains the cpu recipe when none exists (and sets cfg.model_dir)."""
    from ..inference import model_threshold
    from ..models import load_classifier, minilm_path, tiny_bert

    if cfg.mode == "grade":
        from transformers import AutoTokenizer

        from ..grading.objects import GRADING_INIT

        return tiny_bert(seed=0, initializer_range=GRADING_INIT).eval(), AutoTokenizer.from_pretrained(minilm_path()), 0.5
    if cfg.model_dir is None:
        cfg.model_dir = str(train_cpu_recipe(cfg.data))
    model, tokenizer = load_classifier(cfg.model_dir)
    return model.eval(), tokenizer, model_threshold(model)
