"""The course's data sets, and the notebook cells that carry them (a Colab notebook gets no files)."""
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
