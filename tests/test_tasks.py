"""course.grading.tasks: folders packed to bytes and back, a Graded unpacked for merging, a worker's caches emptied."""
import tarfile
import io

import pytest

from course.grading import autograde, tasks


def tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_packed_folder_unpacks_to_the_same_files(tmp_path):
    source = tmp_path / "template"
    (source / "source" / "02_forward").mkdir(parents=True)
    (source / "source" / "02_forward" / "forward.ipynb").write_text('{"cells": []}')
    (source / "gradebook.db").write_bytes(bytes(range(256)) * 4)
    (source / "empty.txt").write_bytes(b"")
    data = tasks.pack(source)
    assert isinstance(data, bytes) and data[:2] == b"\x1f\x8b"  # gzip
    assert tree(tasks.unpack(data, tmp_path / "copy")) == tree(source)


def test_packing_the_same_folder_twice_gives_the_same_members(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.txt").write_text("x")
    names = [tarfile.open(fileobj=io.BytesIO(tasks.pack(tmp_path / "a"))).getnames() for _ in range(2)]
    assert names[0] == names[1] == ["b", "b/x.txt"]


def test_an_archive_that_escapes_its_folder_is_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(tarfile.OutsideDestinationError):
        tasks.unpack(buffer.getvalue(), tmp_path / "inside")
    assert not (tmp_path / "outside.txt").exists()


def test_a_graded_result_is_unpacked_into_its_students_private_folder(tmp_path):
    produced = tmp_path / "produced"
    produced.mkdir()
    (produced / "forward.html").write_text("<p>feedback</p>")
    result = autograde.Result("jane", "02_forward", "forward", grades={"test_square": (2.0, 2.0)})
    graded = tasks.Graded(result, autograded=None, feedback=tasks.pack(produced))
    unpacked = tasks.unpack_result(graded, tmp_path / "work")
    assert unpacked.autograded is None
    assert unpacked.feedback == str(tmp_path / "work" / "students" / "jane--02_forward" / "feedback")
    assert tree(tmp_path / "work" / "students" / "jane--02_forward" / "feedback") == {"forward.html": b"<p>feedback</p>"}
    assert unpacked.grades == {"test_square": (2.0, 2.0)} and graded.result.feedback is None


def test_the_local_pool_runs_a_task_in_another_process(tmp_path):
    import os
    with tasks.LocalPool(1, {**os.environ, "BACKPROP_MARK": "set"}) as pool:
        future = pool.submit(os.getenv, "BACKPROP_MARK")
        assert [pool.result(f) for f in pool.as_completed([future])] == ["set"]


def test_a_worker_forgets_the_statements_each_private_gradebook_compiled(tmp_path):
    """Every submission's gradebook is a new engine: SQLAlchemy's per-table statement caches, keyed
    by its dialect, would grow with every notebook a worker grades; the task empties them."""
    import shutil as copying
    from nbgrader.api import Base, Gradebook
    from course.layout import environment, tool_env

    def cached():
        return sum(len(mapper._compiled_cache) for mapper in Base.registry.mappers)

    with environment(tool_env()):      # the first gradebook runs nbgrader's `alembic heads`
        Gradebook(f"sqlite:///{tmp_path / 'empty.db'}").close()
    sizes = []
    for student in ("ada", "grace", "alan"):
        copying.copy(tmp_path / "empty.db", tmp_path / f"{student}.db")
        with Gradebook(f"sqlite:///{tmp_path / student}.db") as gb:
            gb.add_student(student)
        sizes.append(cached())
    assert sizes[0] < sizes[1] < sizes[2], "each new gradebook adds its own compiled statements"
    tasks.forget_compiled_statements()
    assert cached() == 0
