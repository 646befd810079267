"""The course round trip through real nbgrader: release, autograde, feedback, export.

The graded course (tests/graded_course.py, shared with the integrity and batch tests) holds the
reference solution, the untouched release, a handful of wrong and alternative-correct fixtures
(tests/test_exercises.py runs all of them in process), and two malformed ones (a duplicated
grade cell, edited cell metadata), all graded in one parallel run. Each must get exactly the
score it deserves, shares of partial credit included, and the run must finish for all.
"""

import pytest
from conftest import ROOT
from expected_scores import score_of
from fixtures.submissions import POINTS, WRONG
from graded_course import (
    CORRECT_THROUGH_AUTOGRADE,
    THROUGH_AUTOGRADE,
    fixture,
    full_marks,
)
from scratch_course import LAB, autograded, instructor, scores

pytestmark = pytest.mark.course


@pytest.fixture(scope="module")
def course(graded_course):
    """(root, the round trip's submissions, the autograde run)."""
    return graded_course.root, graded_course.subs, graded_course.result


def test_release_matches_committed_release(course):
    root, _, _ = course
    fresh = (root / "release" / LAB / f"{LAB}.ipynb").read_text()
    committed = (ROOT / "release" / LAB / f"{LAB}.ipynb").read_text()
    assert fresh == committed, "release/ is stale: run `python course/instructor.py release --force` and commit it"
    assert sorted(p.name for p in (ROOT / "release" / LAB).iterdir()) == [f"{LAB}.ipynb"], "release/ holds data files"
    assert "BEGIN SOLUTION" not in committed and "HIDDEN" not in committed and "hidden=True" not in committed


def test_autograde_finishes_for_everyone(course):
    root, subs, graded = course
    graded_students = set(scores(root))
    assert set(subs) - {"dup-grade-cell"} <= graded_students, (
        f"not graded: {set(subs) - graded_students}; log: {graded.stderr[-2000:]}")


def test_solution_gets_full_marks(course):
    assert autograded(scores(course[0])["solution"]) == full_marks()


def test_untouched_release_gets_zero_everywhere(course):
    assert autograded(scores(course[0])["blank"]) == {k: 0.0 for k in full_marks()}


@pytest.mark.parametrize("exercise,name", THROUGH_AUTOGRADE, ids=[f"{e}-{n}" for e, n in THROUGH_AUTOGRADE])
def test_one_mistake_loses_exactly_the_shares_of_its_failed_checks(course, exercise, name):
    """The students' view: points lost on that exercise only, as many as the checks it fails are worth."""
    got = autograded(scores(course[0])[f"wrong-{exercise}-{name}"])
    earned = score_of(exercise, fixture(WRONG, exercise, name))
    assert earned < POINTS[exercise], f"{exercise}/{name} should lose something"
    assert got == pytest.approx({**full_marks(), f"check_{exercise}": earned})


def test_partial_credit_reaches_the_gradebook(course):
    earned = {f"{ex}/{n}": score_of(ex, fixture(WRONG, ex, n)) for ex, n in THROUGH_AUTOGRADE}
    assert any(0 < v < POINTS[k.split("/")[0]] for k, v in earned.items()), f"no partial credit among {earned}"


@pytest.mark.parametrize("exercise,name", CORRECT_THROUGH_AUTOGRADE)
def test_alternative_correct_solution_gets_full_marks(course, exercise, name):
    assert autograded(scores(course[0])[f"correct-{exercise}-{name}"]) == full_marks()


def test_duplicated_grade_cell_is_a_clear_error_or_a_correct_score(course):
    root, _, graded = course
    s = scores(root).get("dup-grade-cell")
    if s is None:
        assert "dup-grade-cell" in graded.stdout + graded.stderr
    else:
        assert autograded(s) == full_marks()


def test_edited_metadata_and_rewritten_grade_cell_are_restored(course):
    assert autograded(scores(course[0])["edited-metadata"]) == full_marks()


def test_feedback_has_no_hidden_tests(course):
    root, _, _ = course
    res = instructor(root, "feedback", "solution", "blank")
    assert res.returncode == 0, res.stderr[-3000:]
    folder = root / "course" / "feedback"
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files), f"no feedback HTML in {files}"
    assert all(p.suffix == ".html" for p in files), f"feedback copied stray files: {files}"
    for p in files:
        text = p.read_text(errors="replace")
        for leak in ("HIDDEN TESTS", "hidden=True", "hidden_checks"):
            assert leak not in text, f"{p} leaks {leak!r}"
    assert "identity_gap: 3/3 checks passed, 2 of 2 points" in (folder / "solution" / LAB / f"{LAB}.html").read_text()


def test_export_writes_grades_csv(course):
    import pandas as pd

    root, subs, _ = course
    assert instructor(root, "export", "--to", str(root / "grades.csv")).returncode == 0
    df = pd.read_csv(root / "grades.csv")
    assert set(df["student_id"]) >= {"solution", "blank"}
    assert df.set_index("student_id").loc["solution", "raw_score"] == sum(POINTS.values())
