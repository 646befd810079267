"""Grading at course scale (toxlab.grading.batch): parallel equals serial, a PostgreSQL gradebook that
survives a kill and a second writer, and the report of what the class got wrong.

The parallel run is the shared graded course (tests/graded_course.py, --workers 2); a few of its
submissions are graded again here one by one and must match it check by check.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import postgres
import pytest

# with `.[test]` alone this module skips, naming the extra it needs, instead of failing collection
nbformat = pytest.importorskip("nbformat", reason="needs nbformat, from the course extra (pip install -e '.[course,test]')")
pytest.importorskip("nbgrader", reason="needs nbgrader, from the course extra (pip install -e '.[course,test]')")
pytest.importorskip("sqlalchemy", reason="needs sqlalchemy, from the grading extra (pip install -e '.[course,grading,test]')")
pytest.importorskip("distributed", reason="needs distributed, from the grading extra (pip install -e '.[course,grading,test]')")
pytest.importorskip("psycopg", reason="needs psycopg, from the grading extra (pip install -e '.[course,grading,test]')")

from expected_scores import score_of
from fixtures.wrong_gradebook_sharing import WRONG as WRONG_SHARING
from fixtures.wrong_worker_config import WRONG as WRONG_WORKERS
from graded_course import GRADING_ENV, full_marks, wrong
from scratch_course import autograded, instructor, make_course
from sqlalchemy.exc import OperationalError

from toxlab import labs
from toxlab.grading import results, solved_notebook
from toxlab.grading.course import Course, database_url

pytestmark = pytest.mark.course
LAB = "toxicity_lab"  # the database and report tests grade one lab; the parallel-equals-serial test, every lab

# bias-tamper fails a hidden check whose first failing input once differed between the coordinator and a worker
# (wrong-1 and correct-1 of each lab carry several exercises' fixtures at once: graded_course.rounds)
AGAIN_SERIALLY = ["solution", "blank", "wrong-1", "correct-1", "tamper-python", "output", "bias-tamper", "explain-tamper"]


def gradebook(url: str, lab: str = LAB) -> dict[str, dict[str, float | None]]:
    """{student: {grade cell: auto score}} of the assignment, from any gradebook URL."""
    from nbgrader.api import Gradebook

    with Gradebook(database_url(url)) as gb:
        return {s.student.id: {g.name: g.auto_score for nb in s.notebooks for g in nb.grades}
                for s in gb.assignment_submissions(lab)}


def check_rows(url: str, lab: str = LAB) -> dict[str, list[tuple]]:
    """{student: sorted (exercise, check, hidden, passed, points_lost, hint)} from toxlab's check records."""
    out: dict[str, list[tuple]] = {}
    for r in results.load(database_url(url), lab):
        out.setdefault(r["student"], []).append((r["exercise"], r["check"], r["hidden"], r["passed"],
                                                 round(r["points_lost"], 6), r["hint"]))
    return {k: sorted(v) for k, v in out.items()}


def test_parallel_results_equal_a_serial_run_check_by_check(graded_course, tmp_path):
    env = graded_course.env
    make_course(tmp_path, env)
    for student in AGAIN_SERIALLY:
        src = graded_course.root / "course" / "submitted" / student
        shutil.copytree(src, tmp_path / "course" / "submitted" / student)
    res = instructor(tmp_path, "autograde", env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    serial, parallel = Course(tmp_path).sqlite_url(), Course(graded_course.root).sqlite_url()
    for lab in labs.LABS:
        want_scores, want_checks = gradebook(parallel, lab), check_rows(parallel, lab)
        got_scores, got_checks = gradebook(serial, lab), check_rows(serial, lab)
        where = {r["student"]: r["where"] for r in results.load(parallel, lab, results.runs)}
        assert where and all(w.startswith("dask") for w in where.values()), f"graded in the coordinator: {where}"
        assert {r["where"] for r in results.load(serial, lab, results.runs)} == {"local"}
        again = [s for s in AGAIN_SERIALLY if s in want_scores]
        assert {"solution", "blank"} <= set(again), f"{lab}: {again}"
        for student in again:
            assert got_scores[student] == want_scores[student], (lab, student)
            assert got_checks[student] == want_checks[student], (lab, student)
            assert len(got_checks[student]) > 2 * len(labs.get(lab).exercises()), (
                f"{lab}/{student}: only {len(got_checks[student])} check records")
        # and the graded notebooks show the same verdicts
        for student in again:
            def verdicts(root):
                nb = nbformat.read(Course(root).autograded(student, lab), as_version=4)
                return [o.get("text", "") for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
                        for o in c.get("outputs", [])]
            assert verdicts(tmp_path) == verdicts(graded_course.root), (lab, student)


def _graded_students(url: str) -> set[str]:
    try:
        return {s for s, g in gradebook(url).items() if g and all(v is not None for v in autograded(g).values())}
    except Exception:  # noqa: BLE001 - the schema may not exist yet
        return set()


def _dask_workers(pid: int) -> list[int]:
    """The Dask worker processes of the coordinator `pid` (LocalCluster's nannies spawn them from it)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid and b"spawn_main" in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def test_postgres_gradebook_survives_a_second_writer_a_kill_and_a_dead_worker(tmp_path):
    """A real PostgreSQL server: SIGKILL mid-run, a formgrader-like write during it, a worker killed, a rerun."""
    if postgres.binaries() is None:
        pytest.fail("PostgreSQL is not installed: apt-get install postgresql (.ci/run installs it)")
    env = {**os.environ, **GRADING_ENV}
    with postgres.server() as url:
        env_db = {**env, "TOXLAB_GRADEBOOK": url}
        release, source = make_course(tmp_path, env_db)[LAB]
        assert not (tmp_path / "course" / "gradebook.db").exists(), "release wrote SQLite, not the server"
        solution = solved_notebook(release, source)
        subs = {f"s{i}": solution for i in range(4)} | {"blank": release}
        subs["wrong"] = nbformat.reads(nbformat.writes(solution), as_version=4)
        next(c for c in subs["wrong"].cells if c.metadata.get("nbgrader", {}).get("grade_id") == "tokenize").source = \
            wrong("tokenize", "no_truncation")
        for student, nb in subs.items():
            path = tmp_path / f"{student}.ipynb"
            nbformat.write(nb, path)
            assert instructor(tmp_path, "place", student, str(path), "--assignment", LAB, env=env_db).returncode == 0
        cmd = [sys.executable, str(tmp_path / "course" / "instructor.py"), "autograde", "--workers", "2",
               "--db-url", url]
        run = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
        deadline = time.time() + 600
        while len(_graded_students(url)) < 2 and time.time() < deadline and run.poll() is None:
            time.sleep(0.3)
        first = sorted(_graded_students(url))[0]
        from nbgrader.api import Gradebook

        with Gradebook(database_url(url)) as gb:  # a second instructor grades by hand during the run
            gb.find_grade("written_answer", LAB, LAB, first).manual_score = 2.5
            gb.find_comment("written_answer", LAB, LAB, first).manual_comment = "good answer"
            gb.db.commit()
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        done = _graded_students(url)
        assert 2 <= len(done) < len(subs), f"the kill did not land mid-run: {done}"

        rerun = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 start_new_session=True)
        killed = None
        while killed is None and time.time() < deadline and rerun.poll() is None:
            workers = _dask_workers(rerun.pid)
            if len(workers) == 2:
                time.sleep(3)  # both workers started, each with a submission in hand
                os.kill(workers[0], signal.SIGKILL)
                killed = workers[0]
            time.sleep(0.2)
        out, _ = rerun.communicate(timeout=600)
        assert rerun.returncode == 0, out[-3000:]
        assert killed is not None, f"no Dask worker was seen to kill; {sorted(done)} were graded before:\n{out[-2000:]}"

        got = gradebook(url)
        assert set(got) == set(subs)
        for s in (f"s{i}" for i in range(4)):
            assert autograded(got[s]) == full_marks(LAB), s
        assert autograded(got["blank"]) == {k: 0.0 for k in full_marks(LAB)}
        earned = score_of(LAB, "tokenize", wrong("tokenize", "no_truncation"))
        assert autograded(got["wrong"]) == pytest.approx({**full_marks(LAB), "check_tokenize": earned})
        with Gradebook(database_url(url)) as gb:
            assert gb.find_grade("written_answer", LAB, LAB, first).manual_score == 2.5
            assert gb.find_comment("written_answer", LAB, LAB, first).manual_comment == "good answer"
        from sqlalchemy import create_engine, text

        with create_engine(database_url(url)).connect() as conn:
            dup = conn.execute(text("select count(*) from (select assignment_id, student_id, count(*) c "
                                    "from submitted_assignment group by 1, 2 having count(*) > 1) d")).scalar()
            grades = conn.execute(text("select count(*) from grade")).scalar()
        assert dup == 0, "a submission was recorded twice"
        assert grades == len(subs) * len(got["blank"]), "grades counted twice or missing"
        assert len(check_rows(url)["s0"]) > 20


def _sharing_holds(share, tmp_path) -> None:
    """Gradebook openings inside `share(url)` use one engine for url only, and nbgrader is itself again after."""
    from nbgrader.api import Gradebook

    url, other = f"sqlite:///{tmp_path}/gradebook.db", f"sqlite:///{tmp_path}/other.db"
    with share(url):
        with Gradebook(url) as first:
            first.update_or_create_student("s1")
        with Gradebook(url) as again:
            assert again.engine is first.engine is results.engine(url), "each opening made an engine of its own"
            assert [s.id for s in again.students] == ["s1"]
        with Gradebook(other) as elsewhere:  # another database still gets its own engine and its schema
            assert elsewhere.engine is not first.engine and elsewhere.students == []
    with Gradebook(url) as after:
        assert after.engine is not first.engine, "nbgrader was left patched after the run"
        assert [s.id for s in after.students] == ["s1"]
    assert "dispose" not in vars(first.engine), "the shared engine's dispose was left disabled"


@pytest.mark.parametrize("wrong", [None, *WRONG_SHARING])
def test_shared_gradebook_pools_nbgrader_openings_for_its_url_only_and_restores_nbgrader(wrong, tmp_path,
                                                                                          monkeypatch):
    from nbgrader import api

    from toxlab.grading.batch import shared_gradebook

    bindir = Path(sys.executable).parent  # nbgrader runs `alembic` by name
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(api, "create_engine", api.create_engine)  # put back whatever a wrong version leaves
    try:
        if wrong is None:
            _sharing_holds(shared_gradebook, tmp_path)
            return
        with pytest.raises((AssertionError, OperationalError)):
            _sharing_holds(WRONG_SHARING[wrong], tmp_path)
    finally:
        vars(api.Base.metadata).pop("create_all", None)
        results.engine.cache_clear()  # a wrong version may leave the cached engine unable to dispose


def _worker_timers(dask_worker) -> dict[str, float]:
    """A worker's periodic callbacks: name -> interval in ms."""
    return {name: pc.callback_time for name, pc in dask_worker.periodic_callbacks.items()}


@pytest.mark.parametrize("wrong", [None, *WRONG_WORKERS])
def test_local_workers_start_without_the_stack_profiler_and_with_a_slow_tick(wrong):
    from toxlab.grading.batch import connect

    client, cluster = (connect if wrong is None else WRONG_WORKERS[wrong])(1, None)
    try:
        timers = client.run(_worker_timers)
    finally:
        client.close()
        cluster.close()
    ok = all("profile" not in t and t["tick"] >= 1000 for t in timers.values())
    assert ok == (wrong is None), f"{wrong or 'connect'}: the workers' timers are {timers}"


def test_report_counts_every_failed_check_and_writes_csvs_a_chart_and_canvas_grades(graded_course, tmp_path):
    root = graded_course.root
    res = instructor(root, "report", LAB, "--out", str(tmp_path), env=graded_course.env)
    assert res.returncode == 0, res.stderr[-3000:]
    checks = pd.read_csv(tmp_path / f"{LAB}-checks.csv")
    exercises = pd.read_csv(tmp_path / f"{LAB}-exercises.csv")
    canvas = pd.read_csv(tmp_path / f"{LAB}-canvas.csv")
    assert (tmp_path / f"{LAB}-report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(checks["failed"]) == sorted(checks["failed"], reverse=True), "not ranked by failures"
    # every visible FAIL line in the graded notebooks is counted, per check
    seen: dict[tuple[str, str], int] = {}
    for nb_path in (root / "course" / "autograded").glob(f"*/{LAB}/{LAB}.ipynb"):
        nb = nbformat.read(nb_path, as_version=4)
        for c in nb.cells:
            text = "".join(o.get("text", "") for o in c.get("outputs", []) if c.metadata.get("nbgrader", {}).get("grade"))
            exercise = text.split(":")[0]
            for name in re.findall(r"^  FAIL  (?!hidden checks)(.+?)(?:  \(-[\d.]+ points\))?$", text, re.M):
                seen[(exercise, name)] = seen.get((exercise, name), 0) + 1
    visible = checks[~checks["hidden"]]
    counted = {(r.exercise, r.check): r.failed for r in visible.itertuples() if r.failed}
    assert counted == seen
    # the repeated wrong fixture's checks are failed by its copies, the single one, and more
    top = visible[visible["exercise"] == "tokenize"]["failed"].max()
    assert top >= 4, visible[visible["exercise"] == "tokenize"]
    hidden = checks[checks["hidden"]]
    assert len(hidden) and hidden["failed"].sum() > 0 and (hidden["hint"].fillna("") != "(details hidden)").all()
    assert set(exercises["cell"]) >= {f"check_{e}" for e in ("tokenize", "metrics")}
    assert list(canvas.columns[:5]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert canvas.iloc[0]["Student"].strip() == "Points Possible" and LAB in canvas.columns
    assert set(canvas["SIS User ID"].dropna()) >= {"solution", "blank"}
    assert canvas.set_index("SIS User ID").loc["blank", LAB] == 0
