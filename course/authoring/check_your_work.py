"""The "check your work" cells that end every notebook, generated from the notebook's own test cells.

A source notebook asks for them by metadata:

    "metadata": {"backprop_lab": {"check_your_work": "heading"}}          # the markdown heading
    "metadata": {"backprop_lab": {"check_your_work": "backward.ipynb"}}   # the code cell

The code cell carries, for every graded test cell, its name, its points and its visible checks
(the cell's code outside the hidden-test region, the same text in source/ and release/), and a
function that runs them again in a copy of the notebook's namespace and lists what is left to do.
It runs in Colab alone: no course package, no file of its own.
"""
from . import notebooks

HEADING = """## Before you submit: check your work

Run the cell below last (after **Runtime → Run all**, or **Run → Run All Cells**). It runs every
visible check of this notebook again, lists the functions that are still unwritten or fail a check
with their points, and says how to hand the notebook in. Passing every visible check is a good sign,
not a grade: hidden tests check more cases when your notebook is graded."""

RUNNER = '''

def check_your_work(checks=CHECKS, written=WRITTEN, notebook=NOTEBOOK):
    """Run each test cell's visible checks again; print what is done and what is left."""
    import contextlib
    import io
    import warnings
    done, left = 0, []
    for name, points, code in checks:
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(code, dict(globals()))
        except NotImplementedError:
            left.append(f"  {name} ({points:g} points): not written yet")
        except Exception as error:       # a failed assert, or an error in the function
            message = (str(error).splitlines() or [type(error).__name__])[0]
            left.append(f"  {name} ({points:g} points): {type(error).__name__}: {message}")
        else:
            done += points
    total = sum(points for _, points, _ in checks)
    print(f"Visible checks pass for {done:g} of {total:g} autograded points.")
    if left:
        print("Still to do:", *left, sep="\\n")
    else:
        print("Every function passes its visible checks (the hidden tests check more when it is graded).")
    for name, points in written:
        print(f"Written answer {name} ({points:g} point{'s' if points != 1 else ''}): graded by your instructor; "
              "make sure you replaced YOUR ANSWER HERE.")
    print(f"To submit: in Colab, File -> Download -> Download .ipynb; in JupyterLab, save (Ctrl+S). "
          f"Hand in {notebook} (keep its name) as your instructor asks.")


if not GRADING:
    check_your_work()'''


def graded_cells(nb):
    """(code checks, written answers) of a notebook: [(name, points, visible code)], [(name, points)]."""
    checks, written = [], []
    for cell in nb.cells:
        meta = notebooks.nbgrader_meta(cell)
        if not meta.get("grade"):
            continue
        name = meta["grade_id"].removeprefix("test_")
        if notebooks.is_test(cell):
            visible, _ = notebooks.split_region(cell.source, notebooks.HIDDEN_MARKERS)
            checks.append((name, meta.get("points", 0), "\n".join(visible).strip("\n")))
        else:
            written.append((name, meta.get("points", 0)))
    return checks, written


def cell_source(which, nb):
    """The heading (which == "heading") or the code cell for notebook file `which`."""
    if which == "heading":
        return HEADING
    checks, written = graded_cells(nb)
    lines = ["# Check your work (read-only, generated from this notebook's check cells): run it last.",
             f"NOTEBOOK = {which!r}",
             "CHECKS = [   # (what is graded, points, the visible checks of its test cell)"]
    lines += [f"    ({name!r}, {points!r}, {code!r})," for name, points, code in checks]
    lines += ["]", f"WRITTEN = {written!r}   # written answers: (cell, points)"]
    return "\n".join(lines) + RUNNER
