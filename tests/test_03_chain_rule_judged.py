"""03's chain_rule_by_hand exercise, proven both ways by the real judge (course.judge.execute).

Each variant of test_03_backward_grading's lists is put into the source notebook's solution
cell, the notebook is run up to the exercise's test cell in a real kernel, and that cell is
judged as autograding judges it (JudgeExecute: the visible checks, then the rule in
course/judge/rules/backward.py). Wrong variants must earn exactly their listed points,
correct alternatives full marks. One kernel per variant; only the cells up to the test cell run.
"""
import nbformat
import pytest
from nbgrader.utils import determine_grade

from course.authoring import check, notebooks
from course.layout import notebook_path

from test_03_backward_grading import CORRECT_CHAIN_RULE_BY_HAND, WRONG_CHAIN_RULE_BY_HAND

TEST = "test_chain_rule_by_hand"


def judged(code):
    """(score, max points, printed text and error) of the exercise's test cell with `code` as the solution."""
    source = notebooks.read(notebook_path("source", "03_backward"))
    solutions = notebooks.reference_solutions(source)
    nb = nbformat.from_dict(source)
    end = next(i for i, c in enumerate(nb.cells) if notebooks.grade_id(c) == TEST)
    nb.cells = nb.cells[:end + 1]
    for cell in nb.cells:
        if cell.cell_type == "code" and notebooks.is_solution(cell):
            cell.source = code if notebooks.grade_id(cell) == "chain_rule_by_hand" else solutions[notebooks.grade_id(cell)]
    tests = {notebooks.grade_id(c): c.source for c in nb.cells if notebooks.is_test(c)}
    done = check.execute(nb, notebook_path("source", "03_backward").parent, "backward", tests)
    cell = done.cells[end]
    text = "".join(o.get("text", "") if o.output_type == "stream" else f"{o.ename}: {o.evalue}"
                   for o in cell.outputs if o.output_type in ("stream", "error"))
    return (*determine_grade(cell), text)


@pytest.fixture(scope="module")
def outcomes():
    variants = {name: code for name, (code, _) in WRONG_CHAIN_RULE_BY_HAND.items()}
    variants.update(CORRECT_CHAIN_RULE_BY_HAND)
    variants["unimplemented"] = "def chain_rule_by_hand(x, y, w1, b1, w2, b2):\n    raise NotImplementedError()"
    return {name: judged(code) for name, code in variants.items()}


@pytest.mark.parametrize("variant", sorted(WRONG_CHAIN_RULE_BY_HAND))
def test_wrong_variants_earn_exactly_their_points(outcomes, variant):
    score, top, text = outcomes[variant]
    assert top == 2
    assert score == WRONG_CHAIN_RULE_BY_HAND[variant][1], f"{variant}: {score} of {top}\n{text}"


@pytest.mark.parametrize("variant", sorted(CORRECT_CHAIN_RULE_BY_HAND))
def test_correct_alternatives_get_full_marks(outcomes, variant):
    score, top, text = outcomes[variant]
    assert score == top == 2, f"{variant}: {score} of {top}\n{text}"


def test_the_stub_earns_nothing(outcomes):
    assert outcomes["unimplemented"][0] == 0


def test_messages_name_the_gradient_and_the_slip(outcomes):
    assert "dL/dw2 is wrong" in outcomes["sigmoid_slope_missing"][2]
    text = outcomes["w2_of_the_example"][2]
    assert "dL_da1 for (x, y, w1, b1, w2, b2) = " in text and "local gradient of z2 = w2 a1 + b2" in text
    assert "dL_dw2 for (x, y, w1, b1, w2, b2) = (-1.5, 0.0" in outcomes["target_taken_as_1"][2]
    assert "[[" not in text and "array(" not in text
