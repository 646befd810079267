"""The instructor's commands, in one place. Each wraps nbgrader, run from this folder's config.

    python course/instructor.py release                   # source/ -> release/ (nbgrader generate_assignment)
    python course/instructor.py place STUDENT NOTEBOOK    # put a submission in course/submitted/
    python course/instructor.py autograde [STUDENT ...]   # grade submissions (all when none named)
    python course/instructor.py feedback [STUDENT ...]    # HTML feedback, hidden tests stripped
    python course/instructor.py export [--to grades.csv]  # grades as CSV
    python course/instructor.py run-lab [--out runs/lab]  # the main job: the lab end to end (below)

run-lab executes the instructor notebook headless in CPU mode (on $TOXLAB_DATA, else demo data),
writes the executed notebook and a short report (metrics, confusion matrix, bias table and plot),
regenerates release/, then autogrades two example submissions (the solution and the untouched
release) in a scratch copy of the course, and prints their scores. The real gradebook is untouched.

Nothing here deletes grades: autograde keeps earlier grades and comments unless you pass --force,
which nbgrader then applies. Set ASSIGNMENT to grade another lab (default: toxicity_lab).
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


def repair_interrupted() -> list[str]:
    """Remove autograded/ folders that an interrupted run left half-done; return their students.

    nbgrader writes the sanitized notebook into autograded/STUDENT/ASSIGNMENT/ first, executes
    it, and saves the scores last. After a kill in between, a re-run sees the folder and skips
    that student for good, with no scores. A folder whose submission has an autograded cell
    without a score is such a leftover; it is nbgrader's output, rebuilt from submitted/, so
    removing it loses nothing (manual grades and comments live in the gradebook and stay).
    """
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry

    from toxlab.grading.checker import grade_ids

    source = nbformat.read(COURSE.parent / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    autograded = grade_ids(source)
    repaired = []
    with Gradebook(f"sqlite:///{COURSE / 'gradebook.db'}") as gb:
        for folder in sorted((COURSE / "autograded").glob(f"*/{ASSIGNMENT}")):
            student = folder.parent.name
            try:
                done = all(gb.find_grade(g, ASSIGNMENT, ASSIGNMENT, student).auto_score is not None for g in autograded)
            except MissingEntry:
                done = False
            if not done:
                shutil.rmtree(folder)
                repaired.append(student)
                print(f"instructor: {folder} was left half-done by an interrupted run; it will be graded again")
    return repaired


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
    source_nb = COURSE.parent / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"

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
    """A scratch copy of the course at `dest`: source/, the config, hidden checks and kernelspec; no gradebook."""
    shutil.copytree(COURSE.parent / "source", dest / "source")
    (dest / "course").mkdir(parents=True)
    for f in COURSE_FILES:
        shutil.copy(COURSE / f, dest / "course" / f)
    shutil.copytree(COURSE / "jupyter", dest / "course" / "jupyter")
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
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run([*tool, "release"], check=True, env=env, **quiet)  # also records it in the scratch gradebook
        blank = nbformat.read(scratch / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
        solved = solved_notebook(blank, nbformat.read(source_nb, as_version=4))
        for student, notebook in (("example-solution", solved), ("example-untouched", blank)):
            path = scratch / f"{student}.ipynb"
            nbformat.write(notebook, path)
            subprocess.run([*tool, "place", student, str(path)], check=True, env=env, **quiet)
        t = time.time()
        subprocess.run([*tool, "autograde"], check=True, env=env, **quiet)
        print(f"autograded 2 submissions in {time.time() - t:.0f} s")
        result = {}
        with Gradebook(f"sqlite:///{scratch / 'course' / 'gradebook.db'}") as gb:
            for sub in gb.assignment_submissions(ASSIGNMENT):
                auto = {g.name.removeprefix("check_"): g.auto_score for nb_ in sub.notebooks for g in nb_.grades
                        if g.name.startswith("check_")}
                result[sub.student.id] = auto
                print(f"  {sub.student.id:<18} {sum(auto.values()):g} / {sub.max_code_score:g} autograded points: "
                      + ", ".join(f"{k}={v:g}" for k, v in auto.items()))
    return result


def main(argv: list[str] | None = None) -> int:
    from toxlab.sandbox import ensure_bwrap  # autograde sandboxes every submission: install bwrap (root) or say how

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
    p = sub.add_parser("run-lab", help="the main job: run the lab end to end and grade two examples")
    p.add_argument("--out", default=str(COURSE.parent / "runs" / "lab"), help="folder for the executed notebook and report")
    a = ap.parse_args(argv)

    if a.command == "release":
        release(a.force)
    elif a.command == "place":
        place(a.student, a.notebook, a.force)
    elif a.command == "autograde":
        ensure_bwrap()
        repair_interrupted()
        for_students(a.students, "autograde", ASSIGNMENT, "--create", *(["--force"] if a.force else []))
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
