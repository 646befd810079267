"""A command that needs an optional extra which is not installed ends in one line naming the extra and the fix
(toxlab.extras.require), not in a ModuleNotFoundError traceback. The missing module is faked: setting
sys.modules[name] to None makes importing it fail as if it were not installed."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from conftest import ROOT
from fixtures.wrong_extras import WRONG

GRADING = 'needs the \'grading\' extra: pip install -e ".[grading]"'


def said(call) -> str:
    """What `call` ended with: the message of what it raised (SystemExit included), or 'returned'."""
    try:
        call()
    except BaseException as e:  # noqa: BLE001 - SystemExit is what a command line ends in
        return f"{type(e).__name__}: {e}"
    return "returned"


@pytest.mark.parametrize("wrong", [None, *WRONG])
def test_local_workers_without_distributed_name_the_grading_extra(wrong, monkeypatch):
    from toxlab.grading.batch import connect

    monkeypatch.setitem(sys.modules, "distributed", None)
    got = said(lambda: (connect if wrong is None else WRONG[wrong])(2, None))
    ok = got == f"MissingExtra: autograde --workers {GRADING} (missing: distributed)"
    assert ok == (wrong is None), f"{wrong or 'connect'} ended with: {got}"


def test_instructor_autograde_workers_says_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    spec = importlib.util.spec_from_file_location("instructor_under_test", ROOT / "course" / "instructor.py")
    instructor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(instructor)
    got = said(lambda: instructor.main(["autograde", "--workers", "2"]))
    assert got == f"SystemExit: instructor: autograde --workers {GRADING} (missing: distributed)", got


@pytest.mark.parametrize("command", [["release"], ["autograde"], ["report"], ["run-lab"]])
@pytest.mark.parametrize("module", ["nbgrader", "nbformat"])
def test_instructor_commands_without_the_course_extra_say_one_line(monkeypatch, command, module):
    monkeypatch.setitem(sys.modules, module, None)
    spec = importlib.util.spec_from_file_location("instructor_under_test", ROOT / "course" / "instructor.py")
    instructor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(instructor)
    got = said(lambda: instructor.main(command))
    assert got == (f"SystemExit: instructor: instructor.py {command[0]} needs the 'course' extra: "
                   f'pip install -e ".[course]" (missing: {module})'), got


def test_a_postgresql_gradebook_without_psycopg_names_the_grading_extra(monkeypatch, tmp_path):
    from toxlab.grading.course import GRADEBOOK_ENV, Course

    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.setenv(GRADEBOOK_ENV, "postgresql://grader@localhost:5432/toxlab")
    got = said(Course(tmp_path).gradebook_url)
    assert got.startswith("MissingExtra: a PostgreSQL gradebook") and got.endswith(f"{GRADING} (missing: psycopg)"), got
    monkeypatch.setenv(GRADEBOOK_ENV, "")
    assert Course(tmp_path).gradebook_url().startswith("sqlite:///"), "SQLite needs no extra"
