"""The toxlab command: help everywhere, one-line errors, the main job (tour), demo-data."""

import subprocess
import sys

import pytest

from toxlab.cli import COMMANDS, main


def toxlab(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toxlab", *args], capture_output=True, text=True, timeout=600, **kw)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, "--help"] if command else ["--help"])
    assert e.value.code == 0 and "usage: toxlab" in capsys.readouterr().out


def test_demo_data_writes_and_refuses_to_overwrite(tmp_path, capsys):
    assert main(["demo-data", str(tmp_path / "d"), "--n-train", "50", "--n-test", "20"]) == 0
    assert (tmp_path / "d" / "test_labels.csv").is_file()
    assert main(["demo-data", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--force" in err
    assert main(["demo-data", str(tmp_path / "d"), "--force", "--n-train", "50", "--n-test", "20"]) == 0


def test_tour_is_the_main_job(tmp_path):
    res = toxlab("tour", cwd=tmp_path, env={**__import__("os").environ, "TOXLAB_CACHE": str(tmp_path)})
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "SYNTHETIC" in out and "positive rows per label" in out
    assert "class weights (inverse frequency, sum 1): [0.1, 0.9]" in out
    assert "UNTRAINED" in out
    for s in ["'you are white'", "'you are asian'", "'you are latin'", "'You are black'"]:
        assert s in out
    assert res.stderr == ""


def test_bad_data_is_one_line_and_exit_2(tmp_path):
    res = toxlab("tour", "--data", str(tmp_path / "missing"))
    assert res.returncode == 2
    assert res.stderr.startswith("toxlab: error: ") and res.stderr.count("\n") == 1
    assert "Traceback" not in res.stderr and "kaggle" in res.stderr.lower()
