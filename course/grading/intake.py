"""Intake: find each student's submitted notebook for the assignments being graded.

Submissions come from one of two places; the originals are only ever read.

1. nbgrader's layout in the course root: ``submitted/<student>/<assignment>/<file>``.
2. ``--from PATH``, a folder or a .zip downloaded from an LMS. Every file in it is
   one student's notebook, named by one of these rules (checked in this order):

   ``<student>/<assignment>/<file>``   nbgrader's layout (e.g. ``collected/`` folders)
   ``<student>/<file>``                a folder per student
   ``<student>_<file>``                one flat file per student, as nbgrader's
                                       ``zip_collect`` and most LMS downloads name them

   ``<file>`` is the notebook as the student saved it: a name that contains the
   notebook's name (``forward.ipynb``, ``Copy of forward.ipynb``, ``forward (1).ipynb``,
   ``forward.ipynb.json``). In a flat file the student id is what comes before the
   last ``_<notebook name>`` (``jane_doe_Copy of forward.ipynb`` -> ``jane_doe``).
   When only one assignment is graded, any ``.ipynb``/``.json`` file counts as it.
   If a student has several files for one notebook, the newest is graded (logged).
"""
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..layout import ASSIGNMENTS

NOTEBOOK_SUFFIXES = (".ipynb", ".json")
IGNORED = ("__MACOSX", ".ipynb_checkpoints", ".DS_Store", "timestamp.txt")
SAFE_ID = re.compile(r"[^A-Za-z0-9_.@+-]+")


@dataclass
class Submission:
    """One student's file for one assignment, as found (bytes read, nothing changed)."""
    student: str
    assignment: str
    filename: str                       # the name the student gave it
    data: bytes
    origin: str                         # where it came from, for the report
    timestamp: str | None = None        # nbgrader's timestamp.txt, when there was one
    log: list = field(default_factory=list)


@dataclass
class _File:
    parts: tuple        # path parts relative to the intake root
    mtime: tuple        # for "newest wins"
    read: object        # () -> bytes


def notebook_of(filename, assignments):
    """The assignment whose notebook name the file name contains (last match wins), or None."""
    best, best_at = None, -1
    lowered = filename.lower()
    for assignment in assignments:
        for key in (ASSIGNMENTS[assignment], assignment):
            at = lowered.rfind(key.lower())
            if at > best_at:
                best, best_at = assignment, at
    return best


def safe_student_id(raw):
    """A student id nbgrader can use as a folder name (spaces and odd characters become '_')."""
    return SAFE_ID.sub("_", raw.strip()).strip("_") or "unknown"


def _looks_like_notebook(name, assignments):
    return name.lower().endswith(NOTEBOOK_SUFFIXES) or notebook_of(name, assignments) is not None


def _identify(parts, assignments):
    """(student, assignment, how) for one file's path parts, or (None, None, why not)."""
    name = parts[-1]
    assignment = notebook_of(name, assignments)
    if len(parts) >= 3 and parts[-2] in assignments:
        return parts[-3], parts[-2], "student/assignment/file"
    if len(parts) >= 2:
        if assignment is None and len(assignments) == 1:
            assignment = assignments[0]
        return parts[-2], assignment, "student/file"
    if assignment is None:
        return None, None, "no notebook name in the file name"
    key = ASSIGNMENTS[assignment] if ASSIGNMENTS[assignment].lower() in name.lower() else assignment
    prefix = name[:name.lower().rfind(key.lower())]
    for decoration in ("copy of ", "kopie van ", "copia de "):
        if prefix.lower().endswith(decoration):
            prefix = prefix[:-len(decoration)]
    student = prefix.rstrip(" _-")
    if not student:
        return None, assignment, "no student id before the notebook name"
    return student, assignment, "student_file"


def _pick(found):
    """Newest file of one student/assignment, then by name; logs the ones left out."""
    found.sort(key=lambda f: (f[0].mtime, f[0].parts))
    chosen = found[-1]
    if len(found) > 1:
        others = ", ".join(repr(f[2]) for f in found[:-1])
        chosen[1].append(f"{len(found)} files for this notebook: graded the newest "
                         f"{chosen[2]!r}, left out {others}")
    return chosen


def _collect(files, assignments, origin):
    groups, problems = {}, []
    for f in files:
        if any(part in IGNORED or part.startswith(".") for part in f.parts):
            continue
        if not _looks_like_notebook(f.parts[-1], assignments):
            continue
        student, assignment, how = _identify(f.parts, assignments)
        where = "/".join(f.parts)
        if student is None or assignment is None:
            problems.append(f"{origin}/{where}: skipped, {how if student is None else 'no notebook name in the file name'} "
                            "(name files <student>_<notebook>.ipynb or put them in <student>/ folders)")
            continue
        if assignment not in assignments:
            continue
        log = []
        safe = safe_student_id(student)
        if safe != student:
            log.append(f"student id {student!r} written as {safe!r}")
        saved_as = f.parts[-1][len(student):].lstrip(" _-") if how == "student_file" else f.parts[-1]
        groups.setdefault((safe, assignment), []).append((f, log, saved_as))
    submissions = []
    for (student, assignment), found in sorted(groups.items()):
        f, log, saved_as = _pick(found)
        submissions.append(Submission(student, assignment, saved_as, f.read(),
                                      f"{origin}/{'/'.join(f.parts)}", None, log))
    return submissions, problems


def from_submitted(root, assignments):
    """Submissions in nbgrader's submitted/<student>/<assignment>/ layout under the course root."""
    base = Path(root) / "submitted"
    files = []
    if base.is_dir():
        for path in sorted(base.glob("*/*/*")):
            if path.is_file() and path.parent.name in assignments:
                files.append(_File(path.relative_to(base).parts, (path.stat().st_mtime,), path.read_bytes))
    submissions, problems = _collect(files, assignments, "submitted")
    for sub in submissions:
        stamp = Path(root) / sub.origin
        stamp = stamp.parent / "timestamp.txt"
        if stamp.is_file():
            sub.timestamp = stamp.read_text(encoding="utf-8").strip() or None
    return submissions, problems


def from_path(path, assignments):
    """Submissions in a folder or .zip (see the module docstring for the file-name rules)."""
    path = Path(path)
    if not path.exists():
        raise SystemExit(f"--from {path}: no such file or folder")
    if path.is_dir():
        files = [_File(p.relative_to(path).parts, (p.stat().st_mtime,), p.read_bytes)
                 for p in sorted(path.rglob("*")) if p.is_file()]
        return _collect(files, assignments, str(path))
    if not zipfile.is_zipfile(path):
        raise SystemExit(f"--from {path}: not a folder or a .zip file")
    archive = zipfile.ZipFile(path)
    files = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        parts = tuple(p for p in parts if p not in ("", ".", ".."))
        if parts:
            files.append(_File(parts, info.date_time, lambda info=info: archive.read(info)))
    return _collect(files, assignments, path.name)
