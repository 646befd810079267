"""Grade a submission outside the notebook's kernel, so that code in the notebook cannot fake its score.

Inside the kernel a student's cell can rebind `check`, patch pytest or numpy, rewrite later cells
through IPython hooks, or kill the kernel; then nbgrader sees grade cells without errors and gives
full marks. Here, for each submission, a fresh sandboxed process (toxlab.sandbox) runs:

  * the instructor's setup cells (tagged `grading-setup` in the *source* notebook; the student's
    copy of them is never trusted),
  * the student's cells, each followed by a tamper check: the modules the checks rely on
    (builtins, toxlab, pytest, numpy, torch, sklearn, transformers, datasets) are compared with a
    snapshot taken before any student code ran; a change costs the exercise whose cell made it,
    and is undone so that the other exercises are graded fairly,
  * for each grade cell, the exercise's visible and hidden checks (toxlab.grading.run_checks)
    with the setup cells' names (ds, tokenizer, model, ...) restored first.

A cell that hangs or kills the process is skipped on a fresh run, so it costs only its own
exercise. The verdicts come back over a private pipe, tagged with a one-time token.
course/nbgrader_config.py replaces each grade cell's outputs with its verdict, so nbgrader's
score is this one. What this cannot stop: code that introspects the grading process's memory
while it runs (README "Grading safely").
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
from dataclasses import asdict, dataclass
from pathlib import Path

SETUP_TAG = "grading-setup"
CHECK_CALL = re.compile(r"""check\(\s*["'](\w+)["']""")
PROTECTED = ("builtins", "toxlab", "pytest", "_pytest", "pluggy", "numpy", "torch", "sklearn", "transformers",
             "datasets")


@dataclass
class Verdict:
    """The out-of-kernel result for one grade cell."""

    grade_id: str
    exercise: str
    passed: bool
    lines: list[str]  # what the grade cell shows: one line per check, hints, and why it failed


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


# --- the trusted side: run the child, restart it past cells that kill or hang it ------------------

def verify(submission, source, hidden_checks: Path | None, workdir: Path, timeout: float = 90,
           sandbox: bool = True, attempts: int = 4) -> dict[str, Verdict]:
    """Grade `submission` against `source` in a fresh sandboxed process; one Verdict per grade cell."""
    steps = plan(submission, source)
    hidden = Path(hidden_checks).read_text() if hidden_checks else None
    skipped: dict[int, str] = {}
    verdicts: dict[str, Verdict] = {}
    for _ in range(attempts):
        run = [s for s in steps if s["index"] not in skipped]
        verdicts, stuck, why = _run_child(run, hidden, workdir, timeout, sandbox)
        if stuck is None:
            break
        skipped[stuck] = why
    for gid in grade_ids(source):
        if gid not in verdicts:
            ex = next((s["exercise"] for s in steps if s.get("grade_id") == gid), gid)
            verdicts[gid] = Verdict(gid, ex, False, [f"{ex}: not graded: its grade cell is missing or grading stopped"])
    for index, why in skipped.items():
        owner = next((s.get("owner") for s in steps if s["index"] == index), None)
        for v in verdicts.values():
            if v.exercise == owner:
                v.passed = False
                v.lines.append(f"  cell {index + 1} {why}; it was skipped, and this exercise scores 0")
    return verdicts


def _run_child(steps, hidden, workdir, timeout, sandbox):
    """One child run: (verdicts, index of the cell that killed or hung it or None, why)."""
    token = secrets.token_hex(16)
    read_fd, write_fd = os.pipe()
    cmd = [sys.executable, "-m", "toxlab.verify", "--child", str(write_fd)]
    if sandbox:
        cmd = [sys.executable, "-m", "toxlab.sandbox", "--", *cmd]
    env = {**os.environ, "TOXLAB_MODE": "grade", "NBGRADER_EXECUTION": "autograde"}
    proc = subprocess.Popen(cmd, cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, pass_fds=[write_fd], env=env, start_new_session=True)
    os.close(write_fd)
    payload = {"token": token, "steps": steps, "hidden": hidden, "timeout": timeout}
    try:
        proc.stdin.write(json.dumps(payload).encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    verdicts, current, ended = {}, None, False
    sel = selectors.DefaultSelector()
    sel.register(read_fd, selectors.EVENT_READ)
    buf, deadline = b"", time.monotonic() + timeout + 60  # imports and setup before the first cell
    while not ended:
        if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
            _kill(proc)
            return verdicts, current, f"did not finish in {timeout:g} s"
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            tag, _, rest = line.decode(errors="replace").partition("\t")
            if tag != token:
                continue  # not from the grader: student code wrote to the pipe
            kind, _, data = rest.partition("\t")
            if kind == "start":
                current, deadline = int(data), time.monotonic() + timeout + 10
            elif kind == "done":
                current = None
            elif kind == "verdict":
                v = Verdict(**json.loads(data))
                verdicts[v.grade_id] = v
            elif kind == "end":
                ended = True
    sel.close()
    os.close(read_fd)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    _kill(proc)
    if ended:
        return verdicts, None, ""
    if current is None:  # died outside any cell: during setup or imports
        err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
        raise RuntimeError(f"toxlab.verify: the grading process failed before any cell ran:\n{err}")
    return verdicts, current, f"ended the grading process (exit {proc.returncode})"


def _kill(proc) -> None:
    from .sandbox import kill_sandbox

    kill_sandbox(proc.pid)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


# --- the child: runs student code, so nothing it reports is trusted without the token -------------

class CellTimeout(BaseException):
    """Raised in a cell or a check that runs past the timeout (BaseException: `except Exception` misses it)."""


def _snapshot() -> dict:
    """Module and class dictionaries of the protected packages, as they are now."""
    snap = {}
    for name, mod in list(sys.modules.items()):
        d = getattr(mod, "__dict__", None)
        if mod is None or d is None or name.split(".")[0] not in PROTECTED:
            continue
        snap[name] = (mod, dict(d))
        for value in list(d.values()):
            if isinstance(value, type) and getattr(value, "__module__", "").split(".")[0] in PROTECTED:
                snap.setdefault(("class", id(value)), (value, dict(value.__dict__)))
    return snap


def _watched(owner: str, value) -> bool:
    """Values whose rebinding counts as tampering: everything in toxlab and builtins, code elsewhere."""
    if owner.split(".")[0] in ("toxlab", "builtins"):
        return True
    return callable(value) or isinstance(value, (type, type(sys), staticmethod, classmethod, property))


def _tampered(snap: dict, restore: bool) -> list[str]:
    """What changed since `snap`; put it back when `restore`."""
    changes = []
    for key, (obj, saved) in snap.items():
        if isinstance(key, str):
            if sys.modules.get(key, obj) is not obj:
                changes.append(f"sys.modules[{key!r}] replaced")
                if restore:
                    sys.modules[key] = obj
            owner, current = key, obj.__dict__
        else:
            owner, current = f"{obj.__module__}.{obj.__qualname__}", obj.__dict__
        for name, value in saved.items():
            now = current.get(name, _MISSING)
            if now is not value and _watched(owner, value) and not (name.startswith("__") and name.endswith("__")
                                                                       and name not in ("__import__", "__build_class__")):
                changes.append(f"{owner}.{name} {'deleted' if now is _MISSING else 'replaced'}")
                if restore:
                    setattr(obj, name, value)
    return changes


_MISSING = object()


def _warm_up() -> None:
    """Import what the checks use before any student code runs, so the snapshot covers it."""
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import torch  # noqa: F401
    import torch.nn.functional  # noqa: F401
    import transformers  # noqa: F401
    from transformers import Trainer, TrainingArguments  # noqa: F401

    import toxlab.grading
    import toxlab.grading_checks  # noqa: F401
    from toxlab.grading import run_checks

    try:  # one silent run loads pytest's plugins; no check matches the selection
        run_checks("__warm_up__", {})
    except toxlab.grading.ExerciseFailed:
        pass


def _kill_leftovers() -> None:
    """Kill every process the last cell left running (forks, shells); with the subreaper set, orphans are ours too."""
    import signal

    me, killed = os.getpid(), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == me:  # ppid
                os.kill(int(stat.parent.name), signal.SIGKILL)
                killed += 1
        except (OSError, ValueError, IndexError):
            continue
    for _ in range(killed):  # reap them
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break


def _to_python(source: str) -> str:
    """IPython syntax (magics, !shell) as plain Python calls on the stub get_ipython()."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - a student's odd syntax: let compile() report it
        return source


class _NoIPython:
    """get_ipython() for cells run here: magics and shell commands do nothing."""

    def __getattr__(self, name):
        return lambda *a, **k: None


def child(result_fd: int) -> None:
    """Run the plan from stdin, report to `result_fd`. Runs inside the sandbox."""
    import signal
    import tempfile

    import ctypes

    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: a cell's orphaned forks stay ours to kill
    payload = json.loads(sys.stdin.read())
    token, timeout = payload["token"], float(payload["timeout"])
    out = os.fdopen(result_fd, "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # student prints go nowhere; nothing they print can look like a verdict
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process

    def report(kind: str, data: str = "") -> None:
        out.write(f"{token}\t{kind}\t{data}\n")

    def on_alarm(*_):
        raise CellTimeout(f"ran past the {timeout:g} s timeout")

    hidden_path = None
    if payload["hidden"] is not None:
        hidden_path = os.path.join(tempfile.mkdtemp(), "hidden_checks.py")
        Path(hidden_path).write_text(payload["hidden"])

    _warm_up()
    from toxlab.grading import VISIBLE_CHECKS, run_check_files

    signal.signal(signal.SIGALRM, on_alarm)
    snap = _snapshot()
    ns: dict = {"__name__": "__main__", "__builtins__": __builtins__, "display": lambda *a, **k: None,
                "get_ipython": _NoIPython}
    trusted: dict = {}
    tamper: dict[str, list[str]] = {}
    for step in payload["steps"]:
        report("start", str(step["index"]))
        if step["kind"] == "grade":
            ns.update(trusted)
            outcomes, lines = [], []
            signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                found = run_check_files(step["exercise"], ns, [VISIBLE_CHECKS, *filter(None, [hidden_path])])
            except BaseException as e:  # noqa: BLE001 - student code raised out of the checks
                found = []
                lines.append(f"  FAIL  the checks could not run: {_short(e)}")
                outcomes.append(False)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            _kill_leftovers()
            for o in found:
                outcomes.append(o.passed)
                hint = "(details hidden)" if o.hidden and o.hint.startswith("assert") else o.hint
                lines.append(f"  {'PASS' if o.passed else 'FAIL'}  {'(hidden) ' if o.hidden else ''}{o.name}"
                             + (f"\n        hint: {hint}" if hint and not o.passed else ""))
            changed = _tampered(snap, restore=True)
            if changed:
                tamper.setdefault(step["exercise"], []).extend(changed)
            problems = tamper.get(step["exercise"], [])
            if problems:
                lines.append("  FAIL  tampering with the grader: " + "; ".join(sorted(set(problems))[:5]))
            passed = bool(outcomes) and all(outcomes) and not problems
            head = f"{step['exercise']}: {sum(outcomes)}/{len(outcomes)} checks passed (graded outside the notebook)"
            report("verdict", json.dumps(asdict(Verdict(step["grade_id"], step["exercise"], passed, [head, *lines]))))
        else:
            before = dict(ns)
            signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                exec(compile(_to_python(step["source"]), f"<cell {step['index'] + 1}>", "exec"), ns)  # noqa: S102
            except BaseException:  # noqa: BLE001 - the cell's own error; the kernel run shows it
                pass
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            _kill_leftovers()
            if step["kind"] == "setup":
                trusted.update({k: v for k, v in ns.items() if before.get(k, _MISSING) is not v})
            else:
                changed = _tampered(snap, restore=True)
                if changed:
                    tamper.setdefault(step.get("owner", ""), []).extend(changed)
        report("done", str(step["index"]))
    report("end")
    out.flush()
    os._exit(0)  # skip interpreter teardown: student objects' __del__ must not run after the report


def _short(e: BaseException) -> str:
    return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:200]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(int(sys.argv[2]))
    else:
        raise SystemExit("toxlab.verify is run by course/nbgrader_config.py, not by hand")
