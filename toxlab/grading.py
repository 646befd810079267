"""What notebook grade cells call: run an exercise's pytest checks against the student's namespace.

    from toxlab.grading import check
    check("class_weights", globals())                 # visible checks (toxlab/grading_checks.py)
    check("class_weights", globals(), hidden=True)    # hidden checks, in the instructor's course/ folder

The grade cell prints a short pass/fail summary with hints on stdout, writes nothing to
stderr (nbgrader scores 0 for any stderr output), and raises when a check fails, so
nbgrader scores the cell 0. Hidden checks live outside the package, in a file the
instructor's nbgrader config names in $TOXLAB_HIDDEN_CHECKS; students never receive it.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

VISIBLE_CHECKS = Path(__file__).with_name("grading_checks.py")
HIDDEN_ENV = "TOXLAB_HIDDEN_CHECKS"
HIDDEN_STEM = "hidden_checks"  # the hidden checks are copied under this name for each run
OUTSIDE_ENV = "TOXLAB_GRADED_OUTSIDE"  # set by the course's autograde: toxlab.verify grades, not the kernel


class ExerciseFailed(AssertionError):
    """Raised by a grade cell whose checks did not all pass."""


@dataclass
class Outcome:
    """One check's result."""

    exercise: str  # the exercise the check belongs to
    name: str  # what it checks, from the test function's name
    passed: bool
    hint: str  # the first line of the assertion message, or the exception
    hidden: bool = False  # from the instructor's hidden checks


class _Namespace:
    """A pytest plugin handing the student's namespace to checks as the `ns` fixture."""

    def __init__(self, namespace: dict):
        self.namespace = namespace
        self.outcomes: list[Outcome] = []

    @pytest.fixture
    def ns(self) -> dict:
        return self.namespace

    def pytest_runtest_logreport(self, report) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            hint = ""
            if report.failed:
                exc = getattr(report.longrepr, "reprcrash", None)
                hint = (exc.message if exc else str(report.longrepr)).strip().splitlines()[0]
                hint = hint.removeprefix("AssertionError: ")
            file, *_, test = report.nodeid.split("::")
            exercise, _, what = test.removeprefix("test_").partition("__")
            self.outcomes.append(Outcome(exercise, what.replace("_", " "), report.passed, hint,
                                         hidden=Path(file).stem == HIDDEN_STEM))


def _checks_file(hidden: bool) -> Path:
    if not hidden:
        return VISIBLE_CHECKS
    path = os.environ.get(HIDDEN_ENV)
    if not path or not Path(path).is_file():
        raise ExerciseFailed(f"hidden checks not found (${HIDDEN_ENV}={path!r}); they run only when the instructor grades.")
    return Path(path)


def run_checks(exercise: str | list[str], namespace: dict, hidden: bool = False) -> list[Outcome]:
    """Run the checks named test_<exercise>__* (one or several exercises) against `namespace`, silently."""
    return run_check_files(exercise, namespace, [_checks_file(hidden)])


def run_check_files(exercise: str | list[str], namespace: dict, paths: list[Path]) -> list[Outcome]:
    """run_checks over several check files in one pytest run; a file named hidden_checks.py counts as hidden."""
    exercises = [exercise] if isinstance(exercise, str) else list(exercise)
    plugin = _Namespace(namespace)
    selection = " or ".join(f"test_{e}__" for e in exercises)
    env_autoload = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # no plugins from the student's environment
    sink = io.StringIO()
    # A private folder holding copies of the checks and an empty pytest.ini: pytest reads no
    # conftest.py, pytest.ini or plugin from the student's folder, and walks no folder above it
    # (inside the grading sandbox those are unreadable).
    with tempfile.TemporaryDirectory(prefix="toxlab-checks-") as tmp:
        names = [VISIBLE_CHECKS.stem if Path(p) == VISIBLE_CHECKS else HIDDEN_STEM for p in paths]
        checks = [str(shutil.copy(p, Path(tmp) / f"{n}.py")) for p, n in zip(paths, names)]
        (Path(tmp) / "pytest.ini").write_text("[pytest]\n")
        args = [*checks, "-k", selection, "-q", "--noconftest", "-p", "no:cacheprovider",
                "-p", "no:warnings", "-p", "no:stepwise", "--rootdir", tmp, "-c", str(Path(tmp) / "pytest.ini"),
                "-W", "ignore"]
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pytest.main(args, plugins=[plugin])
        finally:
            if env_autoload is None:
                os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
            else:
                os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = env_autoload
            for n in names:
                sys.modules.pop(n, None)  # a re-run re-imports the checks fresh
    missing = set(exercises) - {o.exercise for o in plugin.outcomes}
    if missing:
        raise ExerciseFailed(f"no checks named test_{sorted(missing)[0]}__* in {', '.join(Path(p).name for p in paths)}; "
                             "is the exercise name right?")
    return plugin.outcomes


def check(exercise: str, namespace: dict, hidden: bool = False) -> None:
    """Grade-cell entry point: print a summary; raise ExerciseFailed if any check failed."""
    if os.environ.get(OUTSIDE_ENV) == "1":
        # nbgrader autograde: toxlab.verify runs these checks outside this kernel and replaces
        # this cell's output with its verdict; nothing done here could change the score
        print(f"{exercise}: graded outside the notebook")
        return
    outcomes = run_checks(exercise, namespace, hidden)
    kind = "hidden checks" if hidden else "checks"
    failed = [o for o in outcomes if not o.passed]
    print(f"{exercise}: {len(outcomes) - len(failed)}/{len(outcomes)} {kind} passed")
    for o in outcomes:
        print(f"  {'PASS' if o.passed else 'FAIL'}  {o.name}"
              + (f"\n        hint: {o.hint}" if o.hint else ""))
    if failed:
        raise ExerciseFailed(f"{exercise}: {len(failed)} check(s) failed; see the hints above.")


def solved_notebook(release_nb, source_nb):
    """A copy of the student notebook with every solution cell filled from the instructor's source."""
    import copy

    def solution_cells(nb):
        return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]

    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution_cells(source_nb)}
    nb = copy.deepcopy(release_nb)
    for c in solution_cells(nb):
        c.source = answers[c.metadata["nbgrader"]["grade_id"]]
    return nb
