"""The course's data sets and the generated notebook cells that carry them."""
import csv
import hashlib

import numpy as np
import pytest

from course import data
from course.authoring import notebooks
from course.layout import ASSIGNMENTS, ROOT, notebook_path


def run_cell(code):
    """The names a generated data cell defines (it runs after the notebook's `import numpy as np`)."""
    namespace = {"np": np}
    exec(code, namespace)
    return namespace


# --- iris --------------------------------------------------------------------------------------

def csv_rows():
    with open(data.IRIS_CSV, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_iris_csv_has_scikit_learns_header_and_150_flowers():
    header, *rows = csv_rows()
    assert header == ["150", "4", "setosa", "versicolor", "virginica"]
    assert len(rows) == 150 and all(len(row) == 5 for row in rows)


def test_iris_csv_is_scikit_learns_copy_unchanged():
    """The file is kept byte for byte as scikit-learn 1.5.2 ships it (see course/data/README.md)."""
    digest = hashlib.sha256(data.IRIS_CSV.read_bytes()).hexdigest()
    assert digest == "f13ffa8fdd56fd8e6c8d16d4081a3fbd3114bcd0aae4256c43205169cd9d1449"


def test_iris_reads_the_csv_exactly():
    X, labels, features, species = data.iris()
    header, *rows = csv_rows()
    assert X.shape == (150, 4) and X.dtype == float
    assert labels.shape == (150,) and labels.dtype.kind == "i"
    assert np.array_equal(X, np.array([[float(v) for v in row[:4]] for row in rows]))
    assert np.array_equal(labels, [int(row[4]) for row in rows])
    assert species == header[2:] and len(features) == 4
    assert np.bincount(labels).tolist() == [50, 50, 50]


def test_iris_split_is_stratified_disjoint_and_complete():
    _, labels, _, _ = data.iris()
    split = data.iris_split()
    assert list(split) == ["train", "validation", "test"]
    for name, size in data.IRIS_SPLIT_SIZES.items():
        assert np.bincount(labels[split[name]], minlength=3).tolist() == [size] * 3, name
    everything = np.concatenate(list(split.values()))
    assert len(everything) == len(set(everything.tolist())) == 150


def test_iris_split_is_fixed():
    first, second = data.iris_split(), data.iris_split()
    assert all(np.array_equal(first[name], second[name]) for name in first)
    other_seed = data.iris_split(seed=data.IRIS_SPLIT_SEED + 1)
    assert not np.array_equal(first["test"], other_seed["test"])


def test_iris_split_refuses_a_split_larger_than_a_class():
    with pytest.raises(ValueError, match="fewer than"):
        data.iris_split(sizes={"train": 40, "validation": 10, "test": 10})


def test_iris_data_cell_defines_the_csv_data_and_the_split():
    cell = run_cell(data.iris_data_cell())
    X, labels, features, species = data.iris()
    split = data.iris_split()
    assert np.array_equal(cell["X"], X) and cell["X"].dtype == float
    assert np.array_equal(cell["labels"], labels)
    assert cell["FEATURES"] == features and cell["SPECIES"] == species
    for suffix, name in [("train", "train"), ("val", "validation"), ("test", "test")]:
        assert np.array_equal(cell[f"X_{suffix}"], X[split[name]]), suffix
        assert np.array_equal(cell[f"labels_{suffix}"], labels[split[name]]), suffix
    assert [len(cell[f"labels_{s}"]) for s in ("train", "val", "test")] == [90, 30, 30]


def test_iris_data_cell_is_compact():
    code = data.iris_data_cell()
    assert len(code.splitlines()) < 60 and max(len(line) for line in code.splitlines()) < 120


def test_iris_reports_a_damaged_csv(tmp_path, monkeypatch):
    damaged = tmp_path / "iris.csv"
    damaged.write_text("\n".join(data.IRIS_CSV.read_text().splitlines()[:-1]) + "\n")
    monkeypatch.setattr(data, "IRIS_CSV", damaged)
    with pytest.raises(ValueError, match="does not match its header"):
        data.iris()


# --- XOR ---------------------------------------------------------------------------------------

def test_xor_data_cell_equals_xor():
    X, y = data.xor()
    cell = run_cell(data.xor_data_cell())
    assert np.array_equal(cell["X"], X) and cell["X"].dtype == X.dtype == float
    assert np.array_equal(cell["y"], y) and cell["y"].shape == (4, 1)


# --- committed notebooks ------------------------------------------------------------------------

def committed_notebooks():
    paths = [notebook_path(folder, a) for folder in ("source", "release") for a in ASSIGNMENTS]
    return [p for p in paths if p.exists()]


@pytest.mark.parametrize("path", committed_notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_generated_cells_are_up_to_date(path):
    """Every generated cell holds exactly what its generator gives now (run `python -m course release`)."""
    nb = notebooks.read(path)
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("backprop_lab")
        if meta:
            assert cell.source == notebooks.snippet_source(meta, nb), (
                f"{path.relative_to(ROOT)}: cell {cell.get('id')} is stale; run `python -m course release`")


def test_iris_notebook_carries_the_generated_data_cell():
    cells = notebooks.read(notebook_path("source", "05_iris_softmax")).cells
    assert [c.metadata.get("backprop_lab") for c in cells if "backprop_lab" in c.metadata].count(
        {"generated": "iris_data"}) == 1
