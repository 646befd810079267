"""The toxlab command: help everywhere, one-line errors, the main job (tour), demo-data."""

import os
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
    res = toxlab("tour", cwd=tmp_path, env={**os.environ, "TOXLAB_CACHE": str(tmp_path)})
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


# --- the workflow commands, on demo data and a tiny saved model ------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """`toxlab train` on demo data from a tiny saved BERT; returns (tmp, model_dir, data_dir)."""
    from toxlab.data import make_demo_data
    from toxlab.models import minilm_path, tiny_bert
    from transformers import AutoTokenizer

    tmp = tmp_path_factory.mktemp("cli")
    tiny = tmp / "tiny"
    tiny_bert().save_pretrained(tiny)
    AutoTokenizer.from_pretrained(minilm_path()).save_pretrained(tiny)
    data = make_demo_data(tmp / "data", n_train=300, n_test=80, seed=5)
    res = toxlab("train", "--data", str(data), "--model", str(tiny), "--out", str(tmp / "model"),
                 "--max-train-samples", "200", "--epochs", "2", "--learning-rate", "1e-3", "--cpu")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "saved best model to" in res.stdout
    return tmp, tmp / "model", data


@pytest.mark.slow  # its fixture runs `toxlab train` in a subprocess (about 50 s with this test on 2 cores)
def test_train_refuses_to_overwrite(trained):
    tmp, model, data = trained
    res = toxlab("train", "--data", str(data), "--model", str(tmp / "tiny"), "--out", str(model), "--cpu")
    assert res.returncode == 2 and "--force" in res.stderr and res.stderr.count("\n") == 1


@pytest.mark.slow  # a `toxlab evaluate` subprocess on the trained model (about 25 s)
def test_evaluate_prints_metrics_and_writes_plots(trained):
    tmp, model, data = trained
    res = toxlab("evaluate", "--model", str(model), "--data", str(data), "--plots", str(tmp / "plots"))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "ROC-AUC" in res.stdout and "macro avg" in res.stdout and '"at_threshold"' in res.stdout
    for png in ("confusion_matrix.png", "precision_recall.png", "label_counts.png"):
        assert (tmp / "plots" / png).stat().st_size > 5000


@pytest.mark.slow  # five `toxlab predict` subprocesses (about 70 s)
def test_predict_arguments_stdin_and_csv(trained):
    tmp, model, _ = trained
    res = toxlab("predict", "--model", str(model), "you are an idiot", "thanks for the edit")
    lines = res.stdout.strip().splitlines()
    assert res.returncode == 0 and len(lines) == 2 and lines[0].endswith("you are an idiot")
    assert lines[0].split("\t")[0] in {"Toxic", "Non-Toxic"}
    res = toxlab("predict", "--model", str(model), input="first line\nsecond line\n")
    assert res.returncode == 0 and len(res.stdout.strip().splitlines()) == 2
    import pandas as pd

    pd.DataFrame({"id": [1, 2, 3], "body": ["a", "you moron", ""]}).to_csv(tmp / "in.csv", index=False)
    res = toxlab("predict", "--model", str(model), "--input", str(tmp / "in.csv"), "--text-column", "body",
                 "--output", str(tmp / "out.csv"))
    assert res.returncode == 0, res.stderr[-2000:]
    out = pd.read_csv(tmp / "out.csv")
    assert list(out.columns) == ["id", "body", "p_toxic", "label"] and list(out["id"]) == [1, 2, 3]
    again = toxlab("predict", "--model", str(model), "--input", str(tmp / "in.csv"), "--text-column", "body",
                   "--output", str(tmp / "out.csv"))
    assert again.returncode == 2 and "--force" in again.stderr
    wrong = toxlab("predict", "--model", str(model), "--input", str(tmp / "in.csv"))
    assert wrong.returncode == 2 and "missing column(s) ['comment_text']" in wrong.stderr


@pytest.mark.slow  # three `toxlab bias` subprocesses (about 45 s)
def test_bias_command(trained):
    tmp, model, _ = trained
    res = toxlab("bias", "--model", str(model), "--out", str(tmp / "bias"))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "worst_gap" in res.stdout
    for f in ("bias_terms.csv", "bias_groups.csv", "bias_summary.json", "bias.png"):
        assert (tmp / "bias" / f).is_file()
    res = toxlab("bias", "--model", str(model), "--original")
    assert res.returncode == 0 and "latin" in res.stdout and "muslim" not in res.stdout
    (tmp / "t.csv").write_text("template\nno placeholder here\n")
    bad = toxlab("bias", "--model", str(model), "--templates", str(tmp / "t.csv"))
    assert bad.returncode == 2 and "{term}" in bad.stderr


def test_model_folder_errors_are_one_line(tmp_path):
    res = toxlab("predict", "--model", str(tmp_path), "hello")
    assert res.returncode == 2 and "no config.json" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.slow  # three `toxlab evaluate` subprocesses on the trained model (about 40 s)
def test_evaluate_reports_an_interval_and_re_derives_the_threshold_for_a_prevalence(trained):
    import json
    import shutil

    from toxlab.metrics import threshold_choice
    from toxlab.saved import read_config, read_heldout_scores

    tmp, model, data = trained
    res = toxlab("evaluate", "--model", str(model), "--data", str(data), "--bootstrap", "100")
    assert res.returncode == 0, res.stderr[-2000:]
    saved = read_config(model)
    assert f"threshold {saved['toxlab_threshold']:.3f} (saved with the model, for prevalence " in res.stdout
    assert "macro F1 at threshold" in res.stdout and "[95% CI" in res.stdout
    at = json.loads(res.stdout[res.stdout.index("{"):])["at_threshold"]
    assert at["f1_interval"][0] <= at["f1"] <= at["f1_interval"][1]
    # another prevalence: the threshold the saved held-out scores give for it, no retraining
    held = read_heldout_scores(model)
    want = threshold_choice(held["label"], held["p_toxic"], 0.02)["threshold"]
    res = toxlab("evaluate", "--model", str(model), "--data", str(data), "--prevalence", "0.02", "--bootstrap", "50")
    assert res.returncode == 0, res.stderr[-2000:]
    assert f"threshold {want:.3f} (re-derived for prevalence 0.020" in res.stdout
    assert json.loads(res.stdout[res.stdout.index("{"):])["at_threshold"]["threshold"] == pytest.approx(want)
    # a folder saved without held-out scores (lab 6a's) says what to do, in one line
    bare = tmp / "bare"
    shutil.copytree(model, bare)
    (bare / "toxlab_heldout.csv").unlink()
    res = toxlab("evaluate", "--model", str(bare), "--data", str(data), "--prevalence", "0.02")
    assert res.returncode == 2 and "toxlab_heldout.csv" in res.stderr and res.stderr.count("\n") == 1


def check_augment_choices(args_cls) -> None:
    """--augment offers exactly toxlab.augment's methods. The CLI spells them out (importing augment would load
    numpy and pandas into every command's start-up), so a method added to one place and not the other is caught."""
    import dataclasses

    from toxlab.augment import METHODS

    choices = next(f for f in dataclasses.fields(args_cls) if f.name == "augment").metadata["choices"]
    assert sorted(choices) == sorted(METHODS), f"--augment choices {choices} differ from toxlab.augment.METHODS"


def test_train_offers_every_augmentation():
    import dataclasses

    from toxlab.cli import TrainArgs

    check_augment_choices(TrainArgs)

    @dataclasses.dataclass
    class OneMissing:  # the plausible wrong version: a new method in augment, the CLI not told
        augment: str = dataclasses.field(default=None, metadata={"choices": ["counterfactual", "identity-nontoxic"]})

    with pytest.raises(AssertionError, match="differ from"):
        check_augment_choices(OneMissing)
