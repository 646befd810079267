"""The untrusted side of grading: run the notebook's cells, then answer the checker's questions.

    python -m toxlab.sandbox -- python -m toxlab.grading.executor --zygote CONTROL_FD PRIVATE LANDLOCK

toxlab.grading.checker starts it so, as a zygote that imports once and forks one executor per
submission (`zygote` below). Each executor reads one JSON request per line on its input pipe and
writes one JSON reply per line on its output pipe:

    {"id", "op": "run", "source", "index", "kind"}                run a cell in the notebook's IPython shell;
                                                                   the value is the cell's notebook outputs
    {"id", "op": "info", "name"}                                   is `name` defined, callable, from where
    {"id", "op": "call", "name", "args", "kwargs", "echo"}         call a student function on plain inputs
                                                                   (echo: also send the arguments back, to see mutation)
    {"id", "op": "harness", "name", "args", "kwargs"}             a course's harness on the student's namespace
                                                                   (toxlab.grading.extensions)

It holds no check, no expected value and no verdict: every reply is only the student's answer,
which the checker (toxlab.grading.checker) validates and compares with its own reference. So
nothing code here can do (patching, stack walks, forged replies) raises a score; at most it
spoils its own answers. `serve` is also what toxlab.grading.check uses in the kernel, so the
checks see the same plain data in JupyterLab and in autograde.
"""

from __future__ import annotations

import builtins
import io
import itertools
import json
import os
import shutil
import signal
import sys
from pathlib import Path

from . import wire
from .extensions import registry

BUILTIN_ERRORS = {name for name, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}


class CallTimeout(BaseException):
    """A cell or call that ran past its time (BaseException: `except Exception` in student code misses it)."""


def error_text(e: BaseException) -> str:
    """An exception as the checker may show it: a builtin type's name and its first line, cut short."""
    name = type(e).__name__ if type(e).__name__ in BUILTIN_ERRORS else "an exception"
    try:
        first = str(e).splitlines()[0] if str(e) else ""
    except Exception:  # noqa: BLE001 - a student's __str__ may raise
        first = ""
    return f"{name}: {first[:200]}" if first else name


def _info(ns: dict, name: str) -> dict:
    import inspect

    fn = ns.get(name)
    module = getattr(fn, "__module__", "") if fn is not None else ""
    try:
        source = inspect.getsource(fn) if callable(fn) else ""
    except (OSError, TypeError):
        source = ""
    return {"defined": name in ns, "callable": callable(fn), "module": str(module or ""),
            "mentions_toxlab": "toxlab" in source}


def serve(ns: dict, req: dict) -> dict:
    """Answer one request against the namespace `ns`; the reply is plain data."""
    op = req.get("op")
    try:
        if op == "info":
            value = _info(ns, req["name"])
        elif op == "call":
            fn = ns.get(req["name"])
            if not callable(fn):
                raise NameError(f"{req['name']} is not defined")
            args = wire.decode_args(req.get("args", []), registry().build)
            kwargs = wire.decode_args(req.get("kwargs", {}), registry().build)
            value = fn(*args, **kwargs)
            if req.get("echo"):
                value = {"result": value, "args": args, "kwargs": kwargs}
        elif op == "harness":
            harness = registry().harnesses.get(req["name"])
            if harness is None:
                raise NameError(f"no harness named {req['name']}")
            args = wire.decode_args(req.get("args", []), registry().build)
            kwargs = wire.decode_args(req.get("kwargs", {}), registry().build)
            value = harness(ns, *args, **kwargs)
        else:
            raise ValueError(f"unknown op {op!r}")
        return {"id": req.get("id"), "ok": True, "value": wire.to_plain(value)}
    except CallTimeout:
        raise
    except wire.WireError as e:
        return {"id": req.get("id"), "ok": False, "error": f"an answer that cannot be sent as data ({e})"}
    except BaseException as e:  # noqa: BLE001 - the student's code may raise anything, SystemExit included
        return {"id": req.get("id"), "ok": False, "error": error_text(e)}


# --- running cells: a real IPython shell whose outputs are recorded as notebook outputs -----------

RICH = wire.NOTEBOOK_MIMES
MAX_CELL_OUTPUT = 4 * 2**20  # characters one cell may record; the rest is cut (the reply must fit wire.MAX_BYTES)


class Outputs:
    """One cell's outputs as nbformat dicts, in the order the cell made them."""

    def __init__(self):
        self.items: list[dict] = []
        self.size = 0

    def _room(self, n: int) -> bool:
        if self.size + n > MAX_CELL_OUTPUT:
            if self.size <= MAX_CELL_OUTPUT:
                self.items.append({"output_type": "stream", "name": "stdout", "text": "\n... output cut ...\n"})
                self.size = MAX_CELL_OUTPUT + 1
            return False
        self.size += n
        return True

    def stream(self, name: str, text: str) -> None:
        if not self._room(len(text)):
            return
        last = self.items[-1] if self.items else {}
        if last.get("output_type") == "stream" and last.get("name") == name:
            last["text"] += text
        else:
            self.items.append({"output_type": "stream", "name": name, "text": text})

    def rich(self, kind: str, data: dict, metadata: dict | None) -> None:
        data = {k: v for k, v in (data or {}).items() if k in RICH and type(v) is str}
        if data and self._room(sum(map(len, data.values()))):
            out = {"output_type": kind, "data": data, "metadata": {}}
            if kind == "execute_result":
                out["execution_count"] = None
            self.items.append(out)

    def error(self, etype, evalue, stb) -> None:
        try:
            name, value = str(getattr(etype, "__name__", "Error")), str(evalue)
            lines = [str(x) for x in stb]
        except Exception:  # noqa: BLE001 - a student's exception may refuse to print
            name, value, lines = "Error", "", []
        if self._room(len(value) + sum(map(len, lines))):
            self.items.append({"output_type": "error", "ename": name[:200], "evalue": value, "traceback": lines})


_current = Outputs()  # the running cell's outputs; the shell's hooks write here


class _Stream(io.TextIOBase):
    """sys.stdout or sys.stderr while a cell runs."""

    def __init__(self, name: str):
        self.name = name

    def write(self, text) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        _current.stream(self.name, text)
        return len(text)

    def writable(self) -> bool:
        return True


def make_shell():
    """An IPython shell like the kernel's (magics, display, inline figures) that records into `_current`."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets import Type
    from traitlets.config import Config

    class Result(DisplayHook):
        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            _current.rich("execute_result", format_dict, md_dict)

        def finish_displayhook(self):
            pass

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, *args, **kwargs):
            _current.rich("display_data", data, metadata)

    class Shell(InteractiveShell):
        displayhook_class = Type(Result)
        display_pub_class = Type(Publisher)

        def _showtraceback(self, etype, evalue, stb):
            _current.error(etype, evalue, stb)

        def enable_gui(self, gui=None):
            pass  # inline figures need no event loop

    cfg = Config()
    cfg.HistoryManager.enabled = False  # no sqlite history file in the scratch home
    cfg.InteractiveShell.colors = "nocolor"
    shell = Shell.instance(config=cfg)
    shell.enable_matplotlib("inline")  # figures show at the end of each cell, as in the kernel
    shell.events.register("post_run_cell", forget_failed_cell)
    return shell


def forget_failed_cell(result) -> None:
    """Drop the last failed cell's traceback: its frames would hold what it allocated (a MemoryError's
    whole address-space cap) for every cell after it."""
    import gc

    error = result.error_in_exec or result.error_before_exec
    if error is None:
        return
    error.__traceback__ = None
    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        if hasattr(sys, name):
            setattr(sys, name, None)
    from IPython import get_ipython

    shell = get_ipython()
    for formatter in (shell.InteractiveTB, getattr(shell.InteractiveTB, "VerboseTB", None),
                      getattr(shell.InteractiveTB, "FormattedTB", None), shell.SyntaxTB):
        if formatter is not None and hasattr(formatter, "tb"):
            formatter.tb = None  # IPython's traceback formatters keep the last one
    gc.collect()


def run_cell(shell, req: dict) -> dict:
    """Run one cell; reply with its outputs, or {"error": "timeout"} when it ran past its time."""
    global _current
    _current = Outputs()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Stream("stdout"), _Stream("stderr")
    try:
        result = shell.run_cell(req["source"], store_history=True)
    finally:
        sys.stdout, sys.stderr = saved
    error = result.error_before_exec or result.error_in_exec
    if isinstance(error, CallTimeout):  # IPython reports every exception, ours too
        return {"id": req.get("id"), "ok": False, "error": "timeout", "value": {"outputs": _current.items}}
    return {"id": req.get("id"), "ok": True, "value": {"outputs": _current.items, "failed": error is not None}}

# --- fairness, not security: one cell's monkeypatches do not leak into the other exercises ---------

RESTORED = ("builtins", "json", "math", "numpy", "toxlab", "IPython")  # and each extension's `restored`


def snapshot() -> dict:
    """Module and class dictionaries of the libraries the answers use, as they are now."""
    import warnings

    with warnings.catch_warnings():  # reading every attribute touches deprecated ones
        warnings.simplefilter("ignore")
        return _snapshot()


def _snapshot() -> dict:
    snap = {}
    restored = set(RESTORED) | registry().restored
    for name, mod in list(sys.modules.items()):
        d = getattr(mod, "__dict__", None)
        if mod is None or d is None or name.split(".")[0] not in restored:
            continue
        snap[name] = (mod, dict(d))
        for value in list(d.values()):
            if isinstance(value, type) and getattr(value, "__module__", "").split(".")[0] in restored:
                snap.setdefault(("class", id(value)), (value, dict(value.__dict__)))
    return snap


def restore(snap: dict) -> None:
    """Put back what a student cell rebound or deleted in those modules and classes, and drop trace hooks.

    The executor is the student's own process, so this is no defence (the checker needs none): it
    only keeps a patch made in one exercise's cell from spoiling the student's other answers."""
    for key, (obj, saved) in snap.items():
        if isinstance(key, str) and sys.modules.get(key, obj) is not obj:
            sys.modules[key] = obj
        current = obj.__dict__
        for name, value in saved.items():
            if current.get(name, _MISSING) is not value and not (name.startswith("__") and name.endswith("__")
                                                                  and name not in ("__import__", "__build_class__")):
                try:
                    setattr(obj, name, value)
                except (AttributeError, TypeError):
                    pass
    forget_hooks()


def shell_snapshot(shell) -> dict:
    """The shell's per-cell hooks (input and AST transformers, event callbacks) and its instance attributes."""
    manager = shell.input_transformer_manager
    lists = [shell.input_transformers_post, shell.ast_transformers, manager.cleanup_transforms,
             manager.line_transforms, manager.token_transformers, *shell.events.callbacks.values()]
    return {"lists": [(lst, list(lst)) for lst in lists], "events": dict(shell.events.callbacks),
            "shell": (shell, dict(shell.__dict__))}


def shell_restore(saved: dict) -> None:
    """Undo what a cell did to the shell's hooks, so that it cannot turn the next cells into something else."""
    for lst, items in saved["lists"]:
        lst[:] = items
    shell, attrs = saved["shell"]
    shell.events.callbacks.clear()
    shell.events.callbacks.update(saved["events"])
    for name in set(shell.__dict__) - set(attrs):
        del shell.__dict__[name]
    shell.__dict__.update(attrs)


def forget_hooks() -> None:
    import threading

    sys.settrace(None)
    sys.setprofile(None)
    threading.settrace(None)
    threading.setprofile(None)


_MISSING = object()


def kill_leftovers(until_none: bool = False) -> None:
    """Kill every process the last cell left running (forks, shells); as a subreaper, orphans are ours too.

    until_none: go on until no child is left (the zygote between submissions: a dying process's
    children become ours only once it is gone)."""
    me = os.getpid()
    while True:
        killed = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == me:  # ppid
                    os.kill(int(stat.parent.name), signal.SIGKILL)
                    killed += 1
            except (OSError, ValueError, IndexError):
                continue
        for _ in range(killed):
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
        if not until_none or not killed:
            return


def warm_up() -> None:
    """Import what the notebook's setup cells need before the first request (start-up, not per cell): the
    shell's own libraries, then what the course's extensions preload."""
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    from IPython.core.interactiveshell import InteractiveShell  # noqa: F401
    from matplotlib_inline import backend_inline  # noqa: F401

    found = registry()
    if not found.extensions:  # the checks' objects could not be built: fail at start-up, where the checker shows it
        raise RuntimeError("no toxlab.grading entry points are installed here (pip install -e . installs the "
                           "course's); without them the executor cannot build what the checks ask for")
    found.preload()


def main(fd_in: int, fd_out: int) -> None:
    """Serve requests until the input closes. Runs inside the sandbox."""
    import ctypes

    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: a cell's orphaned forks stay ours to kill
    requests = os.fdopen(fd_in, "rb")
    replies = os.fdopen(fd_out, "wb", buffering=0)
    warm_up()  # before stderr goes: a start-up failure shows in the checker's error
    shell = make_shell()
    ns = shell.user_ns
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)  # what a cell writes to the descriptors goes nowhere; sys.stdout is recorded
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process

    def on_alarm(*_):
        raise CallTimeout("ran past its time")

    signal.signal(signal.SIGALRM, on_alarm)
    replies.write(b'{"op": "ready"}\n')
    snap = None
    for line in requests:
        req = json.loads(line)
        if snap is None and req.get("kind") == "student":
            snap = snapshot()  # after the instructor's setup cells, before the first student cell
            shell_snap = shell_snapshot(shell)
        signal.signal(signal.SIGALRM, on_alarm)  # a cell may have replaced the handler
        signal.setitimer(signal.ITIMER_REAL, float(req.get("timeout", 60)))
        try:
            reply = run_cell(shell, req) if req.get("op") == "run" else serve(ns, req)
        except CallTimeout:
            reply = {"id": req.get("id"), "ok": False, "error": "timeout"}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        kill_leftovers()
        # after students' cells only: each undo walks every torch and transformers module (20 ms), and
        # what student code patches while an instructor's cell calls it is undone after the next one
        if snap is not None and req.get("op") == "run" and req.get("kind") == "student":
            restore(snap)
            shell_restore(shell_snap)
        else:  # trace and profile hooks a call set would slow every later answer
            forget_hooks()
        try:
            data = json.dumps(reply, allow_nan=False, separators=(",", ":")).encode()
            if len(data) > wire.MAX_BYTES:
                raise wire.WireError("too large")
        except (ValueError, TypeError) as e:
            data = json.dumps({"id": req.get("id"), "ok": False, "error": f"answer not sendable: {e}"[:200]}).encode()
        replies.write(data + b"\n")
    os._exit(0)  # skip interpreter teardown: student objects' __del__ must not run


# --- the zygote: one warm process per grader, forking a fresh executor per submission ------------------

def zygote(control_fd: int, private: bool, landlock: bool) -> None:
    """Import once, then fork one executor per request on the control socket. Runs inside the sandbox.

    Requests (SOCK_SEQPACKET): b"fork" with the child's two channel descriptors attached, answered
    b"forked"; b"reset", answered b"reset" once every process a child left is killed and its files
    are gone. Each child is a copy of this process from before any student code ran, in a home of
    its own that only it may write (Landlock), so one student's run cannot reach the next one's.
    """
    import ctypes
    import socket

    libc = ctypes.CDLL(None)
    libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: children (student code, same user) cannot trace or read us
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: whatever a child leaves running becomes ours to kill
    warm_up()
    ctl = socket.socket(fileno=control_fd)
    ctl.send(b"ready")
    homes = Path.cwd()
    for n in itertools.count():
        try:
            msg, fds, _, _ = socket.recv_fds(ctl, 64, 2)
        except OSError:
            msg, fds = b"", []
        if msg == b"fork" and len(fds) == 2:
            home = homes / f"job-{n}"
            home.mkdir()
            if os.fork() == 0:
                ctl.close()
                _child(home, fds[0], fds[1], landlock)
            for fd in fds:
                os.close(fd)
            ctl.send(b"forked")
        elif msg == b"reset":
            kill_leftovers(until_none=True)
            for job in homes.glob("job-*"):
                shutil.rmtree(job, ignore_errors=True)
            if private:  # bwrap's own /dev/shm: what a child left there would eat the next one's memory
                for f in Path("/dev/shm").iterdir():
                    shutil.rmtree(f, ignore_errors=True) if f.is_dir() else f.unlink(missing_ok=True)
            ctl.send(b"reset")
        else:
            kill_leftovers(until_none=True)
            os._exit(0)


def _child(home: Path, fd_in: int, fd_out: int, landlock: bool) -> None:
    """In a fresh fork: a home, temp and caches of its own, the only place it may write; then serve."""
    import tempfile

    from ..sandbox import SCRATCH_VARS, Limits, apply_landlock, readable

    try:
        os.chdir(home)
        for k in SCRATCH_VARS:
            (home / k.lower()).mkdir()
            os.environ[k] = str(home / k.lower())
        tempfile.tempdir = None  # the zygote's imports may have fixed it to the zygote's own TMPDIR
        if landlock:
            apply_landlock(readable(Limits.from_env()), [home, Path("/dev/shm"), Path("/dev/null")], [])
        main(fd_in, fd_out)
    finally:
        os._exit(0)


if __name__ == "__main__":
    if sys.argv[1:2] != ["--zygote"] or len(sys.argv) != 5:
        raise SystemExit("toxlab.grading.executor is started by toxlab.grading.checker: "
                         "--zygote CONTROL_FD PRIVATE(0|1) LANDLOCK(0|1)")
    zygote(int(sys.argv[2]), private=sys.argv[3] == "1", landlock=sys.argv[4] == "1")
