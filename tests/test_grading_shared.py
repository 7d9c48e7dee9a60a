"""course.grading.use_reference in-process: the grader's functions for one cell, the student's after.

In a kernel the tamper guard's post_run_cell hook ends the cell; here _GUARD.give_back() does.
The real thing (nbgrader autograde) is proven in tests/test_0*_grading.py.
"""
from course import reference
from course.grading import _GUARD, use_reference


def test_the_reference_is_lent_for_the_cell_and_the_students_functions_come_back():
    def mine(Z):
        return Z
    namespace = {"softmax": mine, "other": 1}
    use_reference(namespace, ["softmax", "cross_entropy"])
    assert namespace["softmax"] is reference.softmax and namespace["cross_entropy"] is reference.cross_entropy
    use_reference(namespace, ["softmax"])          # twice in one cell: the student's stays remembered
    _GUARD.give_back()
    assert namespace == {"softmax": mine, "other": 1}


def test_the_guard_gives_back_after_a_cell_that_failed():
    namespace = {"softmax": "mine"}
    use_reference(namespace, ["softmax"])
    try:
        raise AssertionError("a visible assert failed")
    except AssertionError:
        pass
    _GUARD.after_cell()                             # IPython's post_run_cell runs after failing cells too
    assert namespace == {"softmax": "mine"}
