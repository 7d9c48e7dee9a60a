"""The benchmarks keep working: `python -m benchmarks --quick` end to end, and their building blocks.

No timing is asserted here (speed is what benchmarks/RESULTS.md reports); these tests check
that every table is produced with its rows and columns, and that what the tables are
computed from is right.
"""
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest

from benchmarks import (autograde_cost, cluster, learning_quality, memory, slider_latency, student_runtime,
                        throughput)
from benchmarks import report
from benchmarks.common import QUICK, SKIPPED, Context, Table, TreeSampler, machine_busy_seconds, percentile
from benchmarks.inprocess import widget_positions
from course.judge import reference
from course.data import xor
from course.layout import ASSIGNMENTS, ROOT


def markdown_tables(text):
    """{title: (columns, rows)} of every '### title' table in a Markdown text."""
    tables, lines = {}, text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("### "):
            columns = [c.strip() for c in lines[i + 2].strip("|").split("|")]
            rows = []
            for row in lines[i + 4:]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip("|").split("|")])
            tables[line[4:]] = (columns, rows)
    return tables


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    results = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    committed = (ROOT / "benchmarks" / "RESULTS.md")
    before = committed.read_bytes() if committed.exists() else None
    run = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--results", str(results)],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    after = committed.read_bytes() if committed.exists() else None
    return run.stdout, results.read_text(encoding="utf-8"), before == after


def assignment_rows_complete(rows):
    """Every assignment has exactly one row, measured, missing or skipped."""
    assert [row[0] for row in rows] == list(ASSIGNMENTS)
    for row in rows:
        assert row[1] and (row[1].startswith(("not available yet:", SKIPPED)) or row[1][0].isdigit()), row


def test_quick_run_prints_every_table_with_its_columns(quick_run):
    stdout, results, _ = quick_run
    tables = markdown_tables(results)
    expected = {module.TITLE for module in (autograde_cost, throughput, student_runtime, slider_latency,
                                            learning_quality, memory, cluster)}
    assert set(tables) == expected
    for title in expected:
        assert f"### {title}" in stdout
        columns, rows = tables[title]
        assert rows, f"{title}: no rows"
        assert all(len(row) == len(columns) for row in rows), title
        assert not any("FAILED" in cell for row in rows for cell in row), f"{title}: {rows}"


def test_quick_run_has_a_row_for_every_subject(quick_run):
    tables = markdown_tables(quick_run[1])
    columns, rows = tables[autograde_cost.TITLE]
    assert columns[:4] == ["notebook", "median autograde", "floor (1-cell notebook)", "× floor"]
    assignment_rows_complete(rows)
    assignment_rows_complete(tables[student_runtime.TITLE][1])
    columns, rows = tables[throughput.TITLE]
    labels = [row[0] for row in rows]
    assert labels[0].startswith("plain nbgrader")
    assert labels[1:] == ["course grade --workers 1", "course grade --workers 2"]
    cpu = columns.index("machine CPU per notebook")
    assert rows[0][cpu].endswith(" s") and rows[2][cpu].endswith(" s"), rows
    assert "ceiling of the ratio on this machine" in quick_run[1]
    # --quick: the local pool's row is table 2's grading of the same class, and the cluster gives its grades
    pool, dask = tables[cluster.TITLE][1]
    assert [pool[0], dask[0]] == ["local pool: course grade --workers 2 (timed in table 2)",
                                  "course grade --cluster (Dask, 1 worker)"]
    assert pool[-1] == "(reference)" and dask[-1] == "yes"
    assert {row[0] for row in tables[slider_latency.TITLE][1]} == set(slider_latency.ASSIGNMENTS)
    xor_row, iris_row = tables[learning_quality.TITLE][1]
    assert xor_row[0].startswith("04 XOR") and iris_row[0].startswith("05 iris")


def test_quick_run_states_targets_and_leaves_committed_results_alone(quick_run):
    _, results, committed_untouched = quick_run
    assert "## Targets" in results and "Machine:" in results and "load average" in results
    assert "QUICK sizes, not representative" in results
    assert committed_untouched, "--quick must not rewrite benchmarks/RESULTS.md"


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_epoch_tracking_loop_is_reference_train(loss):
    X, y = xor()
    params, _ = reference.train(X, y, 4, 2.0, 600, seed=3, loss=loss)
    tracked, solved_after = learning_quality.train_tracking(X, y, 4, 2.0, 600, seed=3, loss=loss)
    assert all(np.array_equal(params[k], tracked[k]) for k in params)
    # all four right after `solved_after` updates, and not one update earlier
    assert 0 < solved_after < 600
    at, _ = learning_quality.train_tracking(X, y, 4, 2.0, solved_after, seed=3, loss=loss)
    assert np.all(reference.predict(X, at) == y)
    before, _ = learning_quality.train_tracking(X, y, 4, 2.0, solved_after - 1, seed=3, loss=loss)
    assert not np.all(reference.predict(X, before) == y)


def test_epoch_tracking_reports_an_unsolved_run_as_none():
    X, y = xor()
    _, solved_after = learning_quality.train_tracking(X, y, 4, 2.0, 3, seed=3)
    assert solved_after is None


def test_training_cells_are_the_ones_that_train_when_run():
    import nbformat
    cells = ["def train(X, y):\n    return update_params(X, y, 1.0)",                   # 0 defines: no
             "params, losses = train(X, y)",                                            # 1 trains
             "def fit_and_validate(lr):\n    return train(X, y)",                        # 2 defines: no
             "def show(lr):\n    plot(fit_and_validate(lr))\nif ok:\n    interact(show, lr=(0, 1))",  # 3 trains
             "%matplotlib inline\nplt.plot(losses)",                                     # 4 no
             "y_hat, cache = forward(X, params)"]                                       # 5 no
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    assert student_runtime.training_cells(nb) == {1, 3}


def test_slider_positions_cover_the_range():
    import ipywidgets
    log = widget_positions(ipywidgets.FloatLogSlider(value=1.0, base=10, min=-2, max=1), 4)
    assert log[0] == pytest.approx(0.01) and log[-1] == pytest.approx(10.0)
    assert widget_positions(ipywidgets.IntSlider(value=8, min=1, max=32), 3) == [1, 16, 32]
    assert widget_positions(ipywidgets.Dropdown(options=["mse", "bce"], value="mse"), 2) == ["mse", "bce"]


def test_machine_busy_time_counts_this_process_cpu():
    own, busy = time.process_time(), machine_busy_seconds()
    while time.process_time() - own < 0.3:
        pass
    spent = time.process_time() - own
    # the machine's busy time holds this process's own (give or take a clock tick per core)
    assert machine_busy_seconds() - busy >= spent - 0.02 * psutil.cpu_count()


def test_memory_sampler_keeps_sampling_when_a_process_vanishes_under_it(monkeypatch):
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    with TreeSampler(process.pid, interval=0.01) as sampler:
        name = psutil.Process.name

        def vanished(self):
            raise psutil.NoSuchProcess(self.pid)
        monkeypatch.setattr(psutil.Process, "name", vanished)   # every process ends while it is sampled
        time.sleep(0.1)
        monkeypatch.setattr(psutil.Process, "name", name)
        time.sleep(0.1)
        assert sampler._thread.is_alive()
        process.wait()
        time.sleep(0.1)                                                # and the sampled process itself ends
        assert sampler._thread.is_alive()
    assert sampler.peak_total > 0 and len(sampler.peak_by_role) == 1


def test_tables_say_why_a_row_has_no_numbers():
    table = Table("t", ["what", "number", "met"])
    table.add_missing("04_optimization", "source/04_optimization/optimization.ipynb not written yet")
    assert table.rows[0] == ["04_optimization", "not available yet: source/04_optimization/optimization.ipynb "
                             "not written yet", ""]
    assert table.verdict("speed", False, "2 s", "< 1 s", why="slow cell") == "NO"
    assert table.missed == ["speed: 2 s against a target of < 1 s — slow cell"]
    assert percentile([1, 2, 3, 4, 5], 95) == pytest.approx(4.8)


def test_results_file_keeps_the_tables_a_run_did_not_touch(tmp_path):
    ctx = Context(sizes=QUICK, workdir=tmp_path, quick=True, order=["first", "second"])
    old_first, old_second = Table("First", ["a", "b"]), Table("Second", ["a", "b"])
    old_first.add("x", "1")
    old_second.add("y", "2")
    old_second.verdict("y", False, "2", "< 1")
    previous = report.results_markdown({"first": old_first, "second": old_second}, ctx, "1", "1")
    previous += "\n" + report.NOTES_HEADING + "\n\nkept by hand\n"
    new_first = Table("First", ["a", "b"])
    new_first.add("x", "3")
    text = report.results_markdown({"first": new_first}, ctx, "1", "1", previous=previous)
    tables = markdown_tables(text)
    assert tables["First"][1] == [["x", "3"]] and tables["Second"][1] == [["y", "2"]]
    assert text.index("### First") < text.index("### Second")
    assert "- Missed: y: 2 against a target of < 1" in text.split("## Tables")[0]
    assert text.rstrip().endswith("kept by hand")
