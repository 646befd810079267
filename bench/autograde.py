"""Autograding at course scale: seconds per submission, where they go, and serial vs parallel on Dask.

A load of N generated submissions per lab (solved, blank, wrong fixtures repeated, and hostile ones;
every lab, or the one --assignment names) is graded twice in one run, in two scratch courses: once
one by one (`autograde`) and once with `autograde --workers W` (Dask LocalCluster). It prints the wall time of each, the ratio, the split
of a submission's time by phase (from toxlab's per-submission records), checks that the two runs
agree submission by submission and check by check, and that `report` ranks first the checks the
repeated wrong fixtures were built to trip. A fixed single-core workload timed before and after each run
shows whether the machine's speed drifted between them (a shared host's does; it skews the ratio). --postgres puts the parallel run's gradebook in a
throwaway PostgreSQL server. --baseline REV also times commit REV's autograde and HEAD's the same way, alternated, on solved
notebooks (each in an overlay environment that borrows every other package from this one).

    python bench/autograde.py [--n 60] [--assignment NAME] [--workers 2] [--postgres] [--baseline 7a85832]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the fixtures and the throwaway PostgreSQL server live with the tests

# the shares of the load that repeat the lab's first two autograded wrong fixtures: the report must rank
# their checks first
SHARES = (0.20, 0.12)
# the attacks in the load (those that end quickly: the infinite loop would time the cell timeout instead)
HOSTILE = ["tamper-python", "forge", "output", "leaky", "escape", "shm-1-writer", "explain-tamper", "explain-escape",
           "bias-tamper", "bias-escape"]


def repeated(lab: str) -> list[tuple[str, str, float]]:
    """(exercise, wrong fixture, share of the load) that the load repeats."""
    from expected_scores import fixtures

    return [(ex, name, share) for (ex, name), share in zip(fixtures(lab).THROUGH_AUTOGRADE, SHARES)]


def load(lab: str, n: int, release, source) -> dict:
    """{student: notebook}: hostile ones, the repeated wrong fixtures, blanks (10%), the rest solved."""
    from expected_scores import fixtures
    from graded_course import fixture, lab_attacks
    from scratch_course import with_cells

    from toxlab.grading import solved_notebook

    solution = solved_notebook(release, source)
    subs = {}
    hostile = lab_attacks(lab, solution)
    for name in [h for h in HOSTILE if h in hostile][: max(1, n // 10)]:
        subs[f"hostile-{name}"] = hostile[name][0]
    cell_of = fixtures(lab).SOLUTION_CELL
    for ex, name, share in repeated(lab):
        for i in range(round(n * share)):
            subs[f"wrong{i:02d}-{ex}-{name}"] = with_cells(solution, **{cell_of[ex]: fixture("WRONG", ex, name)})
    for i in range(round(n * 0.1)):
        subs[f"blank{i:02d}"] = release
    i = 0
    while len(subs) < n:
        subs[f"solved{i:02d}"] = solution
        i += 1
    return subs


def course(work: Path, loads: dict, env: dict) -> Path:
    """A scratch course at `work` with each lab's load ({lab: {student: notebook}}) placed in submitted/."""
    from graded_course import place_all
    from scratch_course import make_course

    make_course(work, env)
    for lab, subs in loads.items():
        place_all(work, lab, subs)
    return work


def autograde(work: Path, env: dict, *args: str) -> float:
    """Seconds for one `instructor.py autograde ARGS` over the whole load."""
    t = time.perf_counter()
    res = subprocess.run([sys.executable, str(work / "course" / "instructor.py"), "autograde", *args],
                         env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"autograde {' '.join(args)} failed:\n{res.stdout[-2000:]}{res.stderr[-3000:]}")
    return wall


def probe() -> float:
    """Seconds of a fixed single-core workload (Python and small torch ops), the median of three: the
    machine's speed just now. A shared host's speed drifts, and a drift between the two timed runs would
    show up in their ratio."""
    import torch

    torch.set_num_threads(1)

    def once() -> float:
        t = time.perf_counter()
        sum(i % 7 for i in range(3 * 10**6))
        a = torch.randn(64, 64)
        for _ in range(1500):
            a = torch.tanh(a @ a * 0.01)
        return time.perf_counter() - t

    return statistics.median(once() for _ in range(3))


def records(url: str, labs: list[str]) -> tuple[dict, dict, list]:
    """(scores, check rows, run rows) of every lab from a gradebook, keyed (lab, student)."""
    from test_batch import check_rows, gradebook

    from toxlab.grading import results

    scores = {(lab, k): v for lab in labs for k, v in gradebook(url, lab).items()}
    checks = {(lab, k): v for lab in labs for k, v in check_rows(url, lab).items()}
    return scores, checks, [r for lab in labs for r in results.load(url, lab, results.runs)]


def phases(runs: list[dict]) -> str:
    """Median seconds of each phase of a submission."""
    med = {k: statistics.median(r[f"{k}_s"] for r in runs) for k in ("start", "cells", "checks")}
    return ", ".join(f"{k} {v:.2f} s" for k, v in med.items())


def fmt(times: list[float]) -> str:
    return "(" + ", ".join(f"{t:.1f}" for t in times) + ")"


def baseline_time(rev: str, tmp: Path, solved_nb, n: int = 2) -> float:
    """Seconds per solved submission for commit `rev`'s own autograde (its nbgrader CLI and config)."""
    base = tmp / "baseline-tree"
    base.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
    python = overlay_venv(base, tmp / "baseline-venv")
    work = tmp / "baseline-course"
    shutil.copytree(base / "source", work / "source")
    shutil.copytree(base / "course", work / "course")
    tool = [python, str(work / "course" / "instructor.py")]
    subprocess.run([*tool, "release"], check=True, capture_output=True)
    for i in range(n):
        path = work / f"s{i}" / "toxicity_lab.ipynb"  # named as the lab: newer `place` infers the lab from it
        path.parent.mkdir()
        nbformat.write(solved_nb, path)
        subprocess.run([*tool, "place", f"student{i:03d}", str(path)], check=True, capture_output=True)
    t = time.perf_counter()
    res = subprocess.run([*tool, "autograde"], capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"baseline autograde failed:\n{res.stderr[-3000:]}")
    return (time.perf_counter() - t) / n


def overlay_venv(tree: Path, dest: Path) -> str:
    """A venv whose Python imports toxlab from `tree` and everything else from this environment."""
    import sysconfig

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(dest)], check=True)
    site = Path(subprocess.run([str(dest / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    shim = dest / "baseline-src"  # toxlab through a folder of its own: the sandbox never lets code read course/
    shim.mkdir()
    (shim / "toxlab").symlink_to(tree / "toxlab")
    (site / "00-baseline.pth").write_text(f"{shim}\n")  # before this env's editable toxlab finder
    (site / "01-deps.pth").write_text(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    for script in ("nbgrader", "alembic", "jupyter"):  # the old instructor.py calls these by path or name
        src = Path(sys.executable).parent / script
        if src.exists():
            lines = src.read_text().splitlines()
            (dest / "bin" / script).write_text("\n".join([f"#!{dest / 'bin' / 'python'}", *lines[1:]]) + "\n")
            (dest / "bin" / script).chmod(0o755)
    return str(dest / "bin" / "python")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=60, help="submissions in the load, per lab")
    ap.add_argument("--assignment", help="only this lab (default: every lab)")
    ap.add_argument("--workers", type=int, default=2, help="Dask workers for the parallel run")
    ap.add_argument("--postgres", action="store_true", help="the parallel run's gradebook in a throwaway PostgreSQL")
    ap.add_argument("--baseline", help="also time this commit's and HEAD's autograde per solved lab-6a submission, alternated (e.g. 7a85832)")
    ap.add_argument("--report-out", help="keep the parallel run's report (CSVs, chart) in this folder")
    a = ap.parse_args()
    import contextlib

    import postgres
    from expected_scores import fixtures, namespace
    from graded_course import fixture
    from scratch_course import make_course

    from toxlab import labs as registry
    from toxlab.grading import LocalStudent, run_check_files, solved_notebook
    from toxlab.grading.course import Course

    labs = [registry.get(a.assignment).name] if a.assignment else list(registry.LABS)
    env = {**os.environ, "TOXLAB_CELL_TIMEOUT": "30"}
    with tempfile.TemporaryDirectory(prefix="toxlab-bench-") as tmp, \
            (postgres.server() if a.postgres else contextlib.nullcontext()) as pg:
        tmp = Path(tmp)
        notebooks = make_course(tmp / "probe", env)
        loads = {lab: load(lab, a.n, *notebooks[lab]) for lab in labs}
        n = sum(map(len, loads.values()))
        for lab, subs in loads.items():
            print(f"load of {lab}: {len(subs)} submissions ({sum(k.startswith('solved') for k in subs)} solved, "
                  f"{sum(k.startswith('blank') for k in subs)} blank, {sum(k.startswith('wrong') for k in subs)} wrong, "
                  f"{sum(k.startswith('hostile') for k in subs)} hostile)", flush=True)
        only = ["--assignment", a.assignment] if a.assignment else []
        serial = course(tmp / "serial", loads, env)
        speed = [probe()]
        t_serial = autograde(serial, env, *only)
        speed.append(probe())
        print(f"serial:     {t_serial:7.1f} s = {t_serial / n:5.2f} s per submission", flush=True)
        par_env = {**env, **({"TOXLAB_GRADEBOOK": pg} if pg else {})}
        parallel = course(tmp / "parallel", loads, par_env)
        speed.append(probe())
        t_par = autograde(parallel, par_env, *only, "--workers", str(a.workers))
        speed.append(probe())
        print(f"{a.workers} workers:  {t_par:7.1f} s = {t_par / n:5.2f} s per submission"
              + (" (gradebook in PostgreSQL)" if pg else ""), flush=True)
        print(f"serial / parallel: {t_serial / t_par:.2f}x on {os.cpu_count()} cores")
        drift = (speed[2] + speed[3]) / (speed[0] + speed[1])  # > 1: the machine was slower for the parallel run
        print(f"speed probe (s, before and after each run): serial {speed[0]:.2f}, {speed[1]:.2f}; parallel "
              f"{speed[2]:.2f}, {speed[3]:.2f}; the ratio at the serial run's speed, roughly: {t_serial / t_par * drift:.2f}x"
              + (" (the machine's speed drifted by more than 10%: run it again)" if abs(drift - 1) > 0.1 else ""))

        s_scores, s_checks, s_runs = records(Course(serial).sqlite_url(), labs)
        p_url = pg or Course(parallel).sqlite_url()
        p_scores, p_checks, p_runs = records(p_url, labs)
        same = (s_scores == p_scores and s_checks == p_checks
                and set(s_scores) == {(lab, k) for lab, subs in loads.items() for k in subs})
        print(f"per-check results identical: {same} ({sum(map(len, s_checks.values()))} check results)")
        for key in sorted(set(s_scores) | set(p_scores)):  # where they differ, so a failure can be looked into
            if s_scores.get(key) != p_scores.get(key) or s_checks.get(key) != p_checks.get(key):
                print(f"  differs: {key}: scores serial {s_scores.get(key)} / parallel {p_scores.get(key)}; checks "
                      f"serial-only {sorted(set(s_checks.get(key, [])) - set(p_checks.get(key, [])))[:4]}, parallel-only "
                      f"{sorted(set(p_checks.get(key, [])) - set(s_checks.get(key, [])))[:4]}")
        for lab in labs:
            print(f"{lab}: a submission's phases (median, serial): {phases([r for r in s_runs if r['assignment'] == lab])}")

        out = Path(a.report_out).resolve() if a.report_out else tmp / "report"
        ranked = True
        import pandas as pd

        for lab in labs:
            rep = subprocess.run([sys.executable, str(parallel / "course" / "instructor.py"), "report", lab,
                                  "--out", str(out / lab)], env=par_env, capture_output=True, text=True)
            print(rep.stdout)
            checks = pd.read_csv(out / lab / f"{lab}-checks.csv")
            visible = checks[~checks["hidden"]]
            ex, name, _ = repeated(lab)[0]
            src = fixture("WRONG", ex, name)
            outcomes = run_check_files(ex, LocalStudent(namespace(lab, {fixtures(lab).SOLUTION_CELL[ex]: src})),
                                       [registry.get(lab).checks])
            tripped = {(ex, o.name) for o in outcomes if not o.passed}
            top = [(r.exercise, r.check) for r in visible.head(len(tripped)).itertuples()]
            ranked &= set(top) == tripped
            print(f"{lab}: the report ranks the most repeated fixture's checks first: {set(top) == tripped} (top: {top})")
        if a.baseline:
            # both commits the same way (release, place, `instructor.py autograde` of solved 6a notebooks, wall time
            # per submission with each command's start-up), alternated so that a drift in the host's speed hits both
            times: dict[str, list[float]] = {a.baseline: [], "HEAD": []}
            for round_ in range(2):
                for rev in times:
                    times[rev].append(baseline_time(rev, tmp / f"ab-{round_}-{rev}", solved_notebook(*notebooks["toxicity_lab"])))
            before, after = (statistics.median(times[rev]) for rev in times)
            print(f"before ({a.baseline}): {before:.1f} s per solved 6a submission {fmt(times[a.baseline])}; "
                  f"after (HEAD): {after:.1f} s {fmt(times['HEAD'])}; after / before: {after / before:.2f}")
        if not (same and ranked):
            raise SystemExit("bench/autograde.py: the runs disagree or the report's ranking is off")


if __name__ == "__main__":
    main()
