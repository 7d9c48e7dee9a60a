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


def test_without_bubblewrap_the_demo_says_so_in_one_line_and_runs_unconfined(monkeypatch, tmp_path):
    from course.grading import grade, sandbox
    monkeypatch.setattr(sandbox, "available", lambda: False)
    calls = []
    monkeypatch.setattr(grade, "main", lambda **kwargs: calls.append(kwargs) or [])
    monkeypatch.setattr(demo, "build_class", lambda course, students, out: tmp_path / "class.zip")
    monkeypatch.setattr(demo, "prepare_course", lambda target: tmp_path)
    monkeypatch.setattr(grade, "course_settings", lambda root: (f"sqlite:///{tmp_path / 'gradebook.db'}", "x"))
    monkeypatch.setattr(demo.report, "grades_table", lambda db_url, graded: "")
    lines = []
    demo.main(students=1, build_release=False, target=tmp_path, out=lines.append)
    assert lines[0] == demo.UNCONFINED and calls[0]["sandbox"] is False


def test_grading_real_students_without_bubblewrap_still_refuses(monkeypatch, tmp_path):
    from course.grading import grade, sandbox
    monkeypatch.setattr(sandbox, "available", lambda: False)
    with pytest.raises(SystemExit, match="bubblewrap \\(bwrap\\) is not installed.*--no-sandbox"):
        grade.main(["02_forward"], from_path=tmp_path, root=tmp_path, out=lambda line: None)


def run_script(tmp_path, *args, venv=True, python="#!/bin/sh\necho \"python $*\"\n"):
    """./run in a copy of the repository, as a normal user, with nothing on PATH but dirname and a stub id.

    venv: a .venv whose python is the stub `python` (installed and up to date); else PYTHON is that stub.
    """
    import shutil
    import subprocess
    from pathlib import Path
    repo = Path(__file__).resolve().parent.parent
    for name in ("run", "requirements.txt", "pyproject.toml"):
        shutil.copy(repo / name, tmp_path / name)
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "dirname").symlink_to(shutil.which("dirname"))
    for program in ("rm", "mkdir"):
        (tools / program).symlink_to(shutil.which(program))
    (tools / "id").write_text("#!/bin/sh\necho 1000\n")                 # not root
    stub = (tmp_path / ".venv" / "bin" if venv else tools) / "python"
    stub.parent.mkdir(parents=True, exist_ok=True)
    stub.write_text(python)
    for program in (tools / "id", stub):
        program.chmod(0o755)
    if venv:
        (tmp_path / ".venv" / ".installed").touch()
    env = {"PATH": str(tools)} | ({} if venv else {"PYTHON": str(stub)})
    return subprocess.run([shutil.which("bash"), str(tmp_path / "run"), *args], env=env, capture_output=True,
                          text=True)


def test_run_demo_without_bubblewrap_or_root_says_so_and_runs_the_demo_unconfined(tmp_path):
    """./run demo on a machine without bwrap, as a normal user: one line, then the demo with --no-sandbox."""
    result = run_script(tmp_path, "demo", "--students", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "bubblewrap (bwrap) is not installed and cannot be installed here (needs root and apt-get): the demo "
        "grades its own simulated class unconfined; real students need the sandbox (apt-get install bubblewrap)",
        "python -m course demo --no-sandbox --students 3"]


def test_run_without_a_venv_module_says_what_to_install(tmp_path):
    """Debian's python3 without python3-venv, as a normal user: one line saying what to install."""
    result = run_script(tmp_path, "demo", venv=False,
                        python='#!/bin/sh\n[ "$1" = "-m" ] && { mkdir -p .venv; exit 1; }\nexit 0\n')
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "cannot create .venv: " + str(tmp_path / "bin" / "python") + " has no working venv module; install it "
        "(Debian/Ubuntu: apt-get install python3-venv) and run again"]
    assert not (tmp_path / ".venv").exists()                            # no half-made venv left behind
