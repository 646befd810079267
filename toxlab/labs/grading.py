"""The labs, as the grading machinery finds them: the entry point `course` of the group `toxlab.grading`
(pyproject.toml) names EXTENSION.

Grading imports nothing of the labs: it loads this module by its entry point, in the checker and inside
the executor's sandbox alike. Importing it stays cheap (the libraries load on first use, or in preload).
"""

from __future__ import annotations

from toxlab.grading.extensions import Assignment, Extension

from . import LABS
from .codecs import CODECS
from .harnesses import HARNESSES
from .objects import BUILDERS


def assignments() -> list[Assignment]:
    """Every registered lab, as an assignment to grade."""
    return [Assignment(lab.name, lab.checks, f"{__package__}.{lab.name}.checks") for lab in LABS.values()]


def preload() -> None:
    """What the notebooks' setup cells and the harnesses import, imported once in the executor's zygote."""
    import torch  # noqa: F401
    import transformers  # noqa: F401
    from transformers import Trainer, TrainingArguments  # noqa: F401


EXTENSION = Extension(
    assignments=assignments,
    builders=BUILDERS,
    codecs=CODECS,
    harnesses=HARNESSES,
    preload=preload,
    # the libraries the labs' answers use: a student cell's patches to them are undone before the next cell
    restored=("torch", "sklearn", "transformers", "datasets"),
)
