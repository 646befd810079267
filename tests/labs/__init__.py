"""Each lab's fixtures, beside the tests that use them and outside the installed package.

    tests/labs/<lab>/fixtures.py    wrong and alternative-correct solutions for every exercise of lab <lab>
                                    (a lab registered in toxlab.labs.LABS), and the grade-mode globals the
                                    checks are tried against in tests

tests/expected_scores.py's fixtures(lab) finds them for the fixture matrix, the course tests and
bench/autograde.py (which put tests/ on sys.path, so this package imports as `labs`).
"""

from __future__ import annotations

import textwrap


def cell_source(text: str) -> str:
    """A notebook cell's source from an indented triple-quoted block (what fixtures hold)."""
    return textwrap.dedent(text).strip("\n") + "\n"
