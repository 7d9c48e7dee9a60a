"""The bulk-download layouts of Canvas, Moodle and Blackboard: who handed in a file, and when.

Each reader looks at one file's path inside the download (its parts, as a tuple) and
returns a Claim, or None when the file is not named the way that LMS names files:

Canvas      ``<sortablename>[_LATE]_<userid>_<attachmentid>_<uploaded file name>``, flat;
            the sortable name is lower-case letters and digits (``lovelaceada``), a
            resubmitted file gets ``-1``, ``-2`` before its extension (``forward-1.ipynb``).
            Identity: the user id. Attempt order: attachment id (Canvas numbers uploads in
            order), then the resubmission number. Time: the file's time in the download.
Moodle      a folder per participant, ``<Full Name>_<participantid>_assignsubmission_file_``,
            holding the files as uploaded (or, flat, that prefix glued to the file name).
            Identity: the participant id. Order and time: the file's time in the download.
Blackboard  ``<Assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file>``, flat, and a
            receipt ``<Assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>.txt`` per attempt
            (``Name: Ada Lovelace (ada)``, ``Date Submitted: ...``). Identity: the user name
            (the receipt's, when a user name has an underscore). Order and time: the attempt time.

Times are naive ``YYYY-MM-DD HH:MM:SS`` strings, in the LMS's own time zone (set the due
date in the same zone); nbgrader reads them from the submission's timestamp.txt.
"""
import re
from dataclasses import dataclass, field
from datetime import datetime

LAYOUTS = ("canvas", "moodle", "blackboard")

CANVAS = re.compile(r"^(?P<name>[a-z0-9]+?)(?P<late>_late)?_(?P<user>\d+)_(?P<attachment>\d+)_(?P<file>.+)$",
                    re.IGNORECASE)
CANVAS_RESUBMISSION = re.compile(r"-(?P<n>\d+)(?=\.[^.]+(\.json)?$)")
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.*)$")
BLACKBOARD = re.compile(r"^(?P<title>.+)_attempt_(?P<time>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)(?:_(?P<file>.+))?$")
RECEIPT_NAME = re.compile(r"^\s*Name:\s*(?P<name>.*?)\s*\((?P<user>[^()]+)\)\s*$", re.MULTILINE)
RECEIPT_DATE = re.compile(r"^\s*Date Submitted:\s*(?P<date>.+?)\s*$", re.MULTILINE)


@dataclass
class Claim:
    """What a file's name says: whose it is, what they called it, which attempt it is."""
    lms: str                    # "canvas", "moodle", "blackboard" or "plain"
    key: str                    # the LMS's stable identity of the person (user id, participant id, user name)
    name: str                   # the person's name as the LMS wrote it ("lovelaceada", "Ada Lovelace")
    filename: str               # the file as the student uploaded it
    order: tuple = ()           # larger is newer (attempt order within one person's files)
    timestamp: str | None = None
    late: bool = False          # the LMS itself marked the file late
    title: str = ""             # Blackboard's assignment title (helps find the notebook)
    log: list = field(default_factory=list)


def canvas(parts, mtime):
    """A Canvas file name, or None."""
    if len(parts) != 1:
        return None
    match = CANVAS.match(parts[0])
    if not match:
        return None
    uploaded = match["file"]
    resubmission = CANVAS_RESUBMISSION.search(uploaded)
    number = int(resubmission["n"]) if resubmission else 0
    claim = Claim("canvas", match["user"], match["name"].lower(), uploaded,
                  (int(match["attachment"]), number), _time(mtime), bool(match["late"]))
    if claim.late:
        claim.log.append("Canvas marked this file LATE")
    return claim


def moodle(parts, mtime):
    """A Moodle file (in a participant folder, or flat with the folder's prefix), or None.

    Only the download's top level is Moodle's: below a participant folder every name is the
    student's (a folder they uploaded named like another participant's claims nothing).
    """
    match = MOODLE.match(parts[0])
    if len(parts) >= 2 and match and not match["file"]:
        return Claim("moodle", match["id"], match["name"], parts[-1], (mtime, parts[-1]), _time(mtime))
    if len(parts) == 1 and match and match["file"]:
        return Claim("moodle", match["id"], match["name"], match["file"], (mtime, parts[-1]), _time(mtime))
    return None


def blackboard(parts, receipts):
    """A Blackboard attempt file, or None. receipts: {attempt prefix: receipt text} (see receipts)."""
    if len(parts) != 1 or parts[0].lower().endswith(".txt"):
        return None
    match = BLACKBOARD.match(parts[0])
    if not match or not match["file"]:
        return None
    prefix = parts[0][:match.start("file") - 1]
    receipt = receipts.get(prefix, "")
    named = RECEIPT_NAME.search(receipt)
    title_user = match["title"]
    if named and title_user.endswith("_" + named["user"]):
        user, name = named["user"], named["name"]
    else:  # no receipt: the user name is what follows the assignment title's last underscore
        title_user_parts = title_user.rsplit("_", 1)
        if len(title_user_parts) != 2:
            return None
        user, name = title_user_parts[1], title_user_parts[1]
    stamp = datetime.strptime(match["time"], "%Y-%m-%d-%H-%M-%S")
    claim = Claim("blackboard", user, name, match["file"], (stamp,), stamp.strftime("%Y-%m-%d %H:%M:%S"),
                  title=title_user[:-len(user) - 1])
    dated = RECEIPT_DATE.search(receipt)
    if dated:
        claim.log.append(f"Blackboard receipt: submitted {dated['date']}")
    return claim


def receipts(files):
    """{attempt prefix: text} of the Blackboard receipts among (parts, read) pairs."""
    found = {}
    for parts, read in files:
        if len(parts) == 1 and parts[0].lower().endswith(".txt"):
            match = BLACKBOARD.match(parts[0][:-4])
            if match and not match["file"]:
                found[parts[0][:-4]] = read().decode("utf-8", errors="replace")
    return found


def detect(files, receipt_texts):
    """The layout most of the files follow ("canvas", "moodle", "blackboard"), or None (plain rules).

    files: [(parts, mtime)] of the notebook files of one download.
    """
    counts = {lms: 0 for lms in LAYOUTS}
    for parts, mtime in files:
        for lms in LAYOUTS:
            if read(lms, parts, mtime, receipt_texts):
                counts[lms] += 1
    best = max(LAYOUTS, key=lambda lms: counts[lms])
    return best if counts[best] else None


def read(lms, parts, mtime, receipt_texts):
    """The Claim one layout's reader makes of a file, or None."""
    if lms == "canvas":
        return canvas(parts, mtime)
    if lms == "moodle":
        return moodle(parts, mtime)
    return blackboard(parts, receipt_texts)


def _time(mtime):
    """A download's file time (a zip's (Y, M, D, h, m, s) or a POSIX time) as nbgrader's timestamp."""
    if isinstance(mtime, tuple) and len(mtime) == 6:
        return datetime(*mtime).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(mtime, tuple) and len(mtime) == 1:
        return datetime.fromtimestamp(mtime[0]).strftime("%Y-%m-%d %H:%M:%S")
    return None
