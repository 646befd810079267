"""nbgrader configuration for the toxlab course. Run nbgrader from this folder (see README.md here).

The notebooks live in ../source (instructor) and ../release (students, generated). The gradebook
and the submitted/, autograded/ and feedback/ folders live here and are ignored by git.
"""

import os
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    CheckCellMetadata, ClearHiddenTests, ClearOutput, DeduplicateIds, GetGrades, NbGraderPreprocessor, OverwriteCells,
    OverwriteKernelspec,
)


class DropDuplicateGradeIds(DeduplicateIds):
    """nbgrader 0.9.6 empties a duplicated cell's metadata to `{}`, which then fails the schema
    check and aborts autograding for every student after this one. Remove the key instead:
    the copy becomes an ordinary cell, and the original keeps its points."""

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.metadata.get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
        return cell, resources


HERE = Path(__file__).resolve().parent
c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "toxlab"
c.CourseDirectory.root = str(HERE)
c.CourseDirectory.source_directory = "../source"
c.CourseDirectory.release_directory = "../release"
c.CourseDirectory.db_url = f"sqlite:///{HERE / 'gradebook.db'}"
# Copy notebooks only: no stray files from a submission reach autograded/ or feedback/
# (conftest.py, data dumps, ...), and the release holds nothing but the notebook.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*"]

# Grading runs the lab in grade mode: a tiny model for a few steps (toxlab.lab). nbgrader sets
# NBGRADER_EXECUTION too, which toxlab also reads; this makes the choice explicit.
os.environ["TOXLAB_MODE"] = "grade"
os.environ["TOXLAB_HIDDEN_CHECKS"] = str(HERE / "hidden_checks.py")
os.environ["HF_HUB_OFFLINE"] = "1"

# Grade mode needs a few seconds per cell; the slowest (imports, training) stays under 30 s.
c.Execute.timeout = 90
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
    ClearOutput, DropDuplicateGradeIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata,
]

# Feedback: strip hidden tests from the HTML (nbgrader shows them by default), in cell
# sources and in the tracebacks that quote them.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortenTracebacks, CSSHTMLHeaderPreprocessor]
