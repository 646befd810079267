"""toxlab.models: offline loading, saved folders, fast and clear Hub failures, quiet()."""

import subprocess
import sys
import time

import pytest
import torch

from toxlab.models import ModelNotFoundError, load_classifier, minilm_path, resolve_model, tiny_bert


@pytest.fixture(scope="module")
def minilm():
    return load_classifier("minilm")


def test_minilm_loads_offline_with_labels_and_lowercasing(minilm):
    model, tok = minilm
    assert model.config.id2label == {0: "Non-Toxic", 1: "Toxic"}
    assert model.config.label2id == {"Non-Toxic": 0, "Toxic": 1}
    assert model.config.num_hidden_layers == 6
    assert tok("You Are WHITE")["input_ids"] == tok("you are white")["input_ids"]
    with torch.inference_mode():
        logits = model(**tok(["you are white"], return_tensors="pt")).logits  # (batch, 2)
    assert logits.shape == (1, 2)


def test_saved_folder_round_trip(minilm, tmp_path):
    model, tok = minilm
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    again, tok2 = load_classifier(tmp_path)
    batch = tok(["a test sentence"], return_tensors="pt")
    model.eval(), again.eval()
    with torch.inference_mode():
        assert torch.allclose(model(**batch).logits, again(**batch).logits)
    assert tok2.vocab == tok.vocab


def test_tiny_bert_shapes(minilm_tokenizer):
    model = tiny_bert()
    out = model(**minilm_tokenizer(["x", "a longer one"], padding=True, return_tensors="pt"))
    assert out.logits.shape == (2, 2)


def test_resolve_names(tmp_path):
    assert resolve_model("minilm") == (str(minilm_path()), True)
    assert resolve_model("MiniLM")[1] is True
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        resolve_model(tmp_path)
    with pytest.raises(ModelNotFoundError, match="no such model folder"):
        resolve_model("./saved_models/nope")


@pytest.mark.parametrize("name", ["bert-base-uncased", "grecosalvatore/binary-toxicity-BERT-xai-course"])
def test_hub_offline_fails_fast_and_names_the_alternatives(name):
    t = time.perf_counter()
    with pytest.raises(ModelNotFoundError) as err:
        load_classifier(name)
    assert time.perf_counter() - t < 5
    msg = str(err.value)
    assert name in msg and "'minilm'" in msg and "local folder" in msg


def test_hub_unreachable_without_offline_flag_fails_fast(monkeypatch):
    """The real path: HF_HUB_OFFLINE unset, the Hub endpoint down (a closed loopback port)."""
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    t = time.perf_counter()
    with pytest.raises(ModelNotFoundError, match="did not answer"):
        load_classifier("bert-base-uncased")
    assert time.perf_counter() - t < 5


def test_quiet_leaves_stderr_empty_on_model_load():
    code = "from toxlab.models import quiet, load_classifier; quiet(); load_classifier('minilm')"
    loud = "from toxlab.models import load_classifier; load_classifier('minilm')"
    run = lambda c: subprocess.run([sys.executable, "-c", c], capture_output=True, text=True, timeout=120)  # noqa: E731
    assert run(loud).stderr.strip(), "the load report should reach stderr without quiet()"
    res = run(code)
    assert res.returncode == 0 and res.stderr == ""
