"""Run a notebook the way a student meets it: in Colab's stack or in the project's own environment.

    python = colab_python()              # .cache/colab-venv, built once from tests/colab-requirements.txt
    run = execute(nb, python)            # top to bottom, in an empty folder, NBGRADER_EXECUTION unset
    run.problems                         # ["cell 7 (test_sigmoid): ZeroDivisionError: ...", ...]; [] = clean

Colab gives a notebook no sibling files, no network, no nbgrader and no `course`; its kernel
has ipywidgets 7.7.1 and IPython 7.34. The Colab venv holds exactly the pinned kernel side of
that stack (installed with --no-deps, so nothing else sneaks in), and is rebuilt whenever the
pin list or the interpreter changes. Widgets are built for real: nbclient keeps every widget
model the kernel opens, and an Output widget (the picture area of `interact`) keeps what the
callback printed, so a callback that raises shows up here as an error.
"""
import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from course.layout import ROOT

REQUIREMENTS = Path(__file__).resolve().parent / "colab-requirements.txt"
CACHE = ROOT / ".cache" / "colab-venv"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# variables of the test process that must not reach a student's kernel
HIDDEN_VARIABLES = ("NBGRADER_EXECUTION", "PYTHONPATH", "PYTHONHOME", "PYTHONWARNINGS", "MPLBACKEND",
                    "VIRTUAL_ENV", "PYTHONSTARTUP")


# --- the Colab venv -----------------------------------------------------------------------------

def python311():
    """A Python 3.11 interpreter to build the venv with (override: COLAB_STACK_PYTHON=/path/python)."""
    candidates = [os.environ.get("COLAB_STACK_PYTHON")]
    if sys.version_info[:2] == (3, 11):
        candidates.append(sys.executable)
    candidates += [shutil.which("python3.11"), *sorted(glob.glob("/root/.pyenv/versions/3.11*/bin/python"))]
    for candidate in filter(None, candidates):
        version = subprocess.run([candidate, "-c", "import sys; print(*sys.version_info[:2])"],
                                 capture_output=True, text=True)
        if version.returncode == 0 and version.stdout.split() == ["3", "11"]:
            return candidate
    raise RuntimeError("the Colab-stack tests need Python 3.11 (its pins do not all install elsewhere): "
                       "install python3.11 or set COLAB_STACK_PYTHON=/path/to/python3.11")


def _cache_key(interpreter):
    version = subprocess.run([interpreter, "-c", "import sys; print(sys.version)"],
                             capture_output=True, text=True, check=True).stdout
    return hashlib.sha256(REQUIREMENTS.read_bytes() + version.encode()).hexdigest()


def colab_python(cache=CACHE, log=print):
    """The Colab venv's interpreter, building the venv first if the pins (or Python) changed.

    Safe to call from several pytest-xdist workers at once: the build holds a file lock.
    """
    cache = Path(cache)
    cache.parent.mkdir(parents=True, exist_ok=True)
    python = cache / "bin" / "python"
    with open(cache.parent / f"{cache.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        interpreter = python311()
        key = _cache_key(interpreter)
        stamp = cache / "pins.sha256"
        if python.exists() and stamp.exists() and stamp.read_text() == key:
            return python
        log(f"building the Colab-stack venv in {cache} from {REQUIREMENTS.name} (once; cached) ...")
        started = time.monotonic()
        shutil.rmtree(cache, ignore_errors=True)
        _run([interpreter, "-m", "venv", str(cache)], "create the venv")
        _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
              "--no-deps", "-r", str(REQUIREMENTS)], f"install {REQUIREMENTS.name}")
        # fail now, with the reason, if a pin is missing a dependency; and build matplotlib's
        # font cache, whose first-time notice would otherwise land on stderr in the first cell
        _run([str(python), "-c", "import ipykernel.kernelapp, ipywidgets, matplotlib.pyplot, numpy"],
             "import the stack", env=_kernel_env(python))
        stamp.write_text(key)
        log(f"Colab-stack venv ready in {time.monotonic() - started:.0f} s")
        return python


def _run(command, what, env=None):
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"could not {what} ({' '.join(command)}):\n{(result.stderr or result.stdout)[-3000:]}")


def _kernel_env(python):
    """The environment a kernel starts with: none of the test run's grading or Python settings."""
    env = {k: v for k, v in os.environ.items() if k not in HIDDEN_VARIABLES}
    env["MPLCONFIGDIR"] = str(_matplotlib_cache(python, env))
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"   # debugpy's notice about frozen modules
    return env


def _matplotlib_cache(python, env):
    """A matplotlib config folder per interpreter, its font cache built before any notebook runs
    (matplotlib's first-time "building the font cache" notice would land on stderr in a cell)."""
    folder = ROOT / ".cache" / "mplconfig" / hashlib.sha256(str(python).encode()).hexdigest()[:12]
    if not list(folder.glob("fontlist-*.json")):
        folder.mkdir(parents=True, exist_ok=True)
        _run([str(python), "-c", "import matplotlib.font_manager"], "build matplotlib's font cache",
             env={**env, "MPLCONFIGDIR": str(folder)})
    return folder


# --- running a notebook -------------------------------------------------------------------------

@dataclass
class Run:
    nb: object                       # the executed notebook
    widgets: dict                    # model id -> widget state (Output widgets keep their outputs)
    seconds: float
    problems: list = field(default_factory=list)


def execute(nb, python=sys.executable, timeout=120):
    """Execute a notebook top to bottom with the given interpreter's ipykernel, in an empty folder.

    Returns a Run whose `problems` name every error, every stderr write and every widget that
    was not built or whose picture area shows an error; an empty list means the notebook is clean.
    """
    import nbformat
    nb = nbformat.from_dict(nb)
    with tempfile.TemporaryDirectory(prefix="student-") as folder:
        kernels = Path(folder) / "kernels"
        spec = kernels / "student"
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "student", "language": "python"}))
        work = Path(folder) / "work"               # the notebook's folder: empty, like Colab's
        work.mkdir()
        manager = KernelManager(kernel_name="student",
                                kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
        client = NotebookClient(nb, km=manager, timeout=timeout, allow_errors=True,
                                store_widget_state=True, resources={"metadata": {"path": str(work)}})
        started = time.monotonic()
        client.execute(env=_kernel_env(python), cwd=str(work))
        seconds = time.monotonic() - started
    run = Run(nb, client.widget_state, seconds)
    run.problems = notebook_problems(nb, client.widget_state)
    return run


def notebook_problems(nb, widgets):
    """What a student would see go wrong: errors, stderr, unbuilt widgets, errors inside widgets."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        name = cell.metadata.get("nbgrader", {}).get("grade_id") or cell.source.strip().split("\n")[0][:60]
        where = f"cell {index} ({name})"
        problems += [f"{where}: {p}" for p in _output_problems(cell.get("outputs", []))]
        for output in cell.get("outputs", []):
            model_id = output.get("data", {}).get(WIDGET_VIEW, {}).get("model_id")
            if model_id is None:
                continue
            if model_id not in widgets:
                problems.append(f"{where}: displays widget {model_id}, which the kernel never built")
                continue
            for child in _descendants(model_id, widgets):
                state = widgets.get(child, {})
                if state.get("_model_name") == "OutputModel":
                    problems += [f"{where}, inside a widget: {p}" for p in _output_problems(state.get("outputs", []))]
    return problems


def _output_problems(outputs):
    problems = []
    for output in outputs:
        if output.get("output_type") == "error":
            problems.append(f"{output.get('ename')}: {output.get('evalue')}")
        elif output.get("output_type") == "stream" and output.get("name") == "stderr":
            problems.append(f"wrote to stderr: {output.get('text', '').strip()[:300]!r}")
    return problems


def _descendants(model_id, widgets):
    """The model and every model it refers to (children of boxes, the Output of an interact ...)."""
    seen, todo = [], [model_id]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        for value in widgets.get(current, {}).values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item.startswith("IPY_MODEL_"):
                    todo.append(item[len("IPY_MODEL_"):])
    return seen


def interact_outputs(run):
    """{cell index: [outputs of each Output widget that cell displays]}: the pictures of its sliders."""
    shown = {}
    for index, cell in enumerate(run.nb.cells):
        for output in cell.get("outputs", []):
            model_id = output.get("data", {}).get(WIDGET_VIEW, {}).get("model_id")
            for child in _descendants(model_id, run.widgets) if model_id else []:
                if run.widgets.get(child, {}).get("_model_name") == "OutputModel":
                    shown.setdefault(index, []).append(run.widgets[child].get("outputs", []))
    return shown


def reference_filled(assignment):
    """The committed release notebook with its solution cells filled from source/ (as a student
    who solved everything would have it); fails the calling test if either notebook is missing."""
    import pytest
    from course.authoring import notebooks
    from course.layout import notebook_path
    for folder in ("source", "release"):
        path = notebook_path(folder, assignment)
        if not path.exists():
            pytest.fail(f"{path.relative_to(ROOT)} is missing: every assignment must be written and released "
                        f"(`python -m course release {assignment}`) before its notebook can be proven to run")
    codes = notebooks.reference_solutions(notebooks.read(notebook_path("source", assignment)))
    return notebooks.fill_solutions(notebooks.read(notebook_path("release", assignment)), codes)
