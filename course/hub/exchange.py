"""The instructor's side of the nbgrader exchange for several labs in one process (nbgrader's Python API).

    python course/hub/exchange.py release|collect|release-feedback LAB [LAB ...]   # from the course/ folder

`hub start` and `hub grade` run it as the instructor. It does what `nbgrader release_assignment LAB`,
`nbgrader collect LAB` and `nbgrader release_feedback LAB` do, with the same configuration (the course's
nbgrader_config.py and the instructor's Jupyter config, where the hub puts the exchange), through the
NbGraderAPI that formgrader calls. Each `nbgrader` command spends about 3 s importing before it copies a file;
one process for every lab pays that once.

The exchange copies whole folders with CourseDirectory.ignore, which course/nbgrader_config.py narrows to
notebooks alone ("*") for autograde and feedback; here it gets nbgrader's default back, or release and
collect would move nothing (the README gives the nbgrader commands the same override, by hand).
"""

from __future__ import annotations

import sys

from nbgrader.apps import NbGraderAPI
from nbgrader.apps.baseapp import NbGrader

STEPS = {"release": "release_assignment", "collect": "collect", "release-feedback": "release_feedback"}
EXCHANGE_IGNORE = '--CourseDirectory.ignore=[".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]'


class ExchangeSteps(NbGrader):
    """An nbgrader app in name only: it loads nbgrader's configuration the way every nbgrader command does."""

    name = "toxlab-exchange"


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in STEPS:
        print(f"usage: exchange.py {'|'.join(STEPS)} LAB [LAB ...]", file=sys.stderr)
        return 2
    step, labs = argv[0], argv[1:]
    app = ExchangeSteps()
    app.initialize([EXCHANGE_IGNORE])
    api = NbGraderAPI(app.coursedir, parent=app)
    failed = []
    for lab in labs:
        result = getattr(api, STEPS[step])(lab)
        print(f"{step} {lab}: {'done' if result['success'] else 'FAILED'}")
        if not result["success"]:
            failed.append(lab)
            print(result.get("log", ""), result.get("error", ""), sep="\n", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
