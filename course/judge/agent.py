"""The calculator's side of a remote call: this file's text is sent into the student's kernel.

It is not imported there (the kernel has no `course` package): course.judge.remote sends
its source once per kernel and runs it in a private namespace. For each graded cell the
grader opens one session (`_serve`, one execute_request) that waits for requests on the
kernel's stdin channel: each request is one call, `_run(payload)` calls one of the
notebook's functions on the inputs in it and sends the outcome back as plain data (`input()`
with a prompt that is JSON), and the grader's answer to that prompt is the next request. An
empty answer ends the session.

Nothing here judges: it holds no expected value, no comparison, no point. Student code can
replace or break any of it; then it can only make its own function answer differently,
which it could do anyway. The grader (course.judge.wire) validates whatever comes back.

The format (both directions), JSON with one tag per non-primitive value:
  null, true/false, int, float (NaN/Infinity allowed), str          as themselves
  {"tuple": [...]}, {"list": [...]}, {"dict": [[key, value], ...]}  containers
  {"array": "<f8", "shape": [n, m], "data": base64}                 a plain numpy array
  {"scalar": "<f8", "data": base64}                                 a numpy scalar
  {"rng": {bit generator state}}                                    a numpy Generator
  {"callback": id}                                                  a function answered by the grader
                                                                    (also sent back, as an argument)
  {"other": "TypeName"}                                             anything else (kernel -> grader)
"""
import base64
import builtins
import json

import numpy

PREFIX = "\x1ebackprop-lab:"          # starts every prompt this agent sends


def _encode(value, depth=0):
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if depth > 12:
        return {"other": "a structure nested too deep"}
    if kind in (list, tuple):
        return {kind.__name__: [_encode(item, depth + 1) for item in value]}
    if kind is dict:
        return {"dict": [[_encode(k, depth + 1), _encode(v, depth + 1)] for k, v in value.items()]}
    if kind is numpy.ndarray and value.dtype.kind in "biuf":
        return {"array": value.dtype.str, "shape": list(value.shape),
                "data": base64.b64encode(numpy.ascontiguousarray(value).tobytes()).decode()}
    if hasattr(value, "_backprop_lab_callback"):
        return {"callback": value._backprop_lab_callback}       # a function the grader lent
    if kind is numpy.random.Generator:
        return {"rng": value.bit_generator.state}
    if isinstance(value, numpy.generic) and kind.__module__ == "numpy" and value.dtype.kind in "biuf":
        return {"scalar": value.dtype.str, "data": base64.b64encode(value.tobytes()).decode()}
    return {"other": kind.__name__}


def _decode(value, ask):
    if not isinstance(value, dict):
        return value
    tag = next(iter(value))
    inner = value[tag]
    if tag == "tuple":
        return tuple(_decode(item, ask) for item in inner)
    if tag == "list":
        return [_decode(item, ask) for item in inner]
    if tag == "dict":
        return {_decode(k, ask): _decode(v, ask) for k, v in inner}
    if tag == "array":
        flat = numpy.frombuffer(base64.b64decode(value["data"]), dtype=numpy.dtype(inner))
        return flat.reshape(value["shape"]).copy()
    if tag == "scalar":
        return numpy.frombuffer(base64.b64decode(value["data"]), dtype=numpy.dtype(inner))[0]
    if tag == "rng":
        rng = numpy.random.Generator(getattr(numpy.random, inner["bit_generator"])())
        rng.bit_generator.state = inner
        return rng
    if tag == "callback":
        return _callback(inner, ask)
    raise ValueError(f"unknown tag {tag}")


def _callback(number, ask, own=None):
    """A function answered by the grader; own: the notebook's function of that name, used
    instead when the grader cannot take the arguments (they are not plain data)."""
    def answered_by_the_grader(*args, **kwargs):
        reply = ask({"callback": number, "args": _encode(list(args)), "kwargs": _encode(kwargs)})
        if reply.get("not_data") and callable(own):
            return own(*args, **kwargs)
        if "error" in reply:
            raise _exception(reply["error"])(reply.get("message", ""))
        return _decode(reply["value"], ask)
    answered_by_the_grader._backprop_lab_callback = number
    return answered_by_the_grader


def _exception(name):
    found = getattr(builtins, name, None)
    return found if isinstance(found, type) and issubclass(found, Exception) else RuntimeError


def _serve(namespace, ask, token):
    """One session: answer the grader's requests until it sends an empty one."""
    payload = ask(PREFIX + json.dumps({"token": token, "ready": True}))
    while payload:
        payload = _run(payload, namespace, ask)


def _run(payload, namespace, ask):
    """Call namespace[payload["call"]] on the payload's inputs; send the outcome back and
    return the grader's answer (the next request).

    ask is the kernel's input(): it sends a prompt to the grader and returns its answer.
    """
    request = json.loads(payload)

    def send(message):
        return json.loads(ask(PREFIX + json.dumps({"token": request["token"], **message})) or "{}")

    saved = {name: namespace.get(name, PREFIX) for name in request.get("lend", {})}
    lent = {name: _callback(number, send, saved[name]) for name, number in request.get("lend", {}).items()}
    args = _decode(request["args"], send)
    kwargs = _decode(request["kwargs"], send)
    before = [json.dumps(_encode(a)) for a in args]   # to see what the call changed in place
    outcome = {}
    namespace.update(lent)
    try:
        function = namespace[request["call"]]
        with numpy.errstate(**request.get("errstate", {})):
            result = function(*args, **kwargs)
        outcome["value"] = _encode(result)
    except BaseException as error:  # noqa: BLE001 - the grader decides what an exception means
        outcome["error"] = type(error).__name__
        outcome["message"] = str(error)[:500]
    finally:
        for name, value in saved.items():
            if value is PREFIX:
                namespace.pop(name, None)
            else:
                namespace[name] = value
    changed = {}
    for index, arg in enumerate(args):
        now = json.dumps(_encode(arg))
        if now != before[index]:
            changed[str(index)] = json.loads(now)
    outcome["changed"] = changed
    return ask(PREFIX + json.dumps({"token": request["token"], "result": outcome}))
