"""One submission to grade: the Job a worker (or this process) grades, the cell timeout it runs under, and
the coordinator's queue of jobs already graded elsewhere, waiting for nbgrader to record them.

The nbgrader pipeline (toxlab.grading.preprocessors) and the coordinator (toxlab.grading.batch) both
make jobs here, from the same sanitized notebook, so a notebook's key is the same on either side.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import checker
from .checker import Graded
from .course import Course
from .extensions import registry

TIMEOUT_ENV = "TOXLAB_CELL_TIMEOUT"


def default_timeout() -> int:
    """Seconds per cell and per answer: $TOXLAB_CELL_TIMEOUT, else 90. The course config may override it
    (GradeOutsideKernel.timeout); everything else reads it from there."""
    return int(os.environ.get(TIMEOUT_ENV, 90))


@dataclass
class Job:
    """Everything a worker needs to grade one notebook."""

    key: str  # identifies the graded content: cells, source, hidden checks, timeout
    assignment: str
    student: str
    notebook: str  # the sanitized submission, nbformat JSON
    source: str  # the instructor's notebook, nbformat JSON
    hidden: str  # the hidden checks' text
    timeout: int  # seconds per cell and per answer


def notebook_key(student: str, nb, source: str, hidden: str, timeout: int) -> str:
    """A digest of whose notebook it is and what grading depends on: each cell's type, text and nbgrader
    metadata, and the course files (two students' identical notebooks get two keys)."""
    cells = [[c.cell_type, c.source, c.get("metadata", {}).get("nbgrader", {})] for c in nb.cells]
    blob = json.dumps([student, cells, source, hidden, timeout], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def make_job(course: Course, assignment: str, student: str, nb, timeout: int) -> Job:
    """A Job for notebook `nb` (already sanitized) of `student`."""
    source = course.source(assignment).read_text()
    hidden = course.hidden_checks(assignment).read_text()
    return Job(notebook_key(student, nb, source, hidden, timeout), assignment, student, nbformat.writes(nb), source,
               hidden, timeout)


def grade_job(job: Job) -> Graded:
    """Grade one job (on a worker, or here): run the notebook once in the sandbox, then the checks."""
    nb = nbformat.reads(job.notebook, as_version=4)
    source = nbformat.reads(job.source, as_version=4)
    with tempfile.TemporaryDirectory(prefix="toxlab-job-") as tmp:
        hidden = Path(tmp) / "hidden_checks.py"
        hidden.write_text(job.hidden)
        visible = registry().assignment(job.assignment).checks
        graded = checker.grade(nb, source, visible, hidden, timeout=job.timeout)
    graded.where = _worker_name()
    return graded


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return f"dask {get_worker().name} on {socket.gethostname()}"
    except (ImportError, ValueError):
        return "local"


@dataclass
class GradedElsewhere:
    """Results that workers sent back, by job key, until nbgrader's run for that notebook claims them.

    The coordinator owns one per run and hands it to its GradeOutsideKernel, which claims the result for
    the notebook nbgrader is recording instead of grading it again."""

    results: dict[str, Graded | BaseException] = field(default_factory=dict)

    def put(self, key: str, result: Graded | BaseException) -> None:
        """A worker's result for the job `key`: its Graded, or the error grading it raised."""
        self.results[key] = result

    def claim(self, key: str) -> Graded | None:
        """The result for this notebook's key, removed from the queue; None when none came (an error a worker
        raised is raised here, so that nbgrader logs it as this student's failure)."""
        found = self.results.pop(key, None)
        if isinstance(found, BaseException):
            raise found
        return found
