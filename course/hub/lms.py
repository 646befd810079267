"""LMS in: a Canvas "Download Submissions" zip into course/submitted/, through `nbgrader zip_collect`.

    python course/instructor.py zip-collect ASSIGNMENT submissions.zip

Canvas names each file  <login>[_late]_<canvas user id>_<submission id>_<file as uploaded>,  and a file
uploaded again gets "-1", "-2", ... before its extension (toxicity_lab-1.ipynb). The course's ids are the
logins; the user id and submission id are Canvas's own. A file the pattern does not match (a renamed
download, a notebook with another name) is reported by name and the command exits 1: nbgrader alone only
logs a warning and goes on, so a student's work would be silently missing from grading.

LMS out is `instructor.py report`, whose <assignment>-canvas.csv is Canvas's gradebook import.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

# nbgrader matches named_regexp against the extracted file's ABSOLUTE path, hence the leading ".*/"; the
# student id is the Canvas login, "_late" is Canvas's marker for a late upload, and "-N" a re-upload.
CANVAS_REGEXP = (r".*/(?P<student_id>[A-Za-z][A-Za-z0-9.-]*?)(?P<late>_late)?_(?P<canvas_id>\d+)_(?P<submission_id>\d+)_"
                 r"(?P<file_id>[A-Za-z0-9_]+?)(?P<again>-\d+)?\.ipynb$")


def match(path: str) -> dict | None:
    """What nbgrader will read from this extracted file's absolute path, or None when it cannot."""
    m = re.match(CANVAS_REGEXP, path)
    return m.groupdict() if m else None


def zip_collect(course, assignment: str, archive: Path) -> int:
    """Put the zip where nbgrader looks (course/downloaded/ASSIGNMENT/archive/), run zip_collect, and say what
    came in: each student's file, which were late, which were re-uploads, and every file left out.
    `course` is a toxlab.grading.course.Course. 0 when every notebook in the zip was collected."""
    archive = archive.resolve()
    if not zipfile.is_zipfile(archive):
        raise SystemExit(f"zip-collect: {archive} is not a zip file")
    downloaded = course.dir / "downloaded" / assignment
    shutil.rmtree(downloaded, ignore_errors=True)  # a previous download's files would be collected again
    (downloaded / "archive").mkdir(parents=True)
    shutil.copy(archive, downloaded / "archive" / archive.name)
    bindir = Path(sys.executable).parent
    res = subprocess.run([str(bindir / "nbgrader"), "zip_collect", assignment, "--force",
                          f"--FileNameCollectorPlugin.named_regexp={CANVAS_REGEXP}"],
                         cwd=course.dir, capture_output=True, text=True)
    if res.returncode:
        print(res.stdout + res.stderr, file=sys.stderr)
        raise SystemExit(f"zip-collect: nbgrader zip_collect {assignment} failed ({res.returncode})")
    extracted = downloaded / "extracted"
    missed = []
    for f in sorted(p for p in extracted.rglob("*") if p.is_file()):
        info = match(str(f))
        inside = extracted / archive.stem  # nbgrader unzips into a folder named after the zip
        name = f.relative_to(inside if inside in f.parents else extracted)  # the name the zip gave it
        if info is None or info["file_id"] != assignment:
            missed.append(name)
            continue
        student = info["student_id"]
        got = course.submitted(student, assignment).is_file()
        notes = [w for w, on in (("late", info["late"]), ("re-uploaded", info["again"])) if on]
        print(f"zip-collect: {name} -> {student}" + (f" ({', '.join(notes)})" if notes else "")
              + ("" if got else " NOT COLLECTED"))
        if not got:
            missed.append(name)
    for name in missed:
        print(f"zip-collect: NOT COLLECTED: {name} (its name is not <login>[_late]_<id>_<id>_{assignment}[-N].ipynb; "
              f"rename it, or place it: instructor.py place LOGIN FILE --assignment {assignment})", file=sys.stderr)
    return 1 if missed else 0
