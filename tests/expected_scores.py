"""What a submission's honest content earns, for any lab: the checks run in process on the reference
notebook's namespace with some solution cells replaced, and the points shared out as autograde shares them.

The round trip and the hostile set compare real `nbgrader autograde` scores with these.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import nbformat

from toxlab import labs

ROOT = Path(__file__).resolve().parents[1]
HIDDEN_DIR = ROOT / "course" / "hidden_checks"


def source(lab: str) -> Path:
    return ROOT / "source" / lab / f"{lab}.ipynb"


def hidden(lab: str) -> Path:
    return HIDDEN_DIR / f"{lab}.py"


FIXTURES_DIR = ROOT / "tests" / "labs"


def fixtures(lab: str) -> ModuleType:
    """The fixtures module of a registered lab: tests/labs/<lab>/fixtures.py, imported as labs.<lab>.fixtures.

    They live with the tests, not in the installed package; a registered lab without them fails here,
    saying where they belong, rather than as an ImportError deep in a test.
    """
    labs.get(lab)  # an unregistered name fails with the registry's own message
    path = FIXTURES_DIR / lab / "fixtures.py"
    if not path.is_file():
        raise LookupError(f"lab {lab!r} is registered in toxlab.labs.LABS but has no fixtures: add {path} "
                          f"(and an __init__.py beside it) with WRONG, CORRECT, SOLUTION_CELL, POINTS, "
                          "THROUGH_AUTOGRADE, CORRECT_THROUGH_AUTOGRADE and grade_globals(); see README 'Adding a lab'")
    return importlib.import_module(f"labs.{lab}.fixtures")


@lru_cache(maxsize=None)
def solution_sources(lab: str) -> dict[str, str]:
    """grade_id -> source of each solution (code) cell of the lab's instructor notebook."""
    nb = nbformat.read(source(lab), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}


@lru_cache(maxsize=None)
def base_namespace(lab: str) -> dict:
    """What the lab's setup cells define in grade mode (its fixtures' grade_globals), built once."""
    return fixtures(lab).grade_globals()


def namespace(lab: str, replace: dict[str, str] | None = None) -> dict:
    """The notebook's globals with every solution cell run, some replaced ({grade_id: source})."""
    ns = dict(base_namespace(lab))
    for gid, src in solution_sources(lab).items():
        src = (replace or {}).get(gid, src)
        exec(compile(src, f"<cell {gid}>", "exec"), ns)  # noqa: S102 - our own fixture code
    return ns


@lru_cache(maxsize=None)  # the course tests ask for the same fixtures' scores many times over
def score_of(lab: str, exercise: str, source: str) -> float:
    """The points `source`, as the exercise's solution cell, earns: the shares of the checks it passes."""
    from toxlab.grading import LocalStudent, run_check_files
    from toxlab.grading.checker import shares

    fx = fixtures(lab)
    ns = namespace(lab, {fx.SOLUTION_CELL[exercise]: source})
    outcomes = run_check_files(exercise, LocalStudent(ns), [labs.get(lab).checks, hidden(lab)])
    return shares(outcomes, float(fx.POINTS[exercise]))[0]
