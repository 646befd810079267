"""Packaging: pyproject and environment.yml agree, CI runs both README commands, the course extra suffices,
the wheel holds the package and no test fixtures."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
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


def test_ci_runs_both_readme_commands_as_written():
    for marker, kind, end in (("main-command", "main", "course/instructor.py run-lab"), ("test-command", "test", "-m pytest")):
        readme = _readme_block(marker)
        assert len(readme) == 1 and readme[0].endswith(end), f"README's {marker} block: {readme}"
        assert readme[0].startswith("python3 -m venv .venv") and "torch==2.13.0" in readme[0], \
            f"README's {marker} must make a fresh venv and pin the CPU torch wheel"
        printed = subprocess.run(["bash", ".ci/run", "--print", kind], cwd=ROOT, capture_output=True, text=True, check=True)
        assert printed.stdout.strip() == readme[0], f".ci/run --print {kind} differs from the README"
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'bash -c "$main_cmd"' in ci and 'bash -c "$test_cmd"' in ci and "git clone" in ci
    assert "set -euo pipefail" in ci and "TOXLAB_REQUIRE_SHARED_DATA=1" in ci and "check_main_job.py" in ci
    assert '".[course]"' in _readme_block("main-command")[0], "command 1 installs the course extra alone"


# --- the `course` extra alone runs every release notebook's imports ---------------------------

IMPORT_CHECK = """
import ast, json, sys
fails = []
for path in sys.argv[1:]:
    for cell in json.load(open(path))["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse("".join(cell["source"]))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and not getattr(node, "level", 0):
                stmt = ast.unparse(node)
                try:
                    exec(stmt, {})
                except Exception as e:
                    fails.append(f"{path}: {stmt}: {type(e).__name__}: {e}")
print(chr(10).join(fails) or "all imports ok")
sys.exit(1 if fails else 0)
"""

BLOCK = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED}:
            raise ImportError(f"No module named {name!r} (blocked by the test)")
sys.meta_path.insert(0, Block())
"""


def _release_notebooks() -> list[str]:
    found = sorted(str(p) for p in (ROOT / "release").glob("*/*.ipynb"))
    assert found, "no release notebooks"
    return found


def run_import_check(python: str, blocked: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Exec every import statement of every release notebook in `python` (optionally with modules blocked)."""
    code = (BLOCK.replace("{BLOCKED}", repr(set(blocked))) if blocked else "") + IMPORT_CHECK
    return subprocess.run([python, "-c", code, *_release_notebooks()], capture_output=True, text=True,
                          cwd=ROOT.parent, timeout=600)


@pytest.fixture(scope="module")
def course_venv(tmp_path_factory) -> Path:
    """A venv holding the `course` extra alone: CI's command-1 venv, else one built here (a few minutes)."""
    given = os.environ.get("TOXLAB_COURSE_VENV")
    if given:
        return Path(given)
    venv = tmp_path_factory.mktemp("course-venv") / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "torch==2.13.0"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[course]"], check=True)
    return venv


@pytest.mark.slow  # builds a venv and installs torch and the course extra into it (about 150 s on 2 cores)
def test_course_extra_alone_imports_everything_the_release_notebooks_import(course_venv):
    python = str(course_venv / "bin" / "python")
    alone = subprocess.run([python, "-c", "import importlib.util as u; print(u.find_spec('playwright') is None)"],
                           capture_output=True, text=True, check=True)
    assert alone.stdout.strip() == "True", f"{course_venv} has the test extra too, so it proves nothing"
    r = run_import_check(python)
    assert r.returncode == 0, f"the course extra is missing what a release notebook imports:\n{r.stdout}{r.stderr}"


def test_import_check_catches_a_missing_grade_cell_dependency():
    """The bug this guards: grade cells import pytest through toxlab.grading; without it the lab's first cell fails."""
    r = run_import_check(sys.executable, blocked=("pytest",))
    assert r.returncode == 1 and "from toxlab.grading import check" in r.stdout and "pytest" in r.stdout, r.stdout


def test_console_script_is_declared():
    """`toxlab` runs toxlab.cli.entry: main(), then a read-only command exits without the interpreter's teardown."""
    import importlib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    module, name = project["scripts"]["toxlab"].split(":")
    assert (module, name) == ("toxlab.cli", "entry")
    assert callable(getattr(importlib.import_module(module), name))


# --- the wheel: the package, without the tests' fixtures ----------------------------------------

def source_tree(dest: Path) -> Path:
    """What a wheel is built from (pyproject, README, the package, and tests/labs that must stay out),
    copied so that a build writes no build/ or egg-info into the checkout."""
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "toxlab", dest / "toxlab", ignore=skip)
    shutil.copytree(ROOT / "tests" / "labs", dest / "tests" / "labs", ignore=skip)
    return dest


def build_wheel(tree: Path, out: Path) -> list[str]:
    """The file names in a wheel of `tree`, built by pyproject's own build backend (no network, about 1 s).

    The backend is called directly rather than through `pip wheel --no-build-isolation`, which fails inside
    setuptools 84's bdist_wheel under this pip (a NoneType distribution), while the backend itself builds."""
    backend = tomllib.loads((tree / "pyproject.toml").read_text())["build-system"]["build-backend"]
    module = backend.split(":")[0]
    if __import__("importlib.util").util.find_spec(module.split(".")[0]) is None:
        pytest.skip(f"the build backend {backend} is not installed here")
    out.mkdir(parents=True)
    code = f"import sys, {module} as b; print(b.build_wheel(sys.argv[1]))"
    r = subprocess.run([sys.executable, "-c", code, str(out)], cwd=tree, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"building the wheel failed:\n{r.stdout[-2000:]}{r.stderr[-3000:]}"
    with zipfile.ZipFile(out / r.stdout.strip().splitlines()[-1]) as wheel:
        return wheel.namelist()


def fixture_files(names: list[str]) -> list[str]:
    """Files of a wheel that belong to the tests: any fixtures.py, anything under tests/ or a top-level labs/."""
    return [n for n in names if re.search(r"(^|/)fixtures\.py$|^tests/|^labs/", n)]


def test_the_wheel_holds_the_package_and_no_fixtures(tmp_path):
    names = build_wheel(source_tree(tmp_path / "src"), tmp_path / "out")
    assert {"toxlab/cli.py", "toxlab/labs/__init__.py", "toxlab/labs/toxicity_lab/checks.py"} <= set(names)
    assert not fixture_files(names), f"the wheel ships test fixtures: {fixture_files(names)}"
    # planted: a package-find pattern that also takes tests/ (pyproject's find includes namespace packages)
    wrong = source_tree(tmp_path / "wrong")
    pyproject = (wrong / "pyproject.toml").read_text()
    planted = pyproject.replace('include = ["toxlab", "toxlab.*"]', 'include = ["toxlab*", "tests*"]')
    assert planted != pyproject, "pyproject's [tool.setuptools.packages.find] changed: update the planted pattern"
    (wrong / "pyproject.toml").write_text(planted)
    leaked = fixture_files(build_wheel(wrong, tmp_path / "wrong-out"))
    assert "tests/labs/toxicity_lab/fixtures.py" in leaked, f"the planted pattern went unseen: {leaked}"


def test_ci_checks_that_the_later_labs_loaded_6a_model_from_the_sibling_folder(tmp_path):
    """.ci/check_main_job.py's layout check passes on what a right run-lab prints, and fails when a later lab
    trained its own model, loaded one without the threshold, or 6a saved none with its threshold."""
    import importlib.util
    import json

    import nbformat

    from toxlab import labs

    spec = importlib.util.spec_from_file_location("check_main_job", ROOT / ".ci" / "check_main_job.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)

    run = tmp_path / "course" / "toxicity_lab" / "saved_models" / "run-20261204-101500"
    run.mkdir(parents=True)

    def lab_said(text: str) -> None:
        for name in ("explain_lab", "bias_lab"):
            nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("load_lab_model(cfg)", outputs=[
                nbformat.v4.new_output("stream", name="stdout", text=text)])])
            (tmp_path / name).mkdir(exist_ok=True)
            nbformat.write(nb, tmp_path / name / f"{name}.executed.ipynb")

    (run / "config.json").write_text(json.dumps({"toxlab_threshold": 0.72}))
    right = f"model: ../toxicity_lab/saved_models/{run.name} (/abs), threshold 0.720\n"
    lab_said(right)
    assert check.sibling_model_problems(tmp_path) == []
    lab_said(labs.no_model_message() + "\nsaved to saved_models/cpu-recipe\nmodel: saved_models/cpu-recipe (/a), threshold 0.500\n")
    assert len(check.sibling_model_problems(tmp_path)) == 2
    lab_said(right.replace("0.720", "0.500 (none saved with it: 0.5)"))
    assert "without its threshold" in check.sibling_model_problems(tmp_path)[0]
    (run / "config.json").write_text("{}")
    assert "without the threshold it chose" in check.sibling_model_problems(tmp_path)[0]
