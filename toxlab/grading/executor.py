"""The untrusted side of grading: run the notebook's cells, then answer the checker's questions.

    python -m toxlab.sandbox -- python -m toxlab.grading.executor --fds IN OUT

It reads one JSON request per line on fd IN and writes one JSON reply per line on fd OUT:

    {"id", "op": "run", "source", "index"}                        run a cell in the notebook namespace
    {"id", "op": "info", "name"}                                   is `name` defined, callable, from where
    {"id", "op": "call", "name", "args", "kwargs", "echo"}         call a student function on plain inputs
                                                                   (echo: also send the arguments back, to see mutation)
    {"id", "op": "trainer", "cls", "model", "call_model", "init", "method", "args", "kwargs", "grad"}
                                                                   a real Trainer subclass instance's method

It holds no check, no expected value and no verdict: every reply is only the student's answer,
which the checker (toxlab.grading.checker) validates and compares with its own reference. So
nothing code here can do (patching, stack walks, forged replies) raises a score; at most it
spoils its own answers. `serve` is also what toxlab.grading.check uses in the kernel, so the
checks see the same plain data in JupyterLab and in autograde.
"""

from __future__ import annotations

import builtins
import json
import os
import signal
import sys

from . import objects, wire

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


def _trainer(ns: dict, req: dict) -> dict:
    """Build a real instance of the student's Trainer subclass on a tiny model, call one method."""
    import tempfile

    import torch
    from transformers import TrainingArguments

    cls = ns.get(req["cls"])
    if not isinstance(cls, type):
        raise NameError(f"{req['cls']} is not defined as a class")
    model = wire.decode_args(req["model"], objects.build)
    # the model the method is called with: the Trainer's own unless the request names another
    call_model = wire.decode_args(req["call_model"], objects.build) if req.get("call_model") else model
    init = wire.decode_args(req.get("init", {}), objects.build)
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, report_to="none", use_cpu=True, disable_tqdm=True)
        trainer = cls(model=model, args=args, **init)
        call_args = wire.decode_args(req.get("args", []), objects.build)
        kwargs = wire.decode_args(req.get("kwargs", {}), objects.build)
        call_model.zero_grad(set_to_none=True)
        value = getattr(trainer, req["method"])(call_model, *call_args, **kwargs)
    reply = {"value": value}
    loss = value[0] if isinstance(value, tuple) and value else value
    if req.get("grad") and isinstance(loss, torch.Tensor) and loss.requires_grad and loss.dim() == 0:
        loss.backward()
        reply["grad"] = {n: p.grad for n, p in call_model.named_parameters()
                         if n.startswith("classifier.") and p.grad is not None}
    return reply


def serve(ns: dict, req: dict) -> dict:
    """Answer one request against the namespace `ns`; the reply is plain data."""
    op = req.get("op")
    try:
        if op == "run":
            exec(compile(to_python(req["source"]), f"<cell {int(req.get('index', 0)) + 1}>", "exec"), ns)  # noqa: S102
            value = None
        elif op == "info":
            value = _info(ns, req["name"])
        elif op == "call":
            fn = ns.get(req["name"])
            if not callable(fn):
                raise NameError(f"{req['name']} is not defined")
            args = wire.decode_args(req.get("args", []), objects.build)
            kwargs = wire.decode_args(req.get("kwargs", {}), objects.build)
            value = fn(*args, **kwargs)
            if req.get("echo"):
                value = {"result": value, "args": args, "kwargs": kwargs}
        elif op == "trainer":
            value = _trainer(ns, req)
        else:
            raise ValueError(f"unknown op {op!r}")
        return {"id": req.get("id"), "ok": True, "value": wire.to_plain(value)}
    except CallTimeout:
        raise
    except wire.WireError as e:
        return {"id": req.get("id"), "ok": False, "error": f"an answer that cannot be sent as data ({e})"}
    except BaseException as e:  # noqa: BLE001 - the student's code may raise anything, SystemExit included
        return {"id": req.get("id"), "ok": False, "error": error_text(e)}


def to_python(source: str) -> str:
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


# --- fairness, not security: one cell's monkeypatches do not leak into the other exercises ---------

RESTORED = ("builtins", "json", "math", "numpy", "torch", "sklearn", "transformers", "datasets", "toxlab")


def snapshot() -> dict:
    """Module and class dictionaries of the libraries the answers use, as they are now."""
    import warnings

    with warnings.catch_warnings():  # reading every attribute touches deprecated ones
        warnings.simplefilter("ignore")
        return _snapshot()


def _snapshot() -> dict:
    snap = {}
    for name, mod in list(sys.modules.items()):
        d = getattr(mod, "__dict__", None)
        if mod is None or d is None or name.split(".")[0] not in RESTORED:
            continue
        snap[name] = (mod, dict(d))
        for value in list(d.values()):
            if isinstance(value, type) and getattr(value, "__module__", "").split(".")[0] in RESTORED:
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


def forget_hooks() -> None:
    import threading

    sys.settrace(None)
    sys.setprofile(None)
    threading.settrace(None)
    threading.setprofile(None)


_MISSING = object()


def kill_leftovers() -> None:
    """Kill every process the last cell left running (forks, shells); as a subreaper, orphans are ours too."""
    from pathlib import Path

    me, killed = os.getpid(), 0
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


def warm_up() -> None:
    """Import what the notebook's setup cells need before the first request (start-up, not per cell)."""
    import numpy  # noqa: F401
    import torch  # noqa: F401
    import transformers  # noqa: F401
    from transformers import Trainer, TrainingArguments  # noqa: F401


def main(fd_in: int, fd_out: int) -> None:
    """Serve requests until the input closes. Runs inside the sandbox."""
    import ctypes

    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: a cell's orphaned forks stay ours to kill
    requests = os.fdopen(fd_in, "rb")
    replies = os.fdopen(fd_out, "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)  # student prints go nowhere
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    warm_up()

    def on_alarm(*_):
        raise CallTimeout("ran past its time")

    signal.signal(signal.SIGALRM, on_alarm)
    ns: dict = {"__name__": "__main__", "__builtins__": builtins, "display": lambda *a, **k: None,
                "get_ipython": _NoIPython}
    replies.write(b'{"op": "ready"}\n')
    snap = None
    for line in requests:
        req = json.loads(line)
        if snap is None and req.get("kind") == "student":
            snap = snapshot()  # after the instructor's setup cells, before the first student cell
        signal.signal(signal.SIGALRM, on_alarm)  # a cell may have replaced the handler
        signal.setitimer(signal.ITIMER_REAL, float(req.get("timeout", 60)))
        try:
            reply = serve(ns, req)
        except CallTimeout:
            reply = {"id": req.get("id"), "ok": False, "error": "timeout"}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        kill_leftovers()
        if snap is not None and req.get("op") == "run":
            restore(snap)
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


if __name__ == "__main__":
    if sys.argv[1:2] != ["--fds"] or len(sys.argv) != 4:
        raise SystemExit("toxlab.grading.executor is started by toxlab.grading.checker: --fds IN OUT")
    main(int(sys.argv[2]), int(sys.argv[3]))
