"""`course grade --cluster` on a real dask.distributed cluster, and the gradebook in a real PostgreSQL.

A scheduler and two worker processes listen on 127.0.0.1 over TCP (tests/servers.py), as
separate machines would connect; a PostgreSQL server runs from its own data directory. A
small class of 02_forward (the release filled with the reference solutions, some replaced
by wrong or unfinished code) is graded by the local pool and on the cluster, with a worker
killed in the middle of the cluster run; the tests read what each run left behind.
"""
import re

import nbformat
import pytest

from autograde_harness import gradebook_rows
from course.authoring import notebooks
from course.grading import grade
from course.layout import notebook_path
from notebook_factory import course_copy
from servers import DaskCluster, PostgresServer
from test_grade import folder_digest

ASSIGNMENT = "02_forward"
POINTS = 8
STUDENTS = {  # student -> the functions replaced in the reference submission
    "right": {},
    "no_bias": {"linear": "def linear(X, W, b):\n    return X @ W"},
    "summed_loss": {"mse_loss": "def mse_loss(y, y_hat):\n    return np.sum((y - y_hat) ** 2)"},
    "unfinished": {name: f"def {name}({args}):\n    raise NotImplementedError()"
                   for name, args in (("linear", "X, W, b"), ("forward", "X, params"), ("mse_loss", "y, y_hat"))},
}
# run by the grading kernel: with the sandbox off its parent is the Dask worker process
KILLS_ITS_WORKER = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"


def handed_in_file(grading_course, **codes):
    return nbformat.writes(grading_course.reference_submission(ASSIGNMENT, **codes)).encode()


def hand_in(folder, files):
    folder.mkdir()
    for student, data in files.items():
        (folder / f"{student}_forward.ipynb").write_bytes(data)
    return folder


def grade_class(tmp, name, handed_in, **options):
    """Grade handed_in in the fixture course tmp/name (made on first use); returns (root, records, lines)."""
    root = tmp / name / "course"
    if not root.exists():
        root.parent.mkdir()
        root = course_copy(root.parent, {ASSIGNMENT: notebooks.read(notebook_path("source", ASSIGNMENT))})
    lines = options.pop("lines", [])
    records = grade.main([ASSIGNMENT], from_path=handed_in, timeout=60, sandbox=False, root=root,
                         out=options.pop("out", lines.append), **options)
    return root, {r.student: r for r in records}, lines


def db_url(root):
    return grade.course_settings(root)[0]


def sorted_rows(csv):
    header, *rows = csv.read_text().splitlines()
    return header, sorted(rows)


def without_clock(path):
    """A graded notebook without the times the kernel stamped on each cell (metadata.execution)."""
    nb = notebooks.read(path)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    return nb


def progress_lines(lines):
    """The progress bar's lines without their clock."""
    return [re.sub(r", \d+:\d\d$", "", line) for line in lines if line.startswith("[")]


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("cluster")


@pytest.fixture(scope="module")
def handed_in(tmp, grading_course):
    return hand_in(tmp / "lms", {student: handed_in_file(grading_course, **codes) for student, codes in STUDENTS.items()})


@pytest.fixture(scope="module")
def cluster(tmp):
    directory = tmp / "dask"
    directory.mkdir()
    with DaskCluster(directory, workers=2, allowed_failures=1) as started:
        yield started


@pytest.fixture(scope="module")
def local(tmp, handed_in):
    return grade_class(tmp, "local", handed_in, workers=2)


@pytest.fixture(scope="module")
def on_cluster(tmp, handed_in, cluster):
    """The class graded on the cluster; one busy worker is SIGKILLed when the first result comes in."""
    cluster.wait_for_workers()
    lines, killed = [], []

    def out(line):
        lines.append(line)
        if line.startswith("[") and not killed:
            killed.append(cluster.kill_busy_worker())

    root, records, _ = grade_class(tmp, "cluster", handed_in, cluster=cluster.address, out=out)
    return root, records, lines, killed[0]


def test_the_cluster_gives_the_grades_of_the_local_pool(local, on_cluster):
    local_root, _, _ = local
    cluster_root, records, _, _ = on_cluster
    rows = gradebook_rows(db_url(cluster_root), ASSIGNMENT)
    assert rows == gradebook_rows(db_url(local_root), ASSIGNMENT)
    scores = {s: r.score for s, r in records.items()}
    assert scores["right"] == POINTS and scores["unfinished"] == 0
    assert 0 < scores["no_bias"] < POINTS and 0 < scores["summed_loss"] < POINTS
    for csv in ("grades.csv", "items.csv"):  # rows in the order the results came in
        assert sorted_rows(cluster_root / "grading" / csv) == sorted_rows(local_root / "grading" / csv)


def test_the_cluster_returns_the_same_feedback_and_graded_notebooks(local, on_cluster):
    local_root, cluster_root = local[0], on_cluster[0]
    for student in STUDENTS:
        ours, theirs = (root / "feedback" / student / ASSIGNMENT for root in (cluster_root, local_root))
        assert folder_digest(ours) == folder_digest(theirs), student
        ours, theirs = (root / "autograded" / student / ASSIGNMENT / "forward.ipynb" for root in (cluster_root, local_root))
        assert without_clock(ours) == without_clock(theirs), student


def test_a_worker_killed_mid_run_loses_nothing_and_merges_nothing_twice(on_cluster):
    root, records, lines, killed = on_cluster
    assert len(killed) == 1 and killed[0][0] == "grade"  # it was grading a submission when killed
    assert all(r.problem is None and r.notes == [] for r in records.values())
    rows = gradebook_rows(db_url(root), ASSIGNMENT)
    assert rows["students"] == sorted(STUDENTS)
    assert rows["grade rows"] == len(rows["right"][2]) * len(STUDENTS)  # one per graded cell and student, none twice
    assert progress_lines(lines)[-1] == "[####################] 4/4 notebooks (4/4 students) graded, 0 with problems"
    assert len(progress_lines(lines)) == len(STUDENTS)


def test_the_progress_bar_counts_cluster_tasks_as_it_counts_local_ones(local, on_cluster):
    assert progress_lines(on_cluster[2]) == progress_lines(local[2])
    assert any(line.startswith("grading on the Dask cluster at tcp://127.0.0.1:") and "2 workers" in line
               for line in on_cluster[2])


def test_a_submission_that_kills_every_worker_is_its_students_problem(tmp, cluster, grading_course):
    cluster.wait_for_workers()
    files = {"right": handed_in_file(grading_course), "poison": handed_in_file(grading_course, mse_loss=KILLS_ITS_WORKER)}
    root, records, lines = grade_class(tmp, "poison", hand_in(tmp / "lms_poison", files), cluster=cluster.address)
    assert records["poison"].problem.startswith(
        "grading failed: WorkerDied: it ended every Dask worker it ran on (2 tries, last on tcp://127.0.0.1:")
    assert records["right"].problem is None and records["right"].score == POINTS
    rows = gradebook_rows(db_url(root), ASSIGNMENT)
    assert [score for _, score, _, _ in rows["poison"][2]] == [0.0] * len(rows["right"][2])
    assert lines[-1].startswith("graded 2 submissions of 2 students in ") and "1 with problems" in lines[-1]


def test_a_postgresql_gradebook_gets_the_sqlite_grades_and_regrading_changes_nothing(tmp, handed_in, local, cluster):
    cluster.wait_for_workers()
    sqlite_rows = gradebook_rows(db_url(local[0]), ASSIGNMENT)
    with PostgresServer() as server:
        url = server.create_database("backprop_lab")
        grade_class(tmp, "postgres", handed_in, workers=2, db_url=url)
        assert gradebook_rows(url, ASSIGNMENT) == sqlite_rows
        grade_class(tmp, "postgres", handed_in, cluster=cluster.address, db_url=url)  # again, on the cluster
        assert gradebook_rows(url, ASSIGNMENT) == sqlite_rows


def test_an_address_without_a_scheduler_stops_with_what_to_do(monkeypatch):
    from course.grading import cluster
    from servers import _free_port
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2)
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(SystemExit) as stopped:
        cluster.DaskPool(address)
    assert str(stopped.value).startswith(f"--cluster {address}: no Dask scheduler answers there (")
    assert str(stopped.value).endswith("start one with `dask scheduler` and pass the address it prints")
