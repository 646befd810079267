"""One graded scratch course shared by every test that reads a graded course (run once per session).

It holds, for every lab, the round trip's submissions (the solution, the untouched release, wrong
and alternative correct fixtures dealt into a few submissions (rounds), malformed notebooks: tests/test_course.py) and that lab's
attacks with a control graded last (tests/test_grading_integrity.py); and a few repeated wrong
fixtures of lab 6a (for the report's ranking: tests/test_batch.py). All are graded in one
`autograde --workers 2` run over every lab: the parallel path, as an instructor runs it for a class.

The sandbox settings are the shipped ones except a 30 s cell timeout (the infinite loop costs it)
and a cap of 40 tasks, below an attack's 64 forks, so that the cap visibly binds.
"""

from __future__ import annotations

import copy
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from toxlab.grading import solved_notebook

from toxlab import labs

from expected_scores import fixtures, score_of
from fixtures import attacks as A
from scratch_course import cell, instructor, make_course, with_cells

SECRET = "sk-toxlab-test-secret-do-not-leak"
WORKERS = 2
# submitted several times over, so that the report counts a check failed by many
REPEATED = [("tokenize", "no_truncation", 2)]


def fixture(table: str, exercise: str, name: str) -> str:
    """The source of fixture `name` of `exercise` in its lab's WRONG or CORRECT table."""
    fx = fixtures(labs.for_exercise(exercise).name)
    return next(src for n, src, *_ in getattr(fx, table)[exercise] if n == name)


def grade_cells(nb) -> list[str]:
    """The grade_ids of the notebook's autograded (check_*) cells, in order."""
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
            and c.cell_type == "code"]


def rounds(pairs: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """[(exercise, fixture)] dealt into as few rounds as hold at most one fixture per exercise, in order.

    A round is one submission with every one of its fixtures in at once: each exercise's score depends on
    its own cells alone (tests/test_exercises.py::test_a_fixture_cell_touches_no_other_exercise), so its
    expected score is still exact, and one exercise's mistake leaking into another's score shows, because
    that other exercise has its own exactly known score. One submission per fixture cost a graded
    submission each (about 40 of them, minutes of the suite) to prove the same thing."""
    out: list[list[tuple[str, str]]] = []
    for ex, name in pairs:
        free = next((r for r in out if all(e != ex for e, _ in r)), None)
        if free is None:
            out.append(free := [])
        free.append((ex, name))
    return out


def round_student(kind: str, lab: str, exercise: str, name: str) -> str:
    """The student whose submission carries fixture `name` of `exercise` ('wrong' or 'correct')."""
    fx = fixtures(lab)
    pairs = fx.THROUGH_AUTOGRADE if kind == "wrong" else fx.CORRECT_THROUGH_AUTOGRADE
    return next(f"{kind}-{i}" for i, r in enumerate(rounds(pairs), 1) if (exercise, name) in r)


def round_expected(lab: str, student: str) -> dict[str, float]:
    """{grade cell: points} that a round's submission must score: each fixture's own, the rest full marks."""
    fx = fixtures(lab)
    kind, i = student.rsplit("-", 1)
    pairs = fx.THROUGH_AUTOGRADE if kind == "wrong" else fx.CORRECT_THROUGH_AUTOGRADE
    table = "WRONG" if kind == "wrong" else "CORRECT"
    return {**full_marks(lab), **{f"check_{ex}": score_of(lab, ex, fixture(table, ex, name))
                                  for ex, name in rounds(pairs)[int(i) - 1]}}


def course_submissions(lab: str, release, solution) -> dict:
    """The round trip's submissions of one lab: {student: notebook}."""
    fx = fixtures(lab)
    subs = {"solution": solution, "blank": release}
    for kind, table, pairs in (("wrong", "WRONG", fx.THROUGH_AUTOGRADE),
                               ("correct", "CORRECT", fx.CORRECT_THROUGH_AUTOGRADE)):
        for i, r in enumerate(rounds(pairs), 1):
            subs[f"{kind}-{i}"] = with_cells(solution, **{fx.SOLUTION_CELL[ex]: fixture(table, ex, name)
                                                          for ex, name in r})
    first, second = grade_cells(solution)[:2]
    dup = copy.deepcopy(solution)
    i = next(i for i, c in enumerate(dup.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == first)
    dup.cells.insert(i + 1, copy.deepcopy(dup.cells[i]))
    dup.cells[i + 1]["id"] = dup.cells[i]["id"] + "-copy"  # a copied cell gets a new cell id, as in JupyterLab
    subs["dup-grade-cell"] = dup
    meta = copy.deepcopy(solution)
    for c in meta.cells:
        nbg = c.metadata.get("nbgrader", {})
        if nbg.get("grade_id") == first:
            nbg["points"] = 50
        if nbg.get("grade_id") == second:
            c.source = "print('all tests passed')"  # a rewritten grade cell: nbgrader restores it
    subs["edited-metadata"] = meta
    for ex, name, n in REPEATED:
        if labs.for_exercise(ex).name == lab:
            for i in range(n):
                subs[f"repeat{i}-{ex}-{name}"] = with_cells(solution, **{fx.SOLUTION_CELL[ex]: fixture("WRONG", ex, name)})
    return subs


def wrong(exercise: str, name: str) -> str:
    return fixture("WRONG", exercise, name)


def honest(*pairs: tuple[str, str]) -> dict[str, float]:
    """{exercise: what the named wrong fixture alone earns} (partial credit included)."""
    return {ex: score_of(labs.for_exercise(ex).name, ex, wrong(ex, name)) for ex, name in pairs}


def nothing(*exercises: str) -> dict[str, float]:
    return {ex: 0.0 for ex in exercises}


def attacks(solution) -> dict[str, tuple[object, dict[str, float]]]:
    """Lab 6a's attacks: {student: (notebook, {exercise: the points it must score; every other exercise full marks})}."""
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
    # the zygote it was forked from is its namespace's init, which nothing inside can signal, and
    # kill(-1) finds no one else to kill (ESRCH): the cell fails on its own, before its answer
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
for _p in [*(q / "hidden_checks" for q in _here.parents[:5]), *(q / "course" / "hidden_checks" for q in _here.parents[:5]),
           *(q / "source" for q in _here.parents[:5]),
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



def full_marks(lab: str) -> dict[str, float]:
    return {f"check_{ex}": float(p) for ex, p in fixtures(lab).POINTS.items()}


GRADING_ENV = {"TOXLAB_CELL_TIMEOUT": "30", "TOXLAB_SANDBOX_PROCESSES": "40", "TOXLAB_TEST_SECRET": SECRET,
               "AWS_SECRET_ACCESS_KEY": SECRET}


@dataclass
class GradedCourse:
    root: Path  # the scratch course: source/, release/, course/ (gradebook, submitted/, autograded/)
    subs: dict  # {lab: {student: notebook}} of the round trip
    attacks: dict  # {lab: {student: {exercise: points it must score; the rest full marks}}}
    result: object  # the autograde run's CompletedProcess
    started: float  # time.time() when autograde started
    env: dict  # the environment it ran with
    leftovers: list  # toxlab-* temporary folders made during the run and still there when it ended


def place_all(root: Path, lab: str, subs: dict) -> None:
    """Write each {student: notebook} into submitted/ (what `instructor.py place` does, without a process each)."""
    for student, nb in subs.items():
        path = root / "course" / "submitted" / student / lab / f"{lab}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)


# lab 6b's: the machinery is the same, so a few that ride on its own cells and its own trusted objects
EXPLAIN_ASCENDING_TOP_K = """def top_k(scores, k):
    return sorted(range(len(scores)), key=lambda i: (scores[i], i))[:k]
"""
EXPLAIN_TAMPER = """
import math, toxlab.explain, toxlab.grading as _g, toxlab.labs.objects as _o
_g.check = lambda *a, **k: print('top_k: 2/2 checks passed')
_o.word_scorer = lambda *a, **k: (lambda texts: [0.5 for _ in texts])  # the checker's scorer, as the student sees it
toxlab.explain.top_k = top_k
math.ceil = math.floor
"""
EXPLAIN_LEAK = """def p_toxic_given_term(texts, labels, term):
    raise ValueError("SEEN " + repr(texts)[:2000])
"""


def explain_attacks(solution) -> dict[str, tuple[object, dict[str, float]]]:
    """Lab 6b's attacks: {student: (notebook, {exercise: points; the rest full marks})}."""
    lab = "explain_lab"
    right = {gid: cell(solution, gid).source for gid in ("top_k", "p_toxic_given_term")}
    return {
        # a wrong answer, the grade cell's check replaced, the trusted objects and math patched in the kernel
        "explain-tamper": (with_cells(solution, top_k=EXPLAIN_ASCENDING_TOP_K + EXPLAIN_TAMPER),
                           {"top_k": score_of(lab, "top_k", EXPLAIN_ASCENDING_TOP_K)}),
        "explain-escape": (with_cells(solution, p_toxic_given_term=ESCAPE + right["p_toxic_given_term"]), {}),
        "explain-leaky": (with_cells(solution, p_toxic_given_term=EXPLAIN_LEAK), {"term_toxicity": 0.0}),
    }


# lab 6c's: an unweighted ECE, with the checker's reference and the grade cell's check patched in the kernel
BIAS_UNWEIGHTED_ECE = """def expected_calibration_error(labels, probs, n_bins=10):
    y, p = np.asarray(labels, dtype=float), np.asarray(probs, dtype=float)
    which = np.minimum((p * n_bins).astype(int), n_bins - 1)
    return float(np.mean([abs(y[which == b].mean() - p[which == b].mean()) for b in set(which.tolist())]))
"""
BIAS_TAMPER = """
import toxlab.calibration as _cal, toxlab.grading as _g
_cal.expected_calibration_error = expected_calibration_error  # the checker's reference, as the student sees it
_g.check = lambda *a, **k: print('ece: 2/2 checks passed')
np.isclose = lambda *a, **k: True
"""
BIAS_LEAK = """def swap_term(text, term, replacement):
    raise ValueError("SEEN " + repr((text, term, replacement))[:2000])
"""


def bias_attacks(solution) -> dict[str, tuple[object, dict[str, float]]]:
    """Lab 6c's attacks: {student: (notebook, {exercise: points; the rest full marks})}."""
    lab = "bias_lab"
    right = cell(solution, "term_fnr").source
    return {
        "bias-tamper": (with_cells(solution, expected_calibration_error=BIAS_UNWEIGHTED_ECE + BIAS_TAMPER),
                        {"ece": score_of(lab, "ece", BIAS_UNWEIGHTED_ECE)}),
        "bias-escape": (with_cells(solution, term_fnr=ESCAPE + right), {}),
        "bias-leaky": (with_cells(solution, swap_term=BIAS_LEAK), {"swap": 0.0}),
    }


ATTACKS = {"toxicity_lab": attacks, "explain_lab": explain_attacks, "bias_lab": bias_attacks}  # each lab's attack builder
ATTACK_NAMES = {"toxicity_lab": ["tamper-python", "tamper-files", "tamper-cells", "tamper-ipython", "exits",
                                 "resources", "escape", "output", "killer", "forge", "daemon", "shm-1-writer",
                                 "shm-2-reader", "leaky"],
                "explain_lab": ["explain-tamper", "explain-escape", "explain-leaky"],
                "bias_lab": ["bias-tamper", "bias-escape", "bias-leaky"]}


def lab_attacks(lab: str, solution) -> dict:
    """{student: (notebook, {exercise: points})}: the lab's attacks (ATTACKS)."""
    assert lab in ATTACKS, f"{lab} has no attacks in ATTACKS: the integrity tests must cover every lab"
    return ATTACKS[lab](solution)


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory) -> GradedCourse:
    """Every submission above, of every lab, graded in one parallel autograde run."""
    env = {**os.environ, **GRADING_ENV}
    root = tmp_path_factory.mktemp("graded-course")
    notebooks = make_course(root, env)
    subs, hostile = {}, {}
    for lab, (release, source) in notebooks.items():
        solution = solved_notebook(release, source)
        subs[lab] = course_submissions(lab, release, solution)
        hostile[lab] = lab_attacks(lab, solution)
        place_all(root, lab, {**subs[lab], **{k: nb for k, (nb, _) in hostile[lab].items()}, "zz-control": solution})
    stray = root / "course" / "submitted" / "tamper-files" / "toxicity_lab"
    (stray / "conftest.py").write_text("def pytest_runtest_call(item):\n    item.runtest = lambda: None\n")
    (stray / "pytest.ini").write_text("[pytest]\naddopts = -p no_fail\n")
    (stray / "no_fail.py").write_text("def pytest_runtest_call(item):\n    item.runtest = lambda: None\n")
    t = time.time()
    res = instructor(root, "autograde", "--workers", str(WORKERS), env=env)
    (root / "autograde.log").write_text(res.stdout + res.stderr)
    leftovers = [p for p in Path(tempfile.gettempdir()).glob("toxlab-*") if p.stat().st_mtime > t]
    n = sum(len(subs[lab]) + len(hostile[lab]) + 1 for lab in subs)
    print(f"autograded {n} submissions of {len(subs)} labs with {WORKERS} workers in {time.time() - t:.0f} s")
    return GradedCourse(root, subs, {lab: {k: want for k, (_, want) in h.items()} for lab, h in hostile.items()},
                        res, t, env, leftovers)
