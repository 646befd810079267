"""Shared test setup: offline Hub, quiet libraries, the shared real data, a tiny model."""

import os
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # a stray Hub call would wait 20-50 s before failing
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


@pytest.hookimpl(tryfirst=True)  # before -m deselects, so that "not slow" sees the added marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fast tier is `-m "not slow"`: a test that runs nbgrader or notebooks (course) or drives a browser
    (e2e) takes tens of seconds to minutes at least, so it is slow whatever else it is marked."""
    for item in items:
        if item.get_closest_marker("course") or item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Demo data caches go to a temp folder, never the developer's home."""
    monkeypatch.setenv("TOXLAB_CACHE", str(tmp_path_factory.getbasetemp() / "toxlab-cache"))
    monkeypatch.delenv("TOXLAB_DATA", raising=False)


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data: skip when absent, fail when CI requires it."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        msg = f"{path} is missing (real Jigsaw rows live in ../shared/data, beside the project)"
        if os.environ.get("TOXLAB_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(msg + " and TOXLAB_REQUIRE_SHARED_DATA=1 is set")
        pytest.skip(msg)
    return path


@pytest.fixture
def sample_dir() -> Path:
    return shared_path("jigsaw-sample")


@pytest.fixture(scope="session")
def minilm_tokenizer():
    from toxlab.models import minilm_path
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(minilm_path())


@pytest.fixture
def tiny_model():
    from toxlab.models import tiny_bert

    return tiny_bert()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    from toxlab.data import make_demo_data

    return make_demo_data(tmp_path_factory.mktemp("demo"), n_train=400, n_test=120, seed=3)


try:
    from graded_course import graded_course  # noqa: E402,F401 - the shared graded scratch course (session-wide)
except ModuleNotFoundError as missing:  # only `.[test]` installed: the course tests skip, the rest still run
    if missing.name not in {"nbformat", "nbgrader", "nbclient", "nbconvert"}:
        raise
    _why = f"the graded course needs {missing.name}, from the course extra (pip install -e '.[course,test]')"

    @pytest.fixture(scope="session")
    def graded_course():
        pytest.skip(_why)
