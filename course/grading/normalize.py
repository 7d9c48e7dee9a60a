"""Normalization: turn a submitted file into the notebook nbgrader expects, logging each step.

    nb, log, problem = normalize(data, filename, release_nb)

Steps, in order (each returns the lines it adds to the student's log):
1. name      Colab's file names (``Copy of forward.ipynb``, ``forward (1).ipynb``,
             ``forward.ipynb.json``) -> ``forward.ipynb`` (only logged: the grader writes the
             normalized copy under the expected name).
2. parse     bytes -> notebook; a file that is not text, not JSON, cut off, or JSON but
             not a notebook gives ``problem`` ("forward.ipynb is not a valid notebook: ...")
             and no notebook.
3. colab     Colab's notebook JSON: nbformat 4.0 with cell ids in ``metadata.id`` -> 4.5 with
             real ids; the ``colab`` block and ``executionInfo``/``outputId`` dropped; a
             kernelspec without ``language`` replaced by the release's; ``metadata.widgets``
             without ``state`` dropped (nbconvert's HTML export raises KeyError 'state').
4. damaged  ``metadata.nbgrader`` that is not what nbgrader writes (null, a string, a
             grade_id that is a number, points that are text, ...) is removed, so that step 5
             puts the release's back; a notebook over MAX_BYTES or a cell over MAX_CELL_CHARS
             is refused (``problem``), as a file of the wrong kind is.
5. nbgrader  cells that lost ``metadata.nbgrader`` get it back from the release notebook:
             locked and test cells matched by their source, solution cells by position
             between matched neighbours (see ``restore_nbgrader_metadata``).
"""
import copy
import difflib
import json
import re

import nbformat

from ..authoring import notebooks

COLAB_NOTEBOOK_KEYS = ("colab", "accelerator", "gpuClass")
COLAB_CELL_KEYS = ("colab", "executionInfo", "outputId", "id")
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
MAX_BYTES = 16 * 1024 * 1024        # a notebook of this course is about 100 KB with its pictures
MAX_CELL_CHARS = 200_000            # a cell's source
NBGRADER_TYPES = {"grade_id": str, "grade": bool, "solution": bool, "locked": bool, "points": (int, float),
                  "schema_version": int, "checksum": str, "task": bool, "cell_type": str}


class NotANotebook(ValueError):
    """The submitted file cannot be read as a notebook; the message is for the report."""


def normalize(data, filename, release_nb, expected_name):
    """(notebook or None, log lines, problem or None) for one submitted file."""
    log = name_step(filename, expected_name)
    try:
        nb = parse(data)
        log += colab_step(nb, release_nb)
        log += damaged_metadata_step(nb)
    except NotANotebook as error:
        return None, log, f"{filename} is not a valid notebook: {error}"
    log += restore_nbgrader_metadata(nb, release_nb)
    return nb, log, None


def name_step(filename, expected_name):
    if filename == expected_name:
        return []
    return [f"file name {filename!r} -> {expected_name!r}"]


def parse(data):
    """bytes -> NotebookNode (nbformat 4), or NotANotebook saying what is wrong."""
    if not data.strip():
        raise NotANotebook("the file is empty")
    if len(data) > MAX_BYTES:
        raise NotANotebook(f"it is {len(data) / 1024 ** 2:.0f} MB, over the {MAX_BYTES // 1024 ** 2} MB a "
                           "notebook of this course can be (clear the outputs and save it again)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotANotebook("it is not a text file (binary data; was a PDF or an image uploaded?)") from None
    try:
        content = json.loads(text)
    except json.JSONDecodeError as error:
        stripped = text.strip()
        if error.pos >= len(text.rstrip()) - 1 or (stripped.startswith("{") and not stripped.endswith("}")):
            raise NotANotebook(f"the file is cut off at line {error.lineno} (truncated JSON; "
                               "download it again from Colab or Jupyter)") from None
        raise NotANotebook(f"it is not JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None
    if not isinstance(content, dict) or not ("cells" in content or "worksheets" in content):
        raise NotANotebook("it is JSON but not a notebook (no cells)")
    try:
        return nbformat.reads(text, as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds; all mean "not readable"
        raise NotANotebook(f"nbformat cannot read it ({type(error).__name__}: {str(error)[:120]})") from None


def colab_step(nb, release_nb):
    """Make a Colab-saved notebook look like one saved by Jupyter (see the module docstring)."""
    log = []
    if nb.nbformat_minor < 5:
        from_metadata = _assign_ids(nb)
        log.append(f"nbformat 4.{nb.nbformat_minor} -> 4.5"
                   + (f" (cell ids taken from metadata.id on {from_metadata} cells)" if from_metadata else ""))
        nb.nbformat_minor = 5
    dropped = [key for key in COLAB_NOTEBOOK_KEYS if nb.metadata.pop(key, None) is not None]
    cells = 0
    for cell in nb.cells:
        removed = [key for key in COLAB_CELL_KEYS if cell.metadata.pop(key, None) is not None]
        cells += bool(removed)
    if dropped or cells:
        log.append(f"removed Colab metadata ({', '.join(dropped) or 'none'} on the notebook, "
                   f"executionInfo/outputId/colab on {cells} cells)")
    kernelspec = nb.metadata.get("kernelspec")
    if not kernelspec or "language" not in kernelspec or "name" not in kernelspec:
        nb.metadata["kernelspec"] = copy.deepcopy(release_nb.metadata.get(
            "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"}))
        log.append("kernelspec " + ("added" if not kernelspec else "without language replaced") + " from the release")
    widgets = nb.metadata.get("widgets")
    if widgets is not None:
        state = widgets.get(WIDGET_STATE) if isinstance(widgets, dict) else None
        if not isinstance(state, dict) or "state" not in state:
            del nb.metadata["widgets"]
            log.append("removed metadata.widgets saved without 'state' (it would crash the HTML feedback)")
    return log


def damaged_metadata_step(nb):
    """Remove metadata.nbgrader that nbgrader did not write (step 5 restores the release's);
    refuse a cell too large to be a student's code."""
    removed = []
    for index, cell in enumerate(nb.cells):
        if len(cell.get("source", "")) > MAX_CELL_CHARS:
            raise NotANotebook(f"cell {index} holds {len(cell.source):,} characters; a cell of this "
                               "course is a few hundred (was data pasted into it?)")
        metadata = cell.get("metadata")
        if "nbgrader" not in metadata:
            continue
        meta = metadata["nbgrader"]
        if not isinstance(meta, dict) or not isinstance(meta.get("grade_id"), str) or any(
                key in meta and (not isinstance(meta[key], kind) or isinstance(meta[key], bool) and kind == (int, float))
                for key, kind in NBGRADER_TYPES.items()):
            del metadata["nbgrader"]
            removed.append(str(index))
    if removed:
        return [f"removed damaged nbgrader metadata from cell{'s' if len(removed) > 1 else ''} "
                f"{', '.join(removed)} (restored from the release below)"]
    return []


def _assign_ids(nb):
    """Give every cell a valid, unique id: Colab's metadata.id when usable, else cell-<n>."""
    used, from_metadata = set(), 0
    for index, cell in enumerate(nb.cells):
        wanted = cell.get("id") or cell.metadata.get("id")
        if isinstance(wanted, str) and CELL_ID.match(wanted) and wanted not in used:
            from_metadata += "id" not in cell
        else:
            wanted = f"cell-{index}"
            while wanted in used:
                wanted += "-x"
        cell["id"] = wanted
        used.add(wanted)
    return from_metadata


def _canonical(source):
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def restore_nbgrader_metadata(nb, release_nb):
    """Put back metadata.nbgrader the submission lost, by matching it against the release.

    1. Anchors: submitted cells that still have a grade_id match it; every other release
       cell that is not a solution (instructions, given code, locked and test cells) is
       matched, in order, to the first later submitted cell with the same type and source.
    2. Each release solution cell is looked for between the submitted positions of its
       matched neighbours; among the unclaimed cells of its type there, the one most like
       the release stub (same `def` line, docstring) wins, keeping the order.
    """
    release_cells = release_nb.cells
    wanted = {notebooks.grade_id(c) for c in release_cells if notebooks.grade_id(c)}
    present = {notebooks.grade_id(c) for c in nb.cells if notebooks.grade_id(c)}
    if not wanted - present:
        return []
    where = {notebooks.grade_id(c): k for k, c in enumerate(nb.cells) if notebooks.grade_id(c)}
    anchors, next_free = {}, 0
    by_source = 0
    for i, cell in enumerate(release_cells):
        gid = notebooks.grade_id(cell)
        if gid in where:
            anchors[i] = where[gid]
            next_free = max(next_free, where[gid] + 1)
            continue
        if notebooks.is_solution(cell) or not _canonical(cell.source):
            continue
        key = _canonical(cell.source)
        for k in range(next_free, len(nb.cells)):
            candidate = nb.cells[k]
            if (candidate.cell_type == cell.cell_type and not notebooks.grade_id(candidate)
                    and _canonical(candidate.source) == key):
                anchors[i] = k
                next_free = k + 1
                if gid:
                    candidate.metadata["nbgrader"] = copy.deepcopy(cell.metadata["nbgrader"])
                    by_source += 1
                break

    by_position, lost, claimed = 0, [], set(anchors.values())
    last_claimed = -1
    for i, cell in enumerate(release_cells):
        gid = notebooks.grade_id(cell)
        if i in anchors:
            last_claimed = max(last_claimed, anchors[i])
            continue
        if not gid or not notebooks.is_solution(cell):
            if gid:
                lost.append(gid)
            continue
        before = max([anchors[j] for j in anchors if j < i] + [last_claimed])
        after = min([anchors[j] for j in anchors if j > i] + [len(nb.cells)])
        candidates = [k for k in range(before + 1, after)
                      if k not in claimed and nb.cells[k].cell_type == cell.cell_type
                      and not notebooks.grade_id(nb.cells[k])]
        if not candidates:
            lost.append(gid)
            continue
        best = max(candidates, key=lambda k: (_likeness(cell.source, nb.cells[k].source), -k))
        nb.cells[best].metadata["nbgrader"] = copy.deepcopy(cell.metadata["nbgrader"])
        claimed.add(best)
        last_claimed = best
        by_position += 1

    log = []
    if by_source or by_position:
        log.append(f"restored nbgrader metadata on {by_source + by_position} cells "
                   f"({by_source} matched by source, {by_position} by position)")
    if lost:
        log.append(f"could not find the cells {', '.join(lost)} (deleted?); they are graded as missing")
    return log


def _likeness(stub, source):
    """How much a submitted cell looks like the release stub: its def lines first, then text."""
    defs = {line.strip() for line in stub.splitlines() if line.strip().startswith(("def ", "class "))}
    shared = sum(1 for line in source.splitlines() if line.strip() in defs)
    return shared, difflib.SequenceMatcher(None, stub, source).quick_ratio()
