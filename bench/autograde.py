"""Wall time of `nbgrader autograde` per submission on this machine (goal: 30 s or less).

Builds a scratch copy of the course, places N copies of the solved notebook as submissions,
runs one autograde over all of them, and prints the time per submission.
Usage: python bench/autograde.py [--n 4]
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from toxlab.grading import solved_notebook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "course"))
from instructor import copy_course  # noqa: E402 - course/ is a folder of scripts, not a package

LAB = "toxicity_lab"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=4, help="number of submissions")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="toxlab-bench-") as tmp:
        root = copy_course(Path(tmp))
        shutil.copytree(ROOT / "release", root / "release")
        release = nbformat.read(root / "release" / LAB / f"{LAB}.ipynb", as_version=4)
        solved = solved_notebook(release, nbformat.read(root / "source" / LAB / f"{LAB}.ipynb", as_version=4))
        tool = [sys.executable, str(root / "course" / "instructor.py")]
        subprocess.run([*tool, "release", "--force"], check=True, capture_output=True)
        for i in range(a.n):
            path = root / f"s{i}.ipynb"
            nbformat.write(solved, path)
            subprocess.run([*tool, "place", f"student{i:03d}", str(path)], check=True, capture_output=True)
        t = time.perf_counter()
        subprocess.run([*tool, "autograde"], check=True, capture_output=True)
        wall = time.perf_counter() - t
    print(f"nbgrader autograde: {a.n} submissions in {wall:.1f} s = {wall / a.n:.1f} s per submission (goal <= 30 s)")


if __name__ == "__main__":
    main()
