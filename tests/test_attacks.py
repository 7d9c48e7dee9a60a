"""The red team's corpus (tests/attacks/corpus.py), graded for real: attacks gain nothing.

Each attack is the honest wrong submission plus the attack, graded in one class with the
honest right and wrong students, through `course grade` (as root) and through plain nbgrader
autograde + generate_feedback (as a normal user): see tests/attacks/fixture.py.
"""
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "attacks"))

from corpus import ATTACKS, FULL, HONEST_WRONG  # noqa: E402
from fixture import AttackedClass  # noqa: E402

RUNS = ["course grade", "nbgrader"]
# text that only the grader's code holds: if it shows in a student's outputs, something leaked
SECRETS = ["check.call(student.", "def grade_", "@rule(", "numerical_gradient(f, x.copy()"]
_class = []
# (run, attack) pairs: an attack marked root_only is graded in the root run only
GRADED = [pytest.param(run, attack, id=f"{attack.student}-{run}") for run in RUNS for attack in ATTACKS
          if run == "course grade" or not attack.root_only]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if not _class:
        _class.append(AttackedClass(tmp_path_factory.mktemp("attacked_class")))
    return _class[0]


@pytest.mark.parametrize("run", RUNS)
def test_the_honest_students_are_graded_as_if_alone(graded, run):
    for root, (right, wrong) in graded.honest_everywhere(run).items():
        assert right == FULL and wrong == HONEST_WRONG, root


@pytest.mark.parametrize("run, attack", GRADED)
def test_no_attack_scores_more_than_the_honest_wrong_solution(graded, run, attack):
    scores = graded.scores(run, attack.student)
    assert set(scores) == set(HONEST_WRONG), f"{attack.what}: graded cells {sorted(scores)}"
    for cell, honest in HONEST_WRONG.items():
        assert scores[cell] <= honest, f"{attack.what}: {cell} got {scores[cell]}, the honest wrong one {honest}"


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.blocked], ids=lambda a: a.student)
def test_every_attempt_on_the_grader_or_the_host_is_blocked(graded, run, attack):
    text = graded.outputs(run, attack.student)
    assert "LEAK" not in text, re.findall(r"LEAK[^\n]*", text)
    for what in attack.blocked:
        assert f"blocked {what}:" in text, f"{what!r} did not report blocked"


@pytest.mark.parametrize("run, attack", GRADED)
def test_no_graded_notebook_or_feedback_holds_the_graders_code(graded, run, attack):
    """(A damaged notebook may have no graded copy at all: that costs its student only.)"""
    for path in (graded.autograded(run, attack.student), graded.feedback(run, attack.student)):
        if path.exists():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not [s for s in SECRETS if s in text], path


@pytest.mark.parametrize("run", RUNS)
def test_feedback_is_safe_to_open(graded, run):
    """No live script, event handler or javascript: link from the student's outputs or answer (their
    code is shown, escaped, as code)."""
    html = graded.feedback(run, "a13_script_injection").read_text(encoding="utf-8")
    assert "Equal weights stay equal." in html                      # the written answer is there, as text
    assert not re.search(r"<script[^>]*>[^<]*alert\(", html)
    assert not re.search(r"<[^>]+\son(error|load)\s*=", html, re.IGNORECASE)
    assert not re.search(r"""<a\s[^>]*href\s*=\s*["']?\s*javascript:""", html, re.IGNORECASE)


@pytest.mark.parametrize("run", RUNS)
def test_a_flood_of_output_is_cut_before_it_reaches_the_graded_notebook(graded, run):
    assert graded.autograded(run, "a14_flood").stat().st_size < 3 * 1024 ** 2
    assert graded.feedback(run, "a14_flood").stat().st_size < 4 * 1024 ** 2
    assert "output cut" in graded.outputs(run, "a14_flood")
    assert "the grader did not get all of this cell's output: one message over 64 MiB" in graded.outputs(run, "a14_flood")


def test_a_fork_bomb_stops_at_the_process_limit(graded):
    text = graded.outputs("course grade", "a16_fork_bomb")
    started = int(re.search(r"started (\d+) processes", text).group(1))
    assert 0 < started < 64


def test_nothing_is_left_on_the_host(graded):
    assert graded.host_after == graded.host_before
    for root in graded.roots():
        assert not (root / "planted").exists(), root


def test_a_damaged_notebook_is_graded_by_course_grade_and_costs_only_its_student(graded):
    assert graded.scores("course grade", "a22_damaged_metadata") == HONEST_WRONG
    assert graded.scores("nbgrader", "m_right") == FULL          # plain nbgrader went on after it


def test_the_kernel_cannot_import_or_read_the_grader(graded):
    """No copy of course/ (rules, reference) is importable or readable in the grading kernel."""
    for run in RUNS:
        text = graded.outputs(run, "a09_import_grader")
        assert "blocked import course: ModuleNotFoundError" in text
        assert "blocked read the rules: FileNotFoundError" in text
        assert "blocked a copy of the judge anywhere: FileNotFoundError" in text
