"""nbgrader configuration for the toxlab course. Run nbgrader from this folder (see README.md here).

The notebooks live in ../source (instructor) and ../release (students, generated). The gradebook
and the submitted/, autograded/ and feedback/ folders live here and are ignored by git.
"""

import os
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbclient.exceptions import DeadKernelError
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, ClearOutput, DeduplicateIds, Execute, GetGrades,
    IgnorePattern, LimitOutput, NbGraderPreprocessor, OverwriteCells, OverwriteKernelspec, SaveAutoGrades,
)
from traitlets import Integer, Unicode


class DropDuplicateGradeIds(DeduplicateIds):
    """nbgrader 0.9.6 empties a duplicated cell's metadata to `{}`, which then fails the schema
    check and aborts autograding for every student after this one. Remove the key instead:
    the copy becomes an ordinary cell, and the original keeps its points."""

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.metadata.get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
        return cell, resources


def source_notebook(resources):
    """The instructor's notebook for the notebook being processed (the trusted copy)."""
    info = resources["nbgrader"]
    return nbformat.read(HERE / "../source" / info["assignment"] / f"{info['notebook']}.ipynb", as_version=4)


class RestoreCellMetadata(NbGraderPreprocessor):
    """Give every cell the nbgrader metadata the source notebook has for its grade_id.

    A student who edits a grade cell's metadata (say `grade: false`) makes nbgrader 0.9.6 raise
    "Inconsistent checksums" and skip the whole submission. A cell claiming a grade_id the
    source does not have becomes an ordinary cell.
    """

    def preprocess(self, nb, resources):
        source = source_notebook(resources)
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


HERE = Path(__file__).resolve().parent
CELL_TIMEOUT = int(os.environ.get("TOXLAB_CELL_TIMEOUT", 90))  # seconds per cell, in the kernel and outside it


class SandboxedExecute(Execute):
    """nbgrader's Execute in the toxlab sandbox kernel (course/jupyter/kernels), going on when the kernel dies.

    nbgrader 0.9.6 drops the whole submission from autograded/ when the kernel dies (sys.exit in a
    thread, os._exit, a kill); here the cell gets an error and the remaining cells are marked as
    not run. The scores come from VerifyOutsideKernel, which does not depend on the kernel's fate.
    """

    kernel_name = Unicode("toxlab-sandbox").tag(config=True)
    timeout = Integer(CELL_TIMEOUT).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._dead = None
        self._sockets = tempfile.mkdtemp(prefix="toxlab-ipc-")  # short: unix socket paths have a 108-byte limit
        try:
            return super().preprocess(nb, resources, km)
        finally:
            shutil.rmtree(self._sockets, ignore_errors=True)

    def create_kernel_manager(self):
        """A kernel on unix sockets in a folder of its own, so its sandbox can have no network at all."""
        km = super().create_kernel_manager()
        km.transport = "ipc"
        km.ip = os.path.join(self._sockets, "k")
        return km

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and self._dead is not None:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"(not run: the kernel died in cell {self._dead + 1})\n")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._dead = index
            cell.outputs.append(nbformat.v4.new_output("error", ename="DeadKernelError", evalue="the kernel died",
                                                       traceback=["DeadKernelError: the kernel died in this cell"]))
            return cell, resources


class VerifyOutsideKernel(NbGraderPreprocessor):
    """Replace each grade cell's outputs with its verdict from toxlab.grading.checker (decided outside the kernel).

    The kernel's own grade-cell outputs cannot be trusted: student code in the kernel can rebind
    `check`, patch pytest, rewrite later cells or die. nbgrader scores the verdict written here.
    """

    def preprocess(self, nb, resources):
        from toxlab.grading.checker import verify

        source = source_notebook(resources)
        workdir = Path(resources["metadata"]["path"] or ".").resolve()
        verdicts = verify(nb, source, HERE / "hidden_checks.py", workdir, timeout=CELL_TIMEOUT)
        for cell in nb.cells:
            v = verdicts.get(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id"))
            if cell.cell_type != "code" or v is None:
                continue
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="\n".join(v.lines) + "\n")]
            if v.score <= 0 and not v.passed:
                cell.outputs.append(nbformat.v4.new_output(
                    "error", ename="ExerciseFailed", evalue=f"{v.exercise}: see the checks above",
                    traceback=[f"ExerciseFailed: {v.exercise}: see the checks above"]))
            elif not v.passed:  # nbgrader 0.9.6 takes a grade cell's numeric execute_result as partial credit
                cell.outputs.append(nbformat.v4.new_output(
                    "execute_result", data={"text/plain": f"{v.score:.10g}"}, execution_count=None))
        return nb, resources
c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "toxlab"
c.CourseDirectory.root = str(HERE)
c.CourseDirectory.source_directory = "../source"
c.CourseDirectory.release_directory = "../release"
c.CourseDirectory.db_url = f"sqlite:///{HERE / 'gradebook.db'}"
# Copy notebooks only: no stray files from a submission reach autograded/ or feedback/
# (conftest.py, data dumps, ...), and the release holds nothing but the notebook.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*"]

# Autograding runs the lab in grade mode (a tiny model for a few steps, toxlab.lab): the sandbox
# kernelspec sets TOXLAB_MODE=grade, and nbgrader's validate sets NBGRADER_EXECUTION, which
# toxlab reads too. Nothing is set in os.environ here: a JupyterLab server that loads this file
# (formgrader) must not push its kernels into grade mode.
os.environ["HF_HUB_OFFLINE"] = "1"

# Student code runs in a sandboxed kernel (toxlab.sandbox: limits, Landlock, clean environment);
# its kernelspec lives in course/jupyter. Grade mode needs a few seconds per cell; the slowest
# (imports, training) stays under 30 s, so CELL_TIMEOUT (90 s) leaves room on a busy machine.
os.environ["JUPYTER_PATH"] = os.pathsep.join([str(HERE / "jupyter"), *filter(None, [os.environ.get("JUPYTER_PATH")])])
c.Execute.interrupt_on_timeout = True

class ShortenTracebacks(NbGraderPreprocessor):  # nbgrader's base is enabled by default; nbconvert's is not
    """Cut error outputs to their last line: IPython's tracebacks quote the failing cell's
    source, hidden tests included. The grade cell's printed summary and hints stay."""

    def preprocess_cell(self, cell, resources, index):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
        return cell, resources


c.Autograde.sanitize_preprocessors = [
    ClearOutput, DropDuplicateGradeIds, RestoreCellMetadata, OverwriteKernelspec, OverwriteCells, CheckCellMetadata,
]
c.OverwriteCells.add_missing_cells = True  # a deleted grade cell comes back from the source
c.Autograde.autograde_preprocessors = [
    SandboxedExecute, VerifyOutsideKernel, CapOutputs, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
    AssignLatePenalties, CheckCellMetadata,
]

# Feedback: strip hidden tests from the HTML (nbgrader shows them by default), in cell
# sources and in the tracebacks that quote them.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortenTracebacks, CSSHTMLHeaderPreprocessor]
