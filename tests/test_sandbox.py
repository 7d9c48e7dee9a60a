"""The sandbox of the grading kernel (course/sandbox.py), proven with real `nbgrader autograde`.

The attack corpus (tests/attacks/corpus.py) is graded in a throwaway course next
to two honest students; the same honest students are graded in a course without
the attackers. Attacks on files, the gradebook, the network and the machine's
resources must fail inside the attacker's own kernel, and nothing anyone else
owns may change. The tamper attacks are checked in tests/test_tamper.py.
"""
import runpy
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "attacks"))

from corpus import ATTACKS, HONEST  # noqa: E402
from fixture import gradebook_rows, tree_bytes  # noqa: E402
from runs import graded_runs  # noqa: E402

from course import sandbox  # noqa: E402
from course.layout import ROOT  # noqa: E402

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None,
                                 reason="bubblewrap is not installed: apt-get install bubblewrap")


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    return graded_runs(tmp_path_factory)


def attack(student):
    return next(a for a in ATTACKS if a.student == student)


# --- switches and configuration -------------------------------------------------

def test_require_refuses_without_bwrap(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SystemExit) as stop:
        sandbox.require(True)
    assert str(stop.value) == sandbox.MISSING
    assert "apt-get install bubblewrap" in str(stop.value) and "--no-sandbox" in str(stop.value)
    sandbox.require(False)          # opting out is allowed


def test_switch(monkeypatch):
    monkeypatch.delenv(sandbox.SWITCH, raising=False)
    assert sandbox.enabled()
    for value in ("off", "OFF", "0", "no", "false"):
        monkeypatch.setenv(sandbox.SWITCH, value)
        assert not sandbox.enabled()
    monkeypatch.setenv(sandbox.SWITCH, "on")
    assert sandbox.enabled()


def test_autograde_preprocessors_are_nbgraders_with_sandboxed_execute():
    """nbgrader_config.py lists nbgrader's default autograde steps with Execute swapped for
    SandboxExecute; an nbgrader upgrade that changes the default list shows up here."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute
    from traitlets.utils.importstring import import_item

    from course.layout import _Config
    config = _Config()
    runpy.run_path(str(ROOT / "nbgrader_config.py"), init_globals={"get_config": lambda: config})
    configured = [import_item(name) for name in config.Autograde.autograde_preprocessors]
    default = Autograde.class_traits()["autograde_preprocessors"].make_dynamic_default()
    assert configured[0] is sandbox.SandboxExecute and issubclass(configured[0], Execute)
    assert default[0] is Execute
    assert configured[1:] == default[1:]


def test_bwrap_command_hides_the_course(tmp_path):
    """Only the interpreter, the venv and the course package are mounted; the submission's
    notebook is left out of its working directory."""
    work = tmp_path / "autograded" / "s1" / "01_initialization"
    work.mkdir(parents=True)
    (work / "initialization.ipynb").write_text("{}")
    (work / "data.csv").write_text("1,2")
    box = sandbox.Box(work, {"memory_limit": 1, "cpu_limit": 2, "process_limit": 3, "file_size_limit": 4,
                             "tmpfs_size": 5})
    try:
        command = box.command(["python", "-m", "ipykernel_launcher"])
    finally:
        box.remove()
    assert not box.dir.exists()
    mounted = {command[i + 1] for i, arg in enumerate(command) if arg in ("--ro-bind", "--bind")}
    assert str(work / "data.csv") in mounted
    assert str(work / "initialization.ipynb") not in mounted
    assert not any(m == str(ROOT) or m.startswith(str(ROOT / "source")) for m in mounted)
    assert not any("gradebook" in m for m in mounted)
    assert "--unshare-net" in command and "--clearenv" in command
    assert command[-3:] == ["python", "-m", "ipykernel_launcher"]
    assert ["--as=1", "--cpu=2", "--nproc=3", "--fsize=4"] == [a for a in command if a.split("=")[0] in
                                                               ("--as", "--cpu", "--nproc", "--fsize")]


# --- the attack corpus, graded for real -------------------------------------------

@needs_bwrap
@pytest.mark.parametrize("student", [a.student for a in ATTACKS])
def test_attack_gets_its_expected_grade(runs, student):
    expected = attack(student)
    assert runs.attacked.scores(student) == expected.scores, expected.what


@needs_bwrap
@pytest.mark.parametrize("student", [a.student for a in ATTACKS if a.blocked])
def test_attack_attempts_are_blocked(runs, student):
    expected = attack(student)
    output = runs.attacked.output_text(student, "sigmoid")
    assert "LEAK" not in output, output
    for what in expected.blocked:
        assert f"blocked {what}:" in output, f"{what!r} not blocked:\n{output}"


@needs_bwrap
def test_resource_bombs_hit_their_own_limits(runs):
    output = runs.attacked.output_text("a_hog", "sigmoid")
    assert "blocked 2 GB bytearray: MemoryError" in output
    assert "blocked 200 processes: BlockingIOError" in output
    assert "blocked 100 MB file in the working directory: OSError: [Errno 27] File too large" in output


@needs_bwrap
def test_honest_students_are_untouched_by_the_attackers(runs):
    """Same grades, same gradebook rows, byte-identical autograded folders as in a run without attackers."""
    for student, (_, expected) in HONEST.items():
        assert runs.attacked.scores(student) == expected
        assert gradebook_rows(runs.attacked.root, student) == gradebook_rows(runs.control.root, student)
        attacked = tree_bytes(runs.attacked.root / "autograded" / student)
        control = tree_bytes(runs.control.root / "autograded" / student)
        assert attacked == control


@needs_bwrap
def test_source_and_submissions_are_unchanged(runs):
    assert tree_bytes(runs.attacked.root / "source") == runs.source_before
    assert tree_bytes(runs.attacked.root / "submitted") == runs.submitted_before


@needs_bwrap
def test_sandbox_on_and_off_grade_alike(runs):
    """Every submission that is safe to run unconfined gets the same grades with BACKPROP_SANDBOX=off."""
    students = list(HONEST) + [a.student for a in ATTACKS if a.unboxed and not a.sandbox_only]
    for student in students:
        assert runs.unboxed.scores(student) == runs.attacked.scores(student), student
