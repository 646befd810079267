"""nbgrader configuration for the toxlab course. Run nbgrader from this folder (see README.md here).

The notebooks live in ../source (instructor) and ../release (students, generated). The gradebook
(SQLite here by default, or the database $TOXLAB_GRADEBOOK names) and the submitted/, autograded/
and feedback/ folders live here and are ignored by git. The preprocessors are toxlab's
(toxlab/grading/preprocessors.py); this file only lists them.
"""

import os
from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearOutput,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from toxlab.grading.course import Course
from toxlab.grading.preprocessors import (
    CapOutputs,
    DropDuplicateGradeIds,
    GradeOutsideKernel,
    RestoreCellMetadata,
    ShortenTracebacks,
)

HERE = Path(__file__).resolve().parent
COURSE = Course(HERE.parent)

# Under nbgrader the lab runs in grade mode (a tiny model for a few steps, toxlab.labs): the
# executor sets TOXLAB_MODE=grade and NBGRADER_EXECUTION. Nothing is set in os.environ here for
# that: a JupyterLab server that loads this file (formgrader) must not push its kernels into grade mode.
os.environ["HF_HUB_OFFLINE"] = "1"

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "toxlab"
c.CourseDirectory.root = str(HERE)
c.CourseDirectory.source_directory = "../source"
c.CourseDirectory.release_directory = "../release"
c.CourseDirectory.db_url = COURSE.gradebook_url()
# Copy notebooks only: no stray files from a submission reach autograded/ or feedback/
# (conftest.py, data dumps, ...), and the release holds nothing but the notebook.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*"]

c.CoursePreprocessor.course_root = str(COURSE.root)
c.Autograde.sanitize_preprocessors = [
    ClearOutput, DropDuplicateGradeIds, RestoreCellMetadata, OverwriteKernelspec, OverwriteCells, CheckCellMetadata,
]
c.OverwriteCells.add_missing_cells = True  # a deleted grade cell comes back from the source
# One sandboxed run per submission: GradeOutsideKernel replaces nbgrader's Execute (no kernel runs the notebook)
c.Autograde.autograde_preprocessors = [
    GradeOutsideKernel, CapOutputs, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
    AssignLatePenalties, CheckCellMetadata,
]

# Feedback: strip hidden tests from the HTML (nbgrader shows them by default), in cell
# sources and in the tracebacks that quote them.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortenTracebacks, CSSHTMLHeaderPreprocessor]
