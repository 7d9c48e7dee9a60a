"""course.judge.wire: what the grader accepts from the kernel is plain data, and nothing else."""
import json

import numpy as np
import pytest

from course.judge import wire
from course.judge.agent import _encode as kernel_encode


def round_trip(value):
    """value encoded as the kernel's agent does, sent as JSON, decoded by the grader."""
    return wire.decode(json.loads(json.dumps(kernel_encode(value))))


def test_numbers_arrays_and_containers_come_back_as_they_were():
    params = {"W1": np.arange(6.0).reshape(2, 3), "b1": np.zeros((1, 3), dtype=np.float32)}
    back = round_trip((params, [1, 2.5, True, None, "x"], np.float64(0.25), np.int64(3)))
    assert type(back) is tuple and type(back[0]) is dict and type(back[1]) is list
    assert back[0]["W1"].dtype == np.float64 and np.array_equal(back[0]["W1"], params["W1"])
    assert back[0]["b1"].dtype == np.float32 and back[0]["b1"].shape == (1, 3)
    assert back[1] == [1, 2.5, True, None, "x"]
    assert type(back[2]) is np.float64 and back[2] == 0.25 and type(back[3]) is np.int64
    assert back[0]["W1"].flags.writeable


def test_a_generator_comes_back_in_the_same_state():
    rng = np.random.default_rng(7)
    rng.normal(size=3)
    back = round_trip(rng)
    assert isinstance(back, np.random.Generator)
    assert np.array_equal(back.normal(size=4), rng.normal(size=4))


class LyingArray(np.ndarray):
    def __sub__(self, other):
        return np.zeros(self.shape)


class AlwaysEqual:
    def __eq__(self, other):
        return True


class MyFloat(float):
    pass


@pytest.mark.parametrize("value, words", [
    (np.zeros(3).view(LyingArray), "a LyingArray"),
    (AlwaysEqual(), "a AlwaysEqual"),
    (MyFloat(1.0), "a MyFloat"),
    (np.array([object()]), "a ndarray"),
    (lambda x: x, "a function"),
])
def test_objects_that_lie_about_arithmetic_or_comparison_are_not_data(value, words):
    with pytest.raises(wire.NotData, match=words):
        round_trip(value)


@pytest.mark.parametrize("message", [
    {"array": "<f8", "shape": [10 ** 7], "data": ""},                  # too many elements
    {"array": "<f8", "shape": [3], "data": "AAAA"},                    # data does not match the shape
    {"array": "|O", "shape": [1], "data": "AAAAAAAAAAA="},             # object dtype
    {"array": "<f8", "shape": [-1], "data": ""},
    {"list": [0] * (wire.MAX_ITEMS + 1)},
    {"dict": [[{"list": []}, 1]]},                                     # an unhashable key
    {"pickle": "gASVAAAAAAAAAAA="},                                     # an unknown tag
    {"rng": {"bit_generator": "os.system", "state": {}}},
    "x" * (wire.MAX_STRING + 1),
    {"callback": 0},                                                   # only inside a callback's arguments
])
def test_malformed_or_oversized_replies_are_refused(message):
    with pytest.raises(wire.NotData):
        wire.decode(message)


def test_a_structure_nested_too_deep_is_refused():
    message = 1
    for _ in range(wire.MAX_DEPTH + 2):
        message = {"list": [message]}
    with pytest.raises(wire.NotData, match="nested too deep"):
        wire.decode(message)
