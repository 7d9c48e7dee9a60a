"""`python -m course export --lms canvas|moodle|csv`: grades (and feedback) in the file an LMS imports.

    python -m course export --lms canvas [--assignment ID ...] [--roster CSV] [--to FOLDER]

Everything is read from the gradebook, so hand-graded written answers (formgrader) count
as soon as they are graded; a score is nbgrader's: autograded and manual points, less the
late penalty. Files go to grading/export/ (or --to):

canvas  canvas.csv: Canvas's gradebook import format: ``Student,ID,SIS User ID,SIS Login ID,
        Section`` and one column per assignment, then a "Points Possible" row. ID is the
        Canvas user id the download gave (course.grading.lms); a Canvas gradebook export
        passed as --roster fills SIS User ID, SIS Login ID and Section.
moodle  per assignment, moodle-<assignment>.csv: the assignment's grading worksheet
        (``Identifier,Full name,Email address,Grade,Maximum Grade,Last modified (grade)``;
        "Participant <id>" is the participant id of that assignment's download), to upload
        with "Upload grading worksheet"; and moodle-<assignment>-feedback.zip: one folder per participant,
        ``<Full Name>_<participantid>_assignfeedback_file_/<notebook>.html``, as Moodle's
        "Upload multiple feedback files in a zip" reads them.
csv     grades.csv: nbgrader's own CSV export (nbgrader.plugins.export.CsvExportPlugin).
"""
import csv
import logging
import re
import zipfile
from datetime import datetime
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.plugins.export import CsvExportPlugin

from . import identities, roster as rosters
from ..layout import ROOT, notebook_path

log = logging.getLogger(__name__)
CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "    Points Possible"


def scores(db_url, assignments=None):
    """(assignments, {student id: {assignment: score}}, {assignment: max score}, {student id: Student dict})."""
    with Gradebook(db_url) as gb:
        chosen = assignments or [a.name for a in gb.assignments]
        table, maxima = {}, {}
        for assignment in chosen:
            maxima[assignment] = gb.find_assignment(assignment).max_score
            for submission in gb.assignment_submissions(assignment):
                points = submission.score - (submission.late_submission_penalty or 0.0)
                table.setdefault(submission.student_id, {})[assignment] = round(max(0.0, points), 4)
        people = {s.id: s.to_dict() for s in gb.students}
    return chosen, table, maxima, people


def canvas(db_url, target, assignments=None, roster=None, known=None):
    """Write Canvas's gradebook import CSV to target; returns the rows written (after the header)."""
    chosen, table, maxima, people = scores(db_url, assignments)
    columns = {p.id: p.columns for p in roster} if roster else {}
    rows = [[POINTS_POSSIBLE, "", "", "", ""] + [f"{maxima[a]:g}" for a in chosen]]
    missing = []
    for student in sorted(table):
        person, extra = people[student], columns.get(student, {})
        canvas_id = _lms_id(known, student, "canvas") or extra.get("ID", "")
        if not canvas_id:
            missing.append(student)
        name = ", ".join(p for p in (person["last_name"], person["first_name"]) if p) or student
        rows.append([name, canvas_id, extra.get("SIS User ID", ""), extra.get("SIS Login ID", ""),
                     extra.get("Section", "")] + [_number(table[student].get(a)) for a in chosen])
    _write_csv(target, CANVAS_IDENTITY + chosen, rows)
    if missing:
        log.warning("no Canvas user id for %s (not graded from a Canvas download): Canvas will not match them",
                    ", ".join(missing))
    return rows


def moodle(db_url, target, assignment, known=None, exported_at=None):
    """Write the Moodle grading worksheet of one assignment to target; returns its rows.

    Moodle's worksheet upload needs "Last modified (grade)" and keeps any grade changed in
    Moodle after it: it is the export's time (local, YYYY-MM-DD HH:MM:SS).
    """
    exported_at = exported_at or datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    _, table, maxima, people = scores(db_url, [assignment])
    rows, missing = [], []
    for student in sorted(table):
        participant = _lms_id(known, student, "moodle", assignment)
        if not participant:
            missing.append(student)
            continue
        person = people[student]
        name = " ".join(p for p in (person["first_name"], person["last_name"]) if p) or student
        rows.append([f"Participant {participant}", name, person["email"] or "",
                     _number(table[student][assignment]), f"{maxima[assignment]:g}", exported_at])
    _write_csv(target, ["Identifier", "Full name", "Email address", "Grade", "Maximum Grade",
                        "Last modified (grade)"], rows)
    if missing:
        log.warning("%s: no Moodle participant id for %s (not graded from a Moodle download of it): left out",
                    assignment, ", ".join(missing))
    return rows


def moodle_feedback(target, assignment, root, db_url, known=None):
    """Zip feedback/<student>/<assignment>/*.html as Moodle's feedback upload expects; returns the names."""
    _, table, _, people = scores(db_url, [assignment])
    names = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for student in sorted(table):
            participant = _lms_id(known, student, "moodle", assignment)
            html = Path(root) / "feedback" / student / assignment / f"{notebook_path('source', assignment).stem}.html"
            if not participant or not html.is_file():
                continue
            person = people[student]
            # Moodle splits the path on "_": the name may hold none
            full = " ".join(p for p in (person["first_name"], person["last_name"]) if p) or "Participant"
            folder = f"{re.sub(r'[_/]+', ' ', full)}_{participant}_assignfeedback_file_"
            names.append(f"{folder}/{html.name}")
            archive.write(html, names[-1])
    return names


def nbgrader_csv(db_url, target, assignments=None):
    """nbgrader's own CSV export (what `nbgrader export` writes)."""
    with Gradebook(db_url) as gb:
        CsvExportPlugin(to=str(target), assignment=list(assignments or [])).export(gb)


def main(lms, assignments=None, root=ROOT, to=None, roster=None, db_url=None, out=print):
    """Write the export files for one LMS; returns their paths."""
    from .grade import course_settings
    root = Path(root)
    db_url = db_url or course_settings(root)[0]
    folder = Path(to) if to else root / "grading" / "export"
    folder.mkdir(parents=True, exist_ok=True)
    known = identities.read(root)
    class_list = rosters.read(roster) if roster else None
    written = []
    if lms == "canvas":
        canvas(db_url, folder / "canvas.csv", assignments, class_list, known)
        written.append(folder / "canvas.csv")
    elif lms == "moodle":
        for assignment in scores(db_url, assignments)[0]:
            moodle(db_url, folder / f"moodle-{assignment}.csv", assignment, known)
            moodle_feedback(folder / f"moodle-{assignment}-feedback.zip", assignment, root, db_url, known)
            written += [folder / f"moodle-{assignment}.csv", folder / f"moodle-{assignment}-feedback.zip"]
    elif lms == "csv":
        nbgrader_csv(db_url, folder / "grades.csv", assignments)
        written.append(folder / "grades.csv")
    else:
        raise SystemExit(f"--lms {lms}: choose canvas, moodle or csv")
    for path in written:
        out(f"wrote {path}")
    return written


def _lms_id(known, student, lms, assignment=None):
    """The LMS identity intake recorded for the student (for Moodle: of that assignment's download)."""
    for (who, which, system), value in (known or {}).items():
        if who == student and system == lms and (assignment is None or which == assignment):
            return value
    return ""


def _number(value):
    return "" if value is None else f"{value:g}"


def _write_csv(target, header, rows):
    with open(target, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
