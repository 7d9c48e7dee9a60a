"""grading/identities.csv: the LMS identity each student had in each assignment's download.

    student,assignment,lms,lms_id          e.g.  ada,02_forward,moodle,501

`course grade` records it (one row per student, assignment and LMS; a later download
replaces its rows) and `course export` reads it: Canvas's import matches its user id,
Moodle's worksheet and feedback zip the participant id, which Moodle gives per assignment.
"""
import csv
from pathlib import Path

HEADER = ["student", "assignment", "lms", "lms_id"]


def path_of(root):
    return Path(root) / "grading" / "identities.csv"


def read(root):
    """{(student, assignment, lms): lms_id} ({} when nothing was recorded yet)."""
    path = path_of(root)
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {(r["student"], r["assignment"], r["lms"]): r["lms_id"] for r in csv.DictReader(f)}


def record(root, submissions):
    """Add the LMS identities of these intake Submissions to the file."""
    known = read(root)
    for sub in submissions:
        if sub.person and sub.person.lms_user_id and sub.lms != "plain":
            known[(sub.student, sub.assignment, sub.lms)] = sub.person.lms_user_id
    if not known:
        return
    path = path_of(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(sorted((*key, value) for key, value in known.items()))
