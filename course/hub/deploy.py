"""One course on one machine: a JupyterHub with the nbgrader exchange, its users, and the instructor's tools.

    python course/instructor.py hub start --students alice,bob [--instructor NAME] [--root DIR] [--port 8000]
    python course/instructor.py hub grade [--assignment NAME]   # collect, autograde, feedback, release it
    python course/instructor.py hub stop [--remove-users]

`hub start` (as root) builds what the hub needs once and brings it up on 127.0.0.1:

- the shared environment: a venv from Debian's /usr/bin/python3 (a Python under root's home cannot be
  run by other users) with toxlab and its course and grading extras, JupyterLab, nbgrader 0.9.6's
  extensions, JupyterHub 6.1.1 and the CPU wheel of torch; the proxy, configurable-http-proxy, from npm;
- a Unix user per student and one for the instructor, homes under <root>/home (0700), each with a
  generated password (PAM login) written to <root>/passwords.txt, readable by root alone;
- the exchange, <root>/exchange (world-writable and sticky, as nbgrader's docs set it up);
- the instructor's course folder, ~INSTRUCTOR/toxlab (source/, release/, course/ with the hidden checks
  and the gradebook), readable by the instructor alone; every lab released to the exchange;
- formgrader as a hub service run as the instructor (/services/toxlab/formgrader/), which only the
  group formgrade-toxlab may open: inside JupyterLab on a hub its tab is blank (frame-ancestors 'none');
- students' JupyterLab without formgrader, Create Assignment or the course list (their own config
  folder, <root>/etc/student, disables them); they keep the Assignments tab and Validate.

Everything the hub writes lives in <root> (default /var/lib/toxlab-hub), so a test can use a temporary one;
the shared environment (default /opt/toxlab-hub) is kept between hubs, since it takes minutes to build.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]  # the project: toxlab/, source/, release/, course/
COURSE_ID = "toxlab"  # nbgrader's course id, the formgrader service's name and its groups' suffix
DEFAULT_ROOT = Path("/var/lib/toxlab-hub")
DEFAULT_ENV = Path("/opt/toxlab-hub")
SYSTEM_PYTHON = Path("/usr/bin/python3")  # Debian's: every user can run it
JUPYTERHUB = "jupyterhub==6.1.1"
TORCH = "torch==2.13.0"  # the CPU wheel; a looser pin pulls gigabytes of CUDA builds
PROXY = "configurable-http-proxy@5.3.0"
UV = "uv==0.13.9"  # installs the shared environment: 18 s where pip took 86 s (bench/hub_env.py)
# nbgrader 0.9.6's JupyterLab plugins that students must not have (formgrader, creating assignments, and
# the course list, whose only use is opening formgrader); the instructor loses the formgrader tab alone,
# blank on a hub, and uses the service instead
STUDENT_HIDDEN = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                  "@jupyter/nbgrader:course-list"]
INSTRUCTOR_HIDDEN = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list"]


class HubError(SystemExit):
    """A step failed; the message says which and what to do."""


@dataclass
class State:
    """What a running hub is, saved in <root>/state.json for `hub stop` and `hub grade`."""

    root: str
    env: str
    instructor: str
    students: list[str]
    port: int
    service_port: int = 0
    pid: int = 0
    created_users: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def users(self) -> list[str]:
        return [self.instructor, *self.students]

    def save(self) -> None:
        path = Path(self.root) / "state.json"
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, root: Path) -> "State":
        path = root / "state.json"
        if not path.is_file():
            raise HubError(f"hub: no hub was started with --root {root} ({path} is missing)")
        return cls(**json.loads(path.read_text()))


# --- layout ---------------------------------------------------------------------------------------------

def home(root: Path, user: str) -> Path:
    return root / "home" / user


def course_root(state: State) -> Path:
    """The instructor's copy of the course: source/, release/ and course/ (nbgrader's course folder)."""
    return home(Path(state.root), state.instructor) / COURSE_ID


def config_dir(root: Path, role: str) -> Path:
    """The Jupyter config folder of a role (student, instructor, formgrader): $JUPYTER_CONFIG_PATH for its servers."""
    return root / "etc" / role


def say(msg: str) -> None:
    print(f"hub: {msg}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """Run a setup command; on failure, stop with its output."""
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode:
        raise HubError(f"hub: {' '.join(map(str, cmd))} failed ({res.returncode}):\n{(res.stdout + res.stderr)[-3000:]}")
    return res


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the shared environment -----------------------------------------------------------------------------

def source_stamp() -> str:
    """A hash of what the shared environment installs from this project, to rebuild it when that changes."""
    h = hashlib.sha256(f"{JUPYTERHUB} {TORCH} {PROXY} {UV}".encode())
    for path in sorted([REPO / "pyproject.toml", *(REPO / "toxlab").rglob("*.py")]):
        h.update(str(path.relative_to(REPO)).encode() + path.read_bytes())
    return h.hexdigest()[:16]


# pip's settings that uv has a flag for. uv reads no pip.conf, and a machine's mirrors, wheel folders and caps
# live there: without them uv would take torch from PyPI, gigabytes of CUDA builds instead of the CPU wheel
UV_FLAG_OF_PIP = {"index-url": "--index-url", "extra-index-url": "--extra-index-url", "find-links": "--find-links",
                  "constraint": "--constraint", "trusted-host": "--allow-insecure-host"}


def uv_args_from_pip_config(listing: str) -> list[str]:
    """uv's flags for the settings `pip config list` prints (its `:env:` lines are PIP_* variables).

    pip's order holds: a PIP_* variable beats the [install] section, which beats [global]; a list setting
    (extra-index-url, find-links, trusted-host) is one value of whitespace-separated items.
    """
    rank = {"global": 0, "install": 1, ":env:": 2}
    chosen: dict[str, tuple[int, str]] = {}
    for line in listing.splitlines():
        name, sep, value = line.partition("=")
        section, _, key = name.strip().rpartition(".")
        if not sep or section not in rank or key not in UV_FLAG_OF_PIP:
            continue
        value = value.strip().strip("'\"")
        if key not in chosen or rank[section] >= chosen[key][0]:
            chosen[key] = (rank[section], value)
    args: list[str] = []
    for key, (_, value) in chosen.items():
        for item in value.split():
            args += [UV_FLAG_OF_PIP[key], item]
    return args


def package_copy(folder: Path) -> Path:
    """What pip or uv installs toxlab from, copied into `folder`: building in the project would leave build/ there."""
    src = folder / "toxlab"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "toxlab", src / "toxlab", ignore=shutil.ignore_patterns("__pycache__"))
    return src


def ensure_env(env_root: Path) -> Path:
    """The shared venv (env_root/venv) and proxy (env_root/node), built or updated; returns the venv."""
    from toxlab.system import apt_install

    venv, stamp = env_root / "venv", env_root / "venv" / "toxlab-hub.stamp"
    if not SYSTEM_PYTHON.exists() or subprocess.run([SYSTEM_PYTHON, "-c", "import venv, ensurepip"],
                                                    capture_output=True).returncode:
        say("installing Debian's python3 and python3-venv")
        if not (apt_install("python3") and apt_install("python3-venv")):
            raise HubError("hub: needs Debian's /usr/bin/python3 with venv: apt-get install python3-venv")
    if not (venv / "bin" / "python").exists():
        say(f"building the shared environment {venv} from {SYSTEM_PYTHON}")
        run([str(SYSTEM_PYTHON), "-m", "venv", str(venv)])
    if not stamp.exists() or stamp.read_text() != source_stamp():
        # uv installs the ~190 packages in about a fifth of pip's time (bench/hub_env.py); pip
        # brings uv itself, through the machine's own pip settings, which uv is then given as flags
        pip = str(venv / "bin" / "pip")
        run([pip, "install", "-q", "--disable-pip-version-check", UV])
        settings = uv_args_from_pip_config(run([pip, "config", "list"]).stdout)
        with tempfile.TemporaryDirectory(prefix="toxlab-src-") as tmp:
            src = package_copy(Path(tmp))
            say("installing torch (CPU), toxlab[course,grading], JupyterLab, nbgrader and JupyterHub into it with uv")
            # unsafe-best-match: pip's rule, the best version on any index (uv's default stops at the first
            # index that has the name); --reinstall-package: toxlab's version is the same after an edit
            run([str(venv / "bin" / "uv"), "pip", "install", "-q", "--python", str(venv / "bin" / "python"),
                 "--index-strategy", "unsafe-best-match", *settings, "--reinstall-package", "toxlab",
                 TORCH, f"{src}[course,grading]", JUPYTERHUB])
        torch = run([str(venv / "bin" / "python"), "-c", "import importlib.metadata as m; print(m.version('torch'))"])
        if torch.stdout.strip().split("+")[0] != TORCH.split("==")[1]:
            raise HubError(f"hub: the shared environment got torch {torch.stdout.strip()}, not {TORCH}: "
                           f"check the package index settings that `{pip} config list` shows")
        stamp.write_text(source_stamp())
    proxy = env_root / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
    if not proxy.exists():
        if not shutil.which("npm"):
            say("installing nodejs and npm (Debian)")
            if not (apt_install("nodejs") and apt_install("npm")):
                raise HubError("hub: the proxy needs npm: apt-get install nodejs npm")
        say(f"installing {PROXY} from npm")
        run(["npm", "install", "--silent", "--no-fund", "--no-audit", "--prefix", str(env_root / "node"), PROXY])
    env_root.chmod(0o755)  # every user runs the venv
    return venv


# --- users ----------------------------------------------------------------------------------------------

def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def ensure_users(state: State, passwords: dict[str, str]) -> None:
    """Create each Unix user (home under <root>/home, 0700) and set its password; refuse to take over an
    account this hub did not create."""
    root = Path(state.root)
    (root / "home").mkdir(exist_ok=True)
    (root / "home").chmod(0o755)
    for user in state.users:
        if not user_exists(user):
            run(["useradd", "--create-home", "--home-dir", str(home(root, user)), "--shell", "/bin/bash",
                 "--user-group", user])
            state.created_users.append(user)
        elif user not in state.created_users:
            raise HubError(f"hub: the Unix user {user!r} exists already and this hub did not create it: pick "
                           "another name (hub start gives its users new passwords and course files)")
        home(root, user).chmod(0o700)
        passwords.setdefault(user, secrets.token_urlsafe(12))
        run(["chpasswd"], input=f"{user}:{passwords[user]}\n")
    pw = root / "passwords.txt"
    pw.touch(mode=0o600)
    pw.chmod(0o600)
    pw.write_text("".join(f"{u} {passwords[u]}\n" for u in state.users))


def read_passwords(root: Path) -> dict[str, str]:
    pw = root / "passwords.txt"
    return dict(line.split(" ", 1) for line in pw.read_text().splitlines() if " " in line) if pw.exists() else {}


def user_env(state: State, user: str, role: str) -> dict[str, str]:
    """The environment of a command run as `user`: the shared venv first on PATH, the role's config folder."""
    venv = Path(state.env) / "venv"
    return {"HOME": str(home(Path(state.root), user)), "USER": user, "LOGNAME": user, "SHELL": "/bin/bash",
            "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "JUPYTER_CONFIG_PATH": str(config_dir(Path(state.root), role)), "HF_HUB_OFFLINE": "1",
            "TOXLAB_SANDBOX_BWRAP": os.environ.get("TOXLAB_SANDBOX_BWRAP", "1")}


def as_user(state: State, user: str, cmd: list[str], cwd: Path | None = None, check: bool = True,
            role: str | None = None) -> subprocess.CompletedProcess:
    """Run `cmd` as the Unix user `user` (this process is root), in the shared environment."""
    entry = pwd.getpwnam(user)
    role = role or ("instructor" if user == state.instructor else "student")
    res = subprocess.run(cmd, cwd=cwd or home(Path(state.root), user), env=user_env(state, user, role),
                         user=entry.pw_uid, group=entry.pw_gid, extra_groups=[], capture_output=True, text=True)
    if check and res.returncode:
        raise HubError(f"hub: as {user}: {' '.join(map(str, cmd))} failed ({res.returncode}):\n"
                       f"{(res.stdout + res.stderr)[-3000:]}")
    return res


# --- configuration --------------------------------------------------------------------------------------

def write_configs(state: State) -> None:
    """Each role's Jupyter config folder: nbgrader's exchange and course, and which extensions it gets."""
    root = Path(state.root)
    exchange = root / "exchange"
    common = (f"c = get_config()  # noqa: F821\n"
              f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
              f"c.Exchange.root = {str(exchange)!r}\n")
    course = course_root(state) / "course"
    for role, hidden, server_off in (
            ("student", STUDENT_HIDDEN, ["formgrader", "course_list"]),
            ("instructor", INSTRUCTOR_HIDDEN, ["formgrader", "course_list"]),
            ("formgrader", [], [])):
        d = config_dir(root, role)
        (d / "labconfig").mkdir(parents=True, exist_ok=True)
        text = common + (f"c.CourseDirectory.root = {str(course)!r}\n" if role != "student" else "")
        (d / "nbgrader_config.py").write_text(text)
        (d / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": {h: True for h in hidden}}))
        extensions = {f"nbgrader.server_extensions.{name}": False for name in server_off}
        (d / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"jpserver_extensions": extensions}}))
        # a hub's single-user servers must not advertise news or update checks to a class
        settings = d / "lab-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    for p in (root / "etc").rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    (root / "etc").chmod(0o755)


def write_hub_config(state: State, venv: Path) -> Path:
    """<root>/jupyterhub_config.py: this folder's template plus its settings (hub.json)."""
    root = Path(state.root)
    settings = {
        "root": state.root, "port": state.port, "hub_port": free_port(), "proxy_api_port": free_port(),
        "service_port": state.service_port, "venv": str(venv), "course_id": COURSE_ID,
        "instructor": state.instructor, "students": state.students,
        "proxy": str(Path(state.env) / "node" / "node_modules" / ".bin" / "configurable-http-proxy"),
        "course_dir": str(course_root(state) / "course"),
        "config_dirs": {role: str(config_dir(root, role)) for role in ("student", "instructor", "formgrader")},
    }
    (root / "hub.json").write_text(json.dumps(settings, indent=1))
    dest = root / "jupyterhub_config.py"
    shutil.copy(HERE / "jupyterhub_config.py", dest)
    return dest


# --- the course -----------------------------------------------------------------------------------------

def ensure_course(state: State) -> None:
    """The instructor's course folder (a copy of the project's course, theirs alone), its labs generated and
    released to the exchange."""
    root, dest = Path(state.root), course_root(state)
    exchange = root / "exchange"
    exchange.mkdir(exist_ok=True)
    exchange.chmod(0o1777)  # nbgrader wants 0777; sticky so no user removes another's course folder
    fresh = not dest.exists()
    if fresh:
        shutil.copytree(REPO / "source", dest / "source", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        shutil.copytree(REPO / "release", dest / "release")
        (dest / "course").mkdir(parents=True)
        for f in ("nbgrader_config.py", "instructor.py"):
            shutil.copy(REPO / "course" / f, dest / "course" / f)
        shutil.copytree(REPO / "course" / "hidden_checks", dest / "course" / "hidden_checks",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(HERE, dest / "course" / "hub", ignore=shutil.ignore_patterns("__pycache__"))
        entry = pwd.getpwnam(state.instructor)
        for p in [dest, *dest.rglob("*")]:
            os.chown(p, entry.pw_uid, entry.pw_gid)
        dest.chmod(0o700)
    python = str(Path(state.env) / "venv" / "bin" / "python")
    tool = [python, str(dest / "course" / "instructor.py")]
    if fresh:
        say("generating the labs in the instructor's course (nbgrader generate_assignment)")
        as_user(state, state.instructor, [*tool, "release", "--force"], cwd=dest)
    released = {p.name for p in (exchange / COURSE_ID / "outbound").glob("*")}
    unreleased = [lab for lab in labs_of(dest) if lab not in released]
    if unreleased:
        say(f"releasing {', '.join(unreleased)} to the exchange")
        as_user(state, state.instructor, [python, *exchange_step("release", dest), *unreleased], cwd=dest / "course")


def exchange_step(step: str, course: Path) -> list[str]:
    """course/hub/exchange.py in the instructor's course: nbgrader's exchange step for several labs in one process."""
    return [str(course / "course" / "hub" / "exchange.py"), step]


def labs_of(course: Path) -> list[str]:
    """The course's labs in the registry's order."""
    from toxlab import labs

    have = sorted(p.parent.name for p in (course / "source").glob("*/*.ipynb") if p.stem == p.parent.name)
    return [n for n in labs.LABS if n in have] + [n for n in have if n not in labs.LABS]


# --- start, stop, grade ---------------------------------------------------------------------------------

def running(state: State) -> bool:
    if not state.pid:
        return False
    try:
        os.kill(state.pid, 0)
    except OSError:
        return False
    # `hub start` has exited, so the hub's parent is PID 1, which may reap it late: an exited hub lingers as
    # a zombie that signal 0 still reaches, and `hub stop` would wait its whole 30 s on it
    try:
        return Path(f"/proc/{state.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120, ok: tuple = (200,)) -> None:
    """Until `url` answers with a status in `ok`; fail with the hub's log when it exits or takes too long."""
    import urllib.error

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=3)
            return
        except urllib.error.HTTPError as e:
            if e.code in ok:
                return
        except OSError:
            pass
        if proc.poll() is not None:
            raise HubError(f"hub: JupyterHub exited ({proc.returncode}); its log ({log}) ends:\n"
                           f"{log.read_text()[-3000:]}")
        time.sleep(0.5)
    raise HubError(f"hub: JupyterHub did not answer on {url} in {timeout:.0f} s; see {log}")


def start(root: Path, env_root: Path, students: list[str], instructor: str, port: int) -> State:
    """Build what is missing and start the hub; print what it did. Returns its state."""
    if os.geteuid() != 0:
        raise HubError("hub: start needs root: the hub spawns each user's server as that Unix user")
    if not students:
        raise HubError("hub: name the students: --students alice,bob")
    for name in [instructor, *students]:
        if not name.replace("-", "").replace("_", "").isalnum() or not name[0].isalpha() or name != name.lower():
            raise HubError(f"hub: {name!r}: a user name is lower-case letters, digits, - and _, starting with a letter")
    if instructor in students or len(set(students)) != len(students):
        raise HubError("hub: the instructor and the students need distinct names")
    t0 = time.time()
    os.umask(0o022)
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # users traverse it to their homes, the exchange and their config
    old = State.load(root) if (root / "state.json").exists() else None
    if old and running(old):
        raise HubError(f"hub: a hub is already running from {root} (pid {old.pid}, {old.url}); `hub stop` first")
    state = State(root=str(root), env=str(env_root.resolve()), instructor=instructor, students=students,
                  port=port, service_port=free_port(), created_users=old.created_users if old else [])
    venv = ensure_env(env_root)
    passwords = read_passwords(root)
    ensure_users(state, passwords)
    state.save()
    write_configs(state)
    ensure_course(state)
    config = write_hub_config(state, venv)
    (root / "logs").mkdir(exist_ok=True)
    (root / "logs").chmod(0o700)
    log = root / "logs" / "jupyterhub.log"
    proc = subprocess.Popen([str(venv / "bin" / "jupyterhub"), "-f", str(config)], cwd=root,
                            env={"PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
                                 "HOME": "/root", "TOXLAB_HUB_ROOT": str(root)},
                            stdout=log.open("w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    state.pid = proc.pid
    state.save()
    wait_for(f"{state.url}/hub/api", proc, log)
    # the formgrader service is up when it asks for a login (403 to an anonymous API call) rather than 503
    wait_for(f"http://127.0.0.1:{state.service_port}/services/{COURSE_ID}/api/status", proc, log, ok=(200, 403))
    say(f"started in {time.time() - t0:.0f} s: JupyterHub {state.url}/ (loopback only), pid {proc.pid}, log {log}")
    say(f"instructor {instructor}: course folder {course_root(state)}, formgrader "
        f"{state.url}/services/{COURSE_ID}/formgrader/ (the hub's Services menu)")
    say(f"students: {', '.join(students)}; each fetches and submits in JupyterLab's Assignments tab (Nbgrader menu)")
    say(f"logins: PAM, passwords in {root / 'passwords.txt'} (root only); exchange {root / 'exchange'}")
    say("grade what was submitted: course/instructor.py hub grade; stop: course/instructor.py hub stop")
    return state


def user_pids(uids: set[int]) -> list[int]:
    """Processes owned by these users, found in /proc."""
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if p.stat().st_uid in uids:
                    pids.append(int(p.name))
            except OSError:
                pass
    return pids


def stop(root: Path, remove_users: bool = False) -> None:
    """Stop the hub (it stops the users' servers, the proxy and the formgrader service), then whatever the
    course's users still run; with remove_users, delete the users this hub created and their homes."""
    root = root.resolve()
    state = State.load(root)
    if running(state):
        os.kill(state.pid, signal.SIGTERM)  # JupyterHub stops its spawned servers and services on SIGTERM
        for _ in range(120):
            if not running(state):
                break
            time.sleep(0.25)
        else:
            os.killpg(state.pid, signal.SIGKILL)
        say(f"stopped JupyterHub (pid {state.pid})")
    else:
        say("JupyterHub was not running")
    with_uid = {pwd.getpwnam(u).pw_uid for u in state.users if user_exists(u)}
    left = user_pids(with_uid)
    for pid in left:  # a kernel or terminal a server left behind
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    if left:
        time.sleep(2)
        for pid in user_pids(with_uid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        say(f"ended {len(left)} process(es) the course's users still ran")
    state.pid = 0
    state.save()
    if remove_users:
        for user in state.created_users:
            if user_exists(user):
                run(["userdel", "--remove", user])
                shutil.rmtree(home(root, user), ignore_errors=True)
        say(f"removed users {', '.join(state.created_users) or '(none)'}")
        state.created_users = []
        state.save()


def grade(root: Path, assignments: list[str] | None = None, workers: int = 0) -> dict[str, list[str]]:
    """As the instructor: collect each lab's submissions from the exchange, autograde them with toxlab's grader
    (instructor.py autograde: checker and sandbox), generate feedback with the hidden checks stripped
    (instructor.py feedback) and release it through the exchange. Returns {lab: students collected}.

    When every lab has submissions, one autograde and one feedback run cover them all: each run pays the
    start-up of nbgrader, the sandbox and (with workers) a Dask cluster once, not once per lab."""
    root = root.resolve()
    state = State.load(root)
    course = course_root(state)
    tool = [str(Path(state.env) / "venv" / "bin" / "python"), str(course / "course" / "instructor.py")]
    wanted = assignments or labs_of(course)
    as_user(state, state.instructor, [tool[0], *exchange_step("collect", course), *wanted], cwd=course / "course")
    collected = {}
    for lab in wanted:
        collected[lab] = sorted(p.parent.name for p in (course / "course" / "submitted").glob(f"*/{lab}"))
        say(f"collected {lab}: {', '.join(collected[lab]) or 'no submissions'}")
    labs = [lab for lab, students in collected.items() if students]
    if not labs:
        return collected
    # instructor.py takes one --assignment or none (every lab): one run when every lab has submissions
    runs = [[]] if labs == labs_of(course) else [["--assignment", lab] for lab in labs]
    t = time.time()
    for which in runs:
        res = as_user(state, state.instructor, [*tool, "autograde", *which,
                                                *(["--workers", str(workers)] if workers else [])], cwd=course, check=False)
        print(res.stdout, end="")
        if res.returncode:
            print(res.stderr[-3000:], file=sys.stderr)
            raise HubError(f"hub: autograde of {' '.join(which) or 'every lab'} failed; see above")
    say(f"autograded {', '.join(labs)} in {time.time() - t:.0f} s")
    for which in runs:
        as_user(state, state.instructor, [*tool, "feedback", *which], cwd=course)
    for lab in labs:
        for student in collected[lab]:
            # release_feedback reads the submission's timestamp and secret beside the feedback (they name its
            # file in the exchange), which the course's notebooks-only copying leaves out of feedback/
            dest = course / "course" / "feedback" / student / lab
            for name in ("timestamp.txt", "submission_secret.txt"):
                src = course / "course" / "submitted" / student / lab / name
                if src.exists() and dest.is_dir() and not (dest / name).exists():
                    as_user(state, state.instructor, ["cp", str(src), str(dest / name)])
    as_user(state, state.instructor, [tool[0], *exchange_step("release-feedback", course), *labs], cwd=course / "course")
    say(f"released the feedback of {', '.join(labs)} (hidden checks stripped) to the exchange")
    return collected
