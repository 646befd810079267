"""What the class got wrong: per-exercise scores, per-check failures, a chart, and a grade file for Canvas.

    python course/instructor.py report [ASSIGNMENT] [--out course/reports]

Scores come from nbgrader's gradebook; each check's result (visible and hidden, with the hint it
shows) from the rows autograde stores beside it (toxlab.grading.results). Hidden checks' names and
hints appear here, for the instructor, and never in a student's feedback.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import results
from .course import Course


def scores(url: str, assignment: str) -> pd.DataFrame:
    """One row per student and grade cell: score, max_score, auto_score, manual_score."""
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(url) as gb:
        for sub in gb.assignment_submissions(assignment):
            for nb in sub.notebooks:
                for g in nb.grades:
                    rows.append({"student": sub.student.id, "cell": g.name, "score": g.score, "max_score": g.max_score,
                                 "auto_score": g.auto_score, "manual_score": g.manual_score})
    return pd.DataFrame(rows, columns=["student", "cell", "score", "max_score", "auto_score", "manual_score"])


def per_exercise(graded: pd.DataFrame) -> pd.DataFrame:
    """Mean score per grade cell, its share of the points, and how many students scored each value."""
    out = []
    for cell, g in graded.groupby("cell", sort=False):
        counts = g["score"].round(3).value_counts().sort_index()
        out.append({"cell": cell, "max_score": g["max_score"].iloc[0], "mean_score": g["score"].mean(),
                    "mean_fraction": (g["score"] / g["max_score"]).mean(), "submissions": len(g),
                    "full_marks": int((g["score"] >= g["max_score"]).sum()), "zero": int((g["score"] <= 0).sum()),
                    "distribution": "; ".join(f"{k:g}: {v}" for k, v in counts.items())})
    return pd.DataFrame(out).sort_values("mean_fraction", kind="stable").reset_index(drop=True)


def per_check(records: list[dict]) -> pd.DataFrame:
    """Each check: how many submissions failed it and the hint it showed most often; commonest failures first."""
    df = pd.DataFrame(records, columns=["student", "exercise", "check", "hidden", "passed", "hint", "points_lost"])
    out = []
    for (exercise, check, hidden), g in df.groupby(["exercise", "check", "hidden"], sort=False):
        failed = g[~g["passed"]]
        hints = failed["hint"].value_counts()
        out.append({"exercise": exercise, "check": check, "hidden": bool(hidden), "failed": len(failed),
                    "submissions": len(g), "fail_rate": len(failed) / len(g),
                    "points_lost": failed["points_lost"].sum(), "hint": hints.index[0] if len(hints) else ""})
    table = pd.DataFrame(out, columns=["exercise", "check", "hidden", "failed", "submissions", "fail_rate",
                                       "points_lost", "hint"])
    return table.sort_values(["failed", "points_lost"], ascending=False, kind="stable").reset_index(drop=True)


def canvas_grades(url: str, assignment: str) -> pd.DataFrame:
    """Canvas's gradebook import layout: Student, ID, SIS User ID, SIS Login ID, Section, then the assignment,
    with the "Points Possible" row first."""
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        possible = gb.find_assignment(assignment).max_score
        rows = [{"Student": f"{s.student.last_name or ''}, {s.student.first_name or ''}".strip(", ") or s.student.id,
                 "ID": s.student.lms_user_id or "", "SIS User ID": s.student.id,
                 "SIS Login ID": s.student.email or s.student.id, "Section": "", assignment: s.score}
                for s in gb.assignment_submissions(assignment)]
    head = {"Student": "    Points Possible", "ID": "", "SIS User ID": "", "SIS Login ID": "", "Section": "",
            assignment: possible}
    return pd.DataFrame([head, *sorted(rows, key=lambda r: r["SIS User ID"])])


def chart(exercises: pd.DataFrame, checks: pd.DataFrame, title: str, top: int = 15):
    """Two panels: mean share of points per exercise; the checks failed most often."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    worst = checks[checks["failed"] > 0].head(top).iloc[::-1]
    fig, (a, b) = plt.subplots(1, 2, figsize=(14, max(4, 0.35 * max(len(exercises), len(worst)) + 1.5)))
    a.barh(exercises["cell"], exercises["mean_fraction"], color="tab:blue")
    a.set_xlim(0, 1)
    a.set_xlabel("mean share of the points")
    a.set_title("per exercise")
    labels = [f"{r.exercise}: {'(hidden) ' if r.hidden else ''}{r.check}"[:60] for r in worst.itertuples()]
    b.barh(labels, worst["failed"], color=["tab:gray" if h else "tab:red" for h in worst["hidden"]])
    b.set_xlabel("submissions that failed the check")
    b.set_title(f"the {len(worst)} checks failed most often (gray: hidden)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def write_report(course: Course, assignment: str, out: Path) -> list[str]:
    """Write the CSVs and the chart under `out`; return a short summary to print."""
    url = course.gradebook_url()
    graded = scores(url, assignment)
    if graded.empty:
        raise SystemExit(f"report: no graded submissions of {assignment!r} in the gradebook ({url}); autograde first")
    checks_rows = results.load(url, assignment)
    exercises, checks = per_exercise(graded), per_check(checks_rows)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"exercises": out / f"{assignment}-exercises.csv", "checks": out / f"{assignment}-checks.csv",
             "canvas": out / f"{assignment}-canvas.csv", "chart": out / f"{assignment}-report.png"}
    exercises.to_csv(paths["exercises"], index=False)
    checks.to_csv(paths["checks"], index=False)
    canvas_grades(url, assignment).to_csv(paths["canvas"], index=False)
    n = graded["student"].nunique()
    chart(exercises, checks, f"{assignment}: {n} submissions").savefig(paths["chart"], dpi=110)
    lines = [f"{assignment}: {n} graded submissions; the commonest failed checks:"]
    for r in checks[checks["failed"] > 0].head(5).itertuples():
        lines.append(f"  {r.failed:4d}/{r.submissions}  {r.exercise}: {'(hidden) ' if r.hidden else ''}{r.check}"
                     + (f"  -- {r.hint[:80]}" if r.hint else ""))
    lines += [f"wrote {p}" for p in paths.values()]
    return lines
