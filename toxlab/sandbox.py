"""Run untrusted student code under limits, in its own namespaces (Linux).

    python -m toxlab.sandbox -- COMMAND ...                  # any command (the grading executor)

Two layers, applied in this order, then the command is exec'd:

  * bubblewrap (`bwrap`, the sandbox behind Flatpak): new PID, IPC, network, UTS and mount
    namespaces. The command sees only the Python installation, system folders, the toxlab
    package and its working folder (read-write); a private /tmp, /dev (so /dev/shm) and /proc;
    no other process of the machine, so it can signal, trace or read none of them, the grader
    included. When the sandbox ends, every process in it ends too (daemons included). It has no
    network at all (it talks to the grader over pipes). Without bwrap this module refuses to run unless
    TOXLAB_SANDBOX_BWRAP=0 says to go on without it, and then it says so on stderr.
  * inside it: a clean environment (no credentials; HOME, TMPDIR and caches in the private /tmp),
    resource limits (address space, file size, CPU time, no core files), a process cap (a pids
    cgroup when this process may make one, else RLIMIT_NPROC), and Landlock (Linux >= 5.13):
    writes only in the working folder, /tmp and /dev/shm; no TCP connect or bind.

Settings: TOXLAB_SANDBOX_* environment variables (Limits below). See README "Grading safely".
"""

from __future__ import annotations

import ctypes
import os
import resource
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM", "TOXLAB_MODE", "TOXLAB_DATA",
            "NBGRADER_EXECUTION", "HF_HUB_OFFLINE", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONHASHSEED")
GiB = 1024 ** 3


@dataclass
class Limits:
    """Resource limits for one sandboxed process; each has an environment variable for courses to tune."""

    memory_gb: float = 6.0  # TOXLAB_SANDBOX_MEMORY_GB: address space; importing torch maps about 2 GB already
    processes: int = 256  # TOXLAB_SANDBOX_PROCESSES: tasks (threads count) the submission may start
    file_size_mb: int = 1024  # TOXLAB_SANDBOX_FILE_MB: largest file it may write
    cpu_seconds: int = 3600  # TOXLAB_SANDBOX_CPU_S: a ceiling; the per-cell timeout is nbgrader's
    landlock: bool = True  # TOXLAB_SANDBOX_LANDLOCK=0 turns the filesystem rules off
    bwrap: bool = True  # TOXLAB_SANDBOX_BWRAP=0: run without namespaces (not isolated; said on stderr)
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
                   bwrap=e("TOXLAB_SANDBOX_BWRAP", "1") != "0",
                   readable=[p for p in e("TOXLAB_SANDBOX_READABLE", "").split(os.pathsep) if p])


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
            for stale in root.iterdir():  # groups of finished sandboxes; not one another grader is setting up
                owner = stale.name.removeprefix("sandbox-")
                if (stale.is_dir() and not (stale / "cgroup.procs").read_text().strip()
                        and not (owner.isdigit() and Path(f"/proc/{owner}").exists())):
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

    bind_ports: TCP ports it may bind; None leaves the network alone. Either way it
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
    """What student code must read: Python, its packages, system folders, toxlab, and the data folder."""
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


# --- bubblewrap -------------------------------------------------------------------------------

SCRATCH = Path("/tmp/sandbox")  # inside the sandbox's private /tmp: gone when it ends
NO_BWRAP = ("toxlab.sandbox: bubblewrap (bwrap) is not available here, so student code would run without "
            "its own namespaces: it could see and signal other processes, read /proc of the grader and share "
            "/dev/shm and /tmp with other students. Install it (Debian/Ubuntu: apt-get install bubblewrap) or, "
            "to grade with Landlock and resource limits only, set TOXLAB_SANDBOX_BWRAP=0.")


def bwrap_works() -> bool:
    """True when bwrap is installed and can make the namespaces it needs here."""
    exe = shutil.which("bwrap")
    if not exe:
        return False
    probe = [exe, "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]
    import subprocess

    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def ensure_bwrap() -> None:
    """Make sure bwrap works: install Debian's bubblewrap when root with apt-get, else SystemExit with the fix."""
    from .system import apt_install

    if bwrap_works():
        return
    print("toxlab.sandbox: bubblewrap is missing; trying apt-get install bubblewrap", file=sys.stderr, flush=True)
    apt_install("bubblewrap")
    if not bwrap_works() and os.environ.get("TOXLAB_SANDBOX_BWRAP", "1") != "0":
        raise SystemExit(NO_BWRAP)


def bwrap_command(command: list[str], workdir: Path, readable: list[Path], writable: list[Path], env: dict[str, str],
                  network: bool) -> list[str]:
    """The bwrap command line that runs `command` with only these folders, in fresh namespaces."""
    # --as-pid-1: the command is the namespace's init, which nothing inside can signal; the grading
    # zygote relies on that, since student code runs in its children (toxlab.grading.executor)
    cmd = ["bwrap", "--unshare-pid", "--as-pid-1", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session", "--hostname", "sandbox"]
    if not network:
        cmd.append("--unshare-net")
    cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]  # first: later binds may lie under /tmp
    for p in readable:
        cmd += ["--ro-bind", str(p), str(p)]
    for p in writable:
        cmd += ["--bind", str(p), str(p)]
    cmd += ["--chdir", str(workdir), "--clearenv"]
    for k, v in sorted(env.items()):
        cmd += ["--setenv", k, v]
    return cmd + ["--", *command]


def sandbox_env(environ: dict[str, str], scratch: Path) -> dict[str, str]:
    """The environment minus everything not on ENV_KEEP, with home and caches under `scratch`."""
    out = {k: v for k, v in environ.items() if k in ENV_KEEP or k.startswith("LC_")}
    for k in SCRATCH_VARS:
        out[k] = str(scratch / k.lower())
    out["HF_HUB_OFFLINE"] = "1"
    out["PYTHONDONTWRITEBYTECODE"] = "1"
    return out


SCRATCH_VARS = ("HOME", "TMPDIR", "MPLCONFIGDIR", "IPYTHONDIR", "HF_HOME", "XDG_CACHE_HOME", "TOXLAB_CACHE")


def readable(limits: Limits) -> list[Path]:
    """What the command may read: Python, its packages, system folders, toxlab; never the course."""
    roots = _project_roots()
    return [p for p in default_readable(limits) if p.resolve() not in roots]


# --- entry points ---------------------------------------------------------------------------

def _outer(limits: Limits, command: list[str], workdir: Path) -> None:
    """Limits here (inherited), then bwrap with the inner step, or the fallback without bwrap. The command
    gets no network, binds no TCP port, and writes only in `workdir` and its own scratch folders."""
    cap = cap_processes(limits)
    set_rlimits(limits)
    if os.environ.get("TOXLAB_SANDBOX_VERBOSE"):
        print(f"toxlab.sandbox: {cap}; {limits}", file=sys.stderr)
    # -I: the working folder is the student's, so it must not be on sys.path (a toxlab/ written there)
    inner = [sys.executable, "-I", "-m", "toxlab.sandbox", "--inner", "--landlock", "1" if limits.landlock else "0",
             "--private-tmp", "1" if limits.bwrap else "0", "--", *command]
    binds = [p for p in readable(limits) if str(p) not in ("/proc", "/dev")]  # bwrap makes its own
    if limits.bwrap:
        if not bwrap_works():
            print(NO_BWRAP, file=sys.stderr, flush=True)
            raise SystemExit(3)
        env = sandbox_env(dict(os.environ), SCRATCH)
        cmd = bwrap_command(inner, workdir, binds, [workdir], env, network=False)
        os.execvpe("bwrap", cmd, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")})  # bwrap needs nothing else
    print("toxlab.sandbox: WARNING: running WITHOUT bubblewrap (TOXLAB_SANDBOX_BWRAP=0): no PID, network or "
          "mount namespaces; only Landlock and resource limits", file=sys.stderr, flush=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"toxlab-sandbox-{os.getpid()}-"))
    env = sandbox_env(dict(os.environ), scratch)
    os.execve(sys.executable, inner, env)


def _inner(argv: list[str]) -> None:
    """Inside the namespaces: make the scratch folders, apply Landlock (no TCP bind or connect), exec the command."""
    opts = dict(zip(argv[0:4:2], argv[1:4:2]))
    command = argv[argv.index("--") + 1:]
    for k in SCRATCH_VARS:
        Path(os.environ[k]).mkdir(parents=True, exist_ok=True)
    scratch = Path(os.environ["HOME"]).parent
    if opts["--landlock"] == "1":
        private_tmp = [Path("/tmp")] if opts["--private-tmp"] == "1" else []  # under bwrap /tmp is the sandbox's own
        apply_landlock(readable(Limits.from_env()), [Path.cwd(), scratch, *private_tmp, Path("/dev/shm"),
                                                     Path("/dev/null")], bind_ports=[])
    if command[0] in ("python", "python3"):
        command[0] = sys.executable  # the sandbox's own Python, not a shim elsewhere on PATH
    command[0] = shutil.which(command[0], path=os.environ.get("PATH")) or command[0]
    os.execv(command[0], command)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    limits = Limits.from_env()
    workdir = Path.cwd()
    if argv[:1] == ["--inner"]:
        _inner(argv[1:])
    elif argv[:1] == ["--"] and len(argv) > 1:
        _outer(limits, argv[1:], workdir)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
