"""A rule that the square notebook's own solution fails (tests of `course check`)."""
from course.judge.checks import Wrong
from course.judge.rules import rule

NOTEBOOK = "square"
STUDENT = ["square"]


def context():
    return {}


@rule("test_square", points=2)
def grade_square(student, check):
    with check.part(2, "a wrong expectation"):
        if check.call(student.square, -2) != -4:
            raise Wrong("square(-2) should be -4 (this rule is wrong on purpose)")
