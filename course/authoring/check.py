"""Prove a source notebook: with solutions every test passes in full, with stubs every test fails.

1. The source notebook runs top to bottom (with NBGRADER_EXECUTION=validate), its
   test cells judged as autograding judges them (course.judge.execute: visible checks
   and the hidden rule of course/judge/rules/, in this process); every test cell must
   earn its full points, and no cell may write to stderr.
2. The solutions are replaced by nbgrader's stubs and the notebook runs again; every
   test cell must now lose its points: a test that passes on the unimplemented stub
   tests nothing.
No sandbox: the instructor's own notebook holds no student code.
"""
import os
import time
from dataclasses import dataclass, field

import nbformat
from nbgrader.preprocessors import ClearSolutions
from nbgrader.utils import determine_grade

from ..judge.execute import JudgeExecute
from ..layout import ROOT, notebook_path, present_assignments
from . import notebooks


@dataclass
class Report:
    notebook: str
    points: float = 0.0
    cells: int = 0
    seconds: float = 0.0
    problems: list = field(default_factory=list)


def execute(nb, cwd, name, tests, timeout=60):
    """Run a notebook the way autograding does (tests: {grade_id: trusted test source});
    returns the executed copy."""
    nb = nbformat.from_dict(nb)
    os.environ["NBGRADER_EXECUTION"] = "validate"
    try:
        JudgeExecute(timeout=timeout, test_sources=tests).preprocess(
            nb, {"metadata": {"path": str(cwd)}, "nbgrader": {"notebook": name}})
    finally:
        os.environ.pop("NBGRADER_EXECUTION", None)
    return nb


def stderr_text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.output_type == "stream" and o.name == "stderr")


def check_notebook(nb, label, cwd, name):
    """Check one source notebook object (named `name`, e.g. 'backward'); returns a Report
    (problems empty when all is well)."""
    report = Report(label, cells=len(nb.cells))
    tests = {notebooks.grade_id(c): c.source for c in nb.cells if notebooks.is_test(c)}
    if not tests:
        report.problems.append("has no autograder test cells")
    start = time.perf_counter()
    done = execute(nb, cwd, name, tests)
    report.seconds = time.perf_counter() - start
    for index, cell in enumerate(done.cells):
        if cell.cell_type != "code":
            continue
        where = f"cell {index}" + (f" ({notebooks.grade_id(cell)})" if notebooks.grade_id(cell) else "")
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if errors:
            report.problems.append(f"{where} raised {errors[0].ename}: {errors[0].evalue[:200]}")
        elif stderr_text(cell):
            report.problems.append(f"{where} wrote to stderr: {stderr_text(cell).strip()[:200]}")
        if notebooks.is_test(cell):
            score, max_points = determine_grade(cell)
            report.points += max_points
            if score != max_points and not errors:
                report.problems.append(f"{where} earned {score} of {max_points} points with the solutions")

    stubbed = nbformat.from_dict(nb)
    ClearSolutions().preprocess(stubbed, {})
    for index, cell in enumerate(execute(stubbed, cwd, name, tests).cells):
        if notebooks.is_test(cell):
            score, max_points = determine_grade(cell)
            if score > 0:
                report.problems.append(
                    f"cell {index} ({notebooks.grade_id(cell)}) earned {score} of {max_points} points "
                    "on the unimplemented stubs: the test does not test anything")
    return report


def check(assignments=None, root=ROOT, out=print):
    """Check each assignment's source notebook; returns the reports."""
    reports = []
    for assignment in assignments or present_assignments(root):
        path = notebook_path("source", assignment, root)
        report = check_notebook(notebooks.read(path), str(path.relative_to(root)), path.parent, path.stem)
        status = "ok" if not report.problems else "FAILED"
        out(f"{status:6} {report.notebook}: {report.points:g} points, {report.cells} cells, "
            f"{report.seconds:.1f} s")
        for problem in report.problems:
            out(f"       - {problem}")
        reports.append(report)
    return reports
