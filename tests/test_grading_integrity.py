"""Hostile and broken submissions through real `nbgrader autograde`: each attack scores what it deserves.

Every submission below starts from the reference solution and attacks or breaks a few exercises
(one attack per exercise, so each attack's cost is visible on its own). An attacked exercise must
score exactly what its honest content earns (the wrong answer under the attack, scored in process
by tests/expected_scores.py; 0 where the cell kills or hangs its process), and every other exercise
full marks. All are graded in one parallel run with a control and the round trip's submissions
(tests/graded_course.py, which builds them), so the run must survive every one of them.
tests/fixtures/attacks.py holds the attacks on the checker and on other students.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# with `.[test]` alone this module skips, naming the extra it needs, instead of failing collection
nbformat = pytest.importorskip("nbformat", reason="needs nbformat, from the course extra (pip install -e '.[course,test]')")
pytest.importorskip("nbgrader", reason="needs nbgrader, from the course extra (pip install -e '.[course,test]')")

from conftest import ROOT
from fixtures import attacks as A
from graded_course import ATTACK_NAMES, SECRET, full_marks
from scratch_course import autograded, cell, instructor, scores

pytestmark = pytest.mark.course
LAB = "toxicity_lab"  # the attacks on the machinery itself ride on lab 6a's cells; each lab has its own too
HIDDEN = "".join(p.read_text() for p in sorted((ROOT / "course" / "hidden_checks").glob("*.py")))


@pytest.fixture(scope="module")
def graded(graded_course):
    """(root, {attack: expected points}, the autograde run, its start time)."""
    return graded_course.root, graded_course.attacks, graded_course.result, graded_course.started


@pytest.fixture(scope="module")
def env(graded_course):
    return graded_course.env


@pytest.mark.parametrize("lab", list(ATTACK_NAMES))
def test_every_submission_is_graded_and_the_run_reaches_the_control(graded, lab):
    root, expected, res, _ = graded
    got = scores(root, lab)
    assert set(expected[lab]) == set(ATTACK_NAMES[lab]), "ATTACK_NAMES lists every attack"
    assert set(expected[lab]) | {"zz-control"} <= set(got), (
        f"not graded: {set(expected[lab]) - set(got)}; see {root}/autograde.log")
    assert autograded(got["zz-control"]) == full_marks(lab)


@pytest.mark.parametrize("lab,student", [(lab, s) for lab, names in ATTACK_NAMES.items() for s in names])
def test_attack_scores_exactly_what_its_honest_content_earns(graded, lab, student):
    root, expected, *_ = graded
    want = {**full_marks(lab), **{f"check_{ex}": v for ex, v in expected[lab][student].items()}}
    got = autograded(scores(root, lab)[student])
    assert got == pytest.approx(want), f"{student}: {got}, want {want} (see {root}/course/autograded/{student})"


def _autograded_nb(root: Path, student: str, lab: str = LAB) -> str:
    return (root / "course" / "autograded" / student / lab / f"{lab}.ipynb").read_text()


@pytest.mark.parametrize("lab,student,where", [(LAB, "escape", "predict_proba"),
                                               ("explain_lab", "explain-escape", "p_toxic_given_term"),
                                               ("bias_lab", "bias-escape", "term_fnr")])
def test_escape_cannot_write_the_gradebook_or_outside_nor_read_the_instructors_files(graded, env, lab, student, where):
    root, *_ = graded
    assert not list(root.rglob("PWNED.txt")), "a submission wrote outside its folder"
    assert len(scores(root, LAB)) >= 15, "the gradebook lost students"
    nb = nbformat.reads(_autograded_nb(root, student, lab), as_version=4)
    out = "".join(o.get("text", "") for o in cell(nb, where).outputs)  # what the student's code saw
    assert "'wrote " in out, f"the escape cell did not run as expected: {out[:500]}"
    for line in _code_lines(HIDDEN):
        assert line not in out, f"the submission read the hidden checks: {line!r}"
    assert "BEGIN HIDDEN TESTS" not in out and "BEGIN SOLUTION" not in out
    assert SECRET not in out, "the kernel saw the grader's credentials"


def _outputs(root: Path, student: str) -> str:
    """Every output of the graded notebook as text: streams, rich data, and errors with their tracebacks."""
    nb = nbformat.reads(_autograded_nb(root, student), as_version=4)
    return "".join(o.get("text", "") + str(o.get("data", "")) + o.get("evalue", "") + "".join(o.get("traceback", []))
                   for c in nb.cells for o in c.get("outputs", []))


def test_students_share_no_memory_or_temp_files(graded):
    root = graded[0]
    seen = "".join(o.get("text", "") for o in cell(nbformat.reads(_autograded_nb(root, "shm-2-reader"), as_version=4),
                                                        "count_labels").outputs)
    assert "/dev/shm nothing" in seen and "/tmp nothing" in seen, seen
    assert A.NOTE not in seen


def test_no_hint_carries_hidden_text_or_hidden_inputs(graded):
    root = graded[0]
    out = _outputs(root, "leaky")
    assert "LEAK" in out and "SEEN" in out, "the leaky functions did not run"
    assert not any(line in out for line in _code_lines(HIDDEN)), "a hint carries hidden-check code"
    # the hidden metrics check's logits (0.1, 0.9, 0.8, ...) were seen by the code, but come back only as literals
    nb = nbformat.reads(_autograded_nb(root, "leaky"), as_version=4)
    verdict = "".join(o.get("text", "") for o in cell(nb, "check_metrics").outputs)
    assert "hidden checks: " in verdict and "[0.1, 0.9]" not in verdict and "any predictions" not in verdict, verdict


@pytest.mark.parametrize("lab,student,grade_cell", [("explain_lab", "explain-leaky", "check_term_toxicity"),
                                                     ("bias_lab", "bias-leaky", "check_swap")])
def test_leak_shows_only_the_checks_own_inputs(graded, lab, student, grade_cell):
    """Hidden checks feed generated texts: the student's exception quotes them, the hidden hint does not."""
    nb = nbformat.reads(_autograded_nb(graded[0], student, lab), as_version=4)
    verdict = "".join(o.get("text", "") for o in cell(nb, grade_cell).outputs)
    hidden_lines = [ln for ln in verdict.splitlines() if "(hidden)" in ln or "hidden checks" in ln]
    assert "FAIL" in verdict and hidden_lines and not any("SEEN" in ln for ln in hidden_lines), verdict
    assert not any(line in verdict for line in _code_lines(HIDDEN))


def test_notebook_outputs_are_capped_as_a_whole(graded):
    nb = graded[0] / "course" / "autograded" / "leaky" / LAB / f"{LAB}.ipynb"
    assert nb.stat().st_size < 12_000_000, f"{nb} is {nb.stat().st_size:,} bytes (25 images of 4.8 MB went in)"


def test_grading_leaves_no_scratch_folders(graded_course):
    assert not graded_course.leftovers, f"autograde left {graded_course.leftovers}"


def test_process_cap_binds_before_64_forks(graded):
    out = nbformat.reads(_autograded_nb(graded[0], "resources"), as_version=4)
    text = "".join(o.get("text", "") for o in cell(out, "make_training_args").outputs)
    forked = int(text.split("forked ")[1].split(" of")[0])
    assert forked < 64 and "fork refused" in text, text


def test_infinite_loop_hits_the_cell_timeout_and_later_cells_run(graded):
    out = nbformat.reads(_autograded_nb(graded[0], "resources"), as_version=4)
    looped = cell(out, "count_labels").outputs
    assert any(o.get("ename") == "CellSkipped" and "timeout" in o.get("evalue", "") for o in looped), looped
    # grade cells always get the verdict; a plain cell shows whether the run itself went on
    later = "".join(o.get("text", "") for o in cell(out, "load_model").outputs)
    assert "parameters" in later, "the cells after the loop did not run"


def test_huge_output_is_cut_and_stray_files_are_not_copied(graded):
    root, *_ = graded
    nb = root / "course" / "autograded" / "output" / LAB / f"{LAB}.ipynb"
    assert nb.stat().st_size < 3_000_000, f"{nb} is {nb.stat().st_size} bytes"
    assert not (root / "course" / "autograded" / "tamper-files" / LAB / "no_fail.py").exists()


def _code_lines(text: str) -> list[str]:
    """Distinctive lines of code (not comments, docstrings or imports) from a checks file."""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if len(s) > 30 and not s.startswith(("#", '"', "from ", "import ", "def ", "assert ")):
            out.append(s)
    return out


def test_hidden_checks_never_reach_release_or_feedback(graded):
    root, expected, *_ = graded
    res = instructor(root, "feedback")
    assert res.returncode == 0, res.stderr[-3000:]
    lines = _code_lines(HIDDEN)
    assert len(lines) > 10
    names = [ln.split("(")[0].removeprefix("def ") for ln in HIDDEN.splitlines() if ln.startswith("def test_")]
    places = [*(root / "course" / "feedback").rglob("*"), *(ROOT / "release").rglob("*"), *(root / "release").rglob("*")]
    files = [p for p in places if p.is_file()]
    assert any(p.suffix == ".html" for p in files)
    assert all(p.suffix in (".html", ".ipynb") for p in files), f"feedback copied other files: {files}"
    for p in files:
        text = p.read_text(errors="replace")
        for leak in [*lines, *names, "HIDDEN TESTS", "hidden=True"]:
            assert leak not in text, f"{p} leaks {leak!r}"
