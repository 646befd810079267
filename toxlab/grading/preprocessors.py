"""nbgrader preprocessors for a toxlab course; course/nbgrader_config.py lists them in nbgrader's pipelines.

Sanitizing (before grading): DropDuplicateGradeIds, RestoreCellMetadata. Grading: GradeOutsideKernel
runs the notebook once in the sandbox and writes its outputs and verdicts; CapOutputs bounds what
it wrote. Feedback: ShortenTracebacks.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbgrader.preprocessors import DeduplicateIds, NbGraderPreprocessor
from traitlets import Instance, Integer, Unicode

from . import checker, results
from .course import Course
from .jobs import GradedElsewhere, default_timeout, grade_job, make_job


class CoursePreprocessor(NbGraderPreprocessor):
    """A preprocessor that reads the course's trusted files (the source notebook, the hidden checks)."""

    course_root = Unicode(help="the folder holding source/, release/ and course/").tag(config=True)

    def course(self) -> Course:
        return Course(Path(self.course_root))

    def source(self, resources):
        """The instructor's notebook for the notebook being processed (the trusted copy)."""
        return nbformat.read(self.course().source(resources["nbgrader"]["assignment"]), as_version=4)


class DropDuplicateGradeIds(DeduplicateIds):
    """nbgrader 0.9.6 empties a duplicated cell's metadata to `{}`, which then fails the schema
    check and aborts autograding for every student after this one. Remove the key instead:
    the copy becomes an ordinary cell, and the original keeps its points."""

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.metadata.get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
        return cell, resources


class RestoreCellMetadata(CoursePreprocessor):
    """Give every cell the nbgrader metadata the source notebook has for its grade_id.

    A student who edits a grade cell's metadata (say `grade: false`) makes nbgrader 0.9.6 raise
    "Inconsistent checksums" and skip the whole submission. A cell claiming a grade_id the
    source does not have becomes an ordinary cell.
    """

    def preprocess(self, nb, resources):
        source = self.source(resources)
        keys = ("grade", "solution", "locked", "points", "task", "schema_version")
        truth = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"] for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("grade_id")}
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta is None:
                continue
            ref = truth.get(meta.get("grade_id"))
            if ref is None:
                del cell.metadata["nbgrader"]
                continue
            for k in keys:
                if k in ref:
                    meta[k] = ref[k]
                else:
                    meta.pop(k, None)
        return nb, resources


class CapOutputs(NbGraderPreprocessor):
    """Cut every text output to 20,000 characters, drop any single output over 5 MB, and keep a
    whole notebook's outputs under 10 MB (later outputs beyond that are replaced by a note).

    nbgrader's LimitOutput counts lines only: one 30 MB line (a cell returning a huge string)
    passes whole into autograded/ and the feedback HTML; and 25 images of 4.8 MB each pass a
    per-output cap but make a 120 MB notebook.
    """

    max_chars = Integer(20_000).tag(config=True)
    max_bytes = Integer(5_000_000).tag(config=True)
    max_total_bytes = Integer(10_000_000).tag(config=True)

    def preprocess(self, nb, resources):
        self._total = 0
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        for out in cell.get("outputs", []):
            fields = [("text", out)] if "text" in out else []
            fields += [(mime, out["data"]) for mime in list(out.get("data", {}))]
            for key, holder in fields:
                value = holder[key]
                text = "".join(value) if isinstance(value, list) else value
                if not isinstance(text, str):
                    continue
                if len(text) > self.max_bytes and not key.startswith("text"):
                    holder[key] = text = ""  # an image or other blob that large is not feedback
                elif len(text) > self.max_chars and key.startswith("text"):
                    holder[key] = text = text[: self.max_chars] + f"\n... output cut: {len(text):,} characters in all ...\n"
                if self._total + len(text) > self.max_total_bytes:
                    note = f"(output dropped: this notebook's outputs passed {self.max_total_bytes:,} bytes)"
                    holder[key] = note if key.startswith("text") else ""
                    text = note
                self._total += len(text)
        return cell, resources


class ShortenTracebacks(NbGraderPreprocessor):  # nbgrader's base is enabled by default; nbconvert's is not
    """Cut error outputs to their last line: IPython's tracebacks quote the failing cell's
    source, hidden tests included. The grade cell's printed summary and hints stay."""

    def preprocess_cell(self, cell, resources, index):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
        return cell, resources


class GradeOutsideKernel(CoursePreprocessor):
    """Run the submission once in the sandbox, grade it outside (toxlab.grading.checker), and write
    every cell's outputs and each grade cell's verdict into the notebook; record each check.

    nbgrader scores the verdicts written here; nothing the student's code printed or returned can
    reach them. When a parallel run (toxlab.grading.batch) has already graded this very notebook on
    a worker, it hands this preprocessor its results (`elsewhere`), and that result is used instead
    of grading again here.
    """

    timeout = Integer(default_timeout(), help="seconds per cell and per answer (default: $TOXLAB_CELL_TIMEOUT, "
                                              "else 90)").tag(config=True)
    elsewhere = Instance(GradedElsewhere, args=(), help="results graded on workers, by notebook key")

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        job = make_job(self.course(), info["assignment"], info["student"], nb, self.timeout)
        graded = self.elsewhere.claim(job.key) or grade_job(job)
        checker.fill(nb, graded)
        results.save(info["db_url"], info["assignment"], info["student"], info["notebook"], graded.checks,
                     graded.seconds, graded.where)
        return nb, resources
