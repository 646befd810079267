"""Bad input at scale (hypothesis): random and malformed CSV files for the loader, random strings for predict.

Expected of every example: a DataError (loader) or TypeError/ValueError (predict) with a message,
or a valid result. Never another exception, and never a hang (pytest-timeout bounds each test).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toxlab.data import LABELS, DataError, load_jigsaw, make_demo_data
from toxlab.inference import predict

COLUMNS = ["id", "comment_text", *LABELS]
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return make_demo_data(tmp_path_factory.mktemp("demo") / "data", n_train=40, n_test=20, seed=3)


cell_text = st.one_of(
    st.text(max_size=40),  # any unicode: control characters, emoji, quotes, newlines
    st.sampled_from(["", "0", "1", "-1", "2", "0.5", "nan", "NULL", '"', '""', "\n", "a,b", "🙂", "\x00"]),
    st.integers(-3, 3).map(str),
)
header = st.one_of(
    st.just(COLUMNS),
    st.permutations(COLUMNS),
    st.lists(st.sampled_from([*COLUMNS, "Comment_Text", "label", "", "toxic "]), min_size=1, max_size=9),
)


@st.composite
def csv_files(draw) -> str:
    """CSV-looking text: a header (right, shuffled or wrong) and rows of odd cells, some ragged."""
    cols = draw(header)
    rows = draw(st.lists(st.lists(cell_text, min_size=max(len(cols) - 1, 0), max_size=len(cols) + 1), max_size=12))
    quote = draw(st.booleans())

    def fmt(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if quote else v

    return "\n".join(",".join(fmt(v) for v in row) for row in [cols, *rows])


def _load(folder: Path):
    try:
        ds = load_jigsaw(folder, verbose=False)
    except DataError as e:
        assert str(e).strip(), "a DataError must say what is wrong"
        return None
    _assert_valid(ds)
    return ds


def _assert_valid(ds) -> None:
    for split in ("train", "test"):
        assert set(COLUMNS[1:]) <= set(ds[split].column_names)
        assert set(np.unique(ds[split]["label"])) <= {0, 1}, f"{split}: labels outside 0/1"
        assert all(isinstance(t, str) for t in ds[split]["comment_text"])


@pytest.mark.timeout(600)
@settings(max_examples=80, **SETTINGS)
@given(content=st.one_of(csv_files(), st.text(max_size=600), st.binary(max_size=600)), which=st.sampled_from(
    ["train.csv", "test.csv", "test_labels.csv"]))
def test_loader_gives_a_clear_error_or_a_valid_dataset(demo, content, which):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(shutil.copytree(demo, Path(tmp) / "data"))
        path = folder / which
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
        _load(folder)


def test_validity_check_rejects_what_a_wrong_loader_lets_through(demo):
    """The property's checks fail on a plausible wrong loader's output: a label of 2 let through."""
    ds = load_jigsaw(demo, verbose=False)
    _assert_valid(ds)
    from datasets import Value

    plain = ds["train"].cast_column("label", Value("int64"))  # a wrong loader with no ClassLabel check
    ds["train"] = plain.map(lambda r, i: {"label": 2 if i == 0 else r["label"]}, with_indices=True)
    with pytest.raises(AssertionError, match="labels outside"):
        _assert_valid(ds)


@pytest.fixture(scope="module")
def tiny():
    from transformers import AutoTokenizer

    from toxlab.models import minilm_path, tiny_bert

    return tiny_bert(), AutoTokenizer.from_pretrained(minilm_path())


texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "So"]), max_size=100),  # control, format, emoji
    st.sampled_from(["", " ", "\n\t", "\x00", "🙂" * 50, "Ünïcödé мир 世界 مرحبا", "a" * 20_000, "word " * 5_000]),
)


@pytest.mark.slow  # 60 generated batches through predict: 15-40 s on 2 shared cores; test_inference keeps predict fast
@pytest.mark.timeout(600)
@settings(max_examples=60, **SETTINGS)
@given(batch=st.lists(texts, max_size=12), batch_size=st.integers(1, 8))
def test_predict_scores_every_string_in_order(tiny, batch, batch_size):
    model, tok = tiny
    out = predict(batch, model, tok, batch_size=batch_size, max_length=64)
    alone = [predict([t], model, tok, max_length=64)[0] for t in batch[:3]]
    _assert_scores(batch, out, alone)


def _assert_scores(batch, out, alone) -> None:
    assert len(out) == len(batch)
    for r in out:
        assert 0.0 <= r["p_toxic"] <= 1.0 and abs(r["p_toxic"] + r["p_non_toxic"] - 1) < 1e-4
    for r, a in zip(out, alone):  # each text scored alone gets the same score: length-sorting keeps order
        assert abs(r["p_toxic"] - a["p_toxic"]) < 1e-5, "predictions are not in input order"


def test_score_check_rejects_a_predict_that_loses_the_order(tiny):
    """A plausible wrong predict: length-sorted batches returned in sorted order, not input order."""
    model, tok = tiny
    batch = ["short", "you are an idiot, " * 5]
    out = predict(batch, model, tok, max_length=64)
    alone = [predict([t], model, tok, max_length=64)[0] for t in batch]
    _assert_scores(batch, out, alone)
    with pytest.raises(AssertionError, match="input order"):
        _assert_scores(batch, out[::-1], alone)


@settings(max_examples=30, **SETTINGS)
@given(bad=st.one_of(st.text(max_size=20), st.lists(st.one_of(st.integers(), st.none(), st.binary(max_size=5)),
                                                       min_size=1, max_size=3)))
def test_predict_rejects_non_lists_of_strings_with_a_clear_error(tiny, bad):
    model, tok = tiny
    with pytest.raises(TypeError, match="texts"):
        predict(bad, model, tok)
