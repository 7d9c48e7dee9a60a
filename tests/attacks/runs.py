"""The graded runs the sandbox and tamper tests look at, made once per test session.

Three throwaway courses of the fixture assignment are graded at the same time
with real `nbgrader autograde` (this repository's nbgrader_config.py):

    attacked  the honest students and every attacker, sandbox on
    control   the honest students only, sandbox on
    unboxed   the honest students and the attackers that are safe to run
              unconfined, with BACKPROP_SANDBOX=off
"""
from pathlib import Path

from corpus import ATTACKS, HONEST
from fixture import AttackCourse, tree_bytes, wait


class Runs:
    def __init__(self, directory):
        directory = Path(directory)
        self.attacked = AttackCourse(_fresh(directory / "attacked"))
        self.control = AttackCourse(_fresh(directory / "control"), template=self.attacked)
        self.unboxed = AttackCourse(_fresh(directory / "unboxed"), template=self.attacked)
        for course in (self.attacked, self.control, self.unboxed):
            for student, (code, _) in HONEST.items():
                course.submit(student, code)
        root = str(self.attacked.root)
        for attack in ATTACKS:
            self.attacked.submit(attack.student, attack.code.replace("{root}", root), attack.edit)
            if attack.unboxed and not attack.sandbox_only:
                self.unboxed.submit(attack.student, attack.code.replace("{root}", str(self.unboxed.root)),
                                    attack.edit)
        self.source_before = tree_bytes(self.attacked.root / "source")
        self.submitted_before = tree_bytes(self.attacked.root / "submitted")
        processes = [self.attacked.start_autograde(sandbox=True), self.control.start_autograde(sandbox=True),
                     self.unboxed.start_autograde(sandbox=False)]
        self.logs = [wait(p) for p in processes]


def _fresh(path):
    path.mkdir(parents=True)
    return path


_runs = []


def graded_runs(tmp_path_factory):
    """The session's Runs (made on first use; test_sandbox.py and test_tamper.py share them)."""
    if not _runs:
        _runs.append(Runs(tmp_path_factory.mktemp("attack_runs")))
    return _runs[0]
