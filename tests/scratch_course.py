"""A throwaway copy of the course for tests that run real nbgrader: build, submit, grade, read scores."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]

sys.path.insert(0, str(ROOT / "course"))
from instructor import copy_course  # noqa: E402 - course/ is a folder of scripts, not a package



def instructor(course: Path, *args: str, env: dict | None = None, timeout: float = 3000) -> subprocess.CompletedProcess:
    """Run course/instructor.py ARGS in the copy at `course`."""
    return subprocess.run([sys.executable, str(course / "course" / "instructor.py"), *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


def make_course(root: Path, env: dict | None = None) -> dict:
    """Copy source/ and the course config to `root` and release every lab; return {lab: (release, source)}."""
    from toxlab import labs

    copy_course(root)
    res = instructor(root, "release", env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    return {lab: (nbformat.read(root / "release" / lab / f"{lab}.ipynb", as_version=4),
                  nbformat.read(root / "source" / lab / f"{lab}.ipynb", as_version=4)) for lab in labs.LABS}


def cell(nb, grade_id: str):
    """The cell with this grade_id."""
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def with_cells(nb, **sources: str):
    """A copy of `nb` with the cells named by grade_id given new sources."""
    nb = copy.deepcopy(nb)
    for grade_id, source in sources.items():
        cell(nb, grade_id).source = source
    return nb


def submit(root: Path, lab: str, submissions: dict, env: dict | None = None) -> None:
    """Place each {student: notebook} as that student's submission of `lab`."""
    for student, nb in submissions.items():
        path = root / "subs" / student / f"{lab}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        res = instructor(root, "place", student, str(path), env=env)
        assert res.returncode == 0, res.stderr


def scores(root: Path, lab: str) -> dict[str, dict[str, float]]:
    """{student: {grade cell: autograded score}} of `lab` from the copy's gradebook."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{root / 'course' / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(lab):
            out[sub.student.id] = {g.name: g.auto_score for nb in sub.notebooks for g in nb.grades}
    return out


def autograded(s: dict) -> dict:
    """Only the autograded exercises (check_*) of a student's scores."""
    return {k: v for k, v in s.items() if k.startswith("check_")}
