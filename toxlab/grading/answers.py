"""Readable conversions of a student's answers, for any lab's checks: plain data of the expected kind, or a
failure that says what was returned instead."""

from __future__ import annotations

import contextlib
import re

import numpy as np

from . import wire


def as_ints(got, what: str) -> list[int]:
    """A list of ints from a returned list, tuple or integer array; else a readable failure."""
    if isinstance(got, wire.Tensor):
        got = got.values
    if isinstance(got, np.ndarray) and got.dtype.kind in "iub" and got.ndim == 1:
        return [int(x) for x in got]
    assert isinstance(got, (list, tuple)) and all(type(x) is int for x in got), (
        f"{what} should be a list of whole numbers (ints), got {kind(got)}")
    return list(got)


def kind(got) -> str:
    """What `got` is, for a failure message: its type, and its items' types for a list or tuple."""
    if isinstance(got, (list, tuple)):
        return f"a {type(got).__name__} of {', '.join(sorted({type(x).__name__ for x in got})) or 'nothing'}"
    return type(got).__name__


def as_tensor(got, what: str) -> wire.Tensor:
    assert isinstance(got, wire.Tensor), f"{what} should return a torch.Tensor, got {kind(got)}"
    return got


def as_float(got, what: str) -> float:
    if isinstance(got, wire.Tensor) and got.values.size == 1:
        got = got.values.item()
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    assert type(got) in (int, float) and np.isfinite(got), f"{what} should be a finite number, got {kind(got)}"
    return float(got)


def same_inputs_in_every_process() -> None:
    """Stop Hypothesis from mixing in constants found in the modules this process happened to import.

    Hypothesis (6.1xx) draws about 5% of its values from the literals of every "local" (not
    site-packages) module in sys.modules. The coordinator grading serially and a Dask worker have imported
    different modules, so a derandomized hidden check drew different inputs there, and the first failing
    input in a hint differed between a serial and a parallel run (bench/autograde.py showed it on lab 6c's
    ECE check). No setting turns it off; the pool of local constants is emptied instead (its built-in
    pool of edge cases stays)."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # a Hypothesis without this machinery draws no local constants
        return
    if hasattr(providers, "_get_local_constants") and hasattr(providers, "Constants"):
        empty = providers.Constants()
        providers._get_local_constants = lambda: empty
        cache = getattr(providers, "CONSTANTS_CACHE", None)  # what it already chose from the old pool
        if cache is not None:
            cache.cache.clear()


def bounded(n: int):
    """Hypothesis settings for grading: derandomized, n examples at most, no deadline or database, and no
    shrinking: each shrink step is another call into the student's code, and a failing submission would pay
    hundreds. Hypothesis draws simple inputs first, so the first failing one is usually small already. The
    inputs are the same in every process (same_inputs_in_every_process)."""
    from hypothesis import HealthCheck, Phase, settings

    same_inputs_in_every_process()

    return settings(max_examples=n, derandomize=True, deadline=None, database=None, print_blob=False,
                    phases=(Phase.explicit, Phase.reuse, Phase.generate), suppress_health_check=list(HealthCheck))


def same(got, want) -> bool:
    """got == want, False when comparing raises."""
    try:
        return got == want
    except Exception:  # noqa: BLE001 - plain data from the checker's side only; be safe anyway
        return False


# the checker's own words when a student's function raised: "name(...) raised TypeError: ..." (toxlab.grading)
RAISED = re.compile(r"^[\w.]+\(\.\.\.\) raised ")


@contextlib.contextmanager
def hint_when_it_raises(hint: str):
    """A student's function that raises inside this block fails the check with the error *and* `hint`.

    The checker's message alone ("make_training_args(...) raised TypeError: got multiple values ...") says what
    broke but not what the exercise expects; `hint` says what the check asked for, so the verdict still teaches.
    Only a raise of the student's code gets it: the checks' own assertions keep their own hints."""
    try:
        yield
    except AssertionError as e:
        message = str(e)
        if not RAISED.match(message):
            raise
        raise AssertionError(f"{message.splitlines()[0][:240]} -- {hint}") from None
