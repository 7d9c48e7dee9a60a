"""Intake: find each student's submitted notebook for the assignments being graded.

Submissions come from one of two places; the originals are only ever read.

1. nbgrader's layout in the course root: ``submitted/<student>/<assignment>/<file>``.
2. ``--from PATH``, a folder or a .zip downloaded from an LMS. A Canvas, Moodle or
   Blackboard bulk download is recognised by its file names (course.grading.lms): the
   student id is then the LMS's stable identity of the person (Canvas user id, Moodle
   participant id, Blackboard user name), the newest attempt is graded (the LMS's attempt
   order, never the file's time on disk), and the submission time and LATE marker go to
   nbgrader. Any other file is one student's notebook named by these plain rules (checked
   in this order):

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

With a roster (course.grading.roster) every person gets the roster's id, names and
e-mail; people missing from the roster and roster students without a submission are
listed for the report.

No file name can claim another student's work: a file that could be two students'
(``jane_doe_forward.ipynb`` when both ``jane`` and ``jane_doe`` exist, a name two roster
rows share) or an id that two different people map to is a Collision: reported, its files
kept for the instructor (``keep``), and never settled by date.
"""
import logging
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..layout import ASSIGNMENTS
from . import lms
from .roster import Person, safe_student_id

NOTEBOOK_SUFFIXES = (".ipynb", ".json")
IGNORED = ("__MACOSX", ".ipynb_checkpoints", ".DS_Store", "timestamp.txt")
DECORATIONS = ("copy of ", "kopie van ", "copia de ")
log = logging.getLogger(__name__)


@dataclass
class Submission:
    """One student's file for one assignment, as found (bytes read, nothing changed)."""
    student: str
    assignment: str
    filename: str                       # the name the student gave it
    data: bytes
    origin: str                         # where it came from, for the report
    timestamp: str | None = None        # nbgrader's timestamp: timestamp.txt or the LMS's submission time
    log: list = field(default_factory=list)
    person: Person | None = None        # names, e-mail and LMS identity for the gradebook
    late: bool = False                  # the LMS marked it late
    lms: str = "plain"                  # the layout that named the file


@dataclass
class Collision:
    """Files intake refuses to assign: kept for the instructor, graded for nobody."""
    student: str                        # the id they were claiming
    assignment: str
    reason: str
    files: list                         # [(origin, bytes)]


@dataclass
class Intake:
    """Everything intake found in one place."""
    submissions: list
    skipped: list                       # one line per file not graded
    collisions: list = field(default_factory=list)
    layout: str = "plain"
    not_in_roster: list = field(default_factory=list)   # lines: who is graded but not on the roster
    missing: list = field(default_factory=list)         # (assignment, Person) on the roster, no submission


@dataclass
class _File:
    parts: tuple        # path parts relative to the intake root
    mtime: tuple        # a POSIX time (1-tuple) or a zip's date_time
    read: object        # () -> bytes


@dataclass
class _Found:
    file: _File
    claim: lms.Claim
    assignment: str
    how: str                            # which rule read it
    student: str = ""
    person: Person | None = None
    candidates: list = field(default_factory=list)


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
    prefix = name[:_notebook_at(name, assignment)]
    for decoration in DECORATIONS:
        if prefix.lower().endswith(decoration):
            prefix = prefix[:-len(decoration)]
    student = prefix.rstrip(" _-")
    if not student:
        return None, assignment, "no student id before the notebook name"
    return student, assignment, "student_file"


def _notebook_at(name, assignment):
    key = ASSIGNMENTS[assignment] if ASSIGNMENTS[assignment].lower() in name.lower() else assignment
    return name.lower().rfind(key.lower())


def _claim(f, layout, receipts, assignments):
    """(_Found or None, problem or None) for one notebook file."""
    where = "/".join(f.parts)
    claim = lms.read(layout, f.parts, f.mtime, receipts) if layout else None
    if claim:
        assignment = notebook_of(claim.filename, assignments) or notebook_of(claim.title, assignments)
        if assignment is None and len(assignments) == 1:
            assignment = assignments[0]
        if assignment is None:
            return None, f"{where}: skipped, no notebook name in the file name {claim.filename!r}"
        return _Found(f, claim, assignment, layout), None
    student, assignment, how = _identify(f.parts, assignments)
    if student is None or assignment is None:
        why = how if student is None else "no notebook name in the file name"
        return None, (f"{where}: skipped, {why} "
                      "(name files <student>_<notebook>.ipynb or put them in <student>/ folders)")
    saved_as = f.parts[-1][len(student):].lstrip(" _-") if how == "student_file" else f.parts[-1]
    claim = lms.Claim("plain", student, student, saved_as, f.mtime)
    if layout:
        claim.log.append(f"not named as {layout.capitalize()} names files: read by the plain rules ({how})")
    return _Found(f, claim, assignment, how), None


def _resolve(found, roster, not_in_roster):
    """Give one file its student id and Person (roster first); ambiguous matches keep their candidates."""
    claim = found.claim
    own = safe_student_id(claim.key)
    if own != claim.key and claim.lms == "plain":
        claim.log.append(f"student id {claim.key!r} written as {own!r}")
    first, _, last = (claim.name.partition(" ") if claim.lms in ("moodle", "blackboard") and claim.name != claim.key
                      else ("", "", ""))
    lms_id = claim.key if claim.lms != "plain" else ""
    found.student, found.person = own, Person(own, first, last, lms_user_id=lms_id)
    if roster is None:
        return
    matches = roster.match(claim)
    if len(matches) == 1:
        match = matches[0]
        found.student = match.id
        found.person = Person(match.id, match.first_name, match.last_name, match.email,
                              lms_id or match.lms_user_id, match.keys, match.columns)
        if claim.lms != "plain":
            claim.log.append(f"{claim.lms} {claim.key} ({claim.name}) is {match.id} on the roster")
    elif matches:
        found.candidates = [m.id for m in matches]
    else:
        line = f"{_who(claim)}: not on the roster, graded as {own}"
        if line not in not_in_roster:
            not_in_roster.append(line)


def _who(claim):
    if claim.lms == "plain":
        return repr(claim.key)
    return f"{claim.lms.capitalize()} {claim.key} ({claim.name})"


def _flat_candidates(found, ids):
    """Other ids that a flat <student>_<file> name could also belong to (jane_doe_forward: jane)."""
    if found.how != "student_file":
        return []
    name = found.file.parts[-1]
    others = []
    for other in ids:
        if other == found.student or len(other) >= len(name):
            continue
        rest = name[len(other):]
        if name.startswith(other) and rest[:1] in "_ -" and notebook_of(rest, [found.assignment]):
            others.append(other)
    return sorted(others)


def _collect(files, assignments, origin, roster=None, lms_layouts=True):
    """Intake of one download or submitted/ folder (files: [_File]); lms_layouts=False: plain rules only."""
    files = [f for f in files if not any(part in IGNORED or part.startswith(".") for part in f.parts)]
    receipts = lms.receipts([(f.parts, f.read) for f in files])
    notebooks = [f for f in files if _looks_like_notebook(f.parts[-1], assignments)
                 and not (len(f.parts) == 1 and f.parts[0][:-4] in receipts)]
    layout = lms.detect([(f.parts, f.mtime) for f in notebooks], receipts) if lms_layouts else None
    result = Intake([], [], layout=layout or "plain")
    log.info("%s: %d notebook files, named as %s", origin, len(notebooks), result.layout)
    everything = []
    for f in notebooks:
        found, problem = _claim(f, layout, receipts, assignments)
        if problem:
            result.skipped.append(f"{origin}/{problem}")
        elif found.assignment in assignments:
            _resolve(found, roster, result.not_in_roster)
            everything.append(found)

    ids = {f.student for f in everything} | {p.id for p in (roster or [])}
    groups, aside = {}, []
    for found in everything:
        candidates = found.candidates or ([found.student] + _flat_candidates(found, ids))
        if len(candidates) > 1:
            aside.append((found, candidates))
        else:
            groups.setdefault((found.student, found.assignment), []).append(found)
    for found, candidates in aside:
        kept = [found] + [g for c in candidates for g in groups.get((c, found.assignment), [])]
        result.collisions.append(Collision(
            found.student, found.assignment,
            f"{'/'.join(found.file.parts)} could be the work of {' or '.join(candidates)}: not graded "
            "(rename it <student>/<file> or grade it by hand)",
            [(f"{origin}/{'/'.join(k.file.parts)}", k.file.read()) for k in kept]))

    for (student, assignment), group in sorted(groups.items()):
        people = sorted({(g.claim.lms, g.claim.key.casefold()) for g in group})
        if len(people) > 1:
            names = " and ".join(_who(g.claim) for g in {(g.claim.lms, g.claim.key.casefold()): g
                                                       for g in group}.values())
            result.collisions.append(Collision(
                student, assignment, f"{names} all map to student id {student!r}: none graded, "
                "both kept (fix the names or the roster and grade again)",
                [(f"{origin}/{'/'.join(g.file.parts)}", g.file.read()) for g in group]))
            continue
        chosen, log_lines = _pick(group)
        result.submissions.append(Submission(
            student, assignment, chosen.claim.filename, chosen.file.read(), f"{origin}/{'/'.join(chosen.file.parts)}",
            chosen.claim.timestamp, log_lines, chosen.person, chosen.claim.late, chosen.claim.lms))

    for collision in result.collisions:
        log.warning("%s/%s not graded: %s", collision.student, collision.assignment, collision.reason)
    if roster is not None:
        graded = {(s.student, s.assignment) for s in result.submissions}
        graded |= {(c.student, c.assignment) for c in result.collisions}
        for assignment in sorted({s.assignment for s in result.submissions}):
            result.missing += [(assignment, p) for p in roster if (p.id, assignment) not in graded]
    return result


def _pick(group):
    """The newest file of one person and notebook (LMS attempt order, else file time); the log."""
    group.sort(key=lambda g: (g.claim.order or g.file.mtime, g.file.parts))
    chosen = group[-1]
    lines = list(chosen.claim.log)
    if len(group) > 1:
        others = ", ".join(repr(g.claim.filename) for g in group[:-1])
        order = "by the LMS's attempt order" if chosen.claim.lms != "plain" else "the newest"
        lines.insert(0, f"{len(group)} files for this notebook: graded {order} "
                        f"{chosen.claim.filename!r}, left out {others}")
    return chosen, lines


def keep(collisions, folder):
    """Copy every collision's files into folder/<student>/<assignment>/ (replaced each run)."""
    shutil.rmtree(folder, ignore_errors=True)
    for collision in collisions:
        target = Path(folder) / collision.student / collision.assignment
        target.mkdir(parents=True, exist_ok=True)
        for index, (origin, data) in enumerate(collision.files, 1):
            (target / f"{index}-{safe_student_id(PurePosixPath(origin).name)}").write_bytes(data)


def from_submitted(root, assignments, roster=None):
    """Intake of nbgrader's submitted/<student>/<assignment>/ layout under the course root."""
    base = Path(root) / "submitted"
    files = []
    if base.is_dir():
        for path in sorted(base.glob("*/*/*")):
            if path.is_file() and path.parent.name in assignments:
                files.append(_File(path.relative_to(base).parts, (path.stat().st_mtime,), path.read_bytes))
    result = _collect(files, assignments, "submitted", roster, lms_layouts=False)
    for sub in result.submissions:
        stamp = Path(root) / sub.origin
        stamp = stamp.parent / "timestamp.txt"
        if stamp.is_file():
            sub.timestamp = stamp.read_text(encoding="utf-8").strip() or None
    return result


def from_path(path, assignments, roster=None):
    """Intake of a folder or .zip (see the module docstring for the file-name rules)."""
    path = Path(path)
    if not path.exists():
        raise SystemExit(f"--from {path}: no such file or folder")
    if path.is_dir():
        files = [_File(p.relative_to(path).parts, (p.stat().st_mtime,), p.read_bytes)
                 for p in sorted(path.rglob("*")) if p.is_file()]
        return _collect(files, assignments, str(path), roster)
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
    return _collect(files, assignments, path.name, roster)
