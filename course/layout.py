"""Where things live: the assignments, the course folders and nbgrader_config values."""
import contextlib
import os
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# assignment id -> notebook name (fixed: instructors, tests and later notebooks rely on them)
ASSIGNMENTS = {
    "01_initialization": "initialization",
    "02_forward": "forward",
    "03_backward": "backward",
    "04_optimization": "optimization",
    "05_iris_softmax": "iris_softmax",
}


def notebook_path(folder, assignment, root=ROOT):
    """Path of an assignment's notebook in `folder` ('source' or 'release')."""
    if assignment not in ASSIGNMENTS:
        raise SystemExit(f"unknown assignment {assignment!r}; choose from: {', '.join(ASSIGNMENTS)}")
    return Path(root) / folder / assignment / f"{ASSIGNMENTS[assignment]}.ipynb"


def present_assignments(root=ROOT):
    """The assignments whose source notebook exists, in course order."""
    return [a for a in ASSIGNMENTS if notebook_path("source", a, root).exists()]


class _Config:
    """Stand-in for traitlets' config object: attribute access creates sections."""

    def __init__(self):
        self._sections = {}

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._sections.setdefault(name, type("Section", (), {})())


def nbgrader_settings(root=ROOT):
    """The plain variables of nbgrader_config.py (COLAB_REPOSITORY, COLAB_BRANCH, ...)."""
    config = _Config()
    values = runpy.run_path(str(Path(root) / "nbgrader_config.py"), init_globals={"get_config": lambda: config})
    return {k: v for k, v in values.items() if k.isupper()}


def tool_env(**extra):
    """Environment for nbgrader subprocesses: this interpreter's bin/ first on PATH
    (nbgrader runs `alembic` by name) and Python warnings kept out of the logs."""
    import sys
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "PYTHONWARNINGS": "ignore"}
    env.update(extra)
    return env


@contextlib.contextmanager
def environment(env):
    """os.environ replaced by env for the duration (nbgrader runs `alembic` from PATH)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
