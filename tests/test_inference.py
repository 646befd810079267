"""toxlab.inference: input order, batching, edge cases, threshold, the pipeline path."""

import numpy as np
import pytest
import torch

from toxlab.inference import make_pipeline, predict
from toxlab.saved import model_threshold

TEXTS = ["short", "a much longer comment " * 30, "", "medium length text here", "x " * 600, "ok"]


def test_predict_keeps_input_order_whatever_the_batching(tiny_model, minilm_tokenizer):
    one_by_one = [predict([t], tiny_model, minilm_tokenizer)[0]["p_toxic"] for t in TEXTS]
    for bs in (1, 2, 4, 64):
        got = [r["p_toxic"] for r in predict(TEXTS, tiny_model, minilm_tokenizer, batch_size=bs)]
        assert np.allclose(got, one_by_one, atol=1e-5), f"batch_size={bs} reordered the outputs"
    perm = [3, 0, 5, 1, 4, 2]
    got = predict([TEXTS[i] for i in perm], tiny_model, minilm_tokenizer, batch_size=2)
    assert np.allclose([r["p_toxic"] for r in got], [one_by_one[i] for i in perm], atol=1e-5)


def test_predict_result_fields_and_probabilities(tiny_model, minilm_tokenizer):
    res = predict(TEXTS, tiny_model, minilm_tokenizer)
    assert len(res) == len(TEXTS)
    for r in res:
        assert set(r) == {"label", "score", "p_non_toxic", "p_toxic"}
        assert r["p_non_toxic"] + r["p_toxic"] == pytest.approx(1, abs=1e-5)
        assert r["score"] == pytest.approx(r["p_toxic"] if r["label"] == "Toxic" else r["p_non_toxic"])


def test_predict_matches_a_manual_softmax(tiny_model, minilm_tokenizer):
    tiny_model.eval()
    batch = minilm_tokenizer(["hello there"], return_tensors="pt")
    with torch.no_grad():
        manual = torch.softmax(tiny_model(**batch).logits, -1)[0, 1].item()
    assert predict(["hello there"], tiny_model, minilm_tokenizer)[0]["p_toxic"] == pytest.approx(manual, abs=1e-6)


def test_edge_cases(tiny_model, minilm_tokenizer):
    assert predict([], tiny_model, minilm_tokenizer) == []
    assert len(predict([""], tiny_model, minilm_tokenizer)) == 1
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        predict(["fine", 3], tiny_model, minilm_tokenizer)
    with pytest.raises(TypeError, match="not one string"):
        predict("one string", tiny_model, minilm_tokenizer)
    with pytest.raises(TypeError, match="texts\\[0\\] is NoneType"):
        predict([None], tiny_model, minilm_tokenizer)


def test_threshold_from_model_and_override(tiny_model, minilm_tokenizer):
    assert model_threshold(tiny_model) == 0.5
    tiny_model.config.toxlab_threshold = 0.0
    assert all(r["label"] == "Toxic" for r in predict(TEXTS, tiny_model, minilm_tokenizer))
    flipped = predict(TEXTS, tiny_model, minilm_tokenizer, threshold=0.999999)
    assert all(r["label"] == "Non-Toxic" for r in flipped)
    with pytest.raises(ValueError, match="threshold"):
        predict(TEXTS, tiny_model, minilm_tokenizer, threshold=1.5)


def test_predict_restores_training_mode(tiny_model, minilm_tokenizer):
    tiny_model.train()
    predict(["a"], tiny_model, minilm_tokenizer)
    assert tiny_model.training


def test_pipeline_path_agrees_with_predict(tiny_model, minilm_tokenizer, tmp_path):
    tiny_model.save_pretrained(tmp_path)
    minilm_tokenizer.save_pretrained(tmp_path)
    pipe = make_pipeline(str(tmp_path))
    out = pipe(["hello there", "you are white"], top_k=None)
    ours = predict(["hello there", "you are white"], tiny_model, minilm_tokenizer)
    for o, r in zip(out, ours):
        p_toxic = next(d["score"] for d in o if d["label"] == "Toxic")
        assert p_toxic == pytest.approx(r["p_toxic"], abs=1e-5)
    with pytest.raises(TypeError, match="tokenizer"):
        make_pipeline(tiny_model)
