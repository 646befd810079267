"""The course round trip through real nbgrader: release, autograde, feedback, export.

One autograde run grades every submission built here: the reference solution, the untouched
release, a handful of wrong and alternative-correct fixtures (tests/test_exercises.py runs all
of them in process), and two malformed ones (a duplicated grade cell, edited cell metadata).
Each must get exactly the score it deserves, shares of partial credit included, and the run
must finish for all.
"""

import copy

import pytest

from conftest import ROOT
from expected_scores import score_of
from fixtures.submissions import CORRECT, POINTS, SOLUTION_CELL, WRONG
from scratch_course import LAB, autograded, instructor, make_course, scores, submit, with_cells
from toxlab.grading import solved_notebook

pytestmark = pytest.mark.course

# a handful through real autograde: full loss, partial credit (visible and hidden shares), a hidden-only catch
THROUGH_AUTOGRADE = [("label_counts", "swapped_order"), ("tokenize", "no_truncation"),
                     ("weighted_loss", "uses_self_model"), ("predict_proba", "no_eval_mode"),
                     ("identity_gap", "tied_scores_collapse")]
CORRECT_THROUGH_AUTOGRADE = [("metrics", "unpack_tuple"), ("training_args", "dict_union_eval_f1"),
                             ("weighted_loss", "manual_weighted_mean_args_device")]


def fixture(table: dict, exercise: str, name: str) -> str:
    return next(src for n, src, *_ in table[exercise] if n == name)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course (source, config, hidden checks) with a fresh gradebook; graded once."""
    root = tmp_path_factory.mktemp("course-copy")
    release, source = make_course(root)
    solution = solved_notebook(release, source)
    subs = {"solution": solution, "blank": release}
    for ex, name in THROUGH_AUTOGRADE:
        subs[f"wrong-{ex}-{name}"] = with_cells(solution, **{SOLUTION_CELL[ex]: fixture(WRONG, ex, name)})
    for ex, name in CORRECT_THROUGH_AUTOGRADE:
        subs[f"correct-{ex}-{name}"] = with_cells(solution, **{SOLUTION_CELL[ex]: fixture(CORRECT, ex, name)})
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
