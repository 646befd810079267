"""The instructor's commands, in one place. Each wraps nbgrader, run from this folder's config.

    python course/instructor.py release                   # source/ -> release/ (nbgrader generate_assignment)
    python course/instructor.py place STUDENT NOTEBOOK    # put a submission in course/submitted/
    python course/instructor.py autograde [STUDENT ...]   # grade submissions (all when none named)
          [--workers N | --scheduler ADDRESS]             #   in parallel on Dask (toxlab.grading.batch)
    python course/instructor.py report [ASSIGNMENT]       # what the class got wrong: CSVs, a chart, Canvas grades
    python course/instructor.py feedback [STUDENT ...]    # HTML feedback, hidden tests stripped
    python course/instructor.py export [--to grades.csv]  # grades as CSV
    python course/instructor.py run-lab [--out runs/lab]  # the main job: every lab end to end (below)
    python course/instructor.py zip-collect LAB ZIP       # an LMS (Canvas) download -> course/submitted/
    sudo python course/instructor.py hub start --students alice,bob   # the course on a JupyterHub here
    sudo python course/instructor.py hub grade|stop       #   collect, autograde, release feedback; stop

Every command works on every lab (the assignments under source/, in toxlab.labs order), or on the
one that --assignment NAME names; `place` takes the lab from the notebook's file name when it is
one (explain_lab.ipynb), else from --assignment. Every command takes --db-url URL (e.g.
postgresql://user@host/db) to keep the gradebook in that database instead of course/gradebook.db
(SQLite); $TOXLAB_GRADEBOOK does the same.

run-lab executes each instructor notebook headless in CPU mode (on $TOXLAB_DATA, else demo data),
each in its own folder under runs/lab/course/ (the layout nbgrader gives a student), so that labs 6b
and 6c load the model lab 6a saved, with its threshold, from ../toxicity_lab/saved_models/. It writes each executed
notebook and a short report (runs/lab/<assignment>/), regenerates release/, then autogrades two
example submissions per lab (the solution and the untouched release) in a scratch copy of the
course, and prints their scores. The real gradebook is untouched. Each run starts from an empty
runs/lab/course/ (a folder run-lab made; it refuses any other), so no model of an earlier run is reused.

Nothing here deletes grades: autograde keeps earlier grades and comments unless you pass --force,
which nbgrader then applies, and a run that was killed part-way finishes the rest when run again.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

COURSE_DIR = Path(__file__).resolve().parent  # nbgrader's course folder: its config, hidden checks, submissions
from toxlab import labs  # noqa: E402 - after the docstring's imports
from toxlab.extras import MissingExtra, require  # noqa: E402
from toxlab.grading.course import GRADEBOOK_ENV, Course  # noqa: E402

COURSE = Course(COURSE_DIR.parent)  # the whole course: source/, release/ and that folder


def assignments(named: str | None = None) -> list[str]:
    """The named assignment, or every lab that has a source notebook, in the registry's order."""
    have = COURSE.assignments()
    if named:
        if named not in have:
            raise SystemExit(f"instructor: --assignment {named}: no {COURSE.source(named)}; "
                             f"the course has {', '.join(have) or 'no assignments'}")
        return [named]
    return [name for name in labs.LABS if name in have] + [name for name in have if name not in labs.LABS]


def nbgrader(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run `nbgrader ARGS` from the course folder with this Python's tools on PATH."""
    bindir = str(Path(sys.executable).parent)  # nbgrader calls `alembic` by name
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    cmd = [str(Path(bindir) / "nbgrader"), *args]
    print("+", " ".join(["nbgrader", *args]), flush=True)
    return subprocess.run(cmd, cwd=COURSE_DIR, env=env, check=check)


def generation_runs(names: list[str], folders: set[str]) -> list[str]:
    """What each `nbgrader generate_assignment` run is given to generate `names`, of the folders under source/.

    Each run costs seconds of imports before it converts anything, so when the names are every folder, one run
    takes "*" (nbgrader globs it over source/). A folder that is not a lab (a draft, say) would be released by
    "*" too, so then each lab gets its own run."""
    return ["*"] if len(names) > 1 and set(names) == folders else list(names)


def release(names: list[str], force: bool) -> None:
    """Regenerate release/<name>/ from source/ for each name (nbgrader generate_assignment)."""
    folders = {p.name for p in (COURSE.root / "source").iterdir() if p.is_dir() and not p.name.startswith(".")}
    for which in generation_runs(names, folders):
        nbgrader("generate_assignment", which, *(["--force"] if force else []))


def place(student: str, notebook: str, assignment: str | None, force: bool) -> None:
    """Copy a student's notebook to course/submitted/STUDENT/ASSIGNMENT/ (refuses to overwrite)."""
    src = Path(notebook)
    if not src.is_file():
        raise SystemExit(f"instructor: {src}: no such notebook")
    have = COURSE.assignments()
    assignment = assignment or (src.stem if src.stem in have else None)
    if assignment is None:
        raise SystemExit(f"instructor: which lab is {src.name}? Pass --assignment NAME ({', '.join(have)})")
    dest = COURSE.submitted(student, assignment)
    if dest.exists() and not force:
        raise SystemExit(f"instructor: {dest} exists; pass --force to replace that submission")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    print(f"placed {src} as {student}'s submission of {assignment}")


def for_students(students: list[str], *args: str) -> None:
    """Run nbgrader once for all students, or once per named student."""
    for student in students or [None]:
        nbgrader(*args, *([f"--student={student}"] if student else []))


def run_lab(out: Path, names: list[str]) -> None:
    """Every named lab end to end: execute in CPU mode, report, release, autograde two examples, print scores."""
    out = out.resolve()
    # the folders a student has: one per assignment under one course folder, as nbgrader fetches them, so
    # labs 6b and 6c find the model lab 6a saved in ../toxicity_lab/saved_models/ the way a student's do
    course = out / "course"
    fresh_course(course)
    os.environ.setdefault("TOXLAB_MODE", "cpu")
    if os.environ.get("TOXLAB_DATA"):  # each notebook runs in its own lab folder: a relative path would miss
        os.environ["TOXLAB_DATA"] = os.path.abspath(os.environ["TOXLAB_DATA"])
    os.environ["TOXLAB_HIDDEN_CHECKS"] = str(COURSE_DIR / "hidden_checks")  # the source's grade cells run them
    for name in names:
        (course / name).mkdir(parents=True, exist_ok=True)
        execute_lab(name, out / name, course / name)
    # what tests/test_notebook.py needs to check this run instead of executing the labs again: the tree it ran
    (out / RUN_STAMP).write_text(json.dumps({"tree": tree_digest(), "labs": names, "mode": os.environ["TOXLAB_MODE"],
                                             "data": os.environ.get("TOXLAB_DATA") or "demo"}, indent=2))
    release(names, force=True)
    autograde_examples(names)


RUN_STAMP = "run-lab.json"
COURSE_MARK = ".made-by-run-lab"


def fresh_course(course: Path) -> None:
    """Start run-lab's course folder empty. A model a student's lab finds there is loaded, never trained over
    (6c's mitigated model, 6b's fallback), so a folder left by an earlier run, on other data or an older tree,
    would be measured instead of this run's. Only a folder run-lab marked as its own is removed."""
    if course.exists():
        if not (course / COURSE_MARK).exists():
            raise SystemExit(f"instructor: {course} exists but run-lab did not make it (no {COURSE_MARK}); "
                             f"move it away, or pass --out to run the labs elsewhere")
        print(f"run-lab: starting from an empty {course} (the last run's models would be loaded, not retrained)")
        shutil.rmtree(course)
    course.mkdir(parents=True)
    (course / COURSE_MARK).write_text("run-lab's scratch course: removed at the start of the next run-lab\n")
TREE_PARTS = ("toxlab/**/*.py", "source/**/*.ipynb", "course/hidden_checks/*.py", "course/*.py")


def tree_digest(root: Path = COURSE_DIR.parent) -> str:
    """A digest of everything a lab run depends on in this tree (the package, the notebooks, the checks), so a
    run-lab output can be matched to the tree that made it."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted({p for part in TREE_PARTS for p in root.glob(part) if "__pycache__" not in p.parts}):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def execute_lab(name: str, out: Path, workdir: Path) -> None:
    """Execute one instructor notebook headless, plus its lab's report cell; print the report."""
    import time

    import nbformat
    from nbclient import NotebookClient

    out.mkdir(parents=True, exist_ok=True)
    source_nb = COURSE.source(name)
    t = time.time()
    nb = nbformat.read(source_nb, as_version=4)
    report_cell = labs.get(name).module("modes").REPORT_CELL
    client = NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(workdir)}})
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            client.execute_cell(cell, i)
        # nbclient writes each executed cell back into nb.cells, so the report cell must be in it
        nb.cells.append(nbformat.v4.new_code_cell(report_cell.replace("__REPORT_DIR__", repr(str(out)))))
        client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
        nb.cells.pop()
    nbformat.write(nb, out / f"{name}.executed.ipynb")
    print(f"executed {source_nb.name} in {os.environ['TOXLAB_MODE']} mode in {time.time() - t:.0f} s -> {out}")
    print((out / "report.txt").read_text())


COURSE_FILES = ("nbgrader_config.py", "instructor.py")


def copy_course(dest: Path) -> Path:
    """A scratch copy of the course at `dest`: source/, the config and hidden checks; no gradebook."""
    shutil.copytree(COURSE_DIR.parent / "source", dest / "source")
    (dest / "course").mkdir(parents=True)
    for f in COURSE_FILES:
        shutil.copy(COURSE_DIR / f, dest / "course" / f)
    shutil.copytree(COURSE_DIR / "hidden_checks", dest / "course" / "hidden_checks",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def autograde_examples(names: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    """Autograde each lab's solution and untouched release in a scratch course; print and return the scores
    ({assignment: {student: {exercise: points}}})."""
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
        subprocess.run([*tool, "release"], check=True, env=env, **quiet)  # also records them in the scratch gradebook
        for name in names:
            blank = nbformat.read(Course(scratch).release(name), as_version=4)
            solved = solved_notebook(blank, nbformat.read(COURSE.source(name), as_version=4))
            for student, notebook in (("example-solution", solved), ("example-untouched", blank)):
                path = scratch / student / f"{name}.ipynb"
                path.parent.mkdir(exist_ok=True)
                nbformat.write(notebook, path)
                subprocess.run([*tool, "place", student, str(path)], check=True, env=env, **quiet)
        t = time.time()
        subprocess.run([*tool, "autograde"], check=True, env=env, **quiet)
        print(f"autograded {2 * len(names)} submissions in {time.time() - t:.0f} s")
        result: dict = {}
        with Gradebook(Course(scratch).sqlite_url()) as gb:
            for name in names:
                for sub in gb.assignment_submissions(name):
                    auto = {g.name.removeprefix("check_"): g.auto_score for nb_ in sub.notebooks for g in nb_.grades
                            if g.name.startswith("check_")}
                    result.setdefault(name, {})[sub.student.id] = auto
                    print(f"  {name}/{sub.student.id:<18} {sum(auto.values()):g} / {sub.max_code_score:g} "
                          "autograded points: " + ", ".join(f"{k}={v:g}" for k, v in auto.items()))
    return result


def autograde(names: list[str], students: list[str], force: bool, workers: int, scheduler: str | None) -> int:
    """Grade the pending submissions of each lab (here, or on Dask: one cluster for all) and say what happened;
    1 when any failed."""
    import time

    from toxlab.grading.batch import autograde as grade_all

    t = time.time()
    summary = grade_all(COURSE, names, students, force=force, workers=workers, scheduler=scheduler)
    for name, student in summary.repaired:
        print(f"instructor: {student}'s autograded {name} was left half-done by an interrupted run; graded again")
    counts = ", ".join(f"{sum(a == name for a, _ in summary.graded)} of {name}" for name in names)
    print(f"autograded {len(summary.graded)} submission(s) ({counts}) in {time.time() - t:.0f} s"
          + (f" ({workers} workers)" if workers else f" (Dask scheduler {scheduler})" if scheduler else ""))
    for (name, student), log in summary.failed.items():
        print(f"instructor: grading {student}'s {name} FAILED:\n{log[-3000:]}", file=sys.stderr)
    return 1 if summary.failed else 0


def main(argv: list[str] | None = None) -> int:
    try:
        return run(argv)
    except MissingExtra as e:  # one line naming the extra, not a traceback
        raise SystemExit(f"instructor: {e}") from None


def run(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command; 0 when it succeeded."""
    from toxlab.sandbox import (
        ensure_bwrap,  # autograde sandboxes every submission: install bwrap (root) or say how
    )

    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db-url", help=f"the gradebook's database URL (default: ${GRADEBOOK_ENV}, else "
                                     "course/gradebook.db), e.g. postgresql://grader@localhost:5432/toxlab")
    one = argparse.ArgumentParser(add_help=False)
    one.add_argument("--assignment", metavar="NAME", help="only this lab (default: every lab under source/)")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", parents=[db, one], help="regenerate release/ from source/")
    p.add_argument("--force", action="store_true", help="overwrite an existing release (it is generated)")
    p = sub.add_parser("place", parents=[one], help="put a submission in course/submitted/")
    p.add_argument("student")
    p.add_argument("notebook", help="the student's notebook; named <assignment>.ipynb, or give --assignment")
    p.add_argument("--force", action="store_true", help="replace the student's existing submission")
    p = sub.add_parser("autograde", parents=[db, one], help="autograde submissions")
    p.add_argument("students", nargs="*", help="only these students (default: every pending submission)")
    p.add_argument("--force", action="store_true", help="re-grade, replacing earlier autograded output")
    p.add_argument("--workers", type=int, default=0,
                   help="grade this many submissions at once on a local Dask cluster (default 0: one by one, here)")
    p.add_argument("--scheduler", help="send the grading to the running Dask scheduler at this address "
                                       "(tcp://host:8786); its workers need toxlab and bubblewrap, not this folder")
    p = sub.add_parser("report", parents=[db, one], help="what the class got wrong: per exercise, per check, Canvas CSV")
    p.add_argument("lab", nargs="?", metavar="ASSIGNMENT", help="the same as --assignment")
    p.add_argument("--out", default=str(COURSE_DIR / "reports"), help="folder for the CSVs and the chart (one "
                                                                  "subfolder per lab when there are several)")
    p = sub.add_parser("feedback", parents=[db, one], help="generate HTML feedback")
    p.add_argument("students", nargs="*")
    p.add_argument("--force", action="store_true", help="regenerate existing feedback")
    p = sub.add_parser("export", parents=[db], help="export grades as CSV (every lab)")
    p.add_argument("--to", default=str(COURSE_DIR / "grades.csv"))
    p = sub.add_parser("run-lab", parents=[one], help="the main job: run every lab end to end and grade two examples each")
    p.add_argument("--out", default=str(COURSE_DIR.parent / "runs" / "lab"),
                   help="folder for the executed notebooks and reports (<out>/<assignment>/)")
    p = sub.add_parser("hub", help="run the course on a JupyterHub on this machine (README: Run the course on JupyterHub)")
    p.add_argument("action", choices=["start", "stop", "grade"],
                   help="start: build and start it (root); grade: collect, autograde, release feedback; stop")
    p.add_argument("--students", default="", help="start: the students' user names, comma-separated (alice,bob)")
    p.add_argument("--instructor", default="instructor", help="start: the instructor's user name (default instructor)")
    p.add_argument("--root", default=None, help="the hub's state folder (default /var/lib/toxlab-hub)")
    p.add_argument("--env", default=None, help="start: the shared environment's folder (default /opt/toxlab-hub)")
    p.add_argument("--port", type=int, default=8000, help="start: the hub's port on 127.0.0.1 (default 8000)")
    p.add_argument("--assignment", metavar="NAME", help="grade: only this lab (default: every lab)")
    p.add_argument("--workers", type=int, default=0, help="grade: autograde --workers N")
    p.add_argument("--remove-users", action="store_true", help="stop: also delete the users it created, and their homes")
    p = sub.add_parser("zip-collect", help="submissions from an LMS download (a Canvas zip) into course/submitted/")
    p.add_argument("lab", metavar="ASSIGNMENT")
    p.add_argument("zip", help="the zip of submissions the LMS gave (Canvas: Assignments > Download Submissions)")
    a = ap.parse_args(argv)
    if a.command == "hub":
        from hub import deploy  # course/hub/: needs root and the system's Python, not the course extra

        root = Path(a.root) if a.root else deploy.DEFAULT_ROOT
        if a.action == "start":
            deploy.start(root, Path(a.env) if a.env else deploy.DEFAULT_ENV,
                         [s for s in a.students.split(",") if s], a.instructor, a.port)
        elif a.action == "stop":
            deploy.stop(root, remove_users=a.remove_users)
        else:
            deploy.grade(root, [a.assignment] if a.assignment else None, a.workers)
        return 0
    if getattr(a, "db_url", None):
        os.environ[GRADEBOOK_ENV] = a.db_url  # nbgrader's config reads it, here and in the nbgrader it runs
    if a.command == "autograde" and a.workers < 0:
        ap.error(f"--workers {a.workers}: give 0 (grade here, one by one) or more")
    if a.command == "autograde" and a.workers and a.scheduler:
        ap.error("--workers starts a local cluster and --scheduler uses a running one: give one of them")
    if a.command == "report" and a.lab and a.assignment and a.lab != a.assignment:
        ap.error(f"report {a.lab} --assignment {a.assignment}: name one lab")
    named = getattr(a, "assignment", None) or getattr(a, "lab", None)
    for module in ("nbgrader", "nbformat"):  # every command runs nbgrader or reads notebooks
        require(module, "course", f"instructor.py {a.command}")
    if a.command in ("release", "autograde", "report", "feedback", "export"):
        COURSE.gradebook_url()  # its database driver is installed, or one line naming the extra

    if a.command == "release":
        release(assignments(named), a.force)
    elif a.command == "place":
        place(a.student, a.notebook, named, a.force)
    elif a.command == "autograde":
        ensure_bwrap()
        return autograde(assignments(named), a.students, a.force, a.workers, a.scheduler)
    elif a.command == "report":
        from toxlab.grading.report import write_report

        names = assignments(named)
        for name in names:
            for line in write_report(COURSE, name, Path(a.out) / name if len(names) > 1 else Path(a.out)):
                print(line)
    elif a.command == "feedback":
        for name in assignments(named):
            for_students(a.students, "generate_feedback", name, *(["--force"] if a.force else []))
    elif a.command == "export":
        nbgrader("export", f"--to={a.to}")
    elif a.command == "zip-collect":
        from hub import lms

        return lms.zip_collect(COURSE, a.lab, Path(a.zip))
    elif a.command == "run-lab":
        ensure_bwrap()
        run_lab(Path(a.out), assignments(named))
    return 0


if __name__ == "__main__":
    sys.exit(main())
