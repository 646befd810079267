"""The exercise checks against every fixture, in process (no nbgrader): the fixture matrix.

Each wrong fixture (tests/labs/<lab>/fixtures.py) replaces one solution cell of the reference
notebook and must fail a check of its own exercise; each alternative correct one must pass every
check. The matrix (exercise x fixture -> the first check that failed) is printed and written to
test-output/fixture-matrix.txt. The checks run through LocalStudent, the same plain-data path
that autograde's executor uses, so what passes here passes there; tests/test_course.py sends a
handful of these through real nbgrader autograde to prove the wiring.

The whole matrix (about 330 fixtures, several minutes on 2 cores) is marked slow. The fast tier
(`pytest -m "not slow"`) runs a slice of it instead: for every exercise of every registered lab, its first
wrong and its first correct fixture against its visible and hidden checks (test_a_slice_of_the_matrix).
"""

from __future__ import annotations

import re

import pytest

# with `.[test]` alone this module skips, naming the extra it needs, instead of failing collection
nbformat = pytest.importorskip("nbformat", reason="needs nbformat, from the course extra (pip install -e '.[course,test]')")


import expected_scores
from conftest import ROOT
from expected_scores import fixtures, hidden, solution_sources
from toxlab import labs
from toxlab.grading import ExerciseFailed, LocalStudent, check, run_check_files, run_checks
from toxlab.grading.checker import shares

LABS = list(labs.LABS)


@pytest.fixture(scope="module", params=LABS)
def lab(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def fx(lab):
    return fixtures(lab)  # tests/labs/<lab>/fixtures.py; a registered lab without one fails here, saying so


@pytest.fixture(autouse=True)
def hidden_checks(monkeypatch):
    monkeypatch.setenv("TOXLAB_HIDDEN_CHECKS", str(expected_scores.HIDDEN_DIR))


def namespace(lab: str, replace: tuple[str, str] | None = None) -> dict:
    """The notebook's globals with every solution cell run, one optionally replaced (grade_id, source)."""
    return expected_scores.namespace(lab, dict([replace]) if replace else None)


def first_failure(lab: str, ns: dict, exercise: str) -> str | None:
    """The first of the exercise's checks (visible, then hidden) that fails, or None."""
    outcomes = run_check_files(exercise, LocalStudent(ns), [labs.get(lab).checks, hidden(lab)], first_failure=True)
    failed = [o for o in outcomes if not o.passed]
    return f"{'hidden: ' if failed[0].hidden else ''}{failed[0].name}" if failed else None


def visible_checks(lab: str) -> dict[str, list[str]]:
    """exercise -> names of its visible checks, in file order."""
    found: dict[str, list[str]] = {}
    for ex, what in re.findall(r"^def test_(\w+?)__(\w+)\(", labs.get(lab).checks.read_text(), re.M):
        found.setdefault(ex, []).append(what.replace("_", " "))
    return found


@pytest.fixture(scope="module")
def matrix(lab, fx, request) -> list[tuple[str, str, str, str | None]]:
    """(exercise, 'wrong'|'correct', fixture, first failing check) for every fixture of the lab, printed as a table."""
    rows = []
    for ex in fx.SOLUTION_CELL:
        for kind, cases in (("wrong", fx.WRONG[ex]), ("correct", fx.CORRECT[ex])):
            for name, src, *_ in cases:
                rows.append((ex, kind, name, first_failure(lab, namespace(lab, (fx.SOLUTION_CELL[ex], src)), ex)))
    lines = [f"{'exercise':<18} {'fixture':<8} {'name':<36} first failing check", "-" * 100]
    lines += [f"{ex:<18} {kind:<8} {name:<36} {failed or '(passes)'}" for ex, kind, name, failed in rows]
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    (out / f"fixture-matrix-{lab}.txt").write_text("\n".join(lines) + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # past pytest's capture, into the run's own output
            reporter.write_line(f"\nfixture matrix of {lab} (also in test-output/fixture-matrix-{lab}.txt):")
            for line in lines:
                reporter.write_line(line)
    return rows


def test_reference_solutions_pass(lab, fx):
    ns = namespace(lab)
    outcomes = [o for hidden in (False, True) for o in run_checks(list(fx.SOLUTION_CELL), ns, hidden=hidden)]
    failing = [f"{o.exercise}: {o.name}: {o.hint}" for o in outcomes if not o.passed]
    assert not failing, f"failing with the reference solution: {failing}"


def test_a_slice_of_the_matrix(lab, fx):
    """The fast tier's share of the matrix: every exercise's checks meet its first wrong and first correct fixture.

    Each wrong one runs alone, stopping at its first failing check. The correct ones run together, all
    solution cells replaced at once, in one pass of every check, as test_reference_solutions_pass runs the
    reference: a correct fixture rebinds only its own exercise's names (test_a_fixture_cell_touches_no_other_exercise),
    so one cannot mask another, and one pass costs what the reference's does instead of one per exercise."""
    assert set(fx.SOLUTION_CELL) == set(labs.get(lab).exercises()), "every exercise with checks has fixtures"
    escaped = [f"{ex}/{fx.WRONG[ex][0][0]}" for ex, gid in fx.SOLUTION_CELL.items()
               if first_failure(lab, namespace(lab, (gid, fx.WRONG[ex][0][1])), ex) is None]
    assert not escaped, f"{lab}: wrong fixtures that pass every check: {escaped}"
    correct = {gid: fx.CORRECT[ex][0][1] for ex, gid in fx.SOLUTION_CELL.items()}
    ns = expected_scores.namespace(lab, correct)
    outcomes = [o for hidden in (False, True) for o in run_checks(list(fx.SOLUTION_CELL), ns, hidden=hidden)]
    rejected = [f"{o.exercise}/{fx.CORRECT[o.exercise][0][0]}: {o.name}: {o.hint}" for o in outcomes if not o.passed]
    assert not rejected, f"{lab}: correct fixtures that a check rejects: {rejected}"


def test_fixtures_are_found_for_every_registered_lab_and_only_those(monkeypatch):
    """The matrix takes its labs from the registry; a lab registered without fixtures fails, naming the file."""
    folders = {p.name for p in expected_scores.FIXTURES_DIR.iterdir() if (p / "fixtures.py").is_file()}
    assert folders == set(labs.LABS), f"fixture folders {sorted(folders)} against registered labs {sorted(labs.LABS)}"
    assert {lab: bool(fixtures(lab).WRONG) for lab in labs.LABS} == dict.fromkeys(labs.LABS, True)
    monkeypatch.setitem(labs.LABS, "ghost_lab", labs.Lab("ghost_lab", "6z: registered, but nobody wrote its fixtures"))
    with pytest.raises(LookupError, match=r"'ghost_lab' is registered .* no fixtures: add .*tests/labs/ghost_lab/fixtures\.py"):
        fixtures("ghost_lab")
    with pytest.raises(KeyError, match="no lab named 'nope'"):
        fixtures("nope")


@pytest.mark.slow
def test_every_wrong_fixture_fails_its_own_exercise(matrix):
    escaped = [f"{ex}/{name}" for ex, kind, name, failed in matrix if kind == "wrong" and failed is None]
    assert not escaped, f"wrong fixtures that pass every check: {escaped}"


@pytest.mark.slow
def test_every_correct_variant_passes_every_check(matrix):
    rejected = [f"{ex}/{name}: {failed}" for ex, kind, name, failed in matrix if kind == "correct" and failed]
    assert not rejected, f"correct variants that a check rejects: {rejected}"


def test_a_fixture_cell_touches_no_other_exercise(lab, fx):
    """A fixture only (re)defines its own exercise's names, so it cannot change another exercise's score."""
    base_ns = expected_scores.base_namespace(lab)
    sources = solution_sources(lab)
    clashes = []
    for ex in fx.SOLUTION_CELL:
        others = set(base_ns)
        for gid, src in sources.items():
            if gid != fx.SOLUTION_CELL[ex]:
                scratch: dict = dict(base_ns)
                exec(compile(src, gid, "exec"), scratch)  # noqa: S102
                others |= {k for k in scratch if k not in base_ns}
        for name, src, *_ in fx.WRONG[ex] + fx.CORRECT[ex]:
            scratch = dict(base_ns)
            exec(compile(src, name, "exec"), scratch)  # noqa: S102
            rebound = {k for k, v in scratch.items() if k in others and not k.startswith("__")
                       and (k not in base_ns or base_ns[k] is not v)}
            rebound -= getattr(fx, "SHARED_IMPORTS", set())  # library names more than one cell imports
            if rebound:
                clashes.append(f"{ex}/{name} rebinds {sorted(rebound)}")
    assert not clashes, clashes


@pytest.mark.slow
def test_every_visible_check_is_the_first_to_fail_for_some_fixture(lab, matrix):
    firsts = {(ex, failed) for ex, kind, _, failed in matrix if kind == "wrong" and failed}
    idle = [f"{ex}: {what}" for ex, names in visible_checks(lab).items() for what in names if (ex, what) not in firsts]
    assert not idle, f"visible checks that no wrong fixture trips first (they catch nothing new): {idle}"


@pytest.mark.slow
def test_every_hidden_check_catches_a_wrong_fixture(lab, fx):
    """Each hidden check, run alone, fails for at least one wrong fixture of its exercise."""
    names = re.findall(r"^def test_(\w+?)__(\w+)\(", hidden(lab).read_text(), re.M)
    idle = []
    for ex in fx.SOLUTION_CELL:
        want = {what.replace("_", " ") for e, what in names if e == ex}
        caught: set[str] = set()
        for _, src, *_ in fx.WRONG[ex]:
            outcomes = run_check_files(ex, LocalStudent(namespace(lab, (fx.SOLUTION_CELL[ex], src))), [hidden(lab)])
            caught |= {o.name for o in outcomes if not o.passed}
            if caught >= want:
                break
        idle += [f"{ex}: {w}" for w in sorted(want - caught)]
    assert not idle, f"hidden checks that no wrong fixture fails: {idle}"


def readme_visible_counts() -> dict[str, tuple[int, int]]:
    """{lab: (wrong fixtures a visible check catches, wrong fixtures)} as README's Fixtures paragraph states
    them ("lab 6a: 78 of 80"), keyed through each lab's title ("6a: ...")."""
    text = (ROOT / "README.md").read_text()
    stated = {m[0]: (int(m[1]), int(m[2])) for m in re.findall(r"lab\s+(\d\w):\s+(\d+)\s+of\s+(\d+)", text)}
    return {name: stated[lab.title.split(":")[0]] for name, lab in labs.LABS.items() if lab.title.split(":")[0] in stated}


@pytest.mark.slow
def test_most_wrong_fixtures_are_caught_before_submitting(lab, matrix):
    wrong = [r for r in matrix if r[1] == "wrong"]
    visible = [r for r in wrong if r[3] and not r[3].startswith("hidden")]
    assert len(visible) >= 0.8 * len(wrong), (
        f"only {len(visible)}/{len(wrong)} wrong fixtures are caught by a visible check; hidden only: "
        f"{[f'{ex}/{n}' for ex, _, n, f in wrong if f and f.startswith('hidden')]}")
    # the README quotes these figures per lab; a fixture lost or gained (a move, a new check) shows here
    assert readme_visible_counts().get(lab) == (len(visible), len(wrong)), (
        f"README says {lab}: {readme_visible_counts().get(lab)} (caught by a visible check, wrong fixtures); "
        f"the matrix finds {len(visible)} of {len(wrong)}: update README's Fixtures paragraph")


def test_readme_states_the_visible_catch_rate_of_every_lab():
    assert readme_visible_counts() == {"toxicity_lab": (84, 86), "explain_lab": (66, 71), "bias_lab": (85, 85)}


def test_enough_fixtures_per_exercise(fx):
    for ex in fx.SOLUTION_CELL:
        assert len(fx.WRONG[ex]) >= 5 and len(fx.CORRECT[ex]) >= 3, (
            f"{ex}: {len(fx.WRONG[ex])} wrong, {len(fx.CORRECT[ex])} correct")
    assert all(why for cases in getattr(fx, "CPU_INVISIBLE", {}).values() for _, _, why in cases)


def test_exercise_names_are_unique_across_labs():
    """Grade cells name only the exercise; its lab is found by name (toxlab.labs.for_exercise)."""
    seen: dict[str, str] = {}
    for name, lab in labs.LABS.items():
        for ex in lab.exercises():
            assert ex not in seen, f"exercise {ex!r} is in both {seen[ex]} and {name}"
            seen[ex] = name


def test_points_are_shared_out_among_checks():
    from toxlab.grading import Outcome

    def o(passed, hidden=False):
        return Outcome("ex", "c", passed, "", hidden)

    assert shares([o(True), o(True), o(True, True), o(True, True)], 3) == (3.0, [0, 0, 0, 0])
    score, lost = shares([o(False), o(True), o(False, True), o(True, True)], 3)  # visible 1/3 + hidden group 1/3
    assert score == pytest.approx(1.0) and lost[0] == pytest.approx(1.0) and lost[2] == pytest.approx(1.0)
    assert shares([o(False), o(False)], 2)[0] == 0.0


def test_check_prints_summary_and_raises(capsys):
    WRONG = fixtures("toxicity_lab").WRONG

    check("identity_gap", namespace("toxicity_lab"))
    assert "PASS" in capsys.readouterr().out
    wrong = dict((n, s) for n, s, _ in WRONG["identity_gap"])["first_minus_last"]
    with pytest.raises(ExerciseFailed, match="failed"):
        check("identity_gap", namespace("toxicity_lab", ("identity_gap", wrong)))
    out = capsys.readouterr()
    assert "FAIL" in out.out and "hint: gap = highest score - lowest score" in out.out and out.err == ""


def test_unknown_exercise_and_missing_hidden_checks(monkeypatch):
    with pytest.raises(ExerciseFailed, match="no lab has checks named test_nope__"):
        check("nope", {})
    monkeypatch.delenv("TOXLAB_HIDDEN_CHECKS")
    with pytest.raises(ExerciseFailed, match="hidden checks not found"):
        check("tokenize", namespace("toxicity_lab"), hidden=True)


def test_grade_cells_call_visible_and_hidden_checks(lab, fx):
    nb = nbformat.read(expected_scores.source(lab), as_version=4)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert {re.search(r'check\("(\w+)"', c.source).group(1) for c in cells} == set(fx.SOLUTION_CELL)
    assert set(fx.SOLUTION_CELL) == set(labs.get(lab).exercises()), "every exercise with checks has a grade cell"
    for c in cells:
        assert "### BEGIN HIDDEN TESTS" in c.source and "hidden=True" in c.source


def calls_of_other_exercises(lab: str, fx, gid: str, source: str) -> set[str]:
    """The other exercises' functions that a solution cell calls (each would carry a mistake into this one)."""
    import ast

    others = {g for g in fx.SOLUTION_CELL.values() if g != gid}
    return {n.func.id for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in others}


# lab 6b's first comprehensiveness, which ranked with the student's own top_k: a wrong top_k then cost
# exercises 4 and 5 too, which only a run through autograde showed (the in-process matrix runs the reference top_k)
COUPLED = '''def comprehensiveness(score, words, scores, k):
    n = len(words)
    top = set(top_k(scores, min(n, max(1, math.ceil(n * k / 100)))))
    return score([" ".join(words)])[0] - score([" ".join(w for i, w in enumerate(words) if i not in top)])[0]
'''


def test_no_reference_solution_leans_on_another_exercise(lab, fx):
    """An exercise that calls another's function loses points for that one's mistake: each stands alone."""
    assert calls_of_other_exercises("explain_lab", fixtures("explain_lab"), "comprehensiveness", COUPLED) == {"top_k"}
    coupled = {gid: calls for gid, src in solution_sources(lab).items() if gid in fx.SOLUTION_CELL.values()
               if (calls := calls_of_other_exercises(lab, fx, gid, src))}
    assert not coupled, f"{lab}: solutions that call another exercise's function: {coupled}"
