"""Grading a course's submissions: the unit a worker grades, and the coordinator that fans it out on Dask.

    coordinator (course/instructor.py autograde [--workers N | --scheduler ADDRESS])
      1. sanitizes each pending submission as nbgrader will, and makes a Job of it: the notebook,
         the trusted source and the hidden checks as text, so a worker needs no shared filesystem;
      2. sends the jobs to Dask: a LocalCluster on this machine, or a running cluster by address;
         each worker runs the notebook once in the sandbox and grades it (toxlab.grading.checker);
      3. as each result arrives, runs nbgrader's autograde for that student in this process. Its
         GradeOutsideKernel preprocessor holds this run's results (toxlab.grading.jobs.GradedElsewhere)
         and finds this one by the notebook's key instead of grading again, and nbgrader writes the
         gradebook and autograded/: only this process writes them.

With no workers, step 3 alone runs: GradeOutsideKernel grades each notebook here, one by one. Either
way a submission is graded by the same function on the same inputs, so the results are the same.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
import threading
import warnings
from dataclasses import dataclass, field

import nbformat

from ..extras import require
from . import checker, results
from .course import Course
from .jobs import grade_job, make_job
from .preprocessors import GradeOutsideKernel


# --- the coordinator -----------------------------------------------------------------------------------

@dataclass
class Summary:
    """What one autograde run did, per (assignment, student)."""

    graded: list[tuple[str, str]] = field(default_factory=list)
    failed: dict[tuple[str, str], str] = field(default_factory=dict)  # -> nbgrader's log
    repaired: list[tuple[str, str]] = field(default_factory=list)


def nbgrader_config(course: Course):
    """The course's nbgrader configuration (course/nbgrader_config.py), as nbgrader itself loads it."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(course.dir)).load_config()


def create_gradebook(url: str) -> None:
    """nbgrader's and toxlab's tables, created once, before any grading starts."""
    from nbgrader.api import Gradebook

    with Gradebook(url):
        pass
    results.create(url)


@contextlib.contextmanager
def shared_gradebook(url: str):
    """Create the gradebook's schema once and yield toxlab's pooled engine for `url`; while open, nbgrader's
    gradebook openings of `url` in this process share that engine and trust that schema.

    nbgrader 0.9.6's Gradebook() makes a new engine on each opening, checks every table (a query each),
    and disposes of the engine on close; an autograde opens the gradebook about eleven times per
    submission (its converter and preprocessors). With PostgreSQL each opening was a new server process
    and a fresh catalog cache (17 ms here, against 3 ms shared), on the cores the workers need."""
    from nbgrader import api

    create_gradebook(url)
    shared, real, create_all = results.engine(url), api.create_engine, api.Base.metadata.create_all
    api.create_engine = lambda u, **kw: shared if str(u) == url else real(u, **kw)
    api.Base.metadata.create_all = lambda bind=None, **kw: None if bind is shared else create_all(bind=bind, **kw)
    shared.dispose = lambda close=True: None  # Gradebook.close() would empty the pool after every opening
    try:
        yield shared
    finally:
        api.create_engine = real
        del api.Base.metadata.create_all, shared.dispose
        shared.dispose()


def repair_interrupted(course: Course, assignment: str, url: str) -> list[str]:
    """Remove autograded/ folders that an interrupted run left half-done; return their students.

    nbgrader writes the sanitized notebook into autograded/STUDENT/ASSIGNMENT/ first and saves the
    scores last. After a kill in between, a re-run would see the folder and skip that student for
    good, with no scores. Such a folder is nbgrader's output, rebuilt from submitted/, so removing
    it loses nothing (manual grades and comments live in the gradebook and stay)."""
    from nbgrader.api import Gradebook, MissingEntry

    autograded = checker.grade_ids(nbformat.read(course.source(assignment), as_version=4))
    repaired = []
    with Gradebook(url) as gb:
        for folder in sorted((course.dir / "autograded").glob(f"*/{assignment}")):
            student = folder.parent.name
            try:
                done = all(gb.find_grade(g, assignment, assignment, student).auto_score is not None for g in autograded)
            except MissingEntry:
                done = False
            if not done:
                shutil.rmtree(folder)
                repaired.append(student)
    return repaired


def sanitized(config, course: Course, assignment: str, student: str, url: str):
    """The student's notebook after nbgrader's sanitize step (as configured), computed without writing anything."""
    from nbgrader.converters import Autograde
    from traitlets.config import Config

    nb = nbformat.read(course.submitted(student, assignment), as_version=4)
    resources = {"nbgrader": {"student": student, "assignment": assignment, "notebook": assignment,
                              "db_url": url, "course_id": config.get("CourseDirectory", Config()).get("course_id", "")},
                 "metadata": {"path": str(course.submitted(student, assignment).parent)}}
    for cls in Autograde(config=config).sanitize_preprocessors:
        nb, resources = cls(config=config)(nb, resources)
    return nb


def autograde_one(config, course: Course, assignment: str, student: str, force: bool,
                  grader: GradeOutsideKernel) -> dict:
    """nbgrader's autograde for one student, in this process: it writes the gradebook and autograded/.

    grader: the run's GradeOutsideKernel, in nbgrader's pipeline in place of its class (it holds the
    results workers sent back)."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id, coursedir.student_id = assignment, student
    app = Autograde(coursedir=coursedir, config=config)
    app.force, app.create_student = force, True
    app.autograde_preprocessors = [grader if p is GradeOutsideKernel else p for p in app.autograde_preprocessors]
    app.log.setLevel(logging.WARNING)
    with warnings.catch_warnings():  # nbgrader 0.9.6's SQLAlchemy use warns on every submission
        warnings.simplefilter("ignore", category=Warning)
        return capture_log(app)


def pending(course: Course, assignment: str, students: list[str], force: bool) -> list[str]:
    """The named students (default: every submission) whose submission has no complete autograded folder."""
    have = course.students(assignment)
    for s in students:
        if s not in have:
            raise SystemExit(f"autograde: no submission for student {s!r} at {course.submitted(s, assignment)}")
    return [s for s in (students or have) if force or not course.autograded(s, assignment).exists()]


# A Dask worker samples its running task's stack every 10 ms (for the dashboard's profile) and ticks its
# event loop every 20 ms. On a grading task, deep pytest and transformers stacks in a thread that holds
# the GIL, that cost a sixth of the workers' CPU on a 6a load (130 core-s against 108), on cores they share
# (bench/dask_worker.py). Nobody reads either during a run; a blocked loop is still reported, later.
WORKER_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s"}


def connect(workers: int, scheduler: str | None):
    """(client, cluster): a client of the running scheduler at `scheduler`, else of a new LocalCluster of
    `workers` single-threaded processes, set up with WORKER_CONFIG (cluster is None when it is not ours to close)."""
    dask, distributed = dask_modules(scheduler)
    if scheduler:
        return distributed.Client(scheduler), None
    with dask.config.set(WORKER_CONFIG):  # a nanny hands the config to its worker process as it starts it
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=logging.ERROR)
    return distributed.Client(cluster), cluster


def dask_modules(scheduler: str | None = None) -> tuple:
    """(dask, distributed), or MissingExtra naming the 'grading' extra and the option that needs it."""
    needed_by = "autograde --scheduler" if scheduler else "autograde --workers"
    return require("dask", "grading", needed_by), require("distributed", "grading", needed_by)


def autograde(course: Course, assignments: str | list[str], students: list[str] = (), force: bool = False,
              workers: int = 0, scheduler: str | None = None, progress: bool = True) -> Summary:
    """Grade the pending submissions of the assignments (one name or several): here one by one, or on Dask with
    `workers` or `scheduler` (one cluster for all of them)."""
    from tqdm.auto import tqdm

    if workers or scheduler:
        _, distributed = dask_modules(scheduler)  # before anything is graded: a missing extra is one line, now
    assignments = [assignments] if isinstance(assignments, str) else list(assignments)
    url = course.gradebook_url()
    config = nbgrader_config(course)
    config.CourseDirectory.db_url = url
    config.CoursePreprocessor.course_root = str(course.root)
    grader = GradeOutsideKernel(config=config)  # the one holder of the timeout and of the workers' results
    with shared_gradebook(url):  # the schema exists before any grading; the coordinator's openings share one pool
        summary = Summary(repaired=[(a, s) for a in assignments for s in repair_interrupted(course, a, url)])
        todo = [(a, s) for a in assignments for s in pending(course, a, list(students), force)]
        bar = tqdm(total=len(todo), desc=f"autograde {', '.join(assignments)}", unit="submission",
                   disable=not progress or not todo, file=sys.stderr)

        def write(assignment: str, student: str) -> None:
            res = autograde_one(config, course, assignment, student, force, grader)
            if res["success"]:
                summary.graded.append((assignment, student))
            else:
                summary.failed[(assignment, student)] = res.get("log", "") + res.get("error", "")
            bar.update()

        try:
            if not (workers or scheduler):
                for assignment, student in todo:
                    write(assignment, student)
                return summary
            client, cluster = connect(workers, scheduler)
            try:
                # workers import and start their zygotes while we sanitize (client.run blocks: a thread of ours waits)
                threading.Thread(target=client.run, args=(checker.warm_up, assignments), daemon=True).start()
                futures = {}
                for a, s in todo:  # each job goes out as soon as it is made
                    j = make_job(course, a, s, sanitized(config, course, a, s, url), grader.timeout)
                    futures[client.submit(grade_job, j, key=f"grade-{a}-{j.student}-{j.key[:16]}")] = j
                for future in distributed.as_completed(futures):
                    j = futures[future]
                    try:
                        grader.elsewhere.put(j.key, future.result())
                    except Exception as e:  # noqa: BLE001 - nbgrader logs it as this student's failure, as serially
                        grader.elsewhere.put(j.key, e)
                    write(j.assignment, j.student)
            finally:
                with contextlib.suppress(Exception):  # a worker that is gone has nothing left to close
                    client.run(checker.close_zygotes)  # each worker's sandbox and its files, now rather than at exit
                client.close()
                if cluster is not None:
                    cluster.close()
            return summary
        finally:
            bar.close()
