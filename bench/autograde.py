"""Wall time of `nbgrader autograde` per submission, for this tree and (optionally) an earlier commit.

Builds a scratch course from a tree (source/, course/ files, the kernelspec), places N copies of
the solved notebook, runs one autograde over all of them and prints the time per submission.
With --baseline REV it does the same for commit REV, in the same run, and prints the ratio:
compare only figures from one run on one machine. REV runs in an overlay virtual environment that
puts its tree first and borrows every other package from this one.

    python bench/autograde.py [--n 4] [--baseline f0df472]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
LAB = "toxicity_lab"


def solved(release_nb, source_nb):
    """The release with every solution cell filled from the source (toxlab.grading.solved_notebook, inline
    so that the baseline tree needs nothing from this one)."""
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source_nb.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for c in release_nb.cells:
        if c.metadata.get("nbgrader", {}).get("solution"):
            c.source = answers[c.metadata["nbgrader"]["grade_id"]]
    return release_nb


def overlay_venv(tree: Path, dest: Path) -> str:
    """A venv whose Python imports toxlab from `tree` and everything else from this environment."""
    import sysconfig

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(dest)], check=True)
    site = Path(subprocess.run([str(dest / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # toxlab through a folder of its own: the tree's root holds course/, which the sandbox never lets code read
    shim = dest / "baseline-src"
    shim.mkdir()
    (shim / "toxlab").symlink_to(tree / "toxlab")
    (site / "00-baseline.pth").write_text(f"{shim}\n")  # before this env's editable toxlab finder
    (site / "01-deps.pth").write_text(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    for script in ("nbgrader", "alembic", "jupyter"):  # instructor.py and nbgrader call these by path or name
        src = Path(sys.executable).parent / script
        if src.exists():
            lines = src.read_text().splitlines()
            (dest / "bin" / script).write_text("\n".join([f"#!{dest / 'bin' / 'python'}", *lines[1:]]) + "\n")
            (dest / "bin" / script).chmod(0o755)
    return str(dest / "bin" / "python")


def grade_time(tree: Path, n: int, work: Path, python: str = sys.executable) -> float:
    """Seconds for one autograde of n solved submissions in a scratch course built from `tree`."""
    shutil.copytree(tree / "source", work / "source")
    shutil.copytree(tree / "course", work / "course",
                    ignore=shutil.ignore_patterns("gradebook.db", "submitted", "autograded", "feedback", "__pycache__"))
    env = dict(os.environ)
    tool = [python, str(work / "course" / "instructor.py")]
    subprocess.run([*tool, "release"], check=True, capture_output=True, env=env)
    release = nbformat.read(work / "release" / LAB / f"{LAB}.ipynb", as_version=4)
    nb = solved(release, nbformat.read(work / "source" / LAB / f"{LAB}.ipynb", as_version=4))
    for i in range(n):
        path = work / f"s{i}.ipynb"
        nbformat.write(nb, path)
        subprocess.run([*tool, "place", f"student{i:03d}", str(path)], check=True, capture_output=True, env=env)
    t = time.perf_counter()
    res = subprocess.run([*tool, "autograde"], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"autograde failed in {tree}:\n{res.stderr[-3000:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=4, help="number of submissions per tree")
    ap.add_argument("--baseline", help="a commit to time in the same run (e.g. the one before a grading change)")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="toxlab-bench-") as tmp:
        if a.baseline:
            base = Path(tmp) / "baseline-tree"
            base.mkdir()
            archive = subprocess.run(["git", "archive", a.baseline], cwd=ROOT, check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
            python = overlay_venv(base, Path(tmp) / "baseline-venv")
            rows.append((f"baseline {a.baseline}", grade_time(base, a.n, Path(tmp) / "b", python)))
        rows.append(("this tree", grade_time(ROOT, a.n, Path(tmp) / "t")))
    for name, wall in rows:
        print(f"{name:<22} {a.n} submissions in {wall:6.1f} s = {wall / a.n:5.1f} s per submission")
    if len(rows) == 2:
        print(f"this tree / baseline: {rows[1][1] / rows[0][1]:.2f}x the time")


if __name__ == "__main__":
    main()
