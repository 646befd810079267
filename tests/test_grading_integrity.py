"""Hostile and broken submissions through real `nbgrader autograde`: each attack scores what it deserves.

Every submission below starts from the reference solution and attacks or breaks a few exercises
(one attack per exercise, so each attack's cost is visible on its own). An attacked exercise must
score exactly what its honest content earns (the wrong answer under the attack, scored in process
by tests/expected_scores.py; 0 where the cell kills or hangs its process), and every other exercise
full marks. All are graded in one run, with a control graded last, so the run must survive every
one of them. tests/fixtures/attacks.py holds the attacks on the checker and on other students.

The sandbox settings here are the shipped ones except a 30 s cell timeout (the infinite loop costs
it twice) and a cap of 40 tasks, below the attack's 64 forks, so that the cap visibly binds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from fixtures import attacks as A
from expected_scores import score_of
from fixtures.submissions import POINTS, WRONG
from scratch_course import LAB, autograded, cell, instructor, make_course, scores, submit, with_cells
from toxlab.grading import solved_notebook

pytestmark = pytest.mark.course
SECRET = "sk-toxlab-test-secret-do-not-leak"


def wrong(exercise: str, name: str) -> str:
    return next(src for n, src, *_ in WRONG[exercise] if n == name)


def honest(*pairs: tuple[str, str]) -> dict[str, float]:
    """{exercise: what the named wrong fixture alone earns} (partial credit included)."""
    return {ex: score_of(ex, wrong(ex, name)) for ex, name in pairs}


def nothing(*exercises: str) -> dict[str, float]:
    return {ex: 0.0 for ex in exercises}


def attacks(solution) -> dict[str, tuple[object, dict[str, float]]]:
    """{student: (notebook, {exercise: the points it must score; every other exercise full marks})}."""
    right = {gid: cell(solution, gid).source for gid in (
        "count_labels", "compute_class_weights", "tokenize", "clean_columns", "compute_metrics",
        "make_training_args", "weighted_loss", "predict_proba", "identity_gap")}
    subs = {}

    # 1. Tampering with the checks, each paired with a wrong answer it would smuggle through in the kernel
    subs["tamper-python"] = (with_cells(
        solution,
        count_labels=wrong("label_counts", "swapped_order")
        + "\ncheck = lambda *a, **k: print('label_counts: 4/4 checks passed')",
        compute_class_weights=wrong("class_weights", "not_normalised")
        + "\nimport toxlab.grading as _g\n_g.run_check_files = lambda ex, ns, paths: "
          "[_g.Outcome(ex, 'faked', True, '')]\n_g.check = lambda *a, **k: None",
        tokenize=wrong("tokenize", "no_truncation")
        + "\nimport _pytest.python\n_pytest.python.Function.runtest = lambda self: None",
        clean_columns=wrong("cleanup", "keeps_comment_text") + "\nimport builtins\nbuiltins.all = lambda it: True",
        compute_metrics=wrong("metrics", "binary_average")
        + "\nimport sklearn.metrics\n_prfs = sklearn.metrics.precision_recall_fscore_support\n"
          "sklearn.metrics.precision_recall_fscore_support = lambda y, p, average=None, **k: _prfs(y, p, average='binary')",
        predict_proba=wrong("predict_proba", "missing_softmax") + "\nnp.allclose = lambda *a, **k: True",
    ), honest(("label_counts", "swapped_order"), ("class_weights", "not_normalised"), ("tokenize", "no_truncation"),
              ("cleanup", "keeps_comment_text"), ("metrics", "binary_average"), ("predict_proba", "missing_softmax")))

    # conftest.py, pytest.ini and a plugin beside the notebook, and written again at run time
    subs["tamper-files"] = (with_cells(
        solution,
        weighted_loss=wrong("weighted_loss", "unweighted")
        + "\nimport os, sys\nopen('conftest.py', 'w').write('def pytest_runtest_call(item):\\n    item.runtest = lambda: None\\n')"
          "\nopen('pytest.ini', 'w').write('[pytest]\\naddopts = -p no_fail\\n')\nsys.path.insert(0, os.getcwd())",
    ), honest(("weighted_loss", "unweighted")))

    # grade cells deleted, rewritten, or with edited metadata
    edited = with_cells(solution, tokenize=wrong("tokenize", "max_length_512"),
                        compute_metrics=wrong("metrics", "micro_average"), check_metrics="pass")
    cell(edited, "check_tokenize").metadata["nbgrader"]["grade"] = False
    cell(edited, "check_tokenize").metadata["nbgrader"]["points"] = 0
    edited.cells.remove(cell(edited, "check_identity_gap"))  # the answer is right: the restored cell must pass
    subs["tamper-cells"] = (edited, honest(("tokenize", "max_length_512"), ("metrics", "micro_average")))

    # an IPython hook that turns every later cell, grade cells included, into `pass`
    subs["tamper-ipython"] = (with_cells(
        solution, count_labels=wrong("label_counts", "bincount_without_minlength")
        + "\nget_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
    ), honest(("label_counts", "bincount_without_minlength")))

    # 2. Resources and process
    subs["exits"] = (with_cells(
        solution,
        tokenize="import sys\nsys.exit(0)\n" + right["tokenize"],
        clean_columns="import os\nos._exit(0)\n" + right["clean_columns"],
        compute_metrics="import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n" + right["compute_metrics"],
    ), nothing("tokenize", "cleanup", "metrics"))
    subs["resources"] = (with_cells(
        solution,
        count_labels="while True:\n    pass\n" + right["count_labels"],
        compute_class_weights="def _hog():\n    chunks = []\n    for _ in range(64):  # 16 GiB at most\n"
                              "        chunks.append(bytearray(256 * 2**20))\n_hog()\n" + right["compute_class_weights"],
        make_training_args="import os, time\nforked = 0\ntry:\n    for _ in range(64):  # capped: never a real fork bomb\n"
                           "        if os.fork() == 0:\n            time.sleep(5)\n            os._exit(0)\n"
                           "        forked += 1\nexcept OSError as e:\n    print('fork refused:', e)\n"
                           "print(f'forked {forked} of 64')\nassert forked == 64\n" + right["make_training_args"],
    ), nothing("label_counts", "class_weights", "training_args"))
    subs["escape"] = (with_cells(solution, predict_proba=ESCAPE + right["predict_proba"]), {})
    subs["killer"] = (with_cells(solution, clean_columns=A.KILL_THE_GRADER + right["clean_columns"]), nothing("cleanup"))

    # 3. Output tricks
    subs["output"] = (with_cells(
        solution,
        clean_columns=wrong("cleanup", "renames_label_not_toxic")
        + "\nprint('cleanup: 3/3 checks passed')\nprint('All tests passed!')",
        weighted_loss=right["weighted_loss"]
        + "\nimport os, sys\nprint('noise on stderr', file=sys.stderr)\nos.write(2, b'noise on fd 2\\n')"
          "\n_quiet = WeightedLossTrainer.compute_loss\ndef _noisy(self, *a, **k):\n"
          "    print('computing the loss', file=sys.stderr)\n    return _quiet(self, *a, **k)\n"
          "WeightedLossTrainer.compute_loss = _noisy",
        identity_gap=right["identity_gap"] + "\nprint('y' * 5_000_000)\n'x' * 30_000_000",
    ), honest(("cleanup", "renames_label_not_toxic")))

    # 4. Against the trusted checker: each wrong answer comes with a way to forge or bend its verdict
    subs["forge"] = (with_cells(
        solution,
        count_labels=wrong("label_counts", "swapped_order") + A.SERIALIZATION_PATCH,
        compute_class_weights=wrong("class_weights", "not_normalised") + A.STACK_WALK,
        tokenize=wrong("tokenize", "no_truncation") + A.GC_SEARCH,
        clean_columns=wrong("cleanup", "keeps_comment_text") + A.BACKGROUND_THREAD,
        compute_metrics=wrong("metrics", "binary_average") + A.TRACE_HOOKS,
        make_training_args=A.ALWAYS_EQUAL,
        weighted_loss=A.TORCH_FUNCTION,
        predict_proba=A.ARRAY_FUNCTION,
        identity_gap=wrong("identity_gap", "first_minus_last") + A.SIGNALS_AND_ATEXIT,
    ), {**honest(("label_counts", "swapped_order"), ("class_weights", "not_normalised"),
               ("cleanup", "keeps_comment_text"), ("metrics", "binary_average"), ("identity_gap", "first_minus_last")),
        # forged replies replace the student's own answers: GC_SEARCH loses even what no_truncation earns
        **nothing("tokenize", "training_args", "weighted_loss", "predict_proba")})

    # 5. Against other students, and hints that would carry what the code saw
    subs["daemon"] = (with_cells(solution, count_labels=right["count_labels"] + A.DAEMON), {})
    subs["shm-1-writer"] = (with_cells(solution, count_labels=right["count_labels"] + A.SHM_WRITE), {})
    subs["shm-2-reader"] = (with_cells(solution, count_labels=right["count_labels"] + A.SHM_READ), {})
    subs["leaky"] = (with_cells(
        solution, tokenize=A.LEAK_THROUGH_EXCEPTION, compute_metrics=A.LEAK_INPUTS,
        identity_gap=right["identity_gap"] + A.IMAGE_FLOOD,
    ), nothing("tokenize", "metrics"))
    return subs


ESCAPE = '''import os, pathlib
_found = {}
_here = pathlib.Path.cwd()
for _p in [*(q / "hidden_checks.py" for q in _here.parents[:5]), *(q / "source" for q in _here.parents[:5]),
           pathlib.Path(os.environ.get("TOXLAB_HIDDEN_CHECKS", "/nonexistent"))]:
    try:
        _found[str(_p)] = _p.read_text()[:3000] if _p.is_file() else sorted(str(x) for x in _p.rglob("*"))[:50]
    except Exception as e:
        _found[str(_p)] = type(e).__name__
for _p in _here.parents[:4]:
    for _name in ("gradebook.db", "PWNED.txt"):
        try:
            (_p / _name).write_text("pwned")
            _found["wrote " + str(_p / _name)] = "yes"
        except Exception as e:
            _found["wrote " + str(_p / _name)] = type(e).__name__
print(_found)
print(dict(os.environ))
for _pid in [p for p in os.listdir("/proc") if p.isdigit()]:  # every process it can see, the grader's env sought
    try:
        print("environ of", _pid, open(f"/proc/{_pid}/environ", "rb").read()[:4000])
    except OSError as e:
        print("environ of", _pid, type(e).__name__)
'''


@pytest.fixture(scope="module")
def env():
    return {**os.environ, "TOXLAB_CELL_TIMEOUT": "30", "TOXLAB_SANDBOX_PROCESSES": "40",
            "TOXLAB_TEST_SECRET": SECRET, "AWS_SECRET_ACCESS_KEY": SECRET}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, env):
    """Every attack plus a control (graded last), in one autograde run."""
    root = tmp_path_factory.mktemp("hostile-course")
    release, source = make_course(root, env)
    solution = solved_notebook(release, source)
    subs = attacks(solution)
    submit(root, {**{k: nb for k, (nb, _) in subs.items()}, "zz-control": solution}, env)
    stray = root / "course" / "submitted" / "tamper-files" / LAB
    (stray / "conftest.py").write_text("def pytest_runtest_call(item):\n    item.runtest = lambda: None\n")
    (stray / "pytest.ini").write_text("[pytest]\naddopts = -p no_fail\n")
    (stray / "no_fail.py").write_text("def pytest_runtest_call(item):\n    item.runtest = lambda: None\n")
    t = time.time()
    res = instructor(root, "autograde", env=env)
    (root / "autograde.log").write_text(res.stdout + res.stderr)
    print(f"autograded {len(subs) + 1} submissions in {time.time() - t:.0f} s")
    return root, {k: want for k, (_, want) in subs.items()}, res, t


def full_marks() -> dict[str, float]:
    return {f"check_{ex}": float(p) for ex, p in POINTS.items()}


def test_every_submission_is_graded_and_the_run_reaches_the_control(graded):
    root, expected, res, _ = graded
    got = scores(root)
    assert set(expected) | {"zz-control"} <= set(got), f"not graded: {set(expected) - set(got)}; see {root}/autograde.log"
    assert autograded(got["zz-control"]) == full_marks()


@pytest.mark.parametrize("student", ["tamper-python", "tamper-files", "tamper-cells", "tamper-ipython", "exits",
                                     "resources", "escape", "output", "killer", "forge", "daemon", "shm-1-writer",
                                     "shm-2-reader", "leaky"])
def test_attack_scores_exactly_what_its_honest_content_earns(graded, student):
    root, expected, *_ = graded
    want = {**full_marks(), **{f"check_{ex}": v for ex, v in expected[student].items()}}
    got = autograded(scores(root)[student])
    assert got == pytest.approx(want), f"{student}: {got}, want {want} (see {root}/course/autograded/{student})"


def _autograded_nb(root: Path, student: str) -> str:
    return (root / "course" / "autograded" / student / LAB / f"{LAB}.ipynb").read_text()


def test_escape_cannot_write_the_gradebook_or_outside_nor_read_the_instructors_files(graded, env):
    root, *_ = graded
    assert not list(root.rglob("PWNED.txt")), "a submission wrote outside its folder"
    assert len(scores(root)) >= 15, "the gradebook lost students"
    nb = nbformat.reads(_autograded_nb(root, "escape"), as_version=4)
    out = "".join(o.get("text", "") for o in cell(nb, "predict_proba").outputs)  # what the student's code saw
    assert "'wrote " in out, f"the escape cell did not run as expected: {out[:500]}"
    hidden = (ROOT / "course" / "hidden_checks.py").read_text()
    for line in _code_lines(hidden):
        assert line not in out, f"the submission read the hidden checks: {line!r}"
    assert "BEGIN HIDDEN TESTS" not in out and "BEGIN SOLUTION" not in out
    assert SECRET not in out, "the kernel saw the grader's credentials"


def _outputs(root: Path, student: str) -> str:
    nb = nbformat.reads(_autograded_nb(root, student), as_version=4)
    return "".join(o.get("text", "") + str(o.get("data", "")) for c in nb.cells for o in c.get("outputs", []))


def test_students_share_no_memory_or_temp_files(graded):
    root = graded[0]
    seen = "".join(o.get("text", "") for o in cell(nbformat.reads(_autograded_nb(root, "shm-2-reader"), as_version=4),
                                                        "count_labels").outputs)
    assert "/dev/shm nothing" in seen and "/tmp nothing" in seen, seen
    assert A.NOTE not in seen


def test_no_hint_carries_hidden_text_or_hidden_inputs(graded):
    root = graded[0]
    out = _outputs(root, "leaky")
    hidden = (ROOT / "course" / "hidden_checks.py").read_text()
    assert "LEAK" in out and "SEEN" in out, "the leaky functions did not run"
    assert not any(line in out for line in _code_lines(hidden)), "a hint carries hidden-check code"
    # the hidden metrics check's logits (0.1, 0.9, 0.8, ...) were seen by the code, but come back only as literals
    nb = nbformat.reads(_autograded_nb(root, "leaky"), as_version=4)
    verdict = "".join(o.get("text", "") for o in cell(nb, "check_metrics").outputs)
    assert "hidden checks: " in verdict and "[0.1, 0.9]" not in verdict and "any predictions" not in verdict, verdict


def test_notebook_outputs_are_capped_as_a_whole(graded):
    nb = graded[0] / "course" / "autograded" / "leaky" / LAB / f"{LAB}.ipynb"
    assert nb.stat().st_size < 12_000_000, f"{nb} is {nb.stat().st_size:,} bytes (25 images of 4.8 MB went in)"


def test_grading_leaves_no_scratch_folders(graded):
    import tempfile

    left = [p for p in Path(tempfile.gettempdir()).glob("toxlab-*") if p.stat().st_mtime > graded[3]]
    assert not left, f"autograde left {left}"


def test_process_cap_binds_before_64_forks(graded):
    out = nbformat.reads(_autograded_nb(graded[0], "resources"), as_version=4)
    text = "".join(o.get("text", "") for o in cell(out, "make_training_args").outputs)
    forked = int(text.split("forked ")[1].split(" of")[0])
    assert forked < 64 and "fork refused" in text, text


def test_infinite_loop_hits_the_cell_timeout_and_later_cells_run(graded):
    out = nbformat.reads(_autograded_nb(graded[0], "resources"), as_version=4)
    assert any(o.get("ename") in ("CellTimeoutError", "KeyboardInterrupt") for o in cell(out, "count_labels").outputs)
    # grade cells always get the verdict; a plain cell shows whether the kernel itself went on
    later = "".join(o.get("text", "") for o in cell(out, "load_model").outputs)
    assert "parameters" in later, "the kernel did not run the cells after the loop"


def test_huge_output_is_cut_and_stray_files_are_not_copied(graded):
    root, *_ = graded
    nb = root / "course" / "autograded" / "output" / LAB / f"{LAB}.ipynb"
    assert nb.stat().st_size < 3_000_000, f"{nb} is {nb.stat().st_size} bytes"
    assert not (root / "course" / "autograded" / "tamper-files" / LAB / "no_fail.py").exists()


def _code_lines(text: str) -> list[str]:
    """Distinctive lines of code (not comments, docstrings or imports) from a checks file."""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if len(s) > 30 and not s.startswith(("#", '"', "from ", "import ", "def ", "assert ")):
            out.append(s)
    return out


def test_hidden_checks_never_reach_release_or_feedback(graded):
    root, expected, *_ = graded
    res = instructor(root, "feedback")
    assert res.returncode == 0, res.stderr[-3000:]
    hidden = (ROOT / "course" / "hidden_checks.py").read_text()
    lines = _code_lines(hidden)
    assert len(lines) > 10
    names = [ln.split("(")[0].removeprefix("def ") for ln in hidden.splitlines() if ln.startswith("def test_")]
    places = [*(root / "course" / "feedback").rglob("*"), *(ROOT / "release").rglob("*"), *(root / "release").rglob("*")]
    files = [p for p in places if p.is_file()]
    assert any(p.suffix == ".html" for p in files)
    assert all(p.suffix in (".html", ".ipynb") for p in files), f"feedback copied other files: {files}"
    for p in files:
        text = p.read_text(errors="replace")
        for leak in [*lines, *names, "HIDDEN TESTS", "hidden=True"]:
            assert leak not in text, f"{p} leaks {leak!r}"


# --- 6. data safety ------------------------------------------------------------------------------

def test_rerun_without_force_keeps_grades_and_comments(graded, env):
    from nbgrader.api import Gradebook

    root, *_ = graded
    db = f"sqlite:///{root / 'course' / 'gradebook.db'}"
    with Gradebook(db) as gb:
        sub = gb.find_submission_notebook(LAB, LAB, "zz-control")
        gb.find_grade("written_answer", LAB, LAB, "zz-control").manual_score = 2.5
        gb.find_comment("written_answer", LAB, LAB, "zz-control").manual_comment = "good answer"
        gb.db.commit()
        before = {g.name: g.score for g in sub.grades}
    nb = root / "course" / "autograded" / "zz-control" / LAB / f"{LAB}.ipynb"
    mtime = nb.stat().st_mtime
    res = instructor(root, "autograde", "zz-control", env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Skipping existing assignment" in res.stdout + res.stderr
    with Gradebook(db) as gb:
        sub = gb.find_submission_notebook(LAB, LAB, "zz-control")
        assert {g.name: g.score for g in sub.grades} == before
        assert gb.find_comment("written_answer", LAB, LAB, "zz-control").manual_comment == "good answer"
    assert nb.stat().st_mtime == mtime


def test_interrupted_autograde_reruns_to_completion(graded, env):
    root, *_ = graded
    release = nbformat.read(root / "release" / LAB / f"{LAB}.ipynb", as_version=4)
    source = nbformat.read(root / "source" / LAB / f"{LAB}.ipynb", as_version=4)
    solution = solved_notebook(release, source)
    submit(root, {"late-1": solution, "late-2": solution}, env)
    proc = subprocess.Popen([sys.executable, str(root / "course" / "instructor.py"), "autograde"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    folder = root / "course" / "autograded" / "late-1" / LAB
    deadline = time.time() + 300
    while not folder.exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # mid-way through late-1: the kernel is running
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    half_done = scores(root).get("late-1", {})
    assert folder.exists() and (not half_done or None in autograded(half_done).values()), "the kill did not land mid-way"

    # nbgrader alone skips the half-done student for good: the trap the instructor wrapper repairs
    bindir = str(Path(sys.executable).parent)
    plain = subprocess.run([str(Path(bindir) / "nbgrader"), "autograde", LAB, "--student=late-1"], cwd=root / "course",
                           env={**env, "PATH": bindir + os.pathsep + env["PATH"]}, capture_output=True, text=True)
    assert "Skipping existing assignment" in plain.stdout + plain.stderr

    res = instructor(root, "autograde", env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    got = scores(root)
    for student in ("late-1", "late-2"):
        assert autograded(got[student]) == full_marks(), student
    assert all(v is not None for s in got.values() for v in autograded(s).values()), "a submission has missing grades"
