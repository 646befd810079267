"""A throwaway PostgreSQL server for tests and benchmarks: a temporary data folder, a free loopback port.

initdb and postgres refuse to run as root, so as root (CI) the server runs as the unprivileged
user `nobody`; otherwise as the current user. Debian's postgresql package provides the binaries
(.ci/run installs it when missing).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

USER = "nobody"  # the server's owner when we are root


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl (Debian keeps them under /usr/lib/postgresql/N/bin), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server() -> Iterator[str]:
    """Start a server; yield its database URL (postgresql://toxlab@127.0.0.1:PORT/toxlab); stop it and remove its files."""
    bindir = binaries()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="toxlab-pg-"))
    as_user = {"user": USER} if os.geteuid() == 0 else {}
    if as_user:
        shutil.chown(root, USER)
    data, port = root / "data", _free_port()
    run = {"check": True, "capture_output": True, "text": True, "cwd": root, **as_user}
    try:
        subprocess.run([bindir / "initdb", "-D", data, "-U", "toxlab", "--auth=trust", "-E", "UTF8"], **run)
        subprocess.run([bindir / "pg_ctl", "-D", data, "-l", root / "server.log", "-w", "-t", "60", "-o",
                        f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off", "start"], **run)
        createdb = shutil.which("createdb", path=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
        subprocess.run([createdb, "-h", "127.0.0.1", "-p", str(port), "-U", "toxlab", "toxlab"], **run)
        yield f"postgresql://toxlab@127.0.0.1:{port}/toxlab"
    except subprocess.CalledProcessError as e:
        log = (root / "server.log").read_text()[-2000:] if (root / "server.log").exists() else ""
        raise RuntimeError(f"PostgreSQL: {' '.join(map(str, e.cmd))} failed:\n{e.stdout}{e.stderr}{log}") from None
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True,
                           cwd=root, **as_user)
        shutil.rmtree(root, ignore_errors=True)
