"""How the labs' own answer types cross from the executor to the checker (toxlab.grading.extensions.Codec).

A student's `datasets.Dataset` arrives in the checks as a `Dataset` record (column names and values), a
`datasets` Column as a plain list, and `transformers.TrainingArguments` as an `Args` record (its
to_dict()). The executor encodes (it runs student code, so an encoding is only ever the student's
answer); the checker decodes, trusting nothing: each record is rebuilt from validated plain data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from toxlab.grading.extensions import Codec
from toxlab.grading.wire import WireError


@dataclass(frozen=True)
class Dataset:
    """What the checker sees of a datasets.Dataset: column names and their values."""

    columns: list
    data: dict


@dataclass(frozen=True)
class Args:
    """What the checker sees of a TrainingArguments: its to_dict()."""

    values: dict


def _kind(value) -> str:
    # by name: most answers are not datasets', and a name costs no import of the library
    return type(value).__module__.split(".")[0] + "." + type(value).__name__


def _is_training_args(value) -> bool:
    try:
        from transformers import TrainingArguments
    except ImportError:
        return False
    return isinstance(value, TrainingArguments)


def _decode_dataset(body, plain) -> Dataset:
    if not (type(body) is dict and type(body.get("columns")) is list and type(body.get("data")) is dict):
        raise WireError("malformed dataset")
    cols = [c for c in body["columns"] if type(c) is str]
    return Dataset(cols, {k: plain(v) for k, v in body["data"].items() if type(k) is str})


def _decode_args(body, plain) -> Args:
    if type(body) is not dict:
        raise WireError("malformed TrainingArguments")
    return Args({k: plain(v) for k, v in body.items() if type(k) is str})


CODECS = (
    Codec(claims=lambda v: _kind(v) == "datasets.Dataset", tag="__dataset__",
          encode=lambda v, plain: {"columns": list(v.column_names), "data": plain(v.to_dict())},
          decode=_decode_dataset),
    Codec(claims=lambda v: _kind(v) == "datasets.Column", encode=lambda v, plain: plain(list(v))),
    Codec(claims=_is_training_args, tag="__args__",
          encode=lambda v, plain: plain(json.loads(json.dumps(v.to_dict(), default=str))),
          decode=_decode_args),
)
