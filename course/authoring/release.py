"""Build release/ from source/: nbgrader generate_assignment, a Colab badge, and a leak check.

A release notebook must run in Colab's stack alone, so the check refuses one that
still holds solution or hidden-test text, imports anything beyond numpy,
matplotlib, ipywidgets, IPython and the standard library, or reads a file or the
network.
"""
import ast
import subprocess
import sys

import nbformat

from . import notebooks
from ..layout import ASSIGNMENTS, ROOT, nbgrader_settings, notebook_path, tool_env

ALLOWED_IMPORTS = {"numpy", "matplotlib", "ipywidgets", "IPython"}
NETWORK_MODULES = {"socket", "urllib", "http", "ftplib", "smtplib", "ssl", "requests", "webbrowser"}
# call names that read a file (matched on the last attribute: np.loadtxt, Path(...).read_text, ...)
FILE_READERS = {"open", "load", "loadtxt", "genfromtxt", "fromfile", "read_text", "read_bytes",
                "imread", "urlopen", "read_csv", "listdir", "scandir", "glob"}
ALLOWED_MAGICS = {"%matplotlib"}
FORBIDDEN_TEXT = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN", "END HIDDEN")
BADGE_CELL_ID = "open-in-colab"


class LeakError(SystemExit):
    """A release notebook that would not work (or would leak) in a student's hands."""


def colab_url(assignment, root=ROOT):
    settings = nbgrader_settings(root)
    name = notebook_path("release", assignment).name
    return ("https://colab.research.google.com/github/"
            f"{settings['COLAB_REPOSITORY']}/blob/{settings['COLAB_BRANCH']}/release/{assignment}/{name}")


def add_badge(nb, assignment, root=ROOT):
    """Put (or refresh) an 'Open in Colab' badge as the notebook's first cell."""
    url = colab_url(assignment, root)
    text = (f'<a href="{url}" target="_parent"><img '
            'src="https://colab.research.google.com/assets/colab-badge.svg" alt="Open In Colab"/></a>')
    nb.cells = [c for c in nb.cells if c.get("id") != BADGE_CELL_ID]
    badge = nbformat.v4.new_markdown_cell(text)
    badge["id"] = BADGE_CELL_ID
    nb.cells.insert(0, badge)


def _code_problems(code):
    """Problems of one code cell's source: imports, file and network access, shell escapes."""
    problems, python_lines = [], []
    for line in code.splitlines():
        stripped = line.strip()
        if stripped.startswith(("!", "%")):
            if stripped.split()[0] not in ALLOWED_MAGICS:
                problems.append(f"runs a shell command or magic ({stripped.split()[0]})")
            python_lines.append("")
        else:
            python_lines.append(line)
    try:
        tree = ast.parse("\n".join(python_lines))
    except SyntaxError as error:
        return problems + [f"is not valid Python ({error.msg}, line {error.lineno})"]
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        for name in names:
            top = name.split(".")[0]
            if top in NETWORK_MODULES:
                problems.append(f"imports {name}, which reaches the network")
            elif top not in ALLOWED_IMPORTS and top not in sys.stdlib_module_names:
                problems.append(f"imports {name}, which Colab's stack does not have "
                                "(only numpy, matplotlib, ipywidgets and the standard library)")
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in FILE_READERS:
                problems.append(f"calls {called}(), which reads a file; a Colab notebook gets no files")
    return problems


def _secret_lines(source_nb):
    """Lines that occur inside solution or hidden-test regions and in no public code of the source.

    A markdown hint that quotes a solution line is a leak too, so only code counts as public.
    """
    inside, outside = set(), set()
    for cell in source_nb.cells:
        not_solution, solution = notebooks.split_region(cell.source, notebooks.MARKERS)
        public, hidden = notebooks.split_region("\n".join(not_solution), notebooks.HIDDEN_MARKERS)
        inside |= {line.strip() for line in solution + hidden}
        if cell.cell_type == "code":
            outside |= {line.strip() for line in public}
    return {line for line in inside - outside if len(line) >= 8 and not line.startswith("#")}


def find_leaks(release_nb, source_nb, label):
    """Messages naming notebook and cell for everything a student must not get."""
    secrets = _secret_lines(source_nb)
    messages = []
    for index, cell in enumerate(release_nb.cells):
        where = f"{label}, cell {index}" + (f" ({notebooks.grade_id(cell)})" if notebooks.grade_id(cell) else "")
        for text in FORBIDDEN_TEXT:
            if text in cell.source:
                messages.append(f"{where}: contains '{text}'")
        leaked = secrets & {line.strip() for line in cell.source.splitlines()}
        if leaked:
            messages.append(f"{where}: still contains solution or hidden-test code: {sorted(leaked)[0]!r}")
        if cell.cell_type == "code":
            messages.extend(f"{where}: {problem}" for problem in _code_problems(cell.source))
    return messages


def generate(assignment, root=ROOT):
    """Refresh generated cells in source/, then run nbgrader generate_assignment for one assignment."""
    source_path = notebook_path("source", assignment, root)
    if not source_path.exists():
        raise SystemExit(f"{source_path} does not exist; write the source notebook first")
    source_nb = notebooks.read(source_path)
    if notebooks.sync_snippets(source_nb):
        notebooks.write(source_nb, source_path)
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
         f"--CourseDirectory.root={root}"],
        cwd=root, capture_output=True, text=True, env=tool_env())
    if result.returncode != 0:
        raise SystemExit(f"nbgrader generate_assignment {assignment} failed:\n{result.stderr[-3000:]}")
    return source_nb


def release(assignments=None, root=ROOT, out=print):
    """Build release/<assignment>/<notebook>.ipynb for each assignment (all present by default)."""
    assignments = assignments or [a for a in ASSIGNMENTS if notebook_path("source", a, root).exists()]
    for assignment in assignments:
        source_nb = generate(assignment, root)
        release_path = notebook_path("release", assignment, root)
        release_nb = notebooks.read(release_path)
        add_badge(release_nb, assignment, root)
        leaks = find_leaks(release_nb, source_nb, f"release/{assignment}/{release_path.name}")
        if leaks:
            release_path.unlink()
            raise LeakError("refusing to release:\n  " + "\n  ".join(leaks))
        notebooks.write(release_nb, release_path)
        out(f"released {release_path.relative_to(root)}")
    return assignments
