"""Packaging: pyproject and environment.yml agree, CI runs the README's test command."""

import subprocess
import tomllib

import yaml
from packaging.requirements import Requirement

from conftest import ROOT


def _norm(reqs) -> set[str]:
    out = set()
    for r in reqs:
        req = Requirement(r)
        out.add(f"{req.name.lower()}{','.join(sorted(str(s) for s in req.specifier))}")
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    expected = _norm(project["dependencies"] + project["optional-dependencies"]["course"])
    assert _norm(pip) == expected, f"only in environment.yml: {_norm(pip) - expected}; only in pyproject: {expected - _norm(pip)}"


def _readme_block(marker: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split(f"<!-- {marker} -->", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    return [ln for ln in block.splitlines() if ln.strip() and not ln.startswith(("```", "#"))]


def test_ci_runs_the_readme_test_command():
    readme = _readme_block("test-command")
    assert len(readme) == 1 and "pytest" in readme[0]
    assert "torch==2.13.0" in readme[0], "CI must pin the CPU torch wheel"
    printed = subprocess.run(["bash", ".ci/run", "--print"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert printed.stdout.strip() == readme[0]
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'bash -c "$cmd"' in ci and "set -euo pipefail" in ci and "TOXLAB_REQUIRE_SHARED_DATA=1" in ci


def test_readme_command_one_runs_the_main_job():
    text = (ROOT / "README.md").read_text()
    first = [ln for ln in text.split("# 1.", 1)[1].splitlines()[1:] if ln.strip()][0]
    assert first.startswith("python3 -m venv .venv") and "torch==2.13.0" in first
    assert first.endswith("course/instructor.py run-lab")


def test_console_script_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["toxlab"] == "toxlab.cli:main"
