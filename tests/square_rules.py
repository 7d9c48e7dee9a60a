"""Grading rules for the one-function `square` notebook of tests/notebook_factory.py.

The tests point course.judge.rules.MODULES["square"] (or "square_strict") at this module.
"""
from course.judge.checks import Wrong
from course.judge.rules import rule

NOTEBOOK = "square"
STUDENT = ["square"]


def context():
    return {}


@rule("test_square", points=2)
def grade_square(student, check):
    with check.part(2, "square of negative numbers and floats"):
        for x in (-2, 1.5, 0):
            if check.call(student.square, x) != x * x:
                raise Wrong(f"square({x}) should be {x * x}")
