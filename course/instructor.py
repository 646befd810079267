"""The instructor's commands, in one place. Each wraps nbgrader, run from this folder's config.

    python course/instructor.py release                   # source/ -> release/ (nbgrader generate_assignment)
    python course/instructor.py place STUDENT NOTEBOOK    # put a submission in course/submitted/
    python course/instructor.py autograde [STUDENT ...]   # grade submissions (all when none named)
    python course/instructor.py feedback [STUDENT ...]    # HTML feedback, hidden tests stripped
    python course/instructor.py export [--to grades.csv]  # grades as CSV

Nothing here deletes grades: autograde keeps earlier grades and comments unless you pass --force,
which nbgrader then applies. Set ASSIGNMENT to grade another lab (default: toxicity_lab).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

COURSE = Path(__file__).resolve().parent
ASSIGNMENT = os.environ.get("ASSIGNMENT", "toxicity_lab")


def nbgrader(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run `nbgrader ARGS` from the course folder with this Python's tools on PATH."""
    bindir = str(Path(sys.executable).parent)  # nbgrader calls `alembic` by name
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    cmd = [str(Path(bindir) / "nbgrader"), *args]
    print("+", " ".join(["nbgrader", *args]), flush=True)
    return subprocess.run(cmd, cwd=COURSE, env=env, check=check)


def release(force: bool) -> None:
    """Regenerate release/ from source/."""
    nbgrader("generate_assignment", ASSIGNMENT, *(["--force"] if force else []))


def place(student: str, notebook: str, force: bool) -> None:
    """Copy a student's notebook to course/submitted/STUDENT/ASSIGNMENT/ (refuses to overwrite)."""
    src = Path(notebook)
    if not src.is_file():
        raise SystemExit(f"instructor: {src}: no such notebook")
    dest = COURSE / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    if dest.exists() and not force:
        raise SystemExit(f"instructor: {dest} exists; pass --force to replace that submission")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    print(f"placed {src} as {student}'s submission")


def for_students(students: list[str], *args: str) -> None:
    """Run nbgrader once for all students, or once per named student."""
    for student in students or [None]:
        nbgrader(*args, *([f"--student={student}"] if student else []))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", help="regenerate release/ from source/")
    p.add_argument("--force", action="store_true", help="overwrite an existing release (it is generated)")
    p = sub.add_parser("place", help="put a submission in course/submitted/")
    p.add_argument("student")
    p.add_argument("notebook")
    p.add_argument("--force", action="store_true", help="replace the student's existing submission")
    p = sub.add_parser("autograde", help="autograde submissions")
    p.add_argument("students", nargs="*")
    p.add_argument("--force", action="store_true", help="re-grade, replacing earlier autograded output")
    p = sub.add_parser("feedback", help="generate HTML feedback")
    p.add_argument("students", nargs="*")
    p.add_argument("--force", action="store_true", help="regenerate existing feedback")
    p = sub.add_parser("export", help="export grades as CSV")
    p.add_argument("--to", default=str(COURSE / "grades.csv"))
    a = ap.parse_args(argv)

    if a.command == "release":
        release(a.force)
    elif a.command == "place":
        place(a.student, a.notebook, a.force)
    elif a.command == "autograde":
        for_students(a.students, "autograde", ASSIGNMENT, "--create", *(["--force"] if a.force else []))
    elif a.command == "feedback":
        for_students(a.students, "generate_feedback", ASSIGNMENT, *(["--force"] if a.force else []))
    elif a.command == "export":
        nbgrader("export", f"--to={a.to}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
