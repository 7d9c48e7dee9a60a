"""`python -m course demo`: the simulated class is realistic, and a small one grades end to end."""
import csv
import json
import zipfile

import pytest

from course import demo
from course.authoring import notebooks
from course.layout import present_assignments
from course.grading.normalize import NotANotebook, parse


def test_the_class_has_the_realistic_mix():
    kinds = [kind for _, kind in demo.profiles(32)]
    assert len(set(name for name, _ in demo.profiles(32))) == 32
    for kind in ("correct", "different", "mistake", "unfinished", "colab", "colab_stripped", "colab_mistake",
                 "infinite_loop", "damaged"):
        assert kind in kinds


@pytest.mark.skipif(not present_assignments(), reason="no source notebooks yet")
def test_class_zip_holds_colab_renamed_stripped_and_damaged_files(tmp_path):
    course = demo.prepare_course(tmp_path / "demo")
    archive = demo.build_class(course, 32, out=lambda line: None)
    names = zipfile.ZipFile(archive).namelist()
    per_student = 2 if len(present_assignments(course)) > 1 else 1
    assert len(names) == 32 * per_student
    assert {n.split("_", 1)[0] for n in names} >= {"ada", "grace", "yann"}
    assert any("Copy of " in n for n in names) and any(n.endswith(".ipynb.json") for n in names)
    damaged = [n for n in names if n.startswith(dict((k, s) for s, k in demo.profiles(32))["damaged"])]
    with pytest.raises(NotANotebook):
        parse(zipfile.ZipFile(archive).read(damaged[0]))
    stripped = [n for n, (student, kind) in ((n, p) for n in names for p in demo.profiles(32)
                                              if n.startswith(p[0] + "_")) if kind == "colab_stripped"]
    content = json.loads(zipfile.ZipFile(archive).read(stripped[0]))
    assert content["nbformat_minor"] == 0
    assert not any("nbgrader" in cell["metadata"] for cell in content["cells"])
    with open(course / "class.csv") as f:
        roster = " ".join(row["simulated submission"] for row in csv.DictReader(f))
    graded_functions = {f for a in present_assignments(course)
                        for code in notebooks.reference_solutions(notebooks.read(
                            course / "source" / a / f"{a.split('_', 1)[1]}.ipynb")).values()
                        for f in demo.defined_functions(code)}
    for function in set(demo.MISTAKES) & graded_functions:  # every typical mistake is in the class
        assert f"mistake: {function}," in roster


@pytest.mark.skipif(not present_assignments(), reason="no source notebooks yet")
def test_a_small_demo_grades_end_to_end(tmp_path):
    lines = []
    records = demo.main(students=1, workers=2, sandbox=False, target=tmp_path / "demo", build_release=False,
                        out=lines.append)
    course = tmp_path / "demo"
    assert {r.student for r in records} == {"ada"}  # complete, correct work
    assert all(r.problem is None and not r.notes for r in records)
    with open(course / "grading" / "items.csv") as f:
        items = list(csv.DictReader(f))
    assert items and all(float(row["score"]) == float(row["max_score"]) for row in items)
    table = next(line for line in lines if line.startswith("\nstudent"))
    assert "ada" in table
    assert lines[-3].startswith("report:") and (course / "grading" / "report.html").exists()
    for record in records:  # feedback for each graded submission
        assert list((course / "feedback" / record.student / record.assignment).glob("*.html"))
