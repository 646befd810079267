"""course/instructor.py's own decisions, without running nbgrader (the course tests run it for real).

`release` with no --assignment generates every lab in one `nbgrader generate_assignment "*"` run, since each
run costs seconds of imports; "*" globs every folder under source/, so with a folder there that is not a lab
each lab must get its own run. The real "*" run's output is checked against the committed release by
tests/test_course.py::test_release_matches_committed_release.
"""

from __future__ import annotations

import importlib.util

import pytest
from conftest import ROOT

LABS = ["toxicity_lab", "explain_lab", "bias_lab"]


@pytest.fixture(scope="module")
def instructor():
    spec = importlib.util.spec_from_file_location("instructor_under_test", ROOT / "course" / "instructor.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def always_glob(names: list[str], folders: set[str]) -> list[str]:
    """The plausible wrong version: "*" whenever more than one lab is released."""
    return ["*"] if len(names) > 1 else list(names)


def check(runs) -> None:
    assert runs(LABS, set(LABS)) == ["*"], "every folder is a lab: one run"
    assert runs(LABS, {*LABS, "drafts"}) == LABS, "a draft folder must not be released: one run per lab"
    assert runs(["explain_lab"], set(LABS)) == ["explain_lab"]
    assert runs(LABS[:2], set(LABS)) == LABS[:2]


def test_one_generate_run_for_every_lab_and_none_that_would_release_a_stray_folder(instructor):
    check(instructor.generation_runs)


def test_the_wrong_version_fails_the_check():
    with pytest.raises(AssertionError, match="draft folder"):
        check(always_glob)
