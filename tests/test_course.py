"""The course round trip through real nbgrader: release, autograde, feedback, export.

One autograde run grades every submission built here: the reference solution, the untouched
release, each wrong-solution fixture, and two malformed ones (a duplicated grade cell, edited
cell metadata). Each must get exactly the score it deserves, and the run must finish for all.
"""

import copy

import pytest

from conftest import ROOT
from fixtures.wrong_solutions import POINTS, SOLUTION_CELL, WRONG
from scratch_course import LAB, autograded, instructor, make_course, scores, submit, with_cells
from toxlab.grading import solved_notebook

pytestmark = pytest.mark.course


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course (source, config, hidden checks) with a fresh gradebook; graded once."""
    root = tmp_path_factory.mktemp("course-copy")
    release, source = make_course(root)
    solution = solved_notebook(release, source)
    subs = {"solution": solution, "blank": release}
    for ex, cases in WRONG.items():
        for name, src in cases:
            subs[f"wrong-{ex}-{name}"] = with_cells(solution, **{SOLUTION_CELL[ex]: src})
    dup = copy.deepcopy(solution)
    i = next(i for i, c in enumerate(dup.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "check_tokenize")
    dup.cells.insert(i + 1, copy.deepcopy(dup.cells[i]))
    dup.cells[i + 1]["id"] = dup.cells[i]["id"] + "-copy"  # a copied cell gets a new cell id, as in JupyterLab
    subs["dup-grade-cell"] = dup
    meta = copy.deepcopy(solution)
    for c in meta.cells:
        nbg = c.metadata.get("nbgrader", {})
        if nbg.get("grade_id") == "check_tokenize":
            nbg["points"] = 50
        if nbg.get("grade_id") == "check_metrics":
            c.source = "print('all tests passed')"  # a rewritten grade cell: nbgrader restores it
    subs["edited-metadata"] = meta
    submit(root, subs)
    graded = instructor(root, "autograde")
    (root / "autograde.log").write_text(graded.stdout + graded.stderr)
    return root, subs, graded


def full_marks() -> dict[str, float]:
    return {f"check_{ex}": float(p) for ex, p in POINTS.items()}


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


WRONG_IDS = [(ex, name) for ex, cases in WRONG.items() for name, _ in cases]


@pytest.mark.parametrize("exercise,name", WRONG_IDS, ids=[f"{e}-{n}" for e, n in WRONG_IDS])
def test_wrong_solution_loses_exactly_its_points(course, exercise, name):
    got = autograded(scores(course[0])[f"wrong-{exercise}-{name}"])
    assert got == {**full_marks(), f"check_{exercise}": 0.0}


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
    assert "identity_gap: 3/3 checks passed" in (folder / "solution" / LAB / f"{LAB}.html").read_text()


def test_export_writes_grades_csv(course):
    import pandas as pd

    root, subs, _ = course
    assert instructor(root, "export", "--to", str(root / "grades.csv")).returncode == 0
    df = pd.read_csv(root / "grades.csv")
    assert set(df["student_id"]) >= {"solution", "blank"}
    assert df.set_index("student_id").loc["solution", "raw_score"] == sum(POINTS.values())
