"""Check what README command 1 (course/instructor.py run-lab) left: every report file parses,
and the two example submissions scored full marks (the solution) and 0 (the untouched release).

    python .ci/check_main_job.py RUNS_LAB_DIR MAIN_JOB_LOG
"""

import json
import re
import sys
from pathlib import Path

import matplotlib.image
import nbformat
import pandas as pd

SCORE = re.compile(r"^\s+(example-\S+)\s+([\d.]+) / ([\d.]+) autograded points", re.M)


def main(out: Path, log: Path) -> int:
    problems = []

    def need(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    for name in ("metrics.json", "report.txt", "confusion_matrix.png", "bias.png", "bias_terms.csv", "bias_groups.csv"):
        need((out / name).is_file(), f"{out / name} is missing")
    if problems:
        return report(problems)
    metrics = json.loads((out / "metrics.json").read_text())
    need({"roc_auc", "f1"} <= set(metrics.get("test_at_threshold", {})), "metrics.json lacks test_at_threshold roc_auc/f1")
    need("macro avg" in (out / "report.txt").read_text(), "report.txt is not a classification report")
    for png in ("confusion_matrix.png", "bias.png"):
        need(matplotlib.image.imread(out / png).ndim == 3, f"{png} is not an image")
    for csv in ("bias_terms.csv", "bias_groups.csv"):
        need(len(pd.read_csv(out / csv)) > 0, f"{csv} has no rows")
    executed = next(out.glob("*.executed.ipynb"), None)
    need(executed is not None, "no executed notebook")
    if executed:
        errors = [o for c in nbformat.read(executed, as_version=4).cells for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        need(not errors, f"{executed.name} has {len(errors)} error output(s)")
    scores = {m[0]: (float(m[1]), float(m[2])) for m in SCORE.findall(log.read_text())}
    need(set(scores) == {"example-solution", "example-untouched"}, f"expected two example scores in the log, got {scores}")
    if "example-solution" in scores:
        got, top = scores["example-solution"]
        need(got == top > 0, f"the solution scored {got} of {top}")
    if "example-untouched" in scores:
        need(scores["example-untouched"][0] == 0, f"the untouched release scored {scores['example-untouched'][0]}")
    if problems:
        return report(problems)
    print(f"check_main_job: report files parse; scores {scores}")
    return 0


def report(problems: list[str]) -> int:
    for p in problems:
        print(f"check_main_job: {p}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
