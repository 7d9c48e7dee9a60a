"""The grading rules: one module per notebook, one rule per graded cell.

    # course/judge/rules/backward.py
    NOTEBOOK = "backward"
    STUDENT = ["numerical_gradient", "sigmoid_derivative", "mse_loss_grad", "backward"]

    @rule("test_backward", points=8, lend=["sigmoid_derivative", "mse_loss_grad"])
    def backward(student, check):
        ...

A rule is what used to be a test cell's hidden tests. It gets `student` (the notebook's
functions, run in the student's kernel: see course.judge.remote) and a Checker, and runs in
the grader. `lend` names the helpers that are answered by the reference while this cell is
graded (the kernel's `sigmoid_derivative` calls back to the grader's), so a wrong helper
costs only its own cell.

Each module also says what the cell's visible checks may use besides the student's
functions (`context()`: the given functions and the data the notebook defines), because the
grader runs those visible checks too, in its own process (course.judge.execute).
"""
import importlib
from dataclasses import dataclass, field

from .. import reference

# notebook name -> the module holding its rules
MODULES = {name: f"{__name__}.{name}" for name in
           ("initialization", "forward", "backward", "optimization", "iris_softmax")}


@dataclass
class Rule:
    grade_id: str
    points: float
    grade: object                      # (student, check) -> None
    lend: list = field(default_factory=list)

    def lent(self):
        """{name: the reference function} for the helpers this rule lends."""
        return {name: getattr(reference, name) for name in self.lend}


_registry = {}


def rule(grade_id, points, lend=()):
    """Register the decorated function as the rule of the graded cell `grade_id`."""
    def register(function):
        _registry.setdefault(function.__module__, {})[grade_id] = Rule(grade_id, float(points), function, list(lend))
        return function
    return register


def for_notebook(notebook, modules=None):
    """(rules by grade_id, the module) of a notebook ('backward'), or ({}, None) when it has none.

    modules: {notebook: module path} for notebooks of a course's own (c.JudgeExecute.rule_modules)."""
    name = {**MODULES, **(modules or {})}.get(notebook)
    if name is None:
        return {}, None
    module = importlib.import_module(name)
    return _registry.get(name, {}), module


def given(*names):
    """{name: reference function}: the notebook's read-only given code, for its visible checks."""
    return {name: getattr(reference, name) for name in names}
