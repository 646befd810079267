"""The hub's shared environment: how long a fresh machine takes to build it, uv (as `hub start` does) vs pip.

Both builds run in one run, each into its own empty folder, from Debian's /usr/bin/python3, with the same
packages (torch's CPU wheel, toxlab[course,grading] from a copy of this tree, JupyterHub 6.1.1):

- pip: `pip install torch==2.13.0`, then `pip install toxlab[course,grading] jupyterhub` (the way `hub start`
  built it before; pip's cache is whatever this machine's is, warm after the README's installs);
- uv: `course/hub/deploy.py::ensure_env` itself (pip installs uv, uv installs the rest), with an empty uv
  cache unless --warm-uv, so that uv pays the downloads that pip's warm cache spares pip.

It prints each build's seconds, the ratio, and whether the two environments hold the same versions.
The npm proxy is left out of both (ensure_env's is skipped: the same command either way).

    python bench/hub_env.py [--warm-uv] [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "course"))
from hub import deploy  # noqa: E402 - course/ is a folder of scripts


def versions(venv: Path) -> dict[str, str]:
    """name -> version of every distribution in a venv, names normalised as PEP 503 does."""
    code = "import importlib.metadata as m; print('\\n'.join(f'{d.metadata[\"Name\"]}=={d.version}' for d in m.distributions()))"
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True).stdout
    return {re.sub(r"[-_.]+", "-", n).lower(): v for n, v in (ln.split("==", 1) for ln in out.split())}


def build_with_pip(folder: Path) -> Path:
    venv = folder / "venv"
    subprocess.run([str(deploy.SYSTEM_PYTHON), "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, deploy.TORCH], check=True, capture_output=True)
    with tempfile.TemporaryDirectory(prefix="toxlab-src-") as tmp:
        src = deploy.package_copy(Path(tmp))
        subprocess.run([*pip, f"{src}[course,grading]", deploy.JUPYTERHUB], check=True, capture_output=True)
    return venv


def build_with_uv(folder: Path) -> Path:
    # ensure_env also installs the npm proxy: give it one already there, so both builds time Python alone
    proxy = folder / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
    proxy.parent.mkdir(parents=True)
    proxy.touch()
    return deploy.ensure_env(folder)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warm-uv", action="store_true", help="keep uv's own cache (default: an empty one per build)")
    ap.add_argument("--rounds", type=int, default=1, help="builds of each kind, alternated (default 1)")
    a = ap.parse_args()
    times: dict[str, list[float]] = {"pip": [], "uv": []}
    envs: dict[str, dict[str, str]] = {}
    for r in range(a.rounds):
        for kind, build in (("pip", build_with_pip), ("uv", build_with_uv)):
            with tempfile.TemporaryDirectory(prefix=f"hub-env-{kind}-") as tmp:
                env = dict(os.environ)
                if kind == "uv" and not a.warm_uv:
                    os.environ["UV_CACHE_DIR"] = str(Path(tmp) / "uv-cache")
                t = time.time()
                venv = build(Path(tmp) / "env")
                times[kind].append(time.time() - t)
                os.environ.clear()
                os.environ.update(env)
                envs[kind] = versions(venv)
                print(f"round {r + 1}: {kind} built the environment in {times[kind][-1]:.1f} s "
                      f"({len(envs[kind])} distributions)", flush=True)
    pip_s, uv_s = (min(times[k]) for k in ("pip", "uv"))
    print(f"\npip {pip_s:.1f} s, uv {uv_s:.1f} s (best of {a.rounds}); uv / pip = {uv_s / pip_s:.2f}")
    differ = {n: (envs["pip"].get(n), envs["uv"].get(n)) for n in set(envs["pip"]) | set(envs["uv"])
              if envs["pip"].get(n) != envs["uv"].get(n) and n not in ("toxlab", "uv")}
    print("the same versions in both" if not differ else f"versions that differ (pip, uv): {differ}")


if __name__ == "__main__":
    main()
