"""The trusted side of grading: decide a submission's verdicts without running any of its code.

For each submission:

  1. an executor (toxlab.grading.executor) starts in the sandbox (toxlab.sandbox: bubblewrap
     namespaces, Landlock, limits) and runs the notebook's cells in order in an IPython shell:
     the instructor's cells from the *source* notebook, never the student's copy, and the
     student's cells; their outputs come back as the graded notebook's outputs (one run per
     submission: no kernel runs it a second time);
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
import shutil
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
    """The cells to run, in the submission's order: the instructor's (from the source), the student's,
    and grade cells (not run: their output is the verdict)."""
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
            kind = "setup" if SETUP_TAG in ref.get("metadata", {}).get("tags", []) else "locked"
            cells.append({"index": i, "kind": kind, "source": ref.source})  # the instructor's text
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


class Zygote:
    """This grading process's warm executor parent, in the sandbox: it has imported torch and
    transformers once, and forks a fresh executor for each submission (toxlab.grading.executor.zygote)."""

    def __init__(self, sandbox: bool = True):
        import threading

        self.sandbox, self.proc, self.ctl = sandbox, None, None
        self.home = None
        self.lock = threading.RLock()  # a Dask worker may warm it up while its first job starts

    def _start(self) -> None:
        import socket
        import tempfile

        from ..sandbox import Limits

        limits = Limits.from_env()
        self.home = tempfile.mkdtemp(prefix="toxlab-zygote-")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd = [sys.executable, "-m", "toxlab.grading.executor", "--zygote", str(theirs.fileno()),
               "1" if self.sandbox and limits.bwrap else "0", "1" if self.sandbox and limits.landlock else "0"]
        if self.sandbox:
            cmd = [sys.executable, "-I", "-m", "toxlab.sandbox", "--", *cmd]
        # stderr to a file, not a pipe: nobody reads it while grading, and a full pipe would block the writer
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, cwd=self.home, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.log, pass_fds=[theirs.fileno()], env=executor_env(),
                                     start_new_session=True)
        theirs.close()
        self.ctl = ours
        if self._say(None, START_TIMEOUT) != b"ready":
            self.log.seek(0)
            err = self.log.read()[-2000:].decode(errors="replace")
            self.close()
            raise RuntimeError(f"toxlab grading: the executor did not start:\n{err}")

    def _say(self, msg: bytes | None, timeout: float, fds: list[int] = ()) -> bytes:
        import socket

        try:
            if msg is not None:
                socket.send_fds(self.ctl, [msg], list(fds)) if fds else self.ctl.send(msg)
            self.ctl.settimeout(timeout)
            return self.ctl.recv(64)
        except OSError:
            return b""

    def fork_ready(self) -> None:
        """Start the zygote now, if it is not running, rather than at the first fork."""
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self.close()
                self._start()

    def fork(self, fds: list[int]) -> None:
        """A fresh executor on these two descriptors (its input, its output)."""
        for _ in range(2):  # a zygote that a submission's leftovers broke is replaced once
            self.fork_ready()
            if self._say(b"fork", 30, fds) == b"forked":
                return
            self.close()
        raise RuntimeError("toxlab grading: the zygote could not fork an executor")

    def reset(self) -> None:
        """Kill whatever the last executor left running and remove its files; a zygote that fails is replaced."""
        if self.proc is not None and self._say(b"reset", 30) != b"reset":
            self.close()

    def close(self) -> None:
        if self.proc is not None:
            from ..sandbox import kill_sandbox

            kill_sandbox(self.proc.pid)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        if self.ctl is not None:
            self.ctl.close()
            self.ctl = None
        if self.home:
            shutil.rmtree(self.home, ignore_errors=True)
            self.home = None
            self.log.close()


_zygotes: dict[bool, Zygote] = {}


def zygote(sandbox: bool = True) -> Zygote:
    """This process's zygote (one per sandbox setting), closed when the process exits."""
    if sandbox not in _zygotes:
        import atexit

        _zygotes[sandbox] = Zygote(sandbox)
        atexit.register(_zygotes[sandbox].close)
    return _zygotes[sandbox]


def warm_up(assignments: list[str] | None = None) -> None:
    """Start this process's zygote and import what the checks of these assignments (default: every one) use (a
    Dask worker, before its first job)."""
    import torch  # noqa: F401

    from .extensions import registry

    found = registry()
    for a in [found.assignment(a) for a in assignments] if assignments else found.assignments().values():
        a.warm_up()  # pytest, the course's libraries, the objects the checks build (lab 6c's: 2 s more)

    zygote().fork_ready()


def close_zygotes() -> None:
    """Stop this process's zygotes (a Dask worker's, when its run ends: its sandbox and files go too)."""
    for z in _zygotes.values():
        z.close()


def executor_env() -> dict[str, str]:
    """The environment executors start with (the sandbox then keeps only what it allows)."""
    # one thread: grade mode's models are tiny, and graders run side by side (OpenMP threads that
    # outnumber the cores spin and make each tiny op 10-20x slower)
    return {**os.environ, "TOXLAB_MODE": "grade", "NBGRADER_EXECUTION": "autograde", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1"}


class Executor:
    """The checker's handle on one sandboxed executor: send a request, wait for its reply."""

    def __init__(self, sandbox: bool = True):
        self.sandbox = sandbox
        self.running = False

    def start(self) -> None:
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        try:
            zygote(self.sandbox).fork([to_child, from_child])
        finally:
            os.close(to_child)
            os.close(from_child)
        self.running = True
        self.out = os.fdopen(from_parent, "wb", buffering=0)
        self.inp = to_parent
        self.buf = b""
        try:
            first = self._line(time.monotonic() + START_TIMEOUT)
        except ExecutorGone as e:
            self.close()
            raise RuntimeError(f"toxlab grading: the executor did not start ({e})") from None
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
        if not self.running:
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
        if not self.running:
            return
        for close in (self.out.close, lambda: os.close(self.inp)):
            try:
                close()
            except OSError:
                pass
        zygote(self.sandbox).reset()  # kills the executor and all it left
        self.running = False


# --- the student, as the checks see it -------------------------------------------------------------

class RemoteStudent(Student):
    """The `student` fixture in autograde: questions go to the executor, answers come back as plain data.

    A run of the notebook's cells is replayed on a fresh executor when the last one died or hung,
    skipping the cells that killed or hung an earlier one.
    """

    def __init__(self, steps: list[dict], timeout: float, sandbox: bool = True):
        self.steps, self.timeout, self.sandbox = steps, timeout, sandbox
        self.skipped: dict[int, str] = {}
        self.executor: Executor | None = None
        self.losses = 0
        self.outputs: dict[int, list] = {}  # cell index -> its outputs (untrusted: checked by cell_outputs)
        self.seconds = {"start": 0.0, "cells": 0.0}

    def run_cells(self, attempts: int = 4) -> None:
        """Run the plan's cells on a fresh executor, skipping any that kill or hang it."""
        for _ in range(attempts):
            self.close()
            self.outputs = {}
            t = time.perf_counter()
            self.executor = Executor(sandbox=self.sandbox)
            self.executor.start()
            self.seconds["start"] += time.perf_counter() - t
            t = time.perf_counter()
            stuck = self._run_all()
            self.seconds["cells"] += time.perf_counter() - t
            if stuck is None:
                return
            self.skipped[stuck[0]] = stuck[1]
        raise RuntimeError(f"toxlab grading: the cells kept stopping the executor: {self.skipped}")

    def _run_all(self) -> tuple[int, str] | None:
        """Run every cell but the grade cells; the (index, why) of a cell that stopped the executor."""
        for step in self.steps:
            if step["kind"] == "grade" or step["index"] in self.skipped:
                continue
            try:
                reply = self.executor.request({"op": "run", "source": step["source"], "index": step["index"],
                                               "kind": step["kind"]}, self.timeout)
            except ExecutorGone as e:
                return step["index"], str(e)
            self.outputs[step["index"]] = cell_outputs(reply.get("value"))
            if not reply.get("ok") and reply.get("error") == "timeout":
                return step["index"], f"ran past the {self.timeout:g} s timeout"
        return None

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

@dataclass
class Graded:
    """A graded submission: what the notebook shows and what the gradebook and the report record."""

    verdicts: dict[str, Verdict]  # grade_id -> verdict
    outputs: dict[int, list]  # cell index -> nbformat outputs of the cells that ran (grade cells excluded)
    skipped: dict[int, str]  # cell index -> why it was skipped
    checks: list[dict]  # one record per check: exercise, check, hidden, passed, hint, points_lost
    seconds: dict[str, float]  # start (executor start-up), cells, checks
    where: str = "local"  # the Dask worker that graded it, or local


def grade(submission, source, visible_checks: Path, hidden_checks: Path | None, timeout: float = 90,
          sandbox: bool = True) -> Graded:
    """Run `submission` once in the sandbox and grade it against `source` with the lab's checks: outputs and
    one Verdict per grade cell."""
    import torch

    from . import run_check_files

    torch.set_num_threads(1)  # the references are tiny too (see executor_env); a grading process only
    steps = plan(submission, source)
    exercises = [s["exercise"] for s in steps if s["kind"] == "grade"]
    paths = [Path(visible_checks), *([Path(hidden_checks)] if hidden_checks else [])]
    student = RemoteStudent(steps, timeout, sandbox)  # what the cells write stays in the sandbox's home
    try:
        student.run_cells()
        t = time.perf_counter()
        outcomes = run_check_files(exercises, student, paths) if exercises else []
        checks_seconds = time.perf_counter() - t
    finally:
        student.close()
    points = {_meta(c)["grade_id"]: float(_meta(c).get("points", 0)) for c in source.cells if _meta(c).get("grade_id")}
    verdicts: dict[str, Verdict] = {}
    records: list[dict] = []
    for step in steps:
        if step["kind"] != "grade":
            continue
        mine = [o for o in outcomes if o.exercise == step["exercise"]]
        total = points.get(step["grade_id"], 0.0)
        score, lost = shares(mine, total)
        lines = student_lines(mine, lost)
        records += [{"exercise": o.exercise, "check": o.name, "hidden": o.hidden, "passed": o.passed,
                     "hint": o.detail or o.hint, "points_lost": cost} for o, cost in zip(mine, lost)]
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
    seconds = {**student.seconds, "checks": checks_seconds}
    return Graded(verdicts, student.outputs, dict(student.skipped), records, seconds)


# --- the executor's outputs, as the graded notebook will hold them ----------------------------------

RICH = wire.NOTEBOOK_MIMES


def cell_outputs(value) -> list[dict]:
    """A cell's outputs as the executor reported them, each kept only if it is a well-formed nbformat output."""
    items = value.get("outputs") if isinstance(value, dict) else None
    if type(items) is not list:
        return [_note("(no outputs: the grader could not read them)")]
    outputs = []
    for item in items:
        try:
            outputs.append(_output(item))
        except (TypeError, ValueError, KeyError, AssertionError):
            outputs.append(_note("(an output the grader could not read was dropped)"))
    return outputs


def _strings(*values) -> bool:
    return all(type(v) is str for v in values)


def _output(o: dict) -> dict:
    import nbformat

    kind = o["output_type"]
    if kind == "stream":
        assert o["name"] in ("stdout", "stderr") and _strings(o["text"])
        return nbformat.v4.new_output("stream", name=o["name"], text=o["text"])
    if kind in ("display_data", "execute_result"):
        data = o["data"]
        assert type(data) is dict and data and all(k in RICH and _strings(v) for k, v in data.items())
        return nbformat.v4.new_output(kind, data=dict(data), **({"execution_count": None} if kind == "execute_result" else {}))
    if kind == "error":
        tb = o["traceback"]
        assert _strings(o["ename"], o["evalue"]) and type(tb) is list and _strings(*tb)
        return nbformat.v4.new_output("error", ename=o["ename"], evalue=o["evalue"], traceback=list(tb))
    raise ValueError(kind)


def _note(text: str) -> dict:
    import nbformat

    return nbformat.v4.new_output("stream", name="stdout", text=text + "\n")


def fill(nb, graded: Graded) -> None:
    """Put the outputs and verdicts into `nb`, the notebook that was graded (in place).

    A grade cell's output is its verdict alone: stdout lines, then an error when it scores 0, or its
    score as a number, which nbgrader 0.9.6 takes as partial credit."""
    import nbformat

    count = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        v = graded.verdicts.get(_meta(cell).get("grade_id"))
        if v is not None and _meta(cell).get("grade") and not _meta(cell).get("solution"):
            cell.outputs = [_note("\n".join(v.lines))]
            if v.score <= 0 and not v.passed:
                cell.outputs.append(nbformat.v4.new_output(
                    "error", ename="ExerciseFailed", evalue=f"{v.exercise}: see the checks above",
                    traceback=[f"ExerciseFailed: {v.exercise}: see the checks above"]))
            elif not v.passed:
                cell.outputs.append(nbformat.v4.new_output(
                    "execute_result", data={"text/plain": f"{v.score:.10g}"}, execution_count=None))
            cell.execution_count = None
        elif index in graded.skipped:
            cell.outputs = [nbformat.v4.new_output("error", ename="CellSkipped", evalue=graded.skipped[index],
                                                   traceback=[f"CellSkipped: this cell {graded.skipped[index]}"])]
            cell.execution_count = None
        elif index in graded.outputs:
            count += 1
            cell.outputs, cell.execution_count = graded.outputs[index], count
        else:
            cell.outputs, cell.execution_count = [], None  # after a cell that stopped the run, or not run


def student_lines(outcomes: list, lost: list[float]) -> list[str]:
    """What the student sees: each visible check with its hint, and the hidden checks as one count.

    Hidden checks' names and hints go to the instructor's report only (toxlab.grading.results)."""
    lines = [_with_cost(o.line(), cost) for o, cost in zip(outcomes, lost) if not o.hidden]
    hidden = [(o, cost) for o, cost in zip(outcomes, lost) if o.hidden]
    if hidden:
        failed = sum(not o.passed for o, _ in hidden)
        head = f"  {'FAIL' if failed else 'PASS'}  hidden checks: {len(hidden) - failed} of {len(hidden)} passed"
        lines.append(_with_cost(head, sum(cost for _, cost in hidden)))
    return lines


def _with_cost(line: str, cost: float) -> str:
    """A check's line with the points its failure cost, after its name."""
    if not cost:
        return line
    first, sep, rest = line.partition("\n")
    return f"{first}  (-{cost:g} points){sep}{rest}"

