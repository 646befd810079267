"""toxlab.sandbox on its own: what a sandboxed process can and cannot do (Linux, Landlock >= 5.13).

Each check also runs with the protection switched off, to show that it detects the difference.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from toxlab.sandbox import landlock_abi

needs_landlock = pytest.mark.skipif(landlock_abi() < 1, reason="this kernel has no Landlock")


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
@pytest.mark.parametrize("landlock", ["1", "0"])
def test_files_outside_the_folder_and_credentials_are_out_of_reach(course, landlock):
    root, work = course
    out = sandboxed(PROBE, work, AWS_SECRET_ACCESS_KEY="hunter2", TOXLAB_SANDBOX_LANDLOCK=landlock)
    assert "write inside: done" in out and "secret: None" in out
    if landlock == "1":
        assert "read denied" in out and "write outside: denied" in out and not (root / "gradebook.db").exists()
    else:  # the same probe without Landlock: it reads the checks and writes the gradebook
        assert "read SECRET_CHECK = 42" in out and (root / "gradebook.db").exists()


@needs_landlock
def test_no_tcp_connections(tmp_path):
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    code = (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=5); print('connected')\n"
            "except OSError as e:\n    print('refused', type(e).__name__)")
    try:
        assert "refused PermissionError" in sandboxed(code, tmp_path)
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # the server itself is reachable
    finally:
        server.shutdown()


def test_memory_cap(tmp_path):
    code = ("chunks = []\ntry:\n    for _ in range(32):  # 8 GiB at most\n        chunks.append(bytearray(256 * 2**20))\n"
            "    print('allocated', len(chunks))\nexcept MemoryError:\n    print('MemoryError after', len(chunks))")
    out = sandboxed(code, tmp_path, TOXLAB_SANDBOX_MEMORY_GB="1")
    assert out.startswith("MemoryError after") and int(out.split()[-1]) < 4, out


def test_process_cap(tmp_path):
    code = ("import os, time\nn = 0\ntry:\n    for _ in range(64):  # capped: never a fork bomb\n"
            "        if os.fork() == 0:\n            time.sleep(3)\n            os._exit(0)\n        n += 1\n"
            "except OSError:\n    pass\nprint('forked', n)")
    assert int(sandboxed(code, tmp_path, TOXLAB_SANDBOX_PROCESSES="16").split()[-1]) < 16
    assert int(sandboxed(code, tmp_path, TOXLAB_SANDBOX_PROCESSES="256").split()[-1]) == 64
