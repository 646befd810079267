"""`toxlab train` runs unchanged under torchrun: two CPU processes (gloo) on a small real subset."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from toxlab.data import load_jigsaw
from toxlab.inference import predict
from toxlab.metrics import scores
from toxlab.models import load_classifier


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_torchrun_two_cpu_processes(sample_dir, tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    assert torchrun.exists() or shutil.which("torchrun"), "torchrun comes with torch"
    out = tmp_path / "model"
    cmd = [str(torchrun), "--nproc_per_node=2", "--master_port=29517", "-m", "toxlab.cli", "train",
           "--data", str(sample_dir), "--model", "minilm", "--preset", "quick", "--out", str(out), "--cpu",
           "--max-train-samples", "480", "--epochs", "1", "--learning-rate", "1e-4", "--validation-size", "200"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # one core per process
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=840, env=env)
    assert res.returncode == 0, res.stderr[-4000:]
    assert res.stdout.count("saved best model to") == 1, "only the main process reports and saves"
    meta = json.loads((out / "toxlab_training.json").read_text())
    assert meta["train_rows"] == 480 and 0 < meta["threshold"] < 1

    model, tok = load_classifier(out)
    test = load_jigsaw(sample_dir, verbose=False)["test"]
    p = np.array([r["p_toxic"] for r in predict(list(test["comment_text"]), model, tok)])
    assert scores(list(test["label"]), p)["roc_auc"] > 0.75, "the two-process model learned nothing"
