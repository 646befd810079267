"""What a course adds to the grading machinery, found through the `toxlab.grading` entry-point group.

Grading knows tests and plain data only. A course (toxlab's is toxlab/labs/grading.py) declares one
`Extension` under the group in its pyproject.toml:

    [project.entry-points."toxlab.grading"]
    course = "toxlab.labs.grading:EXTENSION"

and gives, all by name, so that nothing here imports the course:

  * assignments: each one's name and visible checks (a pytest file whose tests are test_<exercise>__<what>);
  * builders: objects the checker asks the executor to build from plain arguments (wire.obj), and
    builds itself for its references, so both sides start from equal inputs;
  * codecs: a value of some type -> tagged plain data (executor side), and the tagged data -> a frozen
    record the checks can trust (checker side);
  * harnesses: functions the executor runs on the student's namespace when calling one function is not
    enough (build the student's class on a real object, call a method, send back what it did);
  * preload: imports the executor's zygote does once, before any submission forks from it;
  * restored: the libraries whose module and class dictionaries the executor puts back after each
    student cell (fairness: one cell's monkeypatch must not spoil the student's other answers).

The executor loads the group inside the sandbox too: the sandbox can read the installed package's
metadata (site-packages), so nothing more needs mounting.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

GROUP = "toxlab.grading"
WIRE_TAGS = frozenset({"__array__", "__tensor__", "__tuple__", "__float__", "__unsupported__", "__obj__"})


@dataclass(frozen=True)
class Assignment:
    """One graded assignment: its name (the hidden checks file is <name>.py) and its visible checks."""

    name: str
    checks: Path  # the visible checks' file
    checks_module: str  # the same file as an importable module: a grading worker imports it once, up front

    def exercises(self) -> list[str]:
        """The exercises its visible checks cover, in file order."""
        return exercises_in(self.checks)

    def warm_up(self) -> None:
        importlib.import_module(self.checks_module)


@lru_cache(maxsize=None)
def exercises_in(checks: Path) -> list[str]:
    """The exercises a checks file covers (its tests are test_<exercise>__<what>), in file order."""
    names = re.findall(r"^def test_(\w+?)__\w+\(", Path(checks).read_text(), re.M)
    return list(dict.fromkeys(names))


def find_exercise(exercise: str, assignments: Iterable):
    """The one of `assignments` (anything with .name and .exercises()) whose checks cover `exercise`;
    KeyError naming the known exercises when none does (exercise names are unique across a course)."""
    assignments = list(assignments)
    found = [a for a in assignments if exercise in a.exercises()]
    if not found:
        known = ", ".join(e for a in assignments for e in a.exercises())
        raise KeyError(f"no lab has checks named test_{exercise}__*; is the exercise name right? (known: {known})")
    assert len(found) == 1, f"exercise {exercise!r} is in {[a.name for a in found]}: names must be unique"
    return found[0]


@dataclass(frozen=True)
class Codec:
    """How one type of answer crosses from the executor to the checker.

    claims(value) -> bool             executor: is this value of my type (test it without importing the
                                      type's library where a name will do: most answers are not of it)
    encode(value, plain) -> data      executor: the value as JSON data; `plain` turns nested values into plain data
    decode(data, plain) -> record     checker: validate `data` (raise wire.WireError when malformed) and return
                                      a frozen record; `plain` validates and rebuilds nested values
    tag: the key that marks the data on the wire ("__name__"); None sends `encode`'s result untagged,
    as ordinary plain data (a column of values as a list), and then `decode` is never called."""

    claims: Callable[[Any], bool]
    encode: Callable[[Any, Callable[[Any], Any]], Any]
    decode: Callable[[Any, Callable[[Any], Any]], Any] | None = None
    tag: str | None = None


@dataclass(frozen=True)
class Extension:
    """What one course adds to grading (see the module's docstring)."""

    assignments: Callable[[], Iterable[Assignment]] = lambda: ()
    builders: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    codecs: Sequence[Codec] = ()
    harnesses: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    preload: Callable[[], None] = lambda: None
    restored: tuple[str, ...] = ()


@dataclass(frozen=True)
class Registry:
    """Every installed extension, merged; a name two extensions both define is an error."""

    extensions: tuple[Extension, ...]
    builders: Mapping[str, Callable[..., Any]]
    codecs: tuple[Codec, ...]
    tagged: Mapping[str, Codec]
    harnesses: Mapping[str, Callable[..., Any]]
    restored: frozenset[str]

    def assignments(self) -> dict[str, Assignment]:
        return {a.name: a for ext in self.extensions for a in ext.assignments()}

    def assignment(self, name: str) -> Assignment:
        """The assignment called `name`; KeyError naming the known ones."""
        found = self.assignments()
        if name not in found:
            raise KeyError(f"no assignment named {name!r} among the {GROUP!r} entry points' "
                           f"(known: {', '.join(found) or 'none: is the course package installed?'})")
        return found[name]

    def for_exercise(self, exercise: str) -> Assignment:
        return find_exercise(exercise, self.assignments().values())

    def build(self, name: str, **kw):
        """The object called `name`, built from plain arguments (wire.obj names it)."""
        if name not in self.builders:
            raise ValueError(f"unknown grading object {name!r}; known: {sorted(self.builders)}")
        return self.builders[name](**kw)

    def preload(self) -> None:
        for ext in self.extensions:
            ext.preload()


def merge(extensions: Iterable[Extension]) -> Registry:
    """One registry from several extensions; ValueError names a clash or a tag the wire itself uses."""
    extensions = tuple(extensions)
    builders: dict = {}
    harnesses: dict = {}
    tagged: dict = {}
    for ext in extensions:
        for mine, theirs, kind in ((builders, ext.builders, "builder"), (harnesses, ext.harnesses, "harness")):
            for name, fn in theirs.items():
                if name in mine:
                    raise ValueError(f"two {GROUP!r} extensions define the {kind} {name!r}; rename one")
                mine[name] = fn
        for codec in ext.codecs:
            if codec.tag is None:
                continue
            if codec.tag in WIRE_TAGS or codec.tag in tagged or not re.fullmatch(r"__\w+__", codec.tag):
                raise ValueError(f"codec tag {codec.tag!r} is taken or malformed: give a new __name__")
            if codec.decode is None:
                raise ValueError(f"codec {codec.tag!r} is tagged but has no decode")
            tagged[codec.tag] = codec
    return Registry(extensions, builders, tuple(c for e in extensions for c in e.codecs), tagged, harnesses,
                    frozenset(lib for e in extensions for lib in e.restored))


@lru_cache(maxsize=1)
def registry() -> Registry:
    """The installed extensions (entry points of the group `toxlab.grading`), loaded once per process."""
    loaded = []
    for ep in sorted(entry_points(group=GROUP), key=lambda ep: ep.name):
        ext = ep.load()
        if not isinstance(ext, Extension):
            raise TypeError(f"entry point {ep.name} = {ep.value!r} in group {GROUP!r} should name a "
                            f"toxlab.grading.extensions.Extension, not a {type(ext).__name__}")
        loaded.append(ext)
    return merge(loaded)
