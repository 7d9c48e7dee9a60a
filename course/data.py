"""The course's data sets, and the notebook cells that carry them (a Colab notebook gets no files)."""
from pathlib import Path

import numpy as np

XOR_X = [[0, 0], [0, 1], [1, 0], [1, 1]]
XOR_Y = [[0], [1], [1], [0]]


def xor():
    """(X, y): the four XOR points, X (4, 2) and y (4, 1), as floats."""
    return np.array(XOR_X, dtype=float), np.array(XOR_Y, dtype=float)


def xor_data_cell():
    """Notebook code that defines X and y for XOR (generated, equal to xor())."""
    return ("# The XOR data set: four points, one per row.\n"
            f"X = np.array({XOR_X}, dtype=float)   # (4, 2) inputs\n"
            f"y = np.array({XOR_Y}, dtype=float)   # (4, 1) targets")


# --- iris -------------------------------------------------------------------------
# course/data/iris.csv is Fisher's iris data (1936) exactly as scikit-learn ships it
# (sklearn/datasets/data/iris.csv in the scikit-learn 1.5.2 wheel; public domain).
# Its first line is a header in scikit-learn's own format:
#     150,4,setosa,versicolor,virginica
#     = number of flowers, number of features, then the species names (label 0, 1, 2)
# and each of the 150 lines after it is one flower:
#     sepal length, sepal width, petal length, petal width (cm, one decimal), label
# The rows are grouped by species (50 setosa, then 50 versicolor, then 50 virginica).
IRIS_CSV = Path(__file__).resolve().parent / "data" / "iris.csv"
IRIS_FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]

# The fixed, stratified split: per species, 30 training, 10 validation and 10 test flowers
# (60/20/20%), chosen by one permutation per species from np.random.default_rng(IRIS_SPLIT_SEED).
IRIS_SPLIT_SIZES = {"train": 30, "validation": 10, "test": 10}
IRIS_SPLIT_SEED = 0
_SPLIT_LETTERS = {"train": "T", "validation": "V", "test": "S"}


def _iris_text_rows():
    """The CSV's header fields and its data rows as lists of strings (checked)."""
    lines = IRIS_CSV.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:] if line.strip()]
    n_rows, n_features = int(header[0]), int(header[1])
    if len(rows) != n_rows or any(len(row) != n_features + 1 for row in rows):
        raise ValueError(f"{IRIS_CSV} does not match its header {lines[0]!r}: "
                         f"expected {n_rows} rows of {n_features} features and a label")
    return header, rows


def iris():
    """(X, labels, feature_names, species_names) from course/data/iris.csv.

    X (150, 4) float in cm, in the file's row order; labels (150,) int in {0, 1, 2};
    feature_names: 4 strings; species_names: 3 strings, species_names[label].
    """
    header, rows = _iris_text_rows()
    X = np.array([[float(value) for value in row[:-1]] for row in rows])
    labels = np.array([int(row[-1]) for row in rows])
    return X, labels, list(IRIS_FEATURES), header[2:]


def iris_split(labels=None, sizes=None, seed=IRIS_SPLIT_SEED):
    """The fixed stratified split: {"train": rows, "validation": rows, "test": rows}.

    Each value is a sorted int array of row indices into iris()'s X; every species
    gives sizes["train"], sizes["validation"] and sizes["test"] of its rows, drawn by
    one permutation per species (in label order) from np.random.default_rng(seed).
    """
    labels = iris()[1] if labels is None else np.asarray(labels)
    sizes = sizes or IRIS_SPLIT_SIZES
    rng = np.random.default_rng(seed)
    parts = {name: [] for name in sizes}
    for species in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == species))
        if len(rows) < sum(sizes.values()):
            raise ValueError(f"species {species} has {len(rows)} rows, fewer than the split's {sum(sizes.values())}")
        start = 0
        for name, size in sizes.items():
            parts[name].extend(rows[start:start + size])
            start += size
    return {name: np.sort(np.array(rows, dtype=int)) for name, rows in parts.items()}


def iris_data_cell(per_line=4):
    """Notebook code that defines the iris data and its split (generated from the CSV).

    The cell defines FEATURES, SPECIES, X (150, 4), labels (150,), split (150,) of 'T'/'V'/'S',
    and X_train/labels_train, X_val/labels_val, X_test/labels_test. The values are the
    CSV's own text, so the notebook's data equal iris() exactly.
    """
    header, rows = _iris_text_rows()
    letter = np.empty(len(rows), dtype="<U1")
    for name, index in iris_split().items():
        letter[index] = _SPLIT_LETTERS[name]
    flowers = [" ".join(row) + " " + letter[i] for i, row in enumerate(rows)]
    lines = [" | ".join(flowers[i:i + per_line]) for i in range(0, len(flowers), per_line)]
    sizes = IRIS_SPLIT_SIZES
    return "\n".join([
        "# Fisher's iris data (1936): 150 flowers, 50 of each species. Read-only: generated from the",
        "# course's iris.csv. Each flower: sepal length, sepal width, petal length, petal width (cm),",
        "# species (0, 1, 2) and its set: T = training, V = validation, S = test.",
        f"FEATURES = {IRIS_FEATURES!r}",
        f"SPECIES = {header[2:]!r}",
        'IRIS = """',
        *lines,
        '"""',
        '_flowers = [flower.split() for flower in IRIS.replace("|", "\\n").splitlines() if flower.strip()]',
        "X = np.array([[float(v) for v in flower[:4]] for flower in _flowers])   # (150, 4) measurements in cm",
        "labels = np.array([int(flower[4]) for flower in _flowers])              # (150,) species 0, 1, 2",
        "split = np.array([flower[5] for flower in _flowers])                    # (150,) 'T', 'V' or 'S'",
        f"# a fixed split, the same for every species: {sizes['train']} training, "
        f"{sizes['validation']} validation, {sizes['test']} test flowers",
        'X_train, labels_train = X[split == "T"], labels[split == "T"]',
        'X_val, labels_val = X[split == "V"], labels[split == "V"]',
        'X_test, labels_test = X[split == "S"], labels[split == "S"]',
    ])
