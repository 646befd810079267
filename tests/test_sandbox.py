"""toxlab.sandbox on its own: what a sandboxed process can and cannot do (Linux, bwrap, Landlock >= 5.13).

Each check also runs with the protection switched off, to show that it detects the difference.
TOXLAB_SANDBOX_BWRAP=0 turns the namespaces off, TOXLAB_SANDBOX_LANDLOCK=0 the Landlock rules.
"""

from __future__ import annotations

import os
import pathlib
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from toxlab.sandbox import bwrap_works, landlock_abi

needs_landlock = pytest.mark.skipif(landlock_abi() < 1, reason="this kernel has no Landlock")


@pytest.fixture(scope="module", autouse=True)
def _bwrap():
    """bwrap is part of the grading setup (README, .ci/run): missing, it is a failure in CI."""
    if not bwrap_works():
        msg = "bubblewrap (bwrap) is missing or cannot make namespaces here: apt-get install bubblewrap"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def sandboxed(code: str, cwd, **env) -> str:
    """stdout of `python -c code` run through `python -m toxlab.sandbox --` in `cwd`."""
    res = subprocess.run([sys.executable, "-m", "toxlab.sandbox", "--", "python", "-c", code], cwd=cwd,
                         capture_output=True, text=True, timeout=120, env={**os.environ, **env})
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


@pytest.fixture
def course(tmp_path):
    """A course folder with a secret file, and a submission folder inside it."""
    (tmp_path / "hidden_checks.py").write_text("SECRET_CHECK = 42\n")
    work = tmp_path / "autograded" / "student"
    work.mkdir(parents=True)
    return tmp_path, work


PROBE = """
import os, pathlib
for name, path in [("read", "../../hidden_checks.py")]:
    try: print(name, pathlib.Path(path).read_text().strip())
    except OSError as e: print(name, "denied", type(e).__name__)
try: pathlib.Path("../../gradebook.db").write_text("x"); print("write outside: done")
except OSError as e: print("write outside: denied")
pathlib.Path("inside.txt").write_text("ok"); print("write inside: done")
print("secret:", os.environ.get("AWS_SECRET_ACCESS_KEY"))
"""


@needs_landlock
@pytest.mark.parametrize("bwrap,landlock", [("1", "1"), ("1", "0"), ("0", "1"), ("0", "0")])
def test_files_outside_the_folder_and_credentials_are_out_of_reach(course, bwrap, landlock):
    root, work = course
    out = sandboxed(PROBE, work, AWS_SECRET_ACCESS_KEY="hunter2", TOXLAB_SANDBOX_LANDLOCK=landlock,
                    TOXLAB_SANDBOX_BWRAP=bwrap)
    assert "write inside: done" in out and "secret: None" in out
    if "1" in (bwrap, landlock):  # either layer alone keeps the course out of reach
        # (under bwrap a write "outside" lands in the sandbox's private /tmp, never in the real folder)
        assert "read denied" in out and not (root / "gradebook.db").exists()
    else:  # the same probe with both off: it reads the checks and writes the gradebook
        assert "read SECRET_CHECK = 42" in out and (root / "gradebook.db").exists()


@needs_landlock
def test_no_tcp_connections(tmp_path):
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    code = (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=5); print('connected')\n"
            "except OSError as e:\n    print('refused', type(e).__name__)")
    try:
        assert "refused PermissionError" in sandboxed(code, tmp_path)  # Landlock says no first
        # its own network namespace alone: nothing listens on that loopback
        assert "refused ConnectionRefusedError" in sandboxed(code, tmp_path, TOXLAB_SANDBOX_LANDLOCK="0")
        assert "connected" in sandboxed(code, tmp_path, TOXLAB_SANDBOX_LANDLOCK="0", TOXLAB_SANDBOX_BWRAP="0")
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # the server itself is reachable
    finally:
        server.shutdown()


# --- reach between processes: the grader, other students -----------------------------------------

def test_cannot_read_signal_or_trace_the_grader(tmp_path):
    """/proc/<grader>/environ and mem, ptrace, process_vm_readv and kill against a stand-in for the grader.

    (A stand-in, not this process: without namespaces, as root, the probe's PTRACE_ATTACH succeeds and stops it.)"""
    grader = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"],
                              env={**os.environ, "GRADER_SECRET": "hunter2"})
    try:
        _probe_the_grader(grader.pid, tmp_path)
    finally:
        grader.kill()
        grader.wait()


def _probe_the_grader(me: int, tmp_path) -> None:
    code = f"""
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
def tried(what, fn):
    try:
        fn(); print(what, "ALLOWED")
    except OSError as e:
        print(what, "denied", type(e).__name__)
tried("environ", lambda: print("secret seen:", b"hunter2" in open("/proc/{me}/environ", "rb").read()))
tried("mem", lambda: open("/proc/{me}/mem", "rb").close())
tried("signal", lambda: os.kill({me}, 0))
def ptrace():
    if libc.ptrace(16, {me}, None, None) != 0:  # PTRACE_ATTACH
        raise OSError(ctypes.get_errno(), "ptrace")
    libc.ptrace(17, {me}, None, None)  # PTRACE_DETACH
tried("ptrace", ptrace)
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
def vm_read():
    buf = ctypes.create_string_buffer(8)
    local, remote = iovec(ctypes.addressof(buf), 8), iovec(0x400000, 8)
    if libc.process_vm_readv({me}, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) < 0 \
            and ctypes.get_errno() in (1, 3):  # EPERM, ESRCH: not allowed or not found
        raise OSError(ctypes.get_errno(), "process_vm_readv")
tried("process_vm_readv", vm_read)
"""
    on = sandboxed(code, tmp_path, TOXLAB_SANDBOX_LANDLOCK="0")
    assert all(f"{what} denied" in on for what in ("environ", "mem", "signal", "ptrace", "process_vm_readv")), on
    off = sandboxed(code, tmp_path, TOXLAB_SANDBOX_LANDLOCK="0", TOXLAB_SANDBOX_BWRAP="0")
    assert "secret seen: True" in off and "signal ALLOWED" in off, off  # as root, without namespaces
    assert "secret seen" not in on


def test_shared_memory_and_tmp_are_private_to_each_sandbox(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    write = "import pathlib\nfor d in ('/dev/shm', '/tmp'):\n    p = pathlib.Path(d, 'toxlab-test-note')\n" \
            "    try: p.write_text('from a'); print('wrote', d)\n    except OSError: print('no write', d)"
    read = "import pathlib\nfor d in ('/dev/shm', '/tmp'):\n    p = pathlib.Path(d, 'toxlab-test-note')\n" \
           "    try: print(d, p.read_text())\n    except OSError: print(d, 'nothing')"
    try:
        assert "wrote /dev/shm" in sandboxed(write, a)
        assert "/dev/shm nothing" in sandboxed(read, b) and "/tmp nothing" in sandboxed(read, b)
        sandboxed(write, a, TOXLAB_SANDBOX_BWRAP="0")
        assert "/dev/shm from a" in sandboxed(read, b, TOXLAB_SANDBOX_BWRAP="0")  # without namespaces: shared
    finally:
        for d in ("/dev/shm", "/tmp"):
            pathlib.Path(d, "toxlab-test-note").unlink(missing_ok=True)


def test_a_daemon_does_not_outlive_its_sandbox(tmp_path):
    """A double-forked setsid daemon keeps touching a file; it must stop when its sandbox ends."""
    code = """
import os, time, pathlib
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)  # a real daemon lets go of the terminal (and of the caller's pipes)
        for _ in range(100):  # at most 10 s
            pathlib.Path("beat").write_text(str(time.time()))
            time.sleep(0.1)
        os._exit(0)
    os._exit(0)
time.sleep(0.5)
print("started")
"""

    def beating(work) -> bool:
        before = (work / "beat").read_text()
        time.sleep(1.0)
        return (work / "beat").read_text() != before

    on, off = tmp_path / "on", tmp_path / "off"
    on.mkdir(), off.mkdir()
    assert "started" in sandboxed(code, on)
    assert not beating(on), "the daemon outlived its sandbox"
    assert "started" in sandboxed(code, off, TOXLAB_SANDBOX_BWRAP="0")
    assert beating(off), "without namespaces the daemon lives on (this is what the test detects)"


def test_only_the_channel_descriptors_reach_the_executor(tmp_path):
    """An inheritable descriptor of the grader's never reaches the executor; without close_fds it would."""
    from toxlab.grading.checker import Executor

    r, w = os.pipe()
    os.set_inheritable(w, True)
    pipe = os.readlink(f"/proc/self/fd/{w}")  # pipe:[inode]
    ex = Executor(tmp_path)
    try:
        ex.start()
        cell = ("import os\ndef fds():\n    out = []\n    for f in os.listdir('/proc/self/fd'):\n"
                "        try: out.append(os.readlink('/proc/self/fd/' + f))\n        except OSError: pass\n    return out")
        assert ex.request({"op": "run", "source": cell}, 30)["ok"]
        held = ex.request({"op": "call", "name": "fds", "args": [], "kwargs": {}}, 30)["value"]
    finally:
        ex.close()
    assert len([h for h in held if h.startswith("pipe:")]) == 2, f"only its two channel ends are pipes: {held}"
    assert pipe not in held, f"the executor holds the grader's {pipe}"
    leaky = subprocess.run([sys.executable, "-c", f"import os; print(os.readlink('/proc/self/fd/{w}'))"],
                           close_fds=False, capture_output=True, text=True)
    assert leaky.stdout.strip() == pipe, "without close_fds the descriptor would be inherited"
    os.close(r), os.close(w)


ZYGOTE_PROBE = """
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
zygote = os.getppid()
def tried(what, fn):
    try:
        fn(); print(what, "ALLOWED")
    except OSError as e:
        print(what, "denied", type(e).__name__)
tried("mem", lambda: open(f"/proc/{zygote}/mem", "rb").close())
def ptrace():
    if libc.ptrace(16, zygote, None, None) != 0:  # PTRACE_ATTACH
        raise OSError(ctypes.get_errno(), "ptrace")
    libc.ptrace(17, zygote, None, None)
tried("ptrace", ptrace)
os.kill(zygote, signal.SIGKILL)
"""


@pytest.mark.parametrize("bwrap", ["1", "0"])
def test_an_executor_cannot_read_trace_or_kill_the_zygote_it_was_forked_from(bwrap, monkeypatch):
    """The zygote forks every submission of a grader; one submission must not reach it (and so the next)."""
    from toxlab.grading import checker

    monkeypatch.setenv("TOXLAB_SANDBOX_BWRAP", bwrap)
    z = checker.Zygote()
    monkeypatch.setitem(checker._zygotes, True, z)
    ex = checker.Executor()
    try:
        ex.start()
        out = ex.request({"op": "run", "source": ZYGOTE_PROBE, "index": 0, "kind": "student"}, 30)
        text = "".join(o.get("text", "") for o in out["value"]["outputs"])
        time.sleep(0.5)
        alive = z.proc.poll() is None
    finally:
        ex.close()
        z.close()
    if bwrap == "1":  # the zygote is the namespace's init and not dumpable
        assert "mem denied" in text and "ptrace denied" in text and alive, (text, alive)
    else:  # without namespaces, as root: what the protections stop (this is what the test detects)
        assert not alive or "ALLOWED" in text, (text, alive)
