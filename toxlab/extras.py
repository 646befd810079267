"""Optional extras (pyproject.toml's [project.optional-dependencies]): import what an extra installs, or say in
one line which extra the command needs and how to install it."""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtra(ImportError):
    """A module an optional extra installs is missing; the message names the extra and the fix."""


def require(module: str, extra: str, needed_by: str) -> ModuleType:
    """`module`, imported; MissingExtra ("NEEDED_BY needs the 'EXTRA' extra: pip install -e ".[EXTRA]"") when it,
    or a module it needs, cannot be imported."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        missing = e.name or module
        raise MissingExtra(f"{needed_by} needs the '{extra}' extra: pip install -e \".[{extra}]\" "
                           f"(missing: {missing})", name=missing) from None
