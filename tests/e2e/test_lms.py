"""LMS in: a Canvas-style zip of submissions through `instructor.py zip-collect` (nbgrader zip_collect), then graded.

A plain course test (no hub): four files as Canvas names them - on time, late, re-uploaded, and one renamed
by hand - must give three graded submissions under the right logins and the fourth reported by name.
"""

from __future__ import annotations

import shutil
import sys
import zipfile

import pytest

nbformat = pytest.importorskip("nbformat", reason="needs nbformat, from the course extra (pip install -e '.[course,test]')")
pytest.importorskip("nbgrader", reason="needs nbgrader, from the course extra (pip install -e '.[course,test]')")

from conftest import ROOT
from expected_scores import fixtures
from scratch_course import autograded, instructor, make_course, scores

from toxlab.grading import solved_notebook

pytestmark = pytest.mark.course
LAB = "toxicity_lab"
sys.path.insert(0, str(ROOT / "course"))
from hub import lms  # noqa: E402 - course/ is a folder of scripts


def test_the_pattern_reads_canvas_names_from_absolute_paths():
    base = "/srv/course/downloaded/toxicity_lab/extracted/submissions"
    assert lms.match(f"{base}/alice_1001_5001_toxicity_lab.ipynb")["student_id"] == "alice"
    late = lms.match(f"{base}/bob_late_1002_5002_toxicity_lab.ipynb")
    assert (late["student_id"], late["late"], late["file_id"]) == ("bob", "_late", LAB)
    again = lms.match(f"{base}/carol_1003_5003_toxicity_lab-2.ipynb")
    assert (again["student_id"], again["file_id"]) == ("carol", LAB)
    for wrong in ("toxicity_lab.ipynb", "dave_toxicity_lab.ipynb", "erin_1_2_toxicity_lab.py"):
        assert lms.match(f"{base}/{wrong}") is None, wrong
    # without the leading .*/ nbgrader's re.match on the absolute path would take the folders as the login
    assert lms.match("alice_1001_5001_toxicity_lab.ipynb") is None


def test_zip_collect_grades_on_time_late_and_reuploaded_and_reports_the_misnamed(tmp_path):
    release, source = make_course(tmp_path)[LAB]
    # copy_course copies the grading files alone; zip-collect's module lives in course/hub/
    shutil.copytree(ROOT / "course" / "hub", tmp_path / "course" / "hub", ignore=shutil.ignore_patterns("__pycache__"))
    solved = solved_notebook(release, source)
    files = {"alice_1001_5001_toxicity_lab.ipynb": solved,       # on time
             "bob_late_1002_5002_toxicity_lab.ipynb": release,   # late, untouched
             "carol_1003_5003_toxicity_lab-1.ipynb": solved,     # uploaded a second time
             "toxicity_lab (dave).ipynb": solved}                # renamed by hand: no login, no ids
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, nb in files.items():
            z.writestr(name, nbformat.writes(nb))

    res = instructor(tmp_path, "zip-collect", LAB, str(archive))
    assert res.returncode == 1, f"a file left out must fail the command:\n{res.stdout}\n{res.stderr}"
    assert "NOT COLLECTED: toxicity_lab (dave).ipynb" in res.stderr, res.stderr
    assert "-> bob (late)" in res.stdout and "-> carol (re-uploaded)" in res.stdout, res.stdout
    submitted = tmp_path / "course" / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == ["alice", "bob", "carol"]

    res = instructor(tmp_path, "autograde", "--assignment", LAB)
    assert res.returncode == 0, res.stderr[-3000:]
    got = {student: sum(autograded(s).values()) for student, s in scores(tmp_path, LAB).items()}
    full = sum(fixtures(LAB).POINTS.values())
    assert got == {"alice": full, "bob": 0, "carol": full}, got
