"""Grading: what notebook grade cells call, and the two-process autograder behind it.

    from toxlab.grading import check
    check("class_weights", globals())                 # visible checks (toxlab/labs/<lab>/checks.py)
    check("class_weights", globals(), hidden=True)    # hidden checks (course/hidden_checks/<lab>.py, the instructor's)

Checks are pytest tests named test_<exercise>__<what> that take a `student` fixture: they ask it
to call the student's functions (`student.call("count_labels", [0, 1])`) and get plain data back
(toxlab.grading.wire). In JupyterLab (running a grade cell, or Validate) the `student` is this
kernel's namespace (LocalStudent); under nbgrader autograde it is a sandboxed executor process that never
holds a check (toxlab.grading.checker). Either way the checks see the same plain data.

The grade cell prints a short pass/fail summary with hints on stdout, writes nothing to stderr
(nbgrader scores 0 for any stderr output), and raises when a check fails. The hidden checks
live outside the package; in JupyterLab they run only where $TOXLAB_HIDDEN_CHECKS names their
folder (course/hidden_checks/, one file per lab). Which assignment an exercise belongs to, and
what a course's checks need built, come from the course's extension (an entry point of the group
`toxlab.grading`: toxlab.labs.grading); nothing here names a lab or imports one.

Modules: extensions (what a course adds, found by entry point), wire (plain data), executor
(untrusted side), checker (trusted side), answers (conversions checks share), jobs (one submission
to grade, and the queue of results graded elsewhere), preprocessors (nbgrader's pipeline), course
(paths and the gradebook URL), batch (many submissions, on Dask), results (each check's result,
stored), report (what the class got wrong).
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

from . import wire
from .extensions import registry

HIDDEN_ENV = "TOXLAB_HIDDEN_CHECKS"  # the folder of hidden checks, <lab>.py each (the instructor's course/hidden_checks)
VISIBLE_STEM, HIDDEN_STEM = "visible_checks", "hidden_checks"  # the names checks are copied under for each run
HIDDEN_HINT = "(details hidden)"
FAILING_INPUT = " -- failing input: "  # what follows is the checker's own input, never the student's output


def fail(message: str, **inputs) -> AssertionError:
    """An assertion for a hidden check: a literal message, then the (checker-made) input that failed."""
    shown = ", ".join(f"{k}={v!r}" for k, v in inputs.items())
    return AssertionError(f"{message}{FAILING_INPUT}{shown[:300]}" if inputs else message)


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
    detail: str = ""  # a hidden check's own failure message, for the instructor's report only

    def line(self) -> str:
        """How the verdict shows it: PASS/FAIL, the check's name, and the hint when it failed."""
        text = f"  {'PASS' if self.passed else 'FAIL'}  {'(hidden) ' if self.hidden else ''}{self.name}"
        return text + (f"\n        hint: {self.hint}" if self.hint and not self.passed else "")


# --- the student, as checks see it ------------------------------------------------------------

class Student:
    """What a check may ask of the student's notebook; subclasses say where the answers come from."""

    def ask(self, req: dict) -> dict:
        raise NotImplementedError

    def function(self, name: str) -> None:
        """Assert that `name` is the student's own function (defined in the notebook, not imported)."""
        info = self._infos().get(name)
        if info is None:
            reply = self.ask({"op": "info", "name": name})
            info = wire.from_plain(reply.get("value")) if reply.get("ok") else {}
            info = info if isinstance(info, dict) else {}
            self._infos()[name] = info
        assert info.get("defined"), f"define `{name}` in the notebook (run its cell first)"
        assert info.get("callable"), f"`{name}` should be a function"
        module = str(info.get("module", ""))
        assert not module.startswith(("toxlab", "transformers", "sklearn", "torch")), (
            f"`{name}` comes from {module}; write it yourself in the notebook")
        assert not info.get("mentions_toxlab"), f"`{name}` calls toxlab; the exercise is to write it yourself"

    def _infos(self) -> dict:
        if not hasattr(self, "_info_cache"):
            self._info_cache = {}
        return self._info_cache

    def _answer(self, what: str, reply: dict):
        if not reply.get("ok"):
            raise AssertionError(f"{what} raised {reply.get('error', 'an error')}")
        try:
            return wire.from_plain(reply.get("value"))
        except wire.WireError as e:
            raise AssertionError(f"{what} returned something that cannot be checked ({e})") from None

    def call(self, name: str, *args, **kwargs):
        """name(*args, **kwargs) in the student's notebook; the result as plain data (wire.from_plain)."""
        self.function(name)
        reply = self.ask({"op": "call", "name": name, "args": wire.encode_args(list(args)),
                          "kwargs": wire.encode_args(kwargs)})
        return self._answer(f"{name}(...)", reply)

    def call_echo(self, name: str, *args, **kwargs) -> tuple:
        """Like call, but also return the arguments as the function left them: (result, args, kwargs)."""
        self.function(name)
        reply = self.ask({"op": "call", "name": name, "args": wire.encode_args(list(args)),
                          "kwargs": wire.encode_args(kwargs), "echo": True})
        out = self._answer(f"{name}(...)", reply)
        assert isinstance(out, dict) and {"result", "args", "kwargs"} <= set(out), f"{name}(...) gave no answer"
        return out["result"], out["args"], out["kwargs"]

    def harness(self, name: str, args: list = (), kwargs: dict | None = None, what: str | None = None):
        """The course's harness `name` run on the student's namespace with these arguments (objects that
        wire.obj names are built there); its answer as plain data. `what` names it in a failure.

        Harnesses are the course's (toxlab.grading.extensions): for what one call cannot show, such as a
        method of the student's class called on a real instance."""
        what = what or f"{name}(...)"
        reply = self.ask({"op": "harness", "name": name, "args": wire.encode_args(list(args)),
                          "kwargs": wire.encode_args(kwargs or {})})
        return self._answer(what, reply)


class LocalStudent(Student):
    """The student in this kernel: requests are served in-process, through the same plain data."""

    def __init__(self, namespace: dict):
        self.namespace = namespace

    def ask(self, req: dict) -> dict:
        import json

        from .executor import serve

        reply = serve(self.namespace, json.loads(json.dumps(req)))
        return json.loads(json.dumps(reply))


# --- running checks -------------------------------------------------------------------------

class _Plugin:
    """A pytest plugin handing the student to checks as the `student` fixture, and collecting outcomes."""

    def __init__(self, student: Student, hidden_text: str):
        self._student = student
        self.hidden_text = hidden_text
        self.outcomes: list[Outcome] = []

    @pytest.fixture
    def student(self) -> Student:
        return self._student

    def pytest_runtest_logreport(self, report) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            hint = ""
            if report.failed:
                exc = getattr(report.longrepr, "reprcrash", None)
                hint = (exc.message if exc else str(report.longrepr)).strip().splitlines()[0]
                hint = hint.removeprefix("AssertionError: ")
            file, *_, test = report.nodeid.split("::")
            exercise, _, what = test.removeprefix("test_").partition("__")
            hidden = Path(file).stem == HIDDEN_STEM
            detail = hint[:300] if hidden else ""
            if hidden and hint and hint.split(FAILING_INPUT)[0] not in self.hidden_text:
                hint = HIDDEN_HINT  # only the checks' own wording: never text shaped by what the student's code saw
            self.outcomes.append(Outcome(exercise, what.replace("_", " "), report.passed, hint, hidden, detail))


def _checks_file(exercise: str, hidden: bool) -> Path:
    """The visible checks of the exercise's lab, or its hidden checks in the folder $TOXLAB_HIDDEN_CHECKS names."""
    try:
        lab = registry().for_exercise(exercise)
    except KeyError as e:
        raise ExerciseFailed(e.args[0]) from None
    if not hidden:
        return lab.checks
    folder = os.environ.get(HIDDEN_ENV)
    path = Path(folder) / f"{lab.name}.py" if folder else None
    if path is None or not path.is_file():
        raise ExerciseFailed(f"hidden checks not found (${HIDDEN_ENV}={folder!r} should be a folder holding "
                             f"{lab.name}.py); they run only when the instructor grades.")
    return path


def run_checks(exercise: str | list[str], namespace: dict, hidden: bool = False) -> list[Outcome]:
    """Run the checks named test_<exercise>__* (one or several exercises of one lab) against a namespace, silently."""
    first = exercise if isinstance(exercise, str) else exercise[0]
    return run_check_files(exercise, LocalStudent(namespace), [_checks_file(first, hidden)])


def run_check_files(exercise: str | list[str], student: Student, paths: list[Path],
                    first_failure: bool = False) -> list[Outcome]:
    """The checks of several files in one pytest run, in file order; a file that is no lab's visible checks is hidden.

    first_failure: stop at the first failing check (the fixture matrix only needs which one it was)."""
    exercises = [exercise] if isinstance(exercise, str) else list(exercise)
    visible = {a.checks for a in registry().assignments().values()}
    names = [VISIBLE_STEM if Path(p).resolve() in visible else HIDDEN_STEM for p in paths]
    assert len(set(names)) == len(names), f"give one visible and at most one hidden checks file, got {paths}"
    hidden_text = "".join(Path(p).read_text() for p, n in zip(paths, names) if n == HIDDEN_STEM)
    plugin = _Plugin(student, hidden_text)
    selection = " or ".join(f"test_{e}__" for e in exercises)
    env_autoload = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # no plugins from the student's environment
    sink = io.StringIO()
    # A private folder holding copies of the checks and an empty pytest.ini: pytest reads no
    # conftest.py, pytest.ini or plugin from the student's folder, and walks no folder above it.
    with tempfile.TemporaryDirectory(prefix="toxlab-checks-") as tmp:
        checks = [str(shutil.copy(p, Path(tmp) / f"{n}.py")) for p, n in zip(paths, names)]
        (Path(tmp) / "pytest.ini").write_text("[pytest]\n")
        # no:unraisableexception: that plugin ends every run with a full gc.collect(), which walks the whole
        # heap (torch, transformers, the notebook's data): 0.4 s a run on a small heap and seconds on a big
        # one, paid by every grade cell and every fixture of the matrix; the verdicts never used what it finds
        args = [*checks, "-k", selection, "-q", "--noconftest", "-p", "no:cacheprovider", "-p", "no:warnings",
                "-p", "no:stepwise", "-p", "no:unraisableexception", "--rootdir", tmp, "-c", str(Path(tmp) / "pytest.ini"),
                "-W", "ignore", *(["-x"] if first_failure else [])]
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
    """Grade-cell entry point: print a summary; raise ExerciseFailed if any check failed.

    (Under autograde no grade cell runs: toxlab.grading.checker writes its verdict instead.)"""
    outcomes = run_checks(exercise, namespace, hidden)
    kind = "hidden checks" if hidden else "checks"
    failed = [o for o in outcomes if not o.passed]
    print(f"{exercise}: {len(outcomes) - len(failed)}/{len(outcomes)} {kind} passed")
    for o in outcomes:
        print(o.line())
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
