"""`course publish DEST`: the student repository holds the release notebooks and a README, nothing
else; a tree that would leak is refused with what was found; publishing twice gives the same tree."""
import json
import shutil
import subprocess

import pytest

from course.__main__ import main as cli
from course.authoring import notebooks
from course.authoring.publish import PublishRefused, leaks, publish
from course.layout import ASSIGNMENTS, ROOT, notebook_path

RELEASED = {f"release/{a}/{notebook_path('release', a).name}" for a in ASSIGNMENTS}


@pytest.fixture
def course(tmp_path):
    """A copy of this course's config, source/ and release/ (the committed release)."""
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", root)
    for folder in ("source", "release"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return root


def files(folder):
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts}


def git(folder, *args):
    return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True).stdout.strip()


def test_publish_writes_only_the_release_notebooks_and_a_student_readme(course, tmp_path):
    dest = tmp_path / "public"
    publish(dest, root=course, out=lambda line: None)
    assert files(dest) == {"README.md"} | RELEASED
    assert git(dest, "status", "--porcelain") == "" and len(git(dest, "log", "--oneline").splitlines()) == 1
    readme = (dest / "README.md").read_text()
    for step in ("**Open**", "**Work**", "**Save**", "**Submit**"):
        assert step in readme
    assert "https://colab.research.google.com/github/backprop-lab/backprop-lab/blob/main/release/02_forward/" \
           "forward.ipynb" in readme


def test_badges_point_at_the_public_repository_named_by_colab_repository(course, tmp_path):
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text().replace('COLAB_REPOSITORY = "backprop-lab/backprop-lab"',
                                                 'COLAB_REPOSITORY = "jane-uni/nn-lab-2027"'))
    publish(tmp_path / "public", root=course, out=lambda line: None)
    badge = notebooks.read(tmp_path / "public" / "release" / "03_backward" / "backward.ipynb").cells[0].source
    assert "https://colab.research.google.com/github/jane-uni/nn-lab-2027/blob/main/release/03_backward/" \
           "backward.ipynb" in badge
    assert "jane-uni/nn-lab-2027" in (tmp_path / "public" / "README.md").read_text()


def test_publishing_twice_gives_the_same_tree(course, tmp_path):
    first = publish(tmp_path / "public", root=course, out=lambda line: None)
    again = publish(tmp_path / "public", root=course, out=lambda line: None)
    elsewhere = publish(tmp_path / "other", root=course, out=lambda line: None)
    assert first == again == elsewhere
    assert len(git(tmp_path / "public", "log", "--oneline").splitlines()) == 1   # nothing changed, no commit


def test_a_removed_assignment_disappears_from_the_next_publish(course, tmp_path):
    publish(tmp_path / "public", root=course, out=lambda line: None)
    shutil.rmtree(course / "release" / "05_iris_softmax")
    publish(tmp_path / "public", root=course, out=lambda line: None)
    assert files(tmp_path / "public") == {"README.md"} | RELEASED - {"release/05_iris_softmax/iris_softmax.ipynb"}


def leak_of(course, tmp_path, change):
    """Change the course's release, then publish: the refusal message (and DEST stays unwritten)."""
    change(course / "release")
    dest = tmp_path / "public"
    with pytest.raises(PublishRefused) as refused:
        publish(dest, root=course, out=lambda line: None)
    assert not dest.exists()
    return str(refused.value)


def with_solutions(release):
    path = release / "02_forward" / "forward.ipynb"
    source = notebooks.read(notebook_path("source", "02_forward"))
    notebooks.write(notebooks.fill_solutions(notebooks.read(path), notebooks.reference_solutions(source)), path)


def with_text(text):
    def change(release):
        path = release / "02_forward" / "forward.ipynb"
        nb = notebooks.read(path)
        nb.cells[-1].source += "\n" + text
        notebooks.write(nb, path)
    return change


def test_publish_refuses_solution_code_and_says_where(course, tmp_path):
    message = leak_of(course, tmp_path, with_solutions)
    assert message.startswith("refusing to publish:\n  release/02_forward/forward.ipynb: holds solution code: ")


def test_publish_refuses_solution_and_hidden_test_markers(course, tmp_path):
    message = leak_of(course, tmp_path, with_text("### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS"))
    assert "release/02_forward/forward.ipynb: contains 'BEGIN HIDDEN'" in message


def test_publish_refuses_the_grading_rules_text(course, tmp_path):
    rule_line = next(line.strip() for line in (ROOT / "course/judge/rules/forward.py").read_text().splitlines()
                     if line.strip().startswith("with check.part("))
    message = leak_of(course, tmp_path, with_text(rule_line))
    assert f"holds hidden-test code of course/judge/rules/: {rule_line!r}" in message


@pytest.mark.parametrize("extra, said", [
    ("02_forward/source/forward.ipynb", "release/02_forward/source/forward.ipynb: inside source/"),
    ("02_forward/course/judge/reference.py", "inside course/"),
    ("02_forward/gradebook.db", "release/02_forward/gradebook.db: a database (the gradebook?)"),
    ("02_forward/grades", "release/02_forward/grades: a database (the gradebook?)"),
])
def test_publish_refuses_instructor_folders_and_the_gradebook(course, tmp_path, extra, said):
    def change(release):
        (release / extra).parent.mkdir(parents=True, exist_ok=True)
        (release / extra).write_bytes(b"SQLite format 3\x00..." if "grade" in extra else b"{}")
    assert said in leak_of(course, tmp_path, change)


def test_the_committed_release_publishes_clean():
    """What `course release` produces passes the check as it is."""
    import tempfile
    from course.authoring.publish import build
    with tempfile.TemporaryDirectory() as staging:
        build(staging)
        assert leaks(staging) == []


def test_publish_will_not_overwrite_a_folder_it_did_not_write(course, tmp_path):
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "thesis.tex").write_text("...")
    with pytest.raises(SystemExit, match="holds thesis.tex, which a publish did not write"):
        publish(dest, root=course, out=lambda line: None)


def test_the_command_line_publishes(tmp_path):
    assert cli(["publish", str(tmp_path / "public")]) == 0
    assert files(tmp_path / "public") == {"README.md"} | RELEASED
    nb = json.loads((tmp_path / "public" / "release" / "01_initialization" / "initialization.ipynb").read_text())
    assert nb["cells"][0]["id"] == "open-in-colab"
