"""Check what README command 1 (course/instructor.py run-lab) left, for every lab: the report files its
modes module lists exist and parse, its executed notebook has no error, and its two example
submissions scored full marks (the solution) and 0 (the untouched release); and labs 6b and 6c, each
run in its own folder under course/ as nbgrader lays a course out, loaded the model lab 6a saved in
../toxicity_lab/saved_models/ with the threshold 6a chose, and trained none of their own.

    python .ci/check_main_job.py RUNS_LAB_DIR MAIN_JOB_LOG
"""

import json
import re
import sys
from pathlib import Path

import matplotlib.image
import nbformat
import pandas as pd

from toxlab import labs

SCORE = re.compile(r"^\s+(\w+)/(example-\S+)\s+([\d.]+) / ([\d.]+) autograded points", re.M)


def parses(path: Path) -> bool:
    """The file reads as what its extension says, and is not empty."""
    if path.suffix == ".png":
        return matplotlib.image.imread(path).ndim == 3
    if path.suffix == ".csv":
        return len(pd.read_csv(path)) > 0
    if path.suffix == ".json":
        return bool(json.loads(path.read_text()))
    return path.stat().st_size > 0


def sibling_model_problems(out: Path) -> list[str]:
    """What is wrong with how the later labs found lab 6a's model (nothing: [])."""
    trainer = labs.TRAINER_LAB
    runs = sorted((out / "course" / trainer / labs.SAVED).glob("run-*/config.json"))
    if not runs:
        return [f"lab 6a saved no model under {out / 'course' / trainer / labs.SAVED}"]
    saved = json.loads(runs[-1].read_text()).get("toxlab_threshold")
    if saved is None:
        return [f"{runs[-1]} has no toxlab_threshold: lab 6a saved its model without the threshold it chose"]
    expected = f"model: {Path('..') / trainer / labs.SAVED / runs[-1].parent.name} "
    problems = []
    for name in labs.LABS:
        executed = out / name / f"{name}.executed.ipynb"
        if name == trainer or not executed.is_file():
            continue
        said = "".join(o.get("text", "") for c in nbformat.read(executed, as_version=4).cells
                       for o in c.get("outputs", []) if o.get("output_type") == "stream")
        line = next((ln for ln in said.splitlines() if ln.startswith("model: ")), None)
        if "No model from lab 6a found" in said or line is None or not line.startswith(expected):
            problems.append(f"{name} did not load lab 6a's model from the sibling folder: it said {line!r}, "
                            f"expected a line starting {expected!r}")
        elif not line.endswith(f"threshold {float(saved):.3f}"):
            problems.append(f"{name} loaded lab 6a's model without its threshold {saved}: {line!r}")
    return problems


def main(out: Path, log: Path) -> int:
    problems = []

    def need(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    scores = {(m[0], m[1]): (float(m[2]), float(m[3])) for m in SCORE.findall(log.read_text())}
    for name, lab in labs.LABS.items():
        folder = out / name
        for f in lab.module("modes").REPORT_FILES:
            need((folder / f).is_file() and parses(folder / f), f"{folder / f} is missing or does not parse")
        executed = folder / f"{name}.executed.ipynb"
        need(executed.is_file(), f"no {executed}")
        if executed.is_file():
            errors = [o for c in nbformat.read(executed, as_version=4).cells for o in c.get("outputs", [])
                      if o.get("output_type") == "error"]
            need(not errors, f"{executed.name} has {len(errors)} error output(s)")
        solution, untouched = scores.get((name, "example-solution")), scores.get((name, "example-untouched"))
        need(solution is not None and solution[0] == solution[1] > 0, f"{name}: the solution scored {solution}")
        need(untouched is not None and untouched[0] == 0, f"{name}: the untouched release scored {untouched}")
    problems += sibling_model_problems(out)
    metrics = json.loads((out / "toxicity_lab" / "metrics.json").read_text()) if not problems else {}
    need(not metrics or {"roc_auc", "f1"} <= set(metrics.get("test_at_threshold", {})),
         "toxicity_lab's metrics.json lacks test_at_threshold roc_auc/f1")
    if problems:
        for p in problems:
            print(f"check_main_job: {p}", file=sys.stderr)
        return 1
    print(f"check_main_job: every lab's report files parse; scores {scores}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
