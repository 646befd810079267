"""The package's layers (pyproject.toml [tool.importlinter]) hold, and a planted violation breaks them.

lint-imports reads every import statement, those inside functions too, so a lazy upward import
breaks a contract just as a top-level one does. Each planted case copies the package to a temporary
folder, adds one import line, and runs lint-imports there: the contracts must catch it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("importlinter", reason="lint-imports comes with the `test` extra (PyPI import-linter)")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """lint-imports on the package under `root`, with `root`'s pyproject.toml (no cache: copies differ)."""
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(exe), "--no-cache", "--config", str(root / "pyproject.toml")], cwd=root,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)}, capture_output=True, text=True,
                          timeout=300)


def test_the_package_keeps_its_layers():
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


# one plausible wrong import per contract: (module that gains it, the line, what the report names)
PLANTED = {
    "ground imports training": ("data.py", "from . import training", "toxlab.data is not allowed to import toxlab.training"),
    "lazy upward import": ("metrics.py", "def _late():\n    from .labs import LABS", "toxlab.metrics is not allowed to import toxlab.labs"),
    "grading imports transformers": ("grading/wire.py", "import transformers",
                                     "toxlab.grading is not allowed to import transformers"),
    "grading imports a lab": ("grading/results.py", "from .. import labs", "toxlab.grading is not allowed to import toxlab.labs"),
    "a cycle inside grading": ("grading/wire.py", "from . import checker",
                               "toxlab.grading.wire is not allowed to import toxlab.grading.checker"),
    "a new module in no layer": ("scores.py", "import numpy", "toxlab.scores"),
}


@pytest.mark.parametrize("case", PLANTED)
def test_a_planted_violation_breaks_a_contract(tmp_path, case):
    shutil.copytree(ROOT / "toxlab", tmp_path / "toxlab", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    module, line, expected = PLANTED[case]
    path = tmp_path / "toxlab" / module
    path.write_text((path.read_text() if path.exists() else "") + "\n\n" + line + "\n")
    run = lint_imports(tmp_path)
    assert run.returncode != 0, f"lint-imports passed with `{line}` added to toxlab/{module}"
    assert expected in " ".join(run.stdout.split()), run.stdout[-3000:]
