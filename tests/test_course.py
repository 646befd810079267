"""The course round trip through real nbgrader: release, autograde, feedback, export.

The graded course (tests/graded_course.py, shared with the integrity and batch tests) holds the
reference solution, the untouched release, a handful of wrong and alternative-correct fixtures
(tests/test_exercises.py runs all of them in process) dealt into a few submissions, and two malformed ones (a duplicated
grade cell, edited cell metadata), all graded in one parallel run. Each must get exactly the
score it deserves, shares of partial credit included, and the run must finish for all.
"""

import ast

import pytest

# with `.[test]` alone this module skips, naming the extra it needs, instead of failing collection
pytest.importorskip("nbformat", reason="needs nbformat, from the course extra (pip install -e '.[course,test]')")
pytest.importorskip("nbgrader", reason="needs nbgrader, from the course extra (pip install -e '.[course,test]')")

from conftest import ROOT
from expected_scores import fixtures, score_of
from graded_course import fixture, full_marks, round_expected, round_student
from scratch_course import autograded, instructor, scores

from toxlab import labs

pytestmark = pytest.mark.course
LABS = list(labs.LABS)
WRONG_RUNS = [(lab, ex, n) for lab in LABS for ex, n in fixtures(lab).THROUGH_AUTOGRADE]
CORRECT_RUNS = [(lab, ex, n) for lab in LABS for ex, n in fixtures(lab).CORRECT_THROUGH_AUTOGRADE]


@pytest.fixture(scope="module")
def course(graded_course):
    """(root, the round trip's submissions {lab: {student: notebook}}, the autograde run)."""
    return graded_course.root, graded_course.subs, graded_course.result


@pytest.mark.parametrize("lab", LABS)
def test_release_matches_committed_release(course, lab):
    root, _, _ = course
    fresh = (root / "release" / lab / f"{lab}.ipynb").read_text()
    committed = (ROOT / "release" / lab / f"{lab}.ipynb").read_text()
    assert fresh == committed, "release/ is stale: run `python course/instructor.py release --force` and commit it"
    assert sorted(p.name for p in (ROOT / "release" / lab).iterdir()) == [f"{lab}.ipynb"], "release/ holds data files"
    assert "BEGIN SOLUTION" not in committed and "HIDDEN" not in committed and "hidden=True" not in committed


def test_every_lab_is_registered_once_with_all_its_parts():
    """A lab under source/ has its registry entry, checks, fixtures, modes, hidden checks and release; and back."""
    assert sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir()) == sorted(LABS)
    for lab in LABS:
        for part in (ROOT / "release" / lab / f"{lab}.ipynb", ROOT / "course" / "hidden_checks" / f"{lab}.py",
                     labs.get(lab).checks):
            assert part.is_file(), f"{lab}: {part} is missing (see the README's 'Adding a lab')"
        modes = labs.get(lab).module("modes")
        ast.parse(modes.REPORT_CELL.replace("__REPORT_DIR__", "'out'"))  # run-lab appends it to the executed notebook
        assert modes.REPORT_FILES and fixtures(lab).POINTS


@pytest.mark.parametrize("lab", LABS)
def test_autograde_finishes_for_everyone(course, lab):
    root, subs, graded = course
    graded_students = set(scores(root, lab))
    assert set(subs[lab]) - {"dup-grade-cell"} <= graded_students, (
        f"not graded: {set(subs[lab]) - graded_students}; log: {graded.stderr[-2000:]}")


@pytest.mark.parametrize("lab", LABS)
def test_solution_gets_full_marks(course, lab):
    assert autograded(scores(course[0], lab)["solution"]) == full_marks(lab)


@pytest.mark.parametrize("lab", LABS)
def test_untouched_release_gets_zero_everywhere(course, lab):
    assert autograded(scores(course[0], lab)["blank"]) == {k: 0.0 for k in full_marks(lab)}


@pytest.mark.parametrize("lab,exercise,name", WRONG_RUNS, ids=[f"{e}-{n}" for _, e, n in WRONG_RUNS])
def test_one_mistake_loses_exactly_the_shares_of_its_failed_checks(course, lab, exercise, name):
    """The students' view: points lost on that exercise only, as many as the checks it fails are worth.

    The mistake shares its submission with other exercises' mistakes (graded_course.rounds), each with its
    own exact score, so a mistake that cost another exercise anything would show there too."""
    student = round_student("wrong", lab, exercise, name)
    got = autograded(scores(course[0], lab)[student])
    earned = score_of(lab, exercise, fixture("WRONG", exercise, name))
    assert earned < fixtures(lab).POINTS[exercise], f"{exercise}/{name} should lose something"
    assert got[f"check_{exercise}"] == pytest.approx(earned), f"{student}: {got}"
    assert got == pytest.approx(round_expected(lab, student)), f"{student}: another exercise's score is off"


def test_partial_credit_reaches_the_gradebook(course):
    earned = {f"{ex}/{n}": score_of(lab, ex, fixture("WRONG", ex, n)) for lab, ex, n in WRONG_RUNS}
    points = {ex: p for lab in LABS for ex, p in fixtures(lab).POINTS.items()}
    assert any(0 < v < points[k.split("/")[0]] for k, v in earned.items()), f"no partial credit among {earned}"


@pytest.mark.parametrize("lab,exercise,name", CORRECT_RUNS, ids=[f"{e}-{n}" for _, e, n in CORRECT_RUNS])
def test_alternative_correct_solution_gets_full_marks(course, lab, exercise, name):
    assert autograded(scores(course[0], lab)[round_student("correct", lab, exercise, name)]) == full_marks(lab)


@pytest.mark.parametrize("lab", LABS)
def test_duplicated_grade_cell_is_a_clear_error_or_a_correct_score(course, lab):
    root, _, graded = course
    s = scores(root, lab).get("dup-grade-cell")
    if s is None:
        assert "dup-grade-cell" in graded.stdout + graded.stderr
    else:
        assert autograded(s) == full_marks(lab)


@pytest.mark.parametrize("lab", LABS)
def test_edited_metadata_and_rewritten_grade_cell_are_restored(course, lab):
    assert autograded(scores(course[0], lab)["edited-metadata"]) == full_marks(lab)


def test_feedback_has_no_hidden_tests(course):
    root, _, _ = course
    res = instructor(root, "feedback", "solution", "blank")
    assert res.returncode == 0, res.stderr[-3000:]
    folder = root / "course" / "feedback"
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert {p.parent.name for p in files} == set(LABS), f"feedback for every lab: {files}"
    assert all(p.suffix == ".html" for p in files), f"feedback copied stray files: {files}"
    for p in files:
        text = p.read_text(errors="replace")
        for leak in ("HIDDEN TESTS", "hidden=True", "hidden_checks"):
            assert leak not in text, f"{p} leaks {leak!r}"
    for lab in LABS:  # the last exercise's summary, with its points, reaches the student
        last = list(fixtures(lab).POINTS)[-1]
        html = (folder / "solution" / lab / f"{lab}.html").read_text()
        assert f"{last}: " in html and f"of {fixtures(lab).POINTS[last]} points" in html, f"{lab}: no summary"


def test_export_writes_grades_csv(course):
    import pandas as pd

    root, subs, _ = course
    assert instructor(root, "export", "--to", str(root / "grades.csv")).returncode == 0
    df = pd.read_csv(root / "grades.csv")
    assert set(df["student_id"]) >= {"solution", "blank"}
    raw = df[df["student_id"] == "solution"].set_index("assignment")["raw_score"]
    for lab in LABS:
        assert raw[lab] == sum(fixtures(lab).POINTS.values()), f"{lab}: {raw.to_dict()}"
