"""Run untrusted student code under limits, without a container (Linux).

    python -m toxlab.sandbox --kernel -f CONNECTION_FILE     # an ipykernel, for nbgrader's kernelspec
    python -m toxlab.sandbox -- COMMAND ...                  # any command (the out-of-kernel checks)

What it applies, in this order, then it execs the command:
  * a clean environment: no credentials or tokens; HOME, TMPDIR and caches in a private scratch folder;
  * resource limits: address space (RLIMIT_AS), file size, CPU time, core dumps off;
  * a process cap: a pids cgroup when this process may create one (root), else RLIMIT_NPROC
    counted on top of what the user already runs (RLIMIT_NPROC does not bind root);
  * Landlock (Linux >= 5.13, no root needed): files may be written only in the working folder,
    the scratch folder and /dev/shm; read only in the Python installation, system folders and
    the toxlab package. The course folder (gradebook, source/, hidden checks) is neither
    readable nor writable. For a kernel, TCP is limited to binding its own five ports.

It does not make one Python process safe from itself: code that runs in the same process as
the checks can inspect that process's memory. See README "Grading safely".
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM", "JPY_PARENT_PID", "TOXLAB_MODE", "TOXLAB_DATA",
            "NBGRADER_EXECUTION", "TOXLAB_GRADED_OUTSIDE", "HF_HUB_OFFLINE", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONHASHSEED")
GiB = 1024 ** 3


@dataclass
class Limits:
    """Resource limits for one sandboxed process; each has an environment variable for courses to tune."""

    memory_gb: float = 6.0  # TOXLAB_SANDBOX_MEMORY_GB: address space; importing torch maps about 2 GB already
    processes: int = 256  # TOXLAB_SANDBOX_PROCESSES: tasks (threads count) the submission may start
    file_size_mb: int = 1024  # TOXLAB_SANDBOX_FILE_MB: largest file it may write
    cpu_seconds: int = 3600  # TOXLAB_SANDBOX_CPU_S: a ceiling; the per-cell timeout is nbgrader's
    landlock: bool = True  # TOXLAB_SANDBOX_LANDLOCK=0 turns the filesystem rules off
    readable: list[str] = field(default_factory=list)  # TOXLAB_SANDBOX_READABLE: more read-only folders (os.pathsep)

    @classmethod
    def from_env(cls) -> "Limits":
        """Limits with any TOXLAB_SANDBOX_* overrides applied."""
        e = os.environ.get
        return cls(memory_gb=float(e("TOXLAB_SANDBOX_MEMORY_GB", cls.memory_gb)),
                   processes=int(e("TOXLAB_SANDBOX_PROCESSES", cls.processes)),
                   file_size_mb=int(e("TOXLAB_SANDBOX_FILE_MB", cls.file_size_mb)),
                   cpu_seconds=int(e("TOXLAB_SANDBOX_CPU_S", cls.cpu_seconds)),
                   landlock=e("TOXLAB_SANDBOX_LANDLOCK", "1") != "0",
                   readable=[p for p in e("TOXLAB_SANDBOX_READABLE", "").split(os.pathsep) if p])


def clean_env(env: dict[str, str], scratch: Path) -> dict[str, str]:
    """The environment minus everything not on ENV_KEEP, with home and caches moved to `scratch`."""
    out = {k: v for k, v in env.items() if k in ENV_KEEP or k.startswith("LC_")}
    for k in ("HOME", "TMPDIR", "MPLCONFIGDIR", "IPYTHONDIR", "HF_HOME", "XDG_CACHE_HOME", "TOXLAB_CACHE"):
        out[k] = str(scratch / k.lower())
        Path(out[k]).mkdir(parents=True, exist_ok=True)
    out["HF_HUB_OFFLINE"] = "1"
    out["PYTHONDONTWRITEBYTECODE"] = "1"
    return out


# --- resource limits and the process cap -------------------------------------------------

def set_rlimits(limits: Limits) -> None:
    """Address space, file size, CPU time; no core files."""
    for res, value in ((resource.RLIMIT_AS, int(limits.memory_gb * GiB)),
                       (resource.RLIMIT_FSIZE, limits.file_size_mb * 1024 ** 2),
                       (resource.RLIMIT_CPU, limits.cpu_seconds), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(res, (value, value))


PIDS_ROOT = Path("/sys/fs/cgroup/pids/toxlab")  # cgroup v1; v2 below


def _cgroup_dirs() -> list[tuple[Path, str]]:
    return [(PIDS_ROOT, "pids.max"), (Path("/sys/fs/cgroup/toxlab"), "pids.max")]


def cap_processes(limits: Limits) -> str:
    """Cap the tasks this process and its children may run; say how."""
    for root, knob in _cgroup_dirs():
        try:
            root.mkdir(exist_ok=True)
            for stale in root.iterdir():  # groups of finished sandboxes
                if stale.is_dir() and not (stale / "cgroup.procs").read_text().strip():
                    stale.rmdir()
            group = root / f"sandbox-{os.getpid()}"
            group.mkdir()
            (group / knob).write_text(str(limits.processes))
            (group / "cgroup.procs").write_text(str(os.getpid()))
            return f"pids cgroup {group} (max {limits.processes})"
        except OSError:
            continue
    if os.geteuid() == 0:
        return "no process cap: running as root without a writable pids cgroup (use the container setup)"
    # RLIMIT_NPROC counts every task of this user, so allow what already runs plus the cap
    uid = os.getuid()
    running = sum(1 for p in Path("/proc").glob("[0-9]*/task/[0-9]*") if _owner(p) == uid)
    resource.setrlimit(resource.RLIMIT_NPROC, (running + limits.processes,) * 2)
    return f"RLIMIT_NPROC {running} + {limits.processes}"


def _owner(path: Path) -> int | None:
    try:
        return path.stat().st_uid
    except OSError:
        return None


# --- Landlock -----------------------------------------------------------------------------

_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446  # the same numbers on x86_64 and arm64
_FS_READ = (1 << 0) | (1 << 2) | (1 << 3)  # execute, read file, read dir
_FS_FILE = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 14) | (1 << 15)  # rights that apply to a file, not a folder
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _NetPortAttr(ctypes.Structure):
    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is unavailable."""
    libc = ctypes.CDLL(None, use_errno=True)
    version = libc.syscall(_SYS_CREATE, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    return max(version, 0)


def apply_landlock(readable: list[Path], writable: list[Path], bind_ports: list[int] | None) -> str:
    """Restrict this process (and what it execs) to reading `readable` and writing `writable`.

    bind_ports: TCP ports it may bind (a kernel's); None leaves the network alone. Either way it
    may connect nowhere over TCP when the kernel supports network rules (ABI >= 4).
    """
    abi = landlock_abi()
    if abi < 1:
        return "no Landlock (Linux < 5.13 or disabled): files are not restricted"
    libc = ctypes.CDLL(None, use_errno=True)
    fs = _FS_BY_ABI.get(abi, _FS_BY_ABI[5])
    net = (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 and bind_ports is not None else 0
    attr = _RulesetAttr(fs, net)
    ruleset = libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for paths, access in ((readable, _FS_READ & fs), (writable, fs)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue  # a folder that does not exist here
                allowed = access if os.path.isdir(path) else access & _FS_FILE
                rule = _PathBeneathAttr(allowed, fd)
                rc = libc.syscall(_SYS_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0)
                os.close(fd)
                if rc < 0:
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
        for port in (bind_ports or []) if net else []:
            rule = _NetPortAttr(_NET_BIND_TCP, port)
            if libc.syscall(_SYS_ADD_RULE, ruleset, 2, ctypes.byref(rule), 0) < 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for port {port}")
        if libc.prctl(38, 1, 0, 0, 0) < 0:  # PR_SET_NO_NEW_PRIVS, required to restrict without root
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(_SYS_RESTRICT, ruleset, 0) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return f"Landlock ABI {abi}: read {len(readable)} trees, write {[str(p) for p in writable]}" + (
        f", TCP bind {bind_ports} only" if net else "")


def default_readable(limits: Limits) -> list[Path]:
    """What a kernel must read: Python, its packages, system folders, toxlab, and the data folder."""
    import site

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages(), site.getusersitepackages(),
             "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev", "/opt/conda",
             str(Path(__file__).resolve().parent), *limits.readable}
    for entry in sys.path:  # editable installs and .pth entries
        if entry and Path(entry).is_dir() and not Path(entry).samefile(Path.cwd()):
            paths.add(entry)
    if os.environ.get("TOXLAB_DATA"):
        paths.add(os.environ["TOXLAB_DATA"])
    return [Path(p) for p in sorted(paths) if p and Path(p).exists()]


def _project_roots() -> set[Path]:
    """Folders above the toxlab package that hold course material; never readable as a whole."""
    pkg = Path(__file__).resolve().parent
    return {p for p in pkg.parents if (p / "course").is_dir() or (p / "source").is_dir()}


def kill_sandbox(pid: int) -> None:
    """Kill a sandboxed command started with start_new_session: its process group and its pids cgroup."""
    import signal

    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    for root, _ in _cgroup_dirs():
        procs = root / f"sandbox-{pid}" / "cgroup.procs"
        try:
            for line in procs.read_text().split():
                os.kill(int(line), signal.SIGKILL)  # children that left the process group
        except (OSError, ValueError):
            pass


# --- entry point ------------------------------------------------------------------------------

def kernel_ports(connection_file: str) -> list[int]:
    """The five ports an ipykernel binds, from its connection file."""
    info = json.loads(Path(connection_file).read_text())
    return [int(info[k]) for k in ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")]


def enter(limits: Limits, workdir: Path, extra_readable: list[Path] = (), bind_ports: list[int] | None = None,
          ) -> tuple[dict[str, str], list[str]]:
    """Apply everything to this process; return the clean environment for the command and what was applied."""
    scratch = Path(tempfile.mkdtemp(prefix=f"toxlab-sandbox-{os.getpid()}-"))
    env = clean_env(dict(os.environ), scratch)
    applied = [f"clean environment ({len(env)} variables), scratch {scratch}"]
    applied.append(cap_processes(limits))
    set_rlimits(limits)
    applied.append(f"RLIMIT_AS {limits.memory_gb:g} GiB, RLIMIT_FSIZE {limits.file_size_mb} MiB, "
                   f"RLIMIT_CPU {limits.cpu_seconds} s")
    if limits.landlock:
        readable = [p for p in [*default_readable(limits), *extra_readable] if p.resolve() not in _project_roots()]
        writable = [workdir, scratch, Path("/dev/shm"), Path("/dev/null")]
        applied.append(apply_landlock(readable, writable, bind_ports))
    return env, applied


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    limits = Limits.from_env()
    workdir = Path.cwd()
    if argv[:2] == ["--kernel", "-f"] and len(argv) > 2:  # as course/jupyter/kernels/toxlab-sandbox starts it
        conn = argv[2]
        # port 0: ipykernel binds its own subprocess-output pipe on a free port
        env, applied = enter(limits, workdir, [Path(conn)], bind_ports=[*kernel_ports(conn), 0])
        command = [sys.executable, "-m", "ipykernel_launcher", *argv[1:]]
    elif argv[:1] == ["--"] and len(argv) > 1:
        env, applied = enter(limits, workdir, bind_ports=[])  # no TCP at all
        command = argv[1:]
        if command[0] in ("python", "python3"):
            command[0] = sys.executable  # the sandbox's own Python, not a shim elsewhere on PATH
        command[0] = shutil.which(command[0], path=env.get("PATH")) or command[0]
    else:
        raise SystemExit(__doc__)
    if os.environ.get("TOXLAB_SANDBOX_VERBOSE"):
        print("toxlab.sandbox:", *applied, sep="\n  ", file=sys.stderr)
    os.execve(command[0], command, env)


if __name__ == "__main__":
    main()
