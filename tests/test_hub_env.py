"""The hub's shared environment is installed by uv with the machine's pip settings (course/hub/deploy.py).

uv reads no pip.conf: where a machine keeps its package mirrors, wheel folders and caps in pip's settings,
uv left alone would take torch from PyPI (gigabytes of CUDA builds, not the CPU wheel) and miss the mirrors.
`uv_args_from_pip_config` turns `pip config list` into uv's flags, in pip's order of precedence. The wrong
readings it must not make are kept below and shown to fail the same check.

`hub stop` waits for the hub to exit; the hub's parent is PID 1 by then, which may reap it late, and a zombie
still answers signal 0: `deploy.running` must call it stopped, or `hub stop` waits its whole 30 s on it.
"""

from __future__ import annotations

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "course"))
from hub import deploy  # noqa: E402 - course/ is a folder of scripts

# what `pip config list` printed on this project's machines: a PIP_FIND_LINKS variable, the same setting in a
# file, a constraint and two extra indexes in one value; plus an [install] section beating [global], a setting
# uv has no flag for, and a [global] index the PIP_INDEX_URL variable overrides
LISTING = """\
:env:.cert='/etc/ssl/certs/ca-certificates.crt'
:env:.default-timeout='180'
:env:.find-links='/opt/wheels'
:env:.index-url='https://mirror.example/simple'
global.cert='/etc/ssl/certs/ca-certificates.crt'
global.constraint='/etc/xdg/pip/constraints.txt'
global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'
global.find-links='/somewhere/else'
global.index-url='https://pypi.org/simple'
global.trusted-host='mirror.example'
install.constraint='/etc/course-constraints.txt'
"""
EXPECTED = {
    ("--find-links", "/opt/wheels"),
    ("--index-url", "https://mirror.example/simple"),
    ("--constraint", "/etc/course-constraints.txt"),
    ("--extra-index-url", "file:///opt/pypi/simple"),
    ("--extra-index-url", "file:///opt/pypi-more/simple"),
    ("--allow-insecure-host", "mirror.example"),
}


def pairs(args: list[str]) -> set[tuple[str, str]]:
    assert len(args) % 2 == 0 and all(a.startswith("--") for a in args[::2]), args
    return set(zip(args[::2], args[1::2]))


def check(translate) -> None:
    got = pairs(translate(LISTING))
    assert got == EXPECTED, f"missing {EXPECTED - got}, extra {got - EXPECTED}"
    assert translate("") == [], "no pip settings: uv's own defaults (PyPI)"


# --- plausible wrong readings, each of which must fail `check` ------------------------------------------------

def first_value_wins(listing: str) -> list[str]:
    """Takes each setting's first line: the [global] file value would beat a PIP_* variable if printed first."""
    seen: dict[str, str] = {}
    for line in reversed(listing.splitlines()):  # files after variables: the variable loses
        name, _, value = line.partition("=")
        key = name.rpartition(".")[2]
        if key in deploy.UV_FLAG_OF_PIP:
            seen[key] = value.strip("'")
    return [x for k, v in seen.items() for x in (deploy.UV_FLAG_OF_PIP[k], v)]


def one_item_per_setting(listing: str) -> list[str]:
    """Passes a list setting whole: uv would get one index named 'file:///opt/pypi/simple file:///...'."""
    out = deploy.uv_args_from_pip_config(listing)
    joined: dict[str, list[str]] = {}
    for flag, value in zip(out[::2], out[1::2]):
        joined.setdefault(flag, []).append(value)
    return [x for flag, values in joined.items() for x in (flag, " ".join(values))]


def env_only(listing: str) -> list[str]:
    """Reads the PIP_* variables alone (as `os.environ` would): the mirrors in pip.conf are lost."""
    return deploy.uv_args_from_pip_config("\n".join(ln for ln in listing.splitlines() if ln.startswith(":env:")))


def test_pip_settings_become_uv_flags_in_pips_order():
    check(deploy.uv_args_from_pip_config)


@pytest.mark.parametrize("wrong", [first_value_wins, one_item_per_setting, env_only])
def test_each_wrong_reading_fails_the_check(wrong):
    with pytest.raises(AssertionError):
        check(wrong)


# --- `hub stop` waits for the hub to exit: an exited hub that is not yet reaped is not running ----------------

def signal_zero_only(state: deploy.State) -> bool:
    """The plausible wrong version: a process that signal 0 reaches is running (a zombie is reached too)."""
    import os

    try:
        os.kill(state.pid, 0)
    except OSError:
        return False
    return True


@pytest.mark.parametrize("wrong", [None, signal_zero_only])
def test_an_exited_hub_awaiting_its_reaper_is_not_running(wrong):
    import signal
    import subprocess
    import time
    from pathlib import Path

    running = wrong or deploy.running
    child = subprocess.Popen(["sleep", "60"])  # stands in for the hub: a zombie until this test waits for it
    state = deploy.State(root="/tmp", env="/tmp", instructor="t", students=["s"], port=1, pid=child.pid)
    try:
        assert running(state)
        child.send_signal(signal.SIGTERM)
        stat = Path(f"/proc/{child.pid}/stat")
        for _ in range(100):
            if stat.read_text().rpartition(")")[2].split()[0] == "Z":
                break
            time.sleep(0.02)
        assert (not running(state)) == (wrong is None), f"{wrong or 'deploy.running'} on a zombie"
    finally:
        child.kill()
        child.wait()
    assert not deploy.running(state), "a reaped hub is not running"
