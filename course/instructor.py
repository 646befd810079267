"""The instructor's commands, in one place. Each wraps nbgrader, run from this folder's config.

    python course/instructor.py release                   # source/ -> release/ (nbgrader generate_assignment)
    python course/instructor.py place STUDENT NOTEBOOK    # put a submission in course/submitted/
    python course/instructor.py autograde [STUDENT ...]   # grade submissions (all when none named)
          [--workers N | --scheduler ADDRESS]             #   in parallel on Dask (toxlab.grading.batch)
    python course/instructor.py report [ASSIGNMENT]       # what the class got wrong: CSVs, a chart, Canvas grades
    python course/instructor.py feedback [STUDENT ...]    # HTML feedback, hidden tests stripped
    python course/instructor.py export [--to grades.csv]  # grades as CSV
    python course/instructor.py run-lab [--out runs/lab]  # the main job: the lab end to end (below)

Every command takes --db-url URL (e.g. postgresql://user@host/db) to keep the gradebook in that
database instead of course/gradebook.db (SQLite); $TOXLAB_GRADEBOOK does the same.

run-lab executes the instructor notebook headless in CPU mode (on $TOXLAB_DATA, else demo data),
writes the executed notebook and a short report (metrics, confusion matrix, bias table and plot),
regenerates release/, then autogrades two example submissions (the solution and the untouched
release) in a scratch copy of the course, and prints their scores. The real gradebook is untouched.

Nothing here deletes grades: autograde keeps earlier grades and comments unless you pass --force,
which nbgrader then applies, and a run that was killed part-way finishes the rest when run again.
Set ASSIGNMENT to work on another lab (default: toxicity_lab).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

COURSE = Path(__file__).resolve().parent
from toxlab.grading.course import GRADEBOOK_ENV, Course  # noqa: E402 - after the docstring's imports

ASSIGNMENT = os.environ.get("ASSIGNMENT", "toxicity_lab")
THE_COURSE = Course(COURSE.parent)


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
    dest = THE_COURSE.submitted(student, ASSIGNMENT)
    if dest.exists() and not force:
        raise SystemExit(f"instructor: {dest} exists; pass --force to replace that submission")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    print(f"placed {src} as {student}'s submission")


def for_students(students: list[str], *args: str) -> None:
    """Run nbgrader once for all students, or once per named student."""
    for student in students or [None]:
        nbgrader(*args, *([f"--student={student}"] if student else []))


REPORT_CELL = """
import json as _json, pathlib as _pathlib
_out = _pathlib.Path(__REPORT_DIR__)
_out.mkdir(parents=True, exist_ok=True)
from toxlab.metrics import scores as _scores
_metrics = {"test_at_threshold": _scores(test["label"], p_test, threshold), "test_at_0.5": _scores(test["label"], p_test, 0.5),
            "mode": cfg.mode, "data": ds["train"].info.description, "train_rows": len(train_raw), "bias": bias.summary}
(_out / "metrics.json").write_text(_json.dumps(_metrics, indent=2, default=str))
(_out / "report.txt").write_text(report(test["label"], p_test, threshold))
plot_confusion_matrix(test["label"], p_test, threshold).savefig(_out / "confusion_matrix.png", dpi=110)
bias.per_term.to_csv(_out / "bias_terms.csv", index=False)
bias.per_group.to_csv(_out / "bias_groups.csv", index=False)
plot_bias(bias).savefig(_out / "bias.png", dpi=110)
"""


def run_lab(out: Path) -> None:
    """The lab end to end: execute, report, release, autograde two examples, print scores."""
    import time

    import nbformat
    from nbclient import NotebookClient

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    source_nb = THE_COURSE.source(ASSIGNMENT)

    # --- 1. execute the instructor notebook in CPU mode, plus one cell that writes the report ---
    t = time.time()
    nb = nbformat.read(source_nb, as_version=4)
    os.environ.setdefault("TOXLAB_MODE", "cpu")
    os.environ["TOXLAB_HIDDEN_CHECKS"] = str(COURSE / "hidden_checks.py")  # the source's grade cells run them
    workdir = out / "workdir"  # the notebook's saved_models/ land here
    workdir.mkdir(exist_ok=True)
    client = NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(workdir)}})
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            client.execute_cell(cell, i)
        # nbclient writes each executed cell back into nb.cells, so the report cell must be in it
        nb.cells.append(nbformat.v4.new_code_cell(REPORT_CELL.replace("__REPORT_DIR__", repr(str(out)))))
        client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
        nb.cells.pop()
    nbformat.write(nb, out / f"{ASSIGNMENT}.executed.ipynb")
    print(f"executed {source_nb.name} in {os.environ['TOXLAB_MODE']} mode in {time.time() - t:.0f} s -> {out}")
    print((out / "report.txt").read_text())
    print("bias probe:", json.loads((out / "metrics.json").read_text())["bias"])

    # --- 2. regenerate the release ---
    release(force=True)

    # --- 3. autograde two example submissions in a scratch copy of the course ---
    autograde_examples(source_nb)


COURSE_FILES = ("nbgrader_config.py", "hidden_checks.py", "instructor.py")


def copy_course(dest: Path) -> Path:
    """A scratch copy of the course at `dest`: source/, the config and hidden checks; no gradebook."""
    shutil.copytree(COURSE.parent / "source", dest / "source")
    (dest / "course").mkdir(parents=True)
    for f in COURSE_FILES:
        shutil.copy(COURSE / f, dest / "course" / f)
    return dest


def autograde_examples(source_nb: Path) -> dict[str, dict[str, float]]:
    """Autograde the solution and the untouched release in a scratch course; print and return the scores."""
    import tempfile
    import time

    import nbformat
    from nbgrader.api import Gradebook

    from toxlab.grading import solved_notebook

    with tempfile.TemporaryDirectory(prefix="toxlab-course-") as tmp:
        scratch = copy_course(Path(tmp))
        tool = [sys.executable, str(scratch / "course" / "instructor.py")]
        env = {**os.environ, "TOXLAB_MODE": "grade"}
        env.pop(GRADEBOOK_ENV, None)  # the scratch course keeps its own SQLite gradebook
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run([*tool, "release"], check=True, env=env, **quiet)  # also records it in the scratch gradebook
        blank = nbformat.read(Course(scratch).release(ASSIGNMENT), as_version=4)
        solved = solved_notebook(blank, nbformat.read(source_nb, as_version=4))
        for student, notebook in (("example-solution", solved), ("example-untouched", blank)):
            path = scratch / f"{student}.ipynb"
            nbformat.write(notebook, path)
            subprocess.run([*tool, "place", student, str(path)], check=True, env=env, **quiet)
        t = time.time()
        subprocess.run([*tool, "autograde"], check=True, env=env, **quiet)
        print(f"autograded 2 submissions in {time.time() - t:.0f} s")
        result = {}
        with Gradebook(Course(scratch).sqlite_url()) as gb:
            for sub in gb.assignment_submissions(ASSIGNMENT):
                auto = {g.name.removeprefix("check_"): g.auto_score for nb_ in sub.notebooks for g in nb_.grades
                        if g.name.startswith("check_")}
                result[sub.student.id] = auto
                print(f"  {sub.student.id:<18} {sum(auto.values()):g} / {sub.max_code_score:g} autograded points: "
                      + ", ".join(f"{k}={v:g}" for k, v in auto.items()))
    return result


def autograde(students: list[str], force: bool, workers: int, scheduler: str | None) -> int:
    """Grade the pending submissions (here, or on Dask) and say what happened; 1 when any failed."""
    import time

    from toxlab.grading.batch import autograde as grade_all

    t = time.time()
    summary = grade_all(THE_COURSE, ASSIGNMENT, students, force=force, workers=workers, scheduler=scheduler)
    for student in summary.repaired:
        print(f"instructor: {student}'s autograded folder was left half-done by an interrupted run; graded again")
    print(f"autograded {len(summary.graded)} submission(s) of {ASSIGNMENT} in {time.time() - t:.0f} s"
          + (f" ({workers} workers)" if workers else f" (Dask scheduler {scheduler})" if scheduler else ""))
    for student, log in summary.failed.items():
        print(f"instructor: grading {student} FAILED:\n{log[-3000:]}", file=sys.stderr)
    return 1 if summary.failed else 0


def main(argv: list[str] | None = None) -> int:
    from toxlab.sandbox import (
        ensure_bwrap,  # autograde sandboxes every submission: install bwrap (root) or say how
    )

    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db-url", help=f"the gradebook's database URL (default: ${GRADEBOOK_ENV}, else "
                                     "course/gradebook.db), e.g. postgresql://grader@localhost:5432/toxlab")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", parents=[db], help="regenerate release/ from source/")
    p.add_argument("--force", action="store_true", help="overwrite an existing release (it is generated)")
    p = sub.add_parser("place", help="put a submission in course/submitted/")
    p.add_argument("student")
    p.add_argument("notebook")
    p.add_argument("--force", action="store_true", help="replace the student's existing submission")
    p = sub.add_parser("autograde", parents=[db], help="autograde submissions")
    p.add_argument("students", nargs="*", help="only these students (default: every pending submission)")
    p.add_argument("--force", action="store_true", help="re-grade, replacing earlier autograded output")
    p.add_argument("--workers", type=int, default=0,
                   help="grade this many submissions at once on a local Dask cluster (default 0: one by one, here)")
    p.add_argument("--scheduler", help="send the grading to the running Dask scheduler at this address "
                                       "(tcp://host:8786); its workers need toxlab and bubblewrap, not this folder")
    p = sub.add_parser("report", parents=[db], help="what the class got wrong: per exercise, per check, Canvas CSV")
    p.add_argument("assignment", nargs="?", default=ASSIGNMENT)
    p.add_argument("--out", default=str(COURSE / "reports"), help="folder for the CSVs and the chart")
    p = sub.add_parser("feedback", parents=[db], help="generate HTML feedback")
    p.add_argument("students", nargs="*")
    p.add_argument("--force", action="store_true", help="regenerate existing feedback")
    p = sub.add_parser("export", parents=[db], help="export grades as CSV")
    p.add_argument("--to", default=str(COURSE / "grades.csv"))
    p = sub.add_parser("run-lab", help="the main job: run the lab end to end and grade two examples")
    p.add_argument("--out", default=str(COURSE.parent / "runs" / "lab"), help="folder for the executed notebook and report")
    a = ap.parse_args(argv)
    if getattr(a, "db_url", None):
        os.environ[GRADEBOOK_ENV] = a.db_url  # nbgrader's config reads it, here and in the nbgrader it runs
    if a.command == "autograde" and a.workers < 0:
        ap.error(f"--workers {a.workers}: give 0 (grade here, one by one) or more")
    if a.command == "autograde" and a.workers and a.scheduler:
        ap.error("--workers starts a local cluster and --scheduler uses a running one: give one of them")

    if a.command == "release":
        release(a.force)
    elif a.command == "place":
        place(a.student, a.notebook, a.force)
    elif a.command == "autograde":
        ensure_bwrap()
        return autograde(a.students, a.force, a.workers, a.scheduler)
    elif a.command == "report":
        from toxlab.grading.report import write_report

        for line in write_report(THE_COURSE, a.assignment, Path(a.out)):
            print(line)
    elif a.command == "feedback":
        for_students(a.students, "generate_feedback", ASSIGNMENT, *(["--force"] if a.force else []))
    elif a.command == "export":
        nbgrader("export", f"--to={a.to}")
    elif a.command == "run-lab":
        ensure_bwrap()
        run_lab(Path(a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
