"""The trusted side of grading: decide a submission's verdicts without running any of its code.

For each submission:

  1. an executor (toxlab.grading.executor) starts in the sandbox (toxlab.sandbox: bubblewrap
     namespaces, Landlock, limits) and runs the instructor's setup cells (from the *source*
     notebook, never the student's copy) and the student's cells, in order;
  2. here, in this process, pytest runs every exercise's visible checks, then every hidden check.
     The checks ask the executor to call the student's functions on inputs made here, get plain
     data back (toxlab.grading.wire), and compare it with references computed here.

This process never imports, unpickles or executes anything from the submission, so a verdict
cannot be reached from student code: patching, stack walks, GC searches, always-equal objects
and forged replies all stay in the executor, where they can only spoil that student's own
answers. A cell that hangs or kills the executor is skipped on a fresh executor and costs only
the exercise it belongs to; a call that hangs, dies or answers malformed data costs its check,
and a fresh executor serves the rest. Hidden checks run after every visible one, and their
failures show only this file's own wording, so nothing the student's code saw of a hidden input
can come back through a hint.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import Student, wire

SETUP_TAG = "grading-setup"
CHECK_CALL = re.compile(r"""check\(\s*["'](\w+)["']""")
START_TIMEOUT = 120  # seconds for the executor to import torch and transformers on a busy machine
CALL_TIMEOUT = 30  # seconds for one question; the grade-mode answers take well under one
MAX_LOSSES = 3  # executors a submission may kill or hang while answering before its remaining checks fail at once


@dataclass
class Verdict:
    """The result for one grade cell."""

    grade_id: str
    exercise: str
    passed: bool  # every check passed
    lines: list[str]  # what the grade cell shows: one line per check, hints, and why it failed
    score: float = 0.0  # points earned: the shares of the checks that passed
    points: float = 0.0  # the grade cell's points


def shares(outcomes: list, points: float) -> tuple[float, list[float]]:
    """Split `points` over an exercise's checks: one equal share per visible check, one for all hidden ones.

    Returns (score, each outcome's share lost: 0 when it passed)."""
    visible = [o for o in outcomes if not o.hidden]
    hidden = [o for o in outcomes if o.hidden]
    parts = len(visible) + (1 if hidden else 0)
    if parts == 0:
        return 0.0, []
    share = points / parts
    lost = [0.0 if o.passed else (share if not o.hidden else share / max(1, sum(not h.passed for h in hidden)))
            for o in outcomes]
    return round(points - sum(lost), 6), lost


# --- the plan: which cells run, and whose they are -----------------------------------------------

def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def plan(submission, source) -> list[dict]:
    """The cells to run, in the submission's order: setup (from the source), student, and grade cells."""
    trusted = {_meta(c)["grade_id"]: c for c in source.cells if _meta(c).get("grade_id")}
    cells, pending = [], []
    for i, cell in enumerate(submission.cells):
        if cell.cell_type != "code":
            continue
        ref = trusted.get(_meta(cell).get("grade_id"))
        if ref is not None and _meta(ref).get("grade") and not _meta(ref).get("solution"):
            found = CHECK_CALL.search(ref.source)
            assert found, f"grade cell {_meta(ref)['grade_id']} calls no check(\"<exercise>\", ...)"
            step = {"index": i, "kind": "grade", "grade_id": _meta(ref)["grade_id"], "exercise": found.group(1)}
            for p in pending:
                p["owner"] = step["exercise"]
            cells += [*pending, step]
            pending = []
        elif ref is not None and _meta(ref).get("locked") and not _meta(ref).get("solution"):
            if SETUP_TAG in ref.get("metadata", {}).get("tags", []):
                cells.append({"index": i, "kind": "setup", "source": ref.source})  # the instructor's text
        else:  # a solution cell, or a cell the student added
            pending.append({"index": i, "kind": "student", "source": cell.source})
    return cells  # student cells after the last grade cell cannot change a score


def grade_ids(source) -> list[str]:
    """The autograded grade cells of a source notebook."""
    return [_meta(c)["grade_id"] for c in source.cells
            if c.cell_type == "code" and _meta(c).get("grade") and not _meta(c).get("solution")]


# --- one executor process, seen from here ---------------------------------------------------------

class ExecutorGone(Exception):
    """The executor died, hung past its deadline, or broke the protocol; the message says which."""


class Executor:
    """The checker's handle on one sandboxed executor: send a request, wait for its reply."""

    def __init__(self, workdir: Path, sandbox: bool = True):
        self.workdir, self.sandbox = Path(workdir), sandbox
        self.proc = None

    def start(self) -> None:
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        cmd = [sys.executable, "-m", "toxlab.grading.executor", "--fds", str(to_child), str(from_child)]
        if self.sandbox:
            # -I: the working folder is the student's; nothing written there may shadow toxlab.sandbox
            cmd = [sys.executable, "-I", "-m", "toxlab.sandbox", "--", *cmd]
        env = {**os.environ, "TOXLAB_MODE": "grade", "NBGRADER_EXECUTION": "autograde"}
        self.proc = subprocess.Popen(cmd, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, pass_fds=[to_child, from_child], env=env,
                                     start_new_session=True)
        os.close(to_child)
        os.close(from_child)
        self.out = os.fdopen(from_parent, "wb", buffering=0)
        self.inp = to_parent
        self.buf = b""
        try:
            first = self._line(time.monotonic() + START_TIMEOUT)
        except ExecutorGone as e:
            err = self.proc.stderr.read().decode(errors="replace")[-2000:] if self.proc.stderr else ""
            self.close()
            raise RuntimeError(f"toxlab grading: the executor did not start ({e}):\n{err}") from None
        if first != {"op": "ready"}:
            self.close()
            raise RuntimeError(f"toxlab grading: the executor sent {str(first)[:200]} before starting")

    def _line(self, deadline: float):
        """The next JSON line from the executor, or ExecutorGone."""
        sel = selectors.DefaultSelector()
        sel.register(self.inp, selectors.EVENT_READ)
        try:
            while b"\n" not in self.buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(timeout=left):
                    raise ExecutorGone("did not answer in time")
                chunk = os.read(self.inp, 1 << 20)
                if not chunk:
                    raise ExecutorGone("ended")
                self.buf += chunk
                if len(self.buf) > wire.MAX_BYTES + 4096:
                    raise ExecutorGone("sent an answer larger than the limit")
        finally:
            sel.close()
        line, self.buf = self.buf.split(b"\n", 1)
        try:
            return wire.loads(line)
        except wire.WireError as e:
            raise ExecutorGone(f"broke the protocol ({e})") from None

    def request(self, req: dict, timeout: float) -> dict:
        """Send one request; return its reply dict ({"ok", "value" | "error"}), or raise ExecutorGone."""
        if self.proc is None:
            self.start()
        rid = secrets.token_hex(8)
        try:
            self.out.write(json.dumps({**req, "id": rid, "timeout": timeout}).encode() + b"\n")
        except (BrokenPipeError, OSError):
            raise ExecutorGone("ended") from None
        deadline = time.monotonic() + timeout + 10
        while True:
            reply = self._line(deadline)
            if type(reply) is dict and reply.get("id") == rid:
                return reply
            # anything else was written by student code to the channel: ignore it

    def close(self) -> None:
        if self.proc is None:
            return
        from ..sandbox import kill_sandbox

        kill_sandbox(self.proc.pid)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for close in (self.out.close, lambda: os.close(self.inp)):
            try:
                close()
            except OSError:
                pass
        self.proc = None


# --- the student, as the checks see it -------------------------------------------------------------

class RemoteStudent(Student):
    """The `student` fixture in autograde: questions go to the executor, answers come back as plain data.

    A run of the notebook's cells is replayed on a fresh executor when the last one died or hung,
    skipping the cells that killed or hung an earlier one.
    """

    def __init__(self, steps: list[dict], workdir: Path, timeout: float, sandbox: bool = True):
        self.steps, self.workdir, self.timeout, self.sandbox = steps, workdir, timeout, sandbox
        self.skipped: dict[int, str] = {}
        self.executor: Executor | None = None
        self.losses = 0

    def run_cells(self, attempts: int = 4) -> None:
        """Run the plan's cells on a fresh executor, skipping any that kill or hang it."""
        for _ in range(attempts):
            self.close()
            self.executor = Executor(self.workdir, self.sandbox)
            stuck = None
            for step in self.steps:
                if step["kind"] == "grade" or step["index"] in self.skipped:
                    continue
                try:
                    reply = self.executor.request({"op": "run", "source": step["source"], "index": step["index"],
                                                   "kind": step["kind"]}, self.timeout)
                except ExecutorGone as e:
                    stuck = step["index"], str(e)
                    break
                if not reply.get("ok") and reply.get("error") == "timeout":
                    stuck = step["index"], f"ran past the {self.timeout:g} s timeout"
                    break
            if stuck is None:
                return
            self.skipped[stuck[0]] = stuck[1]
        raise RuntimeError(f"toxlab grading: the cells kept stopping the executor: {self.skipped}")

    def ask(self, req: dict) -> dict:
        """One request; a dead or hung executor costs this request and is replaced for the next."""
        if self.losses >= MAX_LOSSES:  # a notebook that breaks every answer must not hold the grader for long
            return {"ok": False, "error": f"no answer: the notebook's code stopped the grader {self.losses} times"}
        if self.executor is None:
            self.run_cells()
        try:
            return self.executor.request(req, min(self.timeout, CALL_TIMEOUT))
        except ExecutorGone as e:
            self.close()
            self.losses += 1
            return {"ok": False, "error": f"no answer: the grading process {e}"}

    def close(self) -> None:
        if self.executor is not None:
            self.executor.close()
            self.executor = None


# --- the verdicts -----------------------------------------------------------------------------------

def verify(submission, source, hidden_checks: Path | None, workdir: Path, timeout: float = 90,
           sandbox: bool = True, visible_checks: Path | None = None) -> dict[str, Verdict]:
    """Grade `submission` against `source`: one Verdict per autograded grade cell."""
    from . import VISIBLE_CHECKS, run_check_files

    steps = plan(submission, source)
    exercises = [s["exercise"] for s in steps if s["kind"] == "grade"]
    student = RemoteStudent(steps, Path(workdir), timeout, sandbox)
    paths = [visible_checks or VISIBLE_CHECKS, *([Path(hidden_checks)] if hidden_checks else [])]
    try:
        student.run_cells()
        outcomes = run_check_files(exercises, student, paths) if exercises else []
    finally:
        student.close()
    verdicts: dict[str, Verdict] = {}
    points = {_meta(c)["grade_id"]: float(_meta(c).get("points", 0)) for c in source.cells if _meta(c).get("grade_id")}
    for step in steps:
        if step["kind"] != "grade":
            continue
        mine = [o for o in outcomes if o.exercise == step["exercise"]]
        total = points.get(step["grade_id"], 0.0)
        score, lost = shares(mine, total)
        lines = [_with_cost(o.line(), cost) for o, cost in zip(mine, lost)]
        passed = bool(mine) and all(o.passed for o in mine)
        for index, why in student.skipped.items():
            if next((s.get("owner") for s in steps if s["index"] == index), None) == step["exercise"]:
                passed, score = False, 0.0
                lines.append(f"  cell {index + 1} {why}; it was skipped, and this exercise scores 0")
        head = (f"{step['exercise']}: {sum(o.passed for o in mine)}/{len(mine)} checks passed, "
                f"{score:g} of {total:g} points (graded outside the notebook)")
        verdicts[step["grade_id"]] = Verdict(step["grade_id"], step["exercise"], passed, [head, *lines], score, total)
    for gid in grade_ids(source):
        if gid not in verdicts:
            ex = next((CHECK_CALL.search(c.source).group(1) for c in source.cells
                       if _meta(c).get("grade_id") == gid and CHECK_CALL.search(c.source)), gid)
            verdicts[gid] = Verdict(gid, ex, False, [f"{ex}: not graded: its grade cell is missing"], 0.0,
                                    points.get(gid, 0.0))
    return verdicts


def _with_cost(line: str, cost: float) -> str:
    """A check's line with the points its failure cost, after its name."""
    if not cost:
        return line
    first, sep, rest = line.partition("\n")
    return f"{first}  (-{cost:g} points){sep}{rest}"

