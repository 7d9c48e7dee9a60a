"""One small class handed in through Canvas, Moodle and Blackboard, as their bulk downloads name files.

    attempts = ATTEMPTS                                   # who uploaded what, when
    canvas_zip(tmp / "canvas.zip", attempts, contents)    # contents: {attempt index: bytes}

The class, for the assignment 02_forward (notebook forward.ipynb), due DUE:
  ada      Ada Lovelace, on the roster; hands in twice: forward.ipynb, then "Copy of forward.ipynb"
  alan     Alan Turing, on the roster (e-mail aturing@, his Blackboard user name); hands in late
  charles  Charles Babbage, NOT on the roster; hands in "forward (1).ipynb"
  grace    Grace Hopper, on the roster; hands in nothing

The file names follow each LMS's documented conventions (see course.grading.lms); the
plain layout names the same files <roster id>_<file>.
"""
import csv
import zipfile
from dataclasses import dataclass
from datetime import datetime


@dataclass
class Person:
    roster_id: str
    first: str
    last: str
    email: str
    canvas_id: int
    moodle_id: int
    blackboard_user: str
    on_roster: bool = True


PEOPLE = {
    "ada": Person("ada", "Ada", "Lovelace", "ada@uni.example", 101, 501, "ada"),
    "alan": Person("alan", "Alan", "Turing", "aturing@uni.example", 102, 502, "aturing"),
    "charles": Person("charles", "Charles", "Babbage", "cbabbage@uni.example", 104, 504, "cbabbage",
                      on_roster=False),
    "grace": Person("grace", "Grace", "Hopper", "ghopper@uni.example", 103, 503, "ghopper"),
}
DUE = "2026-11-21 23:59:00"
BLACKBOARD_TITLE = "Forward pass"


@dataclass
class Attempt:
    who: str
    filename: str
    when: datetime


ATTEMPTS = [
    Attempt("ada", "forward.ipynb", datetime(2026, 11, 19, 10, 0, 0)),
    Attempt("ada", "Copy of forward.ipynb", datetime(2026, 11, 20, 12, 0, 0)),   # the resubmission
    Attempt("alan", "forward.ipynb", datetime(2026, 11, 22, 9, 30, 0)),          # 9 h 31 min late
    Attempt("charles", "forward (1).ipynb", datetime(2026, 11, 20, 8, 0, 0)),    # not on the roster
]
# a week later: ada hands in once more, the same file name again (Canvas: "-1")
WEEK_LATER = ATTEMPTS + [Attempt("ada", "Copy of forward.ipynb", datetime(2026, 11, 27, 9, 0, 0))]


def _zip(path, entries):
    """entries: [(name, bytes, datetime)] -> a .zip with those entry times."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data, when in entries:
            archive.writestr(zipfile.ZipInfo(name, date_time=when.timetuple()[:6]), data)
    return path


def canvas_zip(path, attempts, contents, due=DUE):
    """Canvas: <sortablename>[_LATE]_<userid>_<attachmentid>_<file>, resubmitted names get -1, -2."""
    due = datetime.fromisoformat(due)
    entries, seen = [], {}
    for index, attempt in sorted(enumerate(attempts), key=lambda pair: pair[1].when):
        p = PEOPLE[attempt.who]
        name = attempt.filename
        again = seen[(p.canvas_id, name)] = seen.get((p.canvas_id, name), -1) + 1
        if again:
            stem, dot, ext = name.partition(".")
            name = f"{stem}-{again}{dot}{ext}"
        sortable = (p.last + p.first).lower()
        late = "_LATE" if attempt.when > due else ""
        entries.append((f"{sortable}{late}_{p.canvas_id}_{7000 + 10 * len(entries)}_{name}",
                        contents[index], attempt.when))
    return _zip(path, entries)


def moodle_zip(path, attempts, contents):
    """Moodle: <Full Name>_<participantid>_assignsubmission_file_/<file> (a file uploaded again
    under the same name replaces the old one, as Moodle keeps one file per name)."""
    entries = []
    newest = {(a.who, a.filename): i for i, a in sorted(enumerate(attempts), key=lambda pair: pair[1].when)}
    for index, attempt in enumerate(attempts):
        if newest[(attempt.who, attempt.filename)] != index:
            continue
        p = PEOPLE[attempt.who]
        folder = f"{p.first} {p.last}_{p.moodle_id}_assignsubmission_file_"
        entries.append((f"{folder}/{attempt.filename}", contents[index], attempt.when))
    return _zip(path, entries)


def blackboard_zip(path, attempts, contents, downloaded=datetime(2026, 11, 28, 8, 0, 0)):
    """Blackboard: <Assignment>_<username>_attempt_<time>_<file> plus a receipt .txt per attempt.

    Every entry carries the download's time, as a re-zipped download would: only the
    attempt times in the names say which attempt is newer.
    """
    entries = []
    for index, attempt in enumerate(attempts):
        p = PEOPLE[attempt.who]
        prefix = f"{BLACKBOARD_TITLE}_{p.blackboard_user}_attempt_{attempt.when:%Y-%m-%d-%H-%M-%S}"
        receipt = (f"Name: {p.first} {p.last} ({p.blackboard_user})\nAssignment: {BLACKBOARD_TITLE}\n"
                   f"Date Submitted: {attempt.when:%A, %B %d, %Y %I:%M:%S %p}\nCurrent Grade: Needs Grading\n\n"
                   "Submission Field:\nThere is no student submission text data for this assignment.\n\n"
                   f"Files:\n\tOriginal filename: {attempt.filename}\n\tFilename: {prefix}_{attempt.filename}\n")
        entries.append((f"{prefix}.txt", receipt.encode(), downloaded))
        entries.append((f"{prefix}_{attempt.filename}", contents[index], downloaded))
    return _zip(path, entries)


def plain_folder(folder, attempts, contents):
    """The plain rules: <roster id>_<file>, file times in attempt order."""
    import os
    folder.mkdir(parents=True, exist_ok=True)
    for index, attempt in enumerate(attempts):
        target = folder / f"{attempt.who}_{attempt.filename}"
        target.write_bytes(contents[index])
        os.utime(target, (attempt.when.timestamp(), attempt.when.timestamp()))
    return folder


def roster_csv(path):
    """nbgrader's `student import` CSV of the people on the roster."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "first_name", "last_name", "email"])
        for p in PEOPLE.values():
            if p.on_roster:
                writer.writerow([p.roster_id, p.first, p.last, p.email])
    return path
