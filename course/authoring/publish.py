"""`python -m course publish DEST`: the student-facing repository, and nothing else of the course.

DEST gets, and keeps only (besides its .git):

    README.md                              for students: open in Colab, work, save, submit
    release/<assignment>/<notebook>.ipynb  the release notebooks (badges refreshed)

The paths are the course repository's own, so the "Open in Colab" badges, which point at
``github.com/<COLAB_REPOSITORY>/blob/<COLAB_BRANCH>/release/...`` (nbgrader_config.py),
work once DEST is pushed as COLAB_REPOSITORY. DEST is made a git repository if it is not
one and the tree is committed, ready to push. Publishing is deterministic: the same course
gives the same files, byte for byte, and the same git tree.

Before anything is written, the whole tree is checked (``leaks``): publishing is refused,
naming file and reason, if it holds solution code (solution markers or lines of the
source notebooks' solutions), hidden-test text (markers or lines of course/judge/rules/),
a ``source/`` or ``course/`` folder, a gradebook (any SQLite file or ``*.db``) or the
course's grading output. DEST must be empty or hold an earlier publish.
"""
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import notebooks
from .release import FORBIDDEN_TEXT, _secret_lines, add_badge, colab_url
from ..layout import ASSIGNMENTS, ROOT, nbgrader_settings, notebook_path

PUBLISHED = ("README.md", "release")
FORBIDDEN_FOLDERS = {"source", "course", "autograded", "feedback", "submitted", "grading", "demo", ".ci", "tests"}
RULES = Path(__file__).resolve().parent.parent / "judge" / "rules"
COMMIT_MESSAGE = "Backprop Lab: student release"
COMMITTER = ["-c", "user.name=Backprop Lab", "-c", "user.email=backprop-lab@localhost"]


class PublishRefused(SystemExit):
    """The tree to publish would hand students something of the instructor's."""


def student_readme(assignments, root=ROOT):
    """The public repository's README (Markdown)."""
    rows = "\n".join(f"| `{a}` | [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                     f"({colab_url(a, root)}) | `release/{a}/{notebook_path('release', a).name}` |"
                     for a in assignments)
    return f"""# Backprop Lab: the notebooks

Build a neural network from scratch with numpy, one function at a time, and watch your own code learn.

| assignment | open | file |
|---|---|---|
{rows}

1. **Open**: click the assignment's **Open in Colab** badge (here or in the notebook's first cell). Nothing
   to install: the notebooks need only numpy, matplotlib and ipywidgets, which Colab has.
2. **Work**: run the cells from the top (**Runtime → Run all**). Replace each `raise NotImplementedError()`
   with your code and run the check cell under it: it says in one line what is wrong. The sliders retrain
   *your* network; if one shows nothing, run the cells above it first. Don't `pip install` anything.
3. **Save**: **File → Save a copy in Drive** keeps your work between sessions.
4. **Submit**: **File → Download → Download .ipynb**, and hand in that file where your instructor asks.
   Keep its name (`forward.ipynb`; "Copy of forward.ipynb" is fine too) and don't delete or retype the
   check cells.

In Jupyter: download the notebook from `release/<assignment>/`, open it, and work the same way.
"""


def build(staging, root=ROOT):
    """Write the student tree into staging; returns the assignments published."""
    assignments = [a for a in ASSIGNMENTS if notebook_path("release", a, root).exists()]
    if not assignments:
        raise SystemExit(f"nothing to publish: {Path(root) / 'release'} holds no release notebooks; "
                         "run `python -m course release` first")
    for assignment in assignments:
        folder = Path(root) / "release" / assignment
        for path in sorted(folder.rglob("*")):
            if path.is_file() and ".ipynb_checkpoints" not in path.parts:
                target = Path(staging) / "release" / assignment / path.relative_to(folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        released = Path(staging) / "release" / assignment / notebook_path("release", assignment).name
        nb = notebooks.read(released)
        add_badge(nb, assignment, root)
        notebooks.write(nb, released)
    (Path(staging) / "README.md").write_text(student_readme(assignments, root), encoding="utf-8")
    return assignments


def _hidden_test_lines():
    """Distinctive lines of the grading rules (course/judge/rules/*.py): hidden-test text."""
    lines = set()
    for path in sorted(RULES.glob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if len(text) >= 24 and not text.startswith(("#", "import ", "from ", '"""', "def ", "return ")):
                lines.add(text)
    return lines


def leaks(tree, root=ROOT):
    """One message per thing in the tree that students must not get ([] when it is clean)."""
    tree = Path(tree)
    public = _public_lines(root)
    # a notebook is given the earlier ones' solutions: it is checked against its own and the later ones'
    secrets, later = {}, set()
    for assignment in reversed(ASSIGNMENTS):
        source = notebook_path("source", assignment, root)
        if source.exists():
            source_nb = notebooks.read(source)
            later |= _secret_lines(source_nb)
            secrets[assignment] = later - _public_lines(root, [source_nb])
    everyone = set().union(*secrets.values()) - public
    hidden = _hidden_test_lines()
    messages = []
    for path in sorted(tree.rglob("*")):
        relative = path.relative_to(tree)
        if ".git" in relative.parts:
            continue
        folders = FORBIDDEN_FOLDERS & set(relative.parts[:-1] if path.is_file() else relative.parts)
        if folders:
            messages.append(f"{relative}: inside {sorted(folders)[0]}/, which is the instructor's")
            continue
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data.startswith(b"SQLite format 3") or path.suffix in (".db", ".sqlite"):
            messages.append(f"{relative}: a database (the gradebook?)")
            continue
        text = data.decode("utf-8", errors="replace")
        for marker in FORBIDDEN_TEXT:
            if marker in text:
                messages.append(f"{relative}: contains '{marker}'")
        lines = {line.strip() for line in _text_of(path, text).splitlines()}
        own = relative.parts[1] if relative.parts[0] == "release" and len(relative.parts) > 2 else None
        solution = sorted(lines & secrets.get(own, everyone))
        if solution:
            messages.append(f"{relative}: holds solution code: {solution[0]!r}")
        tests = sorted((lines & hidden) - public)
        if tests:
            messages.append(f"{relative}: holds hidden-test code of course/judge/rules/: {tests[0]!r}")
    return messages


def _text_of(path, text):
    """A notebook's cell sources and outputs as plain text; any other file as it is."""
    if path.suffix != ".ipynb":
        return text
    try:
        import nbformat
        nb = nbformat.reads(text, as_version=4)
    except Exception:  # noqa: BLE001 - not a readable notebook: check its raw text
        return text
    parts = []
    for cell in nb.cells:
        parts.append(cell.source)
        for output in cell.get("outputs", []):
            parts.append(str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def _public_lines(root, source_notebooks=None):
    """Code lines outside the solution and hidden regions of the source notebooks (all, or the ones given)."""
    if source_notebooks is None:
        paths = [notebook_path("source", a, root) for a in ASSIGNMENTS]
        source_notebooks = [notebooks.read(p) for p in paths if p.exists()]
    lines = set()
    for source_nb in source_notebooks:
        for cell in (c for c in source_nb.cells if c.cell_type == "code"):
            outside, _ = notebooks.split_region(cell.source, notebooks.MARKERS)
            public, _ = notebooks.split_region("\n".join(outside), notebooks.HIDDEN_MARKERS)
            lines |= {line.strip() for line in public}
    return lines


def publish(dest, root=ROOT, out=print):
    """Check and write the student repository to dest, commit it; returns the git tree id."""
    dest = Path(dest).resolve()
    if dest == Path(root).resolve() or Path(root).resolve() in dest.parents:
        raise SystemExit(f"publish {dest}: choose a folder outside the course repository")
    _require_publishable(dest)
    with tempfile.TemporaryDirectory(prefix="backprop-publish-") as staging:
        build(staging, root)
        found = leaks(staging, root)
        if found:
            raise PublishRefused("refusing to publish:\n  " + "\n  ".join(found))
        dest.mkdir(parents=True, exist_ok=True)
        for name in PUBLISHED:
            target = dest / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        shutil.copytree(staging, dest, dirs_exist_ok=True)
    tree = _commit(dest)
    repository = nbgrader_settings(root)["COLAB_REPOSITORY"]
    out(f"published {dest} (git tree {tree[:12]}): push it to github.com/{repository}, the repository the "
        "Colab badges point at (COLAB_REPOSITORY in nbgrader_config.py); keep the course repository private")
    return tree


def _require_publishable(dest):
    """dest is new, empty, or holds only an earlier publish (and its .git)."""
    if not dest.exists():
        return
    if not dest.is_dir():
        raise SystemExit(f"publish {dest}: not a folder")
    others = sorted(p.name for p in dest.iterdir() if p.name not in PUBLISHED + (".git",))
    if others:
        raise SystemExit(f"publish {dest}: the folder holds {', '.join(others[:5])}, which a publish did not write; "
                         "give an empty folder or an earlier publish")


def _git(dest, *args):
    result = subprocess.run(["git", *COMMITTER, *args], cwd=dest, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} in {dest} failed: {result.stderr.strip()[-500:]}")
    return result.stdout.strip()


def _commit(dest):
    """git init (if needed), stage everything, commit when something changed; the tree id."""
    if not (dest / ".git").exists():
        _git(dest, "init", "-q", "-b", "main")
    _git(dest, "add", "-A")
    if _git(dest, "status", "--porcelain"):
        _git(dest, "commit", "-q", "-m", COMMIT_MESSAGE)
    return _git(dest, "rev-parse", "HEAD^{tree}")
