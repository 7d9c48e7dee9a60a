"""Tamper-proof hidden tests: a submission that replaces numpy, builtins, print, sys.stderr,
IPython's showtraceback or the grading helpers cannot turn a wrong answer into a pass.

First the guard of course/grading.py in this process, then the tamper attacks of the
corpus (tests/attacks/corpus.py) graded by real `nbgrader autograde`, with the sandbox on
and off, and once without the guard to show that each attack is real.
"""
import builtins
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "attacks"))

from corpus import ATTACKS, HONEST, PATCH_TOP  # noqa: E402
from fixture import FULL, ZERO  # noqa: E402
from runs import graded_runs  # noqa: E402

from course import grading, notebooks, reference  # noqa: E402

TAMPERERS = ["z_patch_top", "z_patch_inside", "z_hide_traceback", "z_shadow"]


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    return graded_runs(tmp_path_factory)


# --- the guard, in this process -------------------------------------------------

@pytest.fixture(autouse=True)
def guard_leaves_pytest_streams_alone(monkeypatch):
    """pytest swaps sys.stdout/stderr itself; in this process the guard watches everything else."""
    monkeypatch.setattr(grading._GUARD, "watched", [w for w in grading._GUARD.watched if w[0] is not sys])


def test_guard_puts_originals_back():
    originals = (np.allclose, np.testing.assert_allclose, builtins.abs, grading.expect_close,
                 grading.Checker.score, reference.sigmoid, sys.stderr)
    np.allclose = lambda *args, **kwargs: True
    np.testing.assert_allclose = lambda *args, **kwargs: None
    builtins.abs = lambda x: 0
    grading.expect_close = lambda *args, **kwargs: None
    grading.Checker.score = lambda self: self.points
    reference.sigmoid = lambda z: z
    replaced = grading._GUARD.restore()
    assert set(replaced) == {"numpy.allclose", "numpy.testing.assert_allclose", "builtins.abs",
                             "course.judge.checks.expect_close", "Checker.score", "course.judge.reference.sigmoid"}
    assert (np.allclose, np.testing.assert_allclose, builtins.abs, grading.expect_close,
            grading.Checker.score, reference.sigmoid, sys.stderr) == originals
    assert grading._GUARD.restore() == ()


def _sigmoid_checker(student_sigmoid):
    check = grading.Checker(points=2)
    z = np.linspace(-3, 3, 7)
    with check.part(2, "sigmoid"):
        grading.expect_close(check.call(student_sigmoid, z), reference.sigmoid(z), "sigmoid(z)")
    return check.score()


def test_checker_gives_full_points_to_honest_code_that_prints_and_warns():
    def sigmoid(z):
        print("working on it")
        print("a warning of my own", file=sys.stderr)
        np.exp(np.array([1000.0]))          # overflow warning, swallowed
        return 1.0 / (1.0 + np.exp(-z))
    assert _sigmoid_checker(sigmoid) == 2


def test_checker_gives_zero_when_the_tested_code_replaces_what_it_is_judged_with():
    def sigmoid(z):
        np.isclose = lambda *args, **kwargs: True
        return 1.0 / (1.0 + np.exp(-z))     # even a right answer: the judging can't be trusted
    isclose = np.isclose
    assert _sigmoid_checker(sigmoid) == 0
    assert np.isclose is isclose

    def wrong(z):
        grading.relative_error = lambda actual, expected: 0.0
        return z
    assert _sigmoid_checker(wrong) == 0


def test_checker_gives_zero_when_helpers_were_replaced_before_it_was_made():
    grading.expect_array = lambda *args, **kwargs: None
    assert _sigmoid_checker(lambda z: 1.0 / (1.0 + np.exp(-z))) == 0
    assert _sigmoid_checker(lambda z: 1.0 / (1.0 + np.exp(-z))) == 2      # put back: full points again


# --- the tamper attacks, graded for real --------------------------------------------

@pytest.mark.parametrize("student", TAMPERERS)
def test_tampering_gains_nothing_with_or_without_the_sandbox(runs, student):
    assert runs.attacked.scores(student) == ZERO
    assert runs.unboxed.scores(student) == ZERO


def test_top_level_tampering_is_reported_where_it_happens(runs):
    output = runs.attacked.output_text("z_patch_top", "sigmoid")
    assert "✗ grading: the notebook's code replaced" in output
    # the test cells ran with the originals: the wrong sigmoid fails each of them on its own merits
    assert "AssertionError" in runs.attacked.output_text("z_patch_top", "test_public_allclose")
    assert "sigmoid(z) has the right shape but differs" in runs.attacked.output_text("z_patch_top", "test_sigmoid")


def test_nbgrader_reports_an_error_whose_traceback_was_hidden(runs):
    """z_hide_traceback disables showtraceback from inside sigmoid, so the failing assert of the
    visible test prints nothing; nbgrader's Execute appends its own error output from the
    kernel's error reply, and the cell scores 0."""
    cell = runs.attacked.graded_cells("z_hide_traceback")["test_public_allclose"]
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert any(o.traceback == ["ERROR: An error occurred while showtraceback was disabled"] for o in errors)


def test_locked_cells_are_restored_and_fake_outputs_dropped(runs):
    source = {notebooks.grade_id(c): c.source for c in runs.attacked.release.cells if notebooks.grade_id(c)}
    graded = runs.attacked.graded_cells("z_edit_tests")
    for grade_id in ("test_public_allclose", "test_public_abs"):
        assert graded[grade_id].source == source[grade_id]
    assert "BEGIN HIDDEN TESTS" in graded["test_sigmoid"].source
    assert runs.attacked.scores("z_edit_tests") == ZERO
    assert runs.attacked.scores("z_delete_tests") == ZERO


def test_the_attack_is_real_without_the_guard(runs, tmp_path):
    """Executed by a plain kernel (course.judge.checks not imported before the student's cells), the
    top-level patches of numpy and builtins give the wrong sigmoid the points of the visible tests
    and of the np.testing test: importing course.judge.checks first is what stops them."""
    from nbgrader.preprocessors import Execute
    from nbgrader.utils import determine_grade

    nb = notebooks.read(runs.attacked.submission_path("z_patch_top", "autograded"))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    Execute(timeout=60).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    unguarded = {notebooks.grade_id(c): determine_grade(c)[0] for c in nb.cells if notebooks.is_test(c)}
    assert {k: v for k, v in unguarded.items() if k != "test_sigmoid"} == {
        k: v for k, v in FULL.items() if k != "test_sigmoid"}
    assert runs.attacked.scores("z_patch_top") == ZERO


def test_honest_students_grade_alike_everywhere(runs):
    for student, (_, expected) in HONEST.items():
        assert runs.attacked.scores(student) == runs.unboxed.scores(student) == expected
    assert {a.student for a in ATTACKS} >= set(TAMPERERS)
    assert "np.allclose = pass_everything" in PATCH_TOP
