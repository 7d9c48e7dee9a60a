"""Intake: which file is whose, from nbgrader's submitted/ layout, a folder or an LMS .zip."""
import os
import zipfile

import pytest

from course.grading.intake import from_path, from_submitted, notebook_of

ALL = ["01_initialization", "02_forward", "03_backward", "04_optimization", "05_iris_softmax"]


def found(submissions):
    return {(s.student, s.assignment): s.filename for s in submissions}


def test_flat_lms_names_give_student_and_assignment(tmp_path):
    for name in ["alice_forward.ipynb", "bob_Copy of forward.ipynb", "jane_doe_forward (1).ipynb",
                 "carol_backward.ipynb.json", "dave_iris_softmax.ipynb", "notes.txt"]:
        (tmp_path / name).write_text("{}")
    result = from_path(tmp_path, ALL)
    submissions, skipped = result.submissions, result.skipped
    assert found(submissions) == {  # the file name as the student saved it
        ("alice", "02_forward"): "forward.ipynb",
        ("bob", "02_forward"): "Copy of forward.ipynb",
        ("jane_doe", "02_forward"): "forward (1).ipynb",
        ("carol", "03_backward"): "backward.ipynb.json",
        ("dave", "05_iris_softmax"): "iris_softmax.ipynb",
    }
    assert skipped == []


def test_folder_per_student_and_nbgrader_layout(tmp_path):
    (tmp_path / "erin").mkdir()
    (tmp_path / "erin" / "Copy of forward.ipynb").write_text("{}")
    (tmp_path / "frank" / "03_backward").mkdir(parents=True)
    (tmp_path / "frank" / "03_backward" / "mine.ipynb").write_text("{}")
    submissions = from_path(tmp_path, ALL).submissions
    assert set(found(submissions)) == {("erin", "02_forward"), ("frank", "03_backward")}


def test_a_file_without_a_notebook_name_counts_when_one_assignment_is_graded(tmp_path):
    (tmp_path / "gina").mkdir()
    (tmp_path / "gina" / "Untitled.ipynb").write_text("{}")
    (tmp_path / "Untitled2.ipynb").write_text("{}")
    result = from_path(tmp_path, ["02_forward"])
    submissions, skipped = result.submissions, result.skipped
    assert set(found(submissions)) == {("gina", "02_forward")}
    assert len(skipped) == 1 and "Untitled2.ipynb" in skipped[0] and "<student>_<notebook>.ipynb" in skipped[0]


def test_the_newest_of_several_files_is_graded_and_the_choice_logged(tmp_path):
    old, new = tmp_path / "hal_forward.ipynb", tmp_path / "hal_forward (1).ipynb"
    old.write_text('{"old": 1}')
    new.write_text('{"new": 1}')
    os.utime(old, (1_000_000, 1_000_000))
    os.utime(new, (2_000_000, 2_000_000))
    [submission] = from_path(tmp_path, ALL).submissions
    assert submission.data == b'{"new": 1}'
    assert submission.log[0] == ("2 files for this notebook: graded the newest 'forward (1).ipynb', "
                                 "left out 'forward.ipynb'")


def test_zip_from_an_lms_is_read_without_extracting(tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("ivy_Copy of backward.ipynb", b'{"cells": []}')
        z.writestr("__MACOSX/._ivy_backward.ipynb", b"junk")
        z.writestr("../evil_forward.ipynb", b"{}")
    submissions = from_path(archive, ALL).submissions
    assert found(submissions) == {("ivy", "03_backward"): "Copy of backward.ipynb",
                                  ("evil", "02_forward"): "forward.ipynb"}
    assert not (tmp_path.parent / "evil_forward.ipynb").exists()


def test_submitted_layout_reads_timestamps_and_odd_names(tmp_path):
    folder = tmp_path / "submitted" / "jo smith" / "02_forward"
    folder.mkdir(parents=True)
    (folder / "forward (2).ipynb").write_text("{}")
    (folder / "timestamp.txt").write_text("2026-11-20 23:59:00 UTC")
    [submission] = from_submitted(tmp_path, ["02_forward"]).submissions
    assert (submission.student, submission.filename, submission.timestamp) == (
        "jo_smith", "forward (2).ipynb", "2026-11-20 23:59:00 UTC")
    assert submission.log == ["student id 'jo smith' written as 'jo_smith'"]


def test_bad_from_path_is_a_clear_message(tmp_path):
    with pytest.raises(SystemExit, match="no such file or folder"):
        from_path(tmp_path / "missing.zip", ALL)
    (tmp_path / "grades.pdf").write_bytes(b"%PDF")
    with pytest.raises(SystemExit, match="not a folder or a .zip"):
        from_path(tmp_path / "grades.pdf", ALL)


def test_notebook_names_are_found_inside_decorated_file_names():
    assert notebook_of("Copy of iris_softmax (3).ipynb", ALL) == "05_iris_softmax"
    assert notebook_of("forward.ipynb.json", ALL) == "02_forward"
    assert notebook_of("Untitled.ipynb", ALL) is None
