"""JupyterHub's configuration for one toxlab course; `hub start` copies it to <root>/ beside hub.json, its settings.

Loopback only, PAM logins for the course's Unix users, each server spawned as its user from the shared
environment, and formgrader as a service that only the instructor's group may open (nbgrader's documented
setup for a hub: its tab inside JupyterLab is blank under JupyterHub >= 4.1's frame-ancestors 'none').
For a real deployment see README "Run the course on JupyterHub" (login, TLS, limits).
"""

import json
import os
from pathlib import Path

c = get_config()  # noqa: F821 - provided by traitlets when JupyterHub loads this file

ROOT = Path(os.environ.get("TOXLAB_HUB_ROOT") or Path(__file__).resolve().parent)
S = json.loads((ROOT / "hub.json").read_text())
VENV = Path(S["venv"])
COURSE = S["course_id"]
INSTRUCTOR = S["instructor"]

c.JupyterHub.ip = "127.0.0.1"  # the demo login is for this machine only
c.JupyterHub.port = S["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = S["hub_port"]
c.ConfigurableHTTPProxy.command = [S["proxy"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{S['proxy_api_port']}"
c.JupyterHub.db_url = f"sqlite:///{ROOT / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(ROOT / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(ROOT / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # `hub stop` ends every user's server with the hub

# Logins: the Unix users' passwords (PAM). No sessions: a container or CI box has no logind to open them in.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = {INSTRUCTOR, *S["students"]}
c.Authenticator.admin_users = set()  # nobody administers the hub from the web; root runs it

# Each user's JupyterLab, as that Unix user, from the shared environment, in their home
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(VENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120


def role_env(spawner) -> None:
    """Students and the instructor get their own config folder: which nbgrader extensions, which course."""
    role = "instructor" if spawner.user.name == INSTRUCTOR else "student"
    spawner.environment.update(_env(role))


def _env(role: str) -> dict:
    d = S["config_dirs"][role]
    return {"JUPYTER_CONFIG_PATH": d, "JUPYTERLAB_SETTINGS_DIR": str(Path(d) / "lab-settings"),
            "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}


c.Spawner.pre_spawn_hook = role_env

# nbgrader's groups: formgrade-<course> may open the formgrader service, nbgrader-<course> are its students
c.JupyterHub.load_groups = {
    f"formgrade-{COURSE}": {"users": [INSTRUCTOR]},
    f"nbgrader-{COURSE}": {"users": list(S["students"])},
}
c.JupyterHub.load_roles = [
    {"name": f"formgrade-{COURSE}", "groups": [f"formgrade-{COURSE}"],
     "scopes": [f"access:services!service={COURSE}", "list:services", f"read:services!service={COURSE}"]},
]

# formgrader: a JupyterLab server run as the instructor in the course folder, reached at /services/<course>/
c.JupyterHub.services = [{
    "name": COURSE,
    "url": f"http://127.0.0.1:{S['service_port']}",
    "command": [str(VENV / "bin" / "jupyterhub-singleuser"), f"--ServerApp.root_dir={S['course_dir']}"],
    "user": INSTRUCTOR,
    "cwd": S["course_dir"],
    "environment": {**_env("formgrader"), "HOME": str(Path(S["root"]) / "home" / INSTRUCTOR),
                    "JUPYTERHUB_DEFAULT_URL": "/formgrader"},
    "oauth_no_confirm": True,
}]
