"""toxlab.data: the loader on real and demo data, lookup order, bad input, label helpers."""

import hashlib
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import shared_path
from toxlab.data import (
    FILES, LABELS, DataError, class_counts, id2label, is_synthetic, label2id, label_counts, load_jigsaw,
    make_demo_data,
)
from toxlab.recipe import class_weights, stratified_subsample


# --- real data ---------------------------------------------------------------

def test_loads_the_real_sample(sample_dir, capsys):
    ds = load_jigsaw(sample_dir)
    assert (len(ds["train"]), len(ds["test"])) == (5000, 440)
    assert sum(ds["train"]["label"]) == 478 and sum(ds["test"]["label"]) == 37
    assert ds["train"].column_names == ["comment_text", *LABELS, "label"]
    assert label_counts(ds["train"])["severe_toxic"] == 52
    assert label_counts(ds["test"])["obscene"] == 20
    assert not is_synthetic(ds)
    out = capsys.readouterr().out
    assert "5,000 train / 440 scored test rows" in out and str(sample_dir) in out


def _head_folder(tmp_path: Path) -> Path:
    """Kaggle layout around the 300-row head fixtures (test labels built here: head has none)."""
    head = shared_path("jigsaw-head")
    shutil.copy(head / "train_head.csv", tmp_path / "train.csv")
    shutil.copy(head / "test_head.csv", tmp_path / "test.csv")
    ids = pd.read_csv(head / "test_head.csv", dtype=str)["id"]
    labels = pd.DataFrame({"id": ids, **{c: -1 for c in LABELS}})
    labels.loc[: len(ids) // 2, LABELS] = 0
    labels.to_csv(tmp_path / "test_labels.csv", index=False)
    return tmp_path


def test_head_fixtures_parse_with_multiline_comments_intact(tmp_path):
    ds = load_jigsaw(_head_folder(tmp_path))
    assert len(ds["train"]) == 300
    assert sum(ds["train"]["toxic"]) == 31
    raw = (shared_path("jigsaw-head") / "train_head.csv").read_text(encoding="utf-8")
    multiline = [t for t in ds["train"]["comment_text"] if "\n" in t]
    assert len(multiline) > 10
    assert all(t.split("\n")[0] in raw for t in multiline[:20])
    assert any(ord(ch) > 127 for t in ds["train"]["comment_text"] for ch in t)
    assert len(ds["test"]) == 151  # rows 0..150 scored, the rest -1


# --- demo data and the -1 filtering ----------------------------------------------

def test_demo_data_is_deterministic_and_in_kaggle_layout(tmp_path):
    a = make_demo_data(tmp_path / "a", n_train=300, n_test=80, seed=7)
    b = make_demo_data(tmp_path / "b", n_train=300, n_test=80, seed=7)
    c = make_demo_data(tmp_path / "c", n_train=300, n_test=80, seed=8)
    digest = lambda d: [hashlib.sha256((d / f).read_bytes()).hexdigest() for f in FILES]  # noqa: E731
    assert digest(a) == digest(b) and digest(a) != digest(c)
    train = pd.read_csv(a / "train.csv", dtype=str)
    assert list(train.columns) == ["id", "comment_text", *LABELS]
    assert list(pd.read_csv(a / "test.csv").columns) == ["id", "comment_text"]
    assert list(pd.read_csv(a / "test_labels.csv").columns) == ["id", *LABELS]
    tl = pd.read_csv(a / "test_labels.csv")
    assert (tl[LABELS] == -1).all(axis=1).sum() > 0
    t = train[LABELS].astype(int)
    assert 0.08 <= t["toxic"].mean() <= 0.12
    assert (t[LABELS[1:]].max(axis=1) <= t["toxic"]).all(), "sub-labels only on toxic rows"
    text = train["comment_text"]
    assert text.str.contains("\n").any() and text.str.contains('"').any() and text.str.contains(",").any()
    assert text.map(lambda s: any(ord(ch) > 127 for ch in s)).any()


def test_demo_data_is_marked_synthetic_and_drops_unscored(demo_dir, capsys):
    ds = load_jigsaw(demo_dir)
    n_scored = int((pd.read_csv(demo_dir / "test_labels.csv")["toxic"] != -1).sum())
    assert len(ds["test"]) == n_scored < 120
    assert -1 not in set(ds["test"]["label"])
    assert is_synthetic(ds) and "SYNTHETIC" in capsys.readouterr().out


def test_demo_data_never_overwrites(demo_dir):
    with pytest.raises(FileExistsError, match="overwrite=True"):
        make_demo_data(demo_dir)


def test_demo_data_carries_a_learnable_signal(demo_dir):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    ds = load_jigsaw(demo_dir, verbose=False)
    vec = CountVectorizer().fit(ds["train"]["comment_text"])
    clf = LogisticRegression(max_iter=1000).fit(vec.transform(ds["train"]["comment_text"]), ds["train"]["label"])
    p = clf.predict_proba(vec.transform(ds["test"]["comment_text"]))[:, 1]
    assert roc_auc_score(ds["test"]["label"], p) > 0.95


# --- sources and lookup order ------------------------------------------------

def _zip(folder: Path, dest: Path, prefix: str = "", nested: bool = False) -> Path:
    with zipfile.ZipFile(dest, "w") as zf:
        for f in FILES:
            if nested:
                inner = dest.parent / f"{f}.zip"
                with zipfile.ZipFile(inner, "w") as z2:
                    z2.write(folder / f, f)
                zf.write(inner, prefix + f + ".zip")
            else:
                zf.write(folder / f, prefix + f)
    return dest


@pytest.mark.parametrize("prefix,nested", [("", False), ("jigsaw/", False), ("", True)])
def test_zip_source(demo_dir, tmp_path, prefix, nested):
    ds = load_jigsaw(_zip(demo_dir, tmp_path / "data.zip", prefix, nested), verbose=False)
    ref = load_jigsaw(demo_dir, verbose=False)
    assert ds["train"]["comment_text"] == ref["train"]["comment_text"]
    assert len(ds["test"]) == len(ref["test"])


def test_lookup_order(demo_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    load_jigsaw()
    assert "via demo" in capsys.readouterr().out
    local = make_demo_data(tmp_path / "jigsaw_toxicity_pred", n_train=40, n_test=20, seed=1)
    ds = load_jigsaw()
    assert "via ./jigsaw_toxicity_pred" in capsys.readouterr().out and len(ds["train"]) == 40
    monkeypatch.setenv("TOXLAB_DATA", str(demo_dir))
    ds = load_jigsaw()
    assert "via $TOXLAB_DATA" in capsys.readouterr().out and len(ds["train"]) == 400
    ds = load_jigsaw(local)
    assert "via argument" in capsys.readouterr().out and len(ds["train"]) == 40


def test_label_choice(demo_dir):
    ds = load_jigsaw(demo_dir, label="insult", verbose=False)
    assert ds["train"]["label"] == ds["train"]["insult"]
    with pytest.raises(DataError, match="not a Jigsaw label"):
        load_jigsaw(demo_dir, label="toxicity")


# --- bad input: each gives a clear DataError naming file/column/row and the fix -------

def _copy(demo_dir: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "data"
    shutil.copytree(demo_dir, dst)
    return dst


def _edit(path: Path, fn) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(df).to_csv(path, index=False)


BAD_INPUTS = {
    "missing folder": (lambda d: d / "nope", r"nope: no such folder or zip.*kaggle"),
    "missing file": (lambda d: (d / "test_labels.csv").unlink() or d, r"test_labels.csv: file not found.*kaggle"),
    "misnamed column": (
        lambda d: _edit(d / "train.csv", lambda df: df.rename(columns={"toxic": "Toxic"})) or d,
        r"train.csv: missing column\(s\) \['toxic'\].*rename column 'Toxic' to 'toxic'"),
    "missing column": (
        lambda d: _edit(d / "test.csv", lambda df: df.drop(columns=["comment_text"])) or d,
        r"test.csv: missing column\(s\) \['comment_text'\]"),
    "label outside 0/1": (
        lambda d: _edit(d / "train.csv", lambda df: df.assign(threat=df["threat"].mask(df.index == 4, "2"))) or d,
        r"train.csv: column 'threat' has value '2' in data row 5"),
    "label -1 in train": (
        lambda d: _edit(d / "train.csv", lambda df: df.assign(toxic=df["toxic"].mask(df.index == 0, "-1"))) or d,
        r"train.csv: column 'toxic' has value '-1' in data row 1.*\[0, 1\]"),
    "label outside 0/1/-1 in test": (
        lambda d: _edit(d / "test_labels.csv", lambda df: df.assign(insult=df["insult"].mask(df.index == 2, "yes"))) or d,
        r"test_labels.csv: column 'insult' has value 'yes' in data row 3.*\[-1, 0, 1\]"),
    "duplicate ids": (
        lambda d: _edit(d / "train.csv", lambda df: pd.concat([df, df.iloc[[3]]])) or d,
        r"train.csv: 1 duplicate id"),
    "test ids without labels": (
        lambda d: _edit(d / "test_labels.csv", lambda df: df.iloc[5:]) or d,
        r"test_labels.csv: 5 id\(s\) of .*test.csv have no labels"),
    "non-UTF-8": (
        lambda d: _recode(d / "train.csv", "utf-16") or d,
        r"train.csv: not UTF-8 text.*Re-save the file as UTF-8"),
    "zip without the files": (
        lambda d: _zip_only(d, "train.csv"),
        r"data.zip: the zip has no 'test.csv'.*It holds \['train.csv'\]"),
    "not a zip or folder": (
        lambda d: (d / "train.csv"),
        r"expected a folder or a .zip"),
}


def _recode(path: Path, encoding: str) -> None:
    path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))


def test_source_of_wrong_type():
    with pytest.raises(TypeError, match="source=42"):
        load_jigsaw(42)


def _zip_only(d: Path, name: str) -> Path:
    dest = d.parent / "data.zip"
    with zipfile.ZipFile(dest, "w") as zf:
        zf.write(d / name, name)
    return dest


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_gives_clear_error(case, demo_dir, tmp_path):
    break_it, pattern = BAD_INPUTS[case]
    folder = _copy(demo_dir, tmp_path)
    before = {f.name: f.stat().st_mtime_ns for f in folder.iterdir()}
    source = break_it(folder)
    after_break = {f.name: f.stat().st_mtime_ns for f in folder.iterdir()} if folder.exists() else {}
    with pytest.raises(DataError, match=f"(?is){pattern}") as err:
        load_jigsaw(source, verbose=False)
    assert "Traceback" not in str(err.value)
    assert err.value.__cause__ is None or isinstance(err.value.__cause__, DataError)
    # nothing written into the user's folder by the loader
    if folder.exists():
        assert {f.name: f.stat().st_mtime_ns for f in folder.iterdir()} == after_break
    assert set(before) >= set(after_break) - {"data.zip"}


def test_empty_comments_are_kept_and_counted(demo_dir, tmp_path, capsys):
    folder = _copy(demo_dir, tmp_path)
    _edit(folder / "train.csv", lambda df: df.assign(comment_text=df["comment_text"].mask(df.index < 3, "")))
    ds = load_jigsaw(folder)
    assert len(ds["train"]) == 400 and ds["train"]["comment_text"][:3] == ["", "", ""]
    assert "3 empty comment(s) kept as ''" in capsys.readouterr().out


# --- label helpers --------------------------------------------------------------

def test_label_maps():
    assert id2label == {0: "Non-Toxic", 1: "Toxic"} and label2id == {"Non-Toxic": 0, "Toxic": 1}


def test_class_weights_on_full_jigsaw_counts():
    w = class_weights([144_277, 15_294])
    assert w.dtype.is_floating_point and str(w.dtype) == "torch.float32"
    assert np.allclose(w.numpy(), [0.0958, 0.9042], atol=5e-5)
    assert abs(float(w.sum()) - 1) < 1e-6


def test_class_weights_reject_an_empty_class():
    with pytest.raises(ValueError, match="at least one example"):
        class_weights([10, 0])


def test_class_counts_and_stratified_subsample(demo_dir):
    train = load_jigsaw(demo_dir, verbose=False)["train"]
    n0, n1 = class_counts(train)
    assert n0 + n1 == 400 and n1 == 40
    sub = stratified_subsample(train, 100, seed=0)
    assert len(sub) == 100 and class_counts(sub) == [90, 10]
    assert stratified_subsample(train, 100, seed=0)["comment_text"] == sub["comment_text"]
    assert stratified_subsample(train, 10_000) is train


def test_enriched_subsample_hits_the_share_and_caps_at_what_exists(demo_dir):
    from toxlab.recipe import enriched_subsample

    train = load_jigsaw(demo_dir, verbose=False)["train"]
    toxic = sum(train["label"])
    sub = enriched_subsample(train, 100, 0.3, seed=1)
    assert len(sub) == 100 and sum(sub["label"]) == 30
    assert enriched_subsample(train, 100, 0.3, seed=1)["comment_text"] == sub["comment_text"]
    assert enriched_subsample(train, 100, 0.3, seed=2)["comment_text"] != sub["comment_text"]
    big = enriched_subsample(train, len(train), 0.9, seed=0)  # too few toxic rows: takes them all, fills up
    assert len(big) == len(train) and sum(big["label"]) == toxic
    with pytest.raises(ValueError, match="between 0 and 1"):
        enriched_subsample(train, 10, 1.0)


def test_load_train_rows_reads_the_kaggle_train_layout(demo_dir, tmp_path):
    from toxlab.data import load_train_rows

    rows = load_train_rows(demo_dir / "train.csv", label="insult")
    assert rows["label"] == rows["insult"] and len(rows) == len(load_jigsaw(demo_dir, verbose=False)["train"])
    with pytest.raises(DataError, match="no such file"):
        load_train_rows(tmp_path / "nope.csv")
    (tmp_path / "bad.csv").write_text("id,comment_text\n1,hello\n")
    with pytest.raises(DataError, match="missing column"):
        load_train_rows(tmp_path / "bad.csv")
