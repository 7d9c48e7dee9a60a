"""Plain data across the wall: what the grader sends into the kernel, and what it accepts back.

The format is the one course/judge/agent.py describes (JSON, one tag per non-primitive
value). Sending (`encode`) turns the grader's inputs into it: numbers, strings, tuples,
lists, dicts, plain numpy arrays and scalars, numpy Generators (their state), and functions
(a callback number: the kernel calls back and the grader answers).

Receiving (`decode`) trusts nothing. A reply is accepted only as exact built-in values,
plain numpy arrays of a numeric dtype and numpy scalars; sizes are capped (elements, nesting,
string length, bytes in all). Anything else becomes `NotData`, which the grader reports as
"returned a MyArray, which is not plain data". What comes back can never run code in the
grader: no pickle, no object of the kernel's, only numbers it then compares itself.
"""
import base64
import binascii
import json
import math

import numpy as np

MAX_BYTES = 32 * 1024 * 1024      # one reply, as JSON text
MAX_ELEMENTS = 2_000_000          # in one array
MAX_ITEMS = 100_000               # in one list, tuple or dict
MAX_DEPTH = 12
MAX_STRING = 10_000
DTYPES = {np.dtype(t).str for t in ("f8", "f4", "f2", "i8", "i4", "i2", "i1", "u8", "u4", "u2", "u1")} | {"|b1"}


class NotData(ValueError):
    """A reply that is not plain data; str() is for the student ("a MyArray", "too large")."""


class Callbacks:
    """The grader's functions a call hands to the kernel, by number."""

    def __init__(self):
        self.functions = []

    def add(self, function):
        self.functions.append(function)
        return len(self.functions) - 1

    def get(self, number):
        if type(number) is not int or not 0 <= number < len(self.functions):
            raise NotData("an unknown callback")
        return self.functions[number]


def encode(value, callbacks):
    """The grader's value -> the wire format (see course/judge/agent.py)."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind in (list, tuple):
        return {kind.__name__: [encode(item, callbacks) for item in value]}
    if kind is dict:
        return {"dict": [[encode(k, callbacks), encode(v, callbacks)] for k, v in value.items()]}
    if kind is np.ndarray:
        return {"array": value.dtype.str, "shape": list(value.shape),
                "data": base64.b64encode(np.ascontiguousarray(value).tobytes()).decode()}
    if isinstance(value, np.generic):
        return {"scalar": value.dtype.str, "data": base64.b64encode(value.tobytes()).decode()}
    if isinstance(value, np.random.Generator):
        return {"rng": value.bit_generator.state}
    if callable(value):
        return {"callback": callbacks.add(value)}
    raise TypeError(f"cannot send a {kind.__name__} to the kernel")


def decode(value, callbacks=None, depth=0):
    """A value in the wire format, from the kernel -> plain grader-side data, or NotData.

    callbacks: the call's Callbacks, when the kernel may hand one of them back (the
    arguments of a callback: backward(..., loss_grad=bce_loss_grad) with a lent helper).
    """
    kind = type(value)
    if value is None or kind in (bool, int):
        return value
    if kind is float:
        return value
    if kind is str:
        if len(value) > MAX_STRING:
            raise NotData("a string too long")
        return value
    if kind is not dict or len(value) < 1 or depth > MAX_DEPTH:
        raise NotData("something that is not plain data" if depth <= MAX_DEPTH else "a structure nested too deep")
    tag = next(iter(value))
    inner = value[tag]
    if tag in ("tuple", "list") and len(value) == 1 and type(inner) is list:
        if len(inner) > MAX_ITEMS:
            raise NotData(f"a {tag} too long")
        items = [decode(item, callbacks, depth + 1) for item in inner]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict" and len(value) == 1 and type(inner) is list:
        if len(inner) > MAX_ITEMS:
            raise NotData("a dict too large")
        out = {}
        for pair in inner:
            if type(pair) is not list or len(pair) != 2:
                raise NotData("a malformed dict")
            key = decode(pair[0], callbacks, depth + 1)
            if type(key) not in (str, int, bool, float) and key is not None:
                raise NotData("a dict with keys that are not strings or numbers")
            out[key] = decode(pair[1], callbacks, depth + 1)
        return out
    if tag == "array" and set(value) == {"array", "shape", "data"}:
        return _array(inner, value["shape"], value["data"])
    if tag == "scalar" and set(value) == {"scalar", "data"}:
        return _array(inner, [], value["data"])[()]
    if tag == "callback" and len(value) == 1 and callbacks is not None:
        return callbacks.get(inner)
    if tag == "rng" and len(value) == 1 and type(inner) is dict:
        return _generator(inner)
    if tag == "other" and len(value) == 1 and type(inner) is str:
        raise NotData(f"a {inner[:60]}")
    raise NotData("something that is not plain data")


BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")


def _generator(state):
    """A numpy Generator in the state the kernel sent (numpy validates the state itself)."""
    name = state.get("bit_generator")
    if name not in BIT_GENERATORS or len(json.dumps(state)) > 20_000:
        raise NotData("a random generator of an unknown kind")
    try:
        rng = np.random.Generator(getattr(np.random, name)())
        rng.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError):
        raise NotData("a random generator in a malformed state") from None
    return rng


def _array(dtype, shape, data):
    if type(dtype) is not str or dtype not in DTYPES:
        raise NotData("an array of an unsupported dtype")
    if type(shape) is not list or len(shape) > 8 or any(type(n) is not int or n < 0 for n in shape):
        raise NotData("an array with a malformed shape")
    if math.prod(shape) > MAX_ELEMENTS:
        raise NotData("an array too large")
    if type(data) is not str:
        raise NotData("a malformed array")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise NotData("a malformed array") from None
    dt = np.dtype(dtype)
    if len(raw) != math.prod(shape) * dt.itemsize:
        raise NotData("an array whose data does not match its shape")
    return np.frombuffer(raw, dtype=dt).astype(dt.newbyteorder("="), copy=True).reshape(shape)
