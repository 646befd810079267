"""Every lab's instructor notebook executes headless, in grade mode, and in CPU mode in the course layout
(6a on the shared Jigsaw sample, 6b and 6c on its saved model), with every grade cell passing and writing
nothing to stderr."""

import os
import shutil
from pathlib import Path

import pytest

# with `.[test]` alone this module skips, naming the extra it needs, instead of failing collection
nbformat = pytest.importorskip("nbformat", reason="needs nbformat, from the course extra (pip install -e '.[course,test]')")
pytest.importorskip("nbclient", reason="needs nbclient, from the course extra (pip install -e '.[course,test]')")

from nbclient import NotebookClient

from conftest import ROOT, shared_path
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


def load_instructor():
    import importlib.util

    spec = importlib.util.spec_from_file_location("instructor_for_test", ROOT / "course" / "instructor.py")
    instructor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(instructor)
    return instructor


def trusted_run(given: Path, instructor, data: Path) -> bool:
    """Whether `given` holds a run-lab output of this tree, every lab in cpu mode, on the data folder `data`."""
    import json

    stamp = given / instructor.RUN_STAMP
    if not stamp.is_file():
        return False
    made = json.loads(stamp.read_text())
    ran_on = made.get("data")
    return (made.get("tree") == instructor.tree_digest() and made.get("labs") == list(labs.LABS)
            and made.get("mode") == "cpu" and ran_on not in (None, "demo") and Path(ran_on).resolve() == data.resolve())


def test_a_run_lab_output_is_trusted_only_for_the_tree_that_made_it(tmp_path):
    import json

    instructor = load_instructor()
    data = tmp_path / "jigsaw-sample"
    data.mkdir()
    stamp = {"tree": instructor.tree_digest(), "labs": list(labs.LABS), "mode": "cpu", "data": str(data)}
    (tmp_path / instructor.RUN_STAMP).write_text(json.dumps(stamp))
    assert trusted_run(tmp_path, instructor, data)
    # another tree, a lab missing, grade mode, demo data or another folder: the test runs the labs itself
    for wrong in ({"tree": "0" * 64}, {"labs": ["toxicity_lab"]}, {"mode": "grade"}, {"data": "demo"},
                  {"data": str(tmp_path)}):
        (tmp_path / instructor.RUN_STAMP).write_text(json.dumps({**stamp, **wrong}))
        assert not trusted_run(tmp_path, instructor, data), wrong
    edited = tmp_path / "tree"  # a changed notebook changes the digest
    for part in ("toxlab", "source", "course"):
        shutil.copytree(ROOT / part, edited / part, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    assert instructor.tree_digest(edited) == stamp["tree"]
    nb = edited / "source" / "bias_lab" / "bias_lab.ipynb"
    nb.write_text(nb.read_text().replace("BPSN", "BPSn", 1))
    assert instructor.tree_digest(edited) != stamp["tree"]


def stale_course_kept(course: Path) -> None:
    """A wrong fresh_course, kept as a fixture: it only makes the folder, the way run-lab did before."""
    course.mkdir(parents=True, exist_ok=True)


def check_fresh_course(fresh, instructor, tmp_path: Path) -> None:
    course = tmp_path / "course"
    fresh(course)
    stale = course / "bias_lab" / "saved_models" / "mitigated-identity-nontoxic"  # an earlier run's model
    stale.mkdir(parents=True)
    (course / instructor.COURSE_MARK).touch()
    fresh(course)
    assert not stale.exists(), "an earlier run's model is left where 6c would load it instead of training"
    assert (course / instructor.COURSE_MARK).exists()


def test_run_lab_starts_from_an_empty_course_it_made(tmp_path):
    instructor = load_instructor()
    check_fresh_course(instructor.fresh_course, instructor, tmp_path)
    with pytest.raises(AssertionError, match="earlier run's model"):
        check_fresh_course(stale_course_kept, instructor, tmp_path / "wrong")
    mine = tmp_path / "mine"  # a folder run-lab did not make is never removed
    (mine / "toxicity_lab").mkdir(parents=True)
    with pytest.raises(SystemExit, match=f"{mine}.*did not make it.*--out"):
        instructor.fresh_course(mine)
    assert (mine / "toxicity_lab").exists()


def run_lab_output(tmp_path) -> tuple[Path, str]:
    """A run-lab output of this very tree on the shared Jigsaw sample, and how it was got.

    README command 1 (run-lab) already runs the three labs in cpu mode in the course layout; CI runs it first,
    on the shared sample ($TOXLAB_DATA), and names its output in $TOXLAB_RUN_LAB_OUT, so this test checks
    that run instead of training again. An output whose stamp names another tree (an older run, an edited
    notebook) or other data (run-lab's demo default) is never trusted: then the labs run here, on the
    shared sample, the way run-lab runs them."""
    data = shared_path("jigsaw-sample")
    instructor = load_instructor()
    given = Path(os.environ.get("TOXLAB_RUN_LAB_OUT") or ROOT / "runs" / "lab")
    if trusted_run(given, instructor, data):
        return given, f"run-lab's output in {given} (data: {data})"
    out = tmp_path / "lab"
    env = {"TOXLAB_MODE": "cpu", "TOXLAB_HIDDEN_CHECKS": str(ROOT / "course" / "hidden_checks"),
           "TOXLAB_DATA": str(data)}
    old = {k: os.environ.get(k) for k in [*env, "MPLBACKEND"]}
    os.environ.update(env)
    os.environ.pop("MPLBACKEND", None)  # conftest's Agg would stop inline plots
    try:
        for name in labs.LABS:
            (out / "course" / name).mkdir(parents=True)
            instructor.execute_lab(name, out / name, out / "course" / name)
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return out, f"the labs executed here on {data}"


@pytest.mark.slow
@pytest.mark.timeout(25 * 60)
def test_the_labs_join_up_in_the_course_layout(tmp_path):
    """Each lab in its own folder under one course folder, as nbgrader gives them to a student: lab 6a trains
    on the shared Jigsaw sample and saves its model with its threshold; labs 6b and 6c load that folder from ../toxicity_lab/ and train
    nothing of their own (6c only its mitigated model); every cell runs, every grade cell passes quietly."""
    import importlib.util

    out, how = run_lab_output(tmp_path)
    spec = importlib.util.spec_from_file_location("check_main_job", ROOT / ".ci" / "check_main_job.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    for name in labs.LABS:
        nb = nbformat.read(out / name / f"{name}.executed.ipynb", as_version=4)
        assert problems(nb) == [], f"{name}, in {how}"
        assert "mode=cpu" in stream_text(nb)
    assert check.sibling_model_problems(out) == [], how
    import json

    ran_on = json.loads((out / "toxicity_lab" / "metrics.json").read_text())["data"]
    assert ran_on.startswith("Jigsaw Toxic Comments from") and "jigsaw-sample" in ran_on, f"6a trained on {ran_on!r}"
    assert {"plot_counts", "evaluate", "pr_curve", "bias_probe"} <= images(
        nbformat.read(out / "toxicity_lab" / "toxicity_lab.executed.ipynb", as_version=4))
    assert {"attention_demo", "faithfulness"} <= images(
        nbformat.read(out / "explain_lab" / "explain_lab.executed.ipynb", as_version=4))
    assert {"error_rates", "calibration", "mitigate"} <= images(
        nbformat.read(out / "bias_lab" / "bias_lab.executed.ipynb", as_version=4))
    assert (out / "course" / "bias_lab" / "saved_models" / "mitigated-identity-nontoxic" / "config.json").is_file()
    # 6c measured both models on both identity families, the held-out one whole (47 terms) in cpu mode
    import pandas as pd

    families = pd.read_csv(out / "bias_lab" / "families.csv").set_index("family")
    assert families.loc["before, held-out family", "terms"] == families.loc["after, held-out family", "terms"] == 47
    assert families.loc["before, held-out family", "rows"] == 3008, how
    assert families["fpr_spread"].between(0, 1).all()


def test_grading_always_runs_in_grade_mode(monkeypatch):
    """A student's MODE = "cpu" must not turn a graded notebook into a minutes-long training run."""
    from toxlab.labs import detect_mode

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert detect_mode("cpu") == "cpu"
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert detect_mode("cpu") == "grade" and detect_mode(None) == "grade"
