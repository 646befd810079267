"""Every lab's instructor notebook executes headless, in grade mode and in CPU mode on demo data,
with every grade cell passing and writing nothing to stderr."""


import pytest

# with `.[test]` alone this module skips, naming the extra it needs, instead of failing collection
nbformat = pytest.importorskip("nbformat", reason="needs nbformat, from the course extra (pip install -e '.[course,test]')")
pytest.importorskip("nbclient", reason="needs nbclient, from the course extra (pip install -e '.[course,test]')")

from nbclient import NotebookClient

from conftest import ROOT
from toxlab import labs

pytestmark = pytest.mark.course


def execute(lab: str, mode: str, tmp_path, monkeypatch):
    monkeypatch.setenv("TOXLAB_MODE", mode)
    monkeypatch.delenv("MPLBACKEND", raising=False)  # conftest's Agg would stop the kernel rendering plots inline
    monkeypatch.setenv("TOXLAB_HIDDEN_CHECKS", str(ROOT / "course" / "hidden_checks"))
    nb = nbformat.read(ROOT / "source" / lab / f"{lab}.ipynb", as_version=4)
    NotebookClient(nb, timeout=1200, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def problems(nb) -> list[str]:
    """Errors in any cell, and stderr or a missing pass line in any grade cell."""
    out = []
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        gid = c.metadata.get("nbgrader", {}).get("grade_id", "?")
        errors = [o for o in c.outputs if o.output_type == "error"]
        if errors:
            out.append(f"{gid}: {errors[0].ename}: {errors[0].evalue[:200]}")
        if c.metadata.get("nbgrader", {}).get("grade"):
            if any(o.output_type == "stream" and o.name == "stderr" for o in c.outputs):
                out.append(f"{gid}: wrote to stderr")
            text = "".join(o.get("text", "") for o in c.outputs if o.output_type == "stream")
            if "hidden checks passed" not in text:
                out.append(f"{gid}: no passing summary")
    return out


def stream_text(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                   if o.output_type == "stream")


def images(nb) -> set[str]:
    """grade_ids of the cells that drew a PNG."""
    return {c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.cell_type == "code"
            and any("image/png" in o.get("data", {}) for o in c.outputs)}


@pytest.mark.parametrize("lab", list(labs.LABS))
def test_grade_mode(lab, tmp_path, monkeypatch):
    nb = execute(lab, "grade", tmp_path, monkeypatch)
    assert problems(nb) == []


@pytest.mark.slow
@pytest.mark.timeout(20 * 60)
def test_cpu_mode_on_demo_data_lab_after_lab(tmp_path, monkeypatch):
    """Lab 6a trains and saves a model; labs 6b and 6c, run next in the same folder, explain and measure it."""
    nb = execute("toxicity_lab", "cpu", tmp_path, monkeypatch)
    assert problems(nb) == []
    assert "SYNTHETIC DEMO DATA" in stream_text(nb) and "mode=cpu" in stream_text(nb)
    assert {"plot_counts", "evaluate", "pr_curve", "bias_probe"} <= images(nb)
    saved = [p for p in (tmp_path / "saved_models").iterdir() if (p / "config.json").is_file()]
    assert saved, "the trained model was saved"

    nb = execute("explain_lab", "cpu", tmp_path, monkeypatch)
    assert problems(nb) == []
    assert f"model={saved[-1].relative_to(tmp_path)}" in stream_text(nb), "6b explains the model 6a saved"
    assert "No saved model" not in stream_text(nb)
    assert {"attention_demo", "faithfulness"} <= images(nb)

    nb = execute("bias_lab", "cpu", tmp_path, monkeypatch)
    assert problems(nb) == []
    assert f"model={saved[-1].relative_to(tmp_path)}" in stream_text(nb), "6c measures the model 6a saved"
    assert (tmp_path / "saved_models" / "mitigated-identity-nontoxic" / "config.json").is_file()
    assert {"error_rates", "calibration", "mitigate"} <= images(nb)


def test_grading_always_runs_in_grade_mode(monkeypatch):
    """A student's MODE = "cpu" must not turn a graded notebook into a minutes-long training run."""
    from toxlab.labs import detect_mode

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert detect_mode("cpu") == "cpu"
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert detect_mode("cpu") == "grade" and detect_mode(None) == "grade"
