"""toxlab.lexical: the TF-IDF part of the cpu recipe, blended into the transformer's toxic margin."""

import json

import numpy as np
import pytest

from fixtures.wrong_blends import WRONG
from toxlab.data import load_jigsaw
from toxlab.inference import predict, predict_logits
from toxlab.lexical import blend, lexical_log_odds, load_lexical, model_lexical
from toxlab.models import load_classifier, tiny_bert
from toxlab.recipe import PRESETS
from toxlab.saved import LEXICAL_FILE, LEXICAL_WEIGHT_KEY as WEIGHT_KEY
from toxlab.training import train


def test_blend_mixes_log_odds_and_keeps_softmax_a_sigmoid():
    logits = np.array([[0.5, 2.5], [1.0, -1.0]], dtype=np.float32)  # margins 2, -2
    q = np.array([-4.0, 6.0], dtype=np.float32)
    np.testing.assert_allclose(blend(logits, q, 0.0)[:, 1], [2.0, -2.0])
    np.testing.assert_allclose(blend(logits, q, 1.0)[:, 1], q)
    out = blend(logits, q, 0.25)
    np.testing.assert_allclose(out[:, 1] - out[:, 0], [0.75 * 2 - 1.0, 0.75 * -2 + 1.5])


def expected_p_toxic(texts, model, tokenizer):
    """P(toxic) of a blended model computed by hand: sigmoid((1 - w) * margin + w * TF-IDF log-odds)."""
    w = model.config.to_dict()[WEIGHT_KEY]
    margin = np.diff(predict_logits(texts, model, tokenizer, lexical=False), axis=1)[:, 0]
    return 1 / (1 + np.exp(-((1 - w) * margin + w * lexical_log_odds(model_lexical(model), texts))))


def blend_mismatch(score, texts, model, tokenizer) -> float:
    """Largest gap between a scorer's P(toxic) and the hand-computed blend."""
    return float(np.max(np.abs(np.asarray(score(texts, model, tokenizer)) - expected_p_toxic(texts, model, tokenizer))))


@pytest.fixture(scope="module")
def blended(demo_dir, tmp_path_factory, minilm_tokenizer):
    """A tiny BERT trained 2 steps with the cpu preset: the folder carries its TF-IDF part."""
    out = tmp_path_factory.mktemp("lexical") / "m"
    data = load_jigsaw(demo_dir, verbose=False)
    train(data, tiny_bert(seed=3, initializer_range=0.5), minilm_tokenizer, preset="cpu", output_dir=out,
          max_train_samples=300, max_steps=2, use_cpu=True, disable_tqdm=True)
    return out, data["test"]["comment_text"][:40]


def test_cpu_preset_saves_its_tfidf_part_and_predict_applies_it(blended):
    folder, texts = blended
    assert (folder / LEXICAL_FILE).is_file()
    assert json.loads((folder / "config.json").read_text())[WEIGHT_KEY] == PRESETS["cpu"].lexical_weight
    model, tok = load_classifier(folder)
    assert blend_mismatch(lambda t, m, k: [r["p_toxic"] for r in predict(t, m, k)], texts, model, tok) < 1e-5
    for wrong in WRONG:  # each plausible mistake is visible on the same rows
        assert blend_mismatch(wrong, texts, model, tok) > 1e-3, f"{wrong.__name__} passed the blend check"


def test_a_missing_or_foreign_tfidf_file_is_named(blended, tmp_path):
    import shutil

    folder, texts = blended
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("checkpoints"))
    (copy / LEXICAL_FILE).unlink()
    model, tok = load_classifier(copy)
    with pytest.raises(FileNotFoundError, match=f"{LEXICAL_FILE}: missing"):
        predict(texts, model, tok)
    np.savez(copy / LEXICAL_FILE, coef=np.zeros((1, 3)))  # some other npz
    with pytest.raises(ValueError, match="not a TF-IDF part written by toxlab"):
        load_lexical(copy)


def test_fine_tuning_further_without_the_blend_drops_it(blended, demo_dir, minilm_tokenizer, tmp_path):
    """lexical=False (the labs' before/after models, CLI --no-lexical) saves the transformer alone, and an
    old blend fitted to other weights does not survive further fine-tuning."""
    folder, _ = blended
    model, _ = load_classifier(folder)
    train(load_jigsaw(demo_dir, verbose=False), model, minilm_tokenizer, preset="cpu", output_dir=tmp_path / "m2",
          max_train_samples=100, max_steps=1, use_cpu=True, disable_tqdm=True, lexical=False)
    assert WEIGHT_KEY not in json.loads((tmp_path / "m2" / "config.json").read_text())
    assert not (tmp_path / "m2" / LEXICAL_FILE).exists()
