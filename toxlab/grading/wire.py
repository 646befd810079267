"""Plain data between the checker (trusted) and the executor (runs student code).

Everything that crosses is JSON: numbers, strings, lists, dicts, and a few tagged forms:

    {"__array__": [dtype, shape, base64 bytes]}          a numpy array (fixed dtypes, no pickle)
    {"__tensor__": [array, requires_grad]}                a torch tensor, as its values
    {"__tuple__": [...]}                                  a tuple (a list stays a list)
    {"__float__": "nan" | "inf" | "-inf"}                 non-finite floats (JSON has none)
    {"__<codec>__": ...}                                  a course's own types, each as its codec says
                                                          (toxlab.grading.extensions)
    {"__unsupported__": "TypeName"}                       anything else the executor could not convert
    {"__obj__": name, "kw": {...}}                        (checker -> executor only) build a known object

`to_plain` runs in the executor; whatever it sends is only ever the student's answer.
`from_plain` runs in the checker and trusts nothing: it checks types, dtypes, shapes and sizes,
and rebuilds plain Python and numpy values that student code never touched.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass

import numpy as np

from .extensions import registry

# the output types a graded notebook keeps from the executor (both sides use this list)
NOTEBOOK_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex", "image/png", "image/jpeg", "image/svg+xml")
MAX_BYTES = 8 * 2**20  # one reply; a larger one costs the check that asked
MAX_ITEMS = 200_000  # elements of any one list or array
MAX_DEPTH = 8
DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64"}


class WireError(ValueError):
    """A value that cannot cross, or a reply that breaks the rules; the message says which."""


@dataclass(frozen=True)
class Tensor:
    """What the checker sees of a torch tensor: its values, dtype and whether it tracks gradients."""

    values: np.ndarray
    requires_grad: bool

    @property
    def dtype(self) -> str:
        return str(self.values.dtype)

    @property
    def shape(self) -> tuple:
        return self.values.shape


@dataclass(frozen=True)
class Unsupported:
    """A value the executor could not turn into plain data (its type's name only)."""

    type_name: str


# --- the executor's side: any Python value -> JSON-able plain data ------------------------------

def _array(a: np.ndarray) -> dict:
    a = np.array(a, order="C")  # (ascontiguousarray would turn a 0-d array into 1-d)
    if str(a.dtype) not in DTYPES:
        a = a.astype(np.float64) if a.dtype.kind in "fc" else a.astype(np.int64)
    if a.size > MAX_ITEMS:
        raise WireError(f"an array of {a.size} elements is larger than {MAX_ITEMS}")
    return {"__array__": [str(a.dtype), list(a.shape), base64.b64encode(a.tobytes()).decode()]}


def to_plain(value, depth: int = 0):
    """A value as plain data (runs in the executor, on the student's values)."""
    if depth > MAX_DEPTH:
        raise WireError("nested too deeply")
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"__float__": str(value)}
    if isinstance(value, (np.generic,)):
        return to_plain(value.item(), depth)
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_ITEMS:
            raise WireError(f"a list of {len(value)} items is longer than {MAX_ITEMS}")
        items = [to_plain(v, depth + 1) for v in value]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    kind = type(value).__module__.split(".")[0] + "." + type(value).__name__
    if kind.startswith("torch.") and hasattr(value, "detach"):
        t = value.detach().cpu()
        return {"__tensor__": [_array(t.float().numpy() if t.dtype == _bf16() else t.numpy()),
                               bool(value.requires_grad)]}
    for codec in registry().codecs:
        if codec.claims(value):
            body = codec.encode(value, lambda v: to_plain(v, depth + 1))
            return {codec.tag: body} if codec.tag else body
    if isinstance(value, dict) or (hasattr(value, "keys") and hasattr(value, "__getitem__")):
        keys = list(value.keys())
        if not all(isinstance(k, str) for k in keys):
            raise WireError("dict keys must be strings")
        # a str subclass, such as numpy's str_ (what np.unique over terms gives), travels as its plain string
        return {str.__str__(k): to_plain(value[k], depth + 1) for k in keys}
    if isinstance(value, float):  # a float subclass: its value only
        return to_plain(float.__float__(value), depth)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, str):
        return str.__str__(value)
    return {"__unsupported__": type(value).__name__[:100]}


def _bf16():
    import torch

    return torch.bfloat16


# --- the checker's side: plain data -> values it can trust ---------------------------------------

def from_plain(data, depth: int = 0):
    """Validate and rebuild a value sent by the executor (runs in the checker)."""
    if depth > MAX_DEPTH:
        raise WireError("nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        if len(data) > MAX_ITEMS:
            raise WireError("list too long")
        return [from_plain(v, depth + 1) for v in data]
    if type(data) is not dict:
        raise WireError(f"unexpected {type(data).__name__}")
    if len(data) == 1:
        (tag, body), = data.items()
        if tag == "__array__":
            return _from_array(body)
        if tag == "__tensor__":
            if not (type(body) is list and len(body) == 2 and type(body[1]) is bool):
                raise WireError("malformed tensor")
            arr = body[0].get("__array__") if type(body[0]) is dict else None
            return Tensor(_from_array(arr), body[1])
        if tag == "__tuple__":
            if type(body) is not list:
                raise WireError("malformed tuple")
            return tuple(from_plain(v, depth + 1) for v in body)
        if tag == "__float__":
            if body not in ("nan", "inf", "-inf"):
                raise WireError("malformed float")
            return float(body)
        codec = registry().tagged.get(tag)
        if codec is not None:
            return codec.decode(body, lambda v: from_plain(v, depth + 1))
        if tag == "__unsupported__":
            return Unsupported(str(body)[:100])
    return {str(k): from_plain(v, depth + 1) for k, v in data.items()}


def _from_array(body) -> np.ndarray:
    if not (type(body) is list and len(body) == 3 and body[0] in DTYPES and type(body[1]) is list
            and all(type(n) is int and 0 <= n <= MAX_ITEMS for n in body[1]) and type(body[2]) is str):
        raise WireError("malformed array")
    shape = tuple(body[1])
    raw = base64.b64decode(body[2], validate=True)
    dtype = np.dtype(body[0])
    if math.prod(shape) > MAX_ITEMS or len(raw) != math.prod(shape) * dtype.itemsize:
        raise WireError("array size does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def loads(line: bytes):
    """One JSON line from the executor, validated; WireError when it breaks the rules."""
    if len(line) > MAX_BYTES + 1024:
        raise WireError("reply too large")
    try:
        data = json.loads(line)
    except (ValueError, RecursionError) as e:
        raise WireError(f"not JSON: {type(e).__name__}") from None
    return data


# --- checker -> executor: arguments, including objects the executor builds ----------------------

def obj(name: str, **kw) -> dict:
    """An argument the executor builds with the builder called `name` (toxlab.grading.extensions), from kw."""
    return {"__obj__": name, "kw": kw}


def encode_args(value):
    """Checker-side arguments as plain data (object specs pass through)."""
    if isinstance(value, dict) and "__obj__" in value:
        return {"__obj__": value["__obj__"], "kw": encode_args(value["kw"])}
    if isinstance(value, dict):
        return {k: encode_args(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return {"__tuple__": [encode_args(v) for v in value]}
    if isinstance(value, list):
        return [encode_args(v) for v in value]
    return to_plain(value)


def decode_args(data, build):
    """Executor-side: rebuild arguments; `build(name, **kw)` makes the named objects."""
    if type(data) is dict and "__obj__" in data:
        return build(data["__obj__"], **decode_args(data["kw"], build))
    if type(data) is dict and len(data) == 1 and "__array__" in data:
        return _from_array(data["__array__"])
    if type(data) is dict and len(data) == 1 and "__tuple__" in data:
        return tuple(decode_args(v, build) for v in data["__tuple__"])
    if type(data) is dict and len(data) == 1 and "__float__" in data:
        return float(data["__float__"])
    if type(data) is dict:
        return {k: decode_args(v, build) for k, v in data.items()}
    if type(data) is list:
        return [decode_args(v, build) for v in data]
    return data
