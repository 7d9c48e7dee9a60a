"""`course export`: every file parses back to the right student and score (a gradebook filled with
nbgrader's own API; no kernels)."""
import csv
import re
import shutil
import zipfile

import pytest
from nbgrader.api import Gradebook

from course.__main__ import main as cli
from course.grading import export, grade, identities
from course.grading.intake import Submission
from course.grading.roster import Person
from course.layout import tool_env

ASSIGNMENT = "02_forward"


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    """A course root with a graded 02_forward: code points (2) autograded, a written answer (1) by hand.

    ada (Canvas 101 / Moodle 501): 2 + 1 by hand; alan (Canvas 102 / Moodle 502): 2, late, penalty 1;
    charles (plain layout, no LMS identity): 1.
    """
    tmp_path = tmp_path_factory.mktemp("graded")
    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    (tmp_path / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.db_url = {db_url!r}\n")
    with grade.environment(tool_env()), Gradebook(db_url) as gb:     # a new gradebook runs `alembic`
        gb.add_assignment(ASSIGNMENT, duedate="2026-11-21 23:59:00")
        gb.add_notebook("forward", ASSIGNMENT)
        gb.add_grade_cell("test_linear", "forward", ASSIGNMENT, max_score=2, cell_type="code")
        gb.add_grade_cell("question_hand_tuned", "forward", ASSIGNMENT, max_score=1, cell_type="markdown")
        for student, first, last, email, code, manual, penalty in [
                ("ada", "Ada", "Lovelace", "ada@uni.example", 2, 1, 0),
                ("alan", "Alan", "Turing", "aturing@uni.example", 2, None, 1),
                ("charles", "", "", "", 1, None, 0)]:
            gb.add_student(student, first_name=first, last_name=last, email=email)
            gb.add_submission(ASSIGNMENT, student)
            gb.find_grade("test_linear", "forward", ASSIGNMENT, student).auto_score = code
            gb.find_grade("question_hand_tuned", "forward", ASSIGNMENT, student).manual_score = manual
            gb.find_submission_notebook("forward", ASSIGNMENT, student).late_submission_penalty = penalty
        gb.db.commit()
    for student, lms, lms_id in [("ada", "canvas", "101"), ("alan", "canvas", "102"),
                                 ("ada", "moodle", "501"), ("alan", "moodle", "502")]:
        identities.record(tmp_path, [Submission(student, ASSIGNMENT, "forward.ipynb", b"", "", person=Person(
            student, lms_user_id=lms_id), lms=lms)])
    for student in ("ada", "alan", "charles"):
        page = tmp_path / "feedback" / student / ASSIGNMENT / "forward.html"
        page.parent.mkdir(parents=True)
        page.write_text(f"<html>feedback for {student}</html>")
    return tmp_path


@pytest.fixture
def course(graded_course, tmp_path):
    """A copy of the graded course for one test (its nbgrader_config.py names its own gradebook)."""
    root = tmp_path / "course"
    shutil.copytree(graded_course, root)
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///{root / 'gradebook.db'}'\n")
    return root


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def export_all(root):
    for lms in ("canvas", "moodle", "csv"):
        export.main(lms, root=root, out=lambda line: None)
    folder = root / "grading" / "export"
    return {
        "canvas": {r["ID"] or r["Student"]: r[ASSIGNMENT] for r in read_csv(folder / "canvas.csv")},
        "moodle": {r["Identifier"]: r["Grade"] for r in read_csv(folder / f"moodle-{ASSIGNMENT}.csv")},
        "csv": {r["student_id"]: float(r["score"]) for r in read_csv(folder / "grades.csv")},
    }


def test_canvas_csv_has_the_identity_columns_points_possible_and_one_column_per_assignment(course):
    export.main("canvas", root=course, out=lambda line: None)
    with open(course / "grading" / "export" / "canvas.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT]
    assert rows[1] == ["    Points Possible", "", "", "", "", "3"]
    assert rows[2:] == [["Lovelace, Ada", "101", "", "", "", "3"],      # 2 autograded + 1 by hand
                        ["Turing, Alan", "102", "", "", "", "1"],       # 2 less the late penalty
                        ["charles", "", "", "", "", "1"]]              # no Canvas id: Canvas cannot match him


def test_a_canvas_roster_fills_the_sis_columns_and_section(course, tmp_path):
    roster = tmp_path / "canvas-roster.csv"
    roster.write_text('Student,ID,SIS User ID,SIS Login ID,Section\n"Lovelace, Ada",ada,S-1,alove,Section A\n')
    export.main("canvas", root=course, roster=roster, out=lambda line: None)
    ada = read_csv(course / "grading" / "export" / "canvas.csv")[1]
    assert (ada["Student"], ada["SIS User ID"], ada["SIS Login ID"], ada["Section"]) == \
        ("Lovelace, Ada", "S-1", "alove", "Section A")


def test_moodle_worksheet_is_matched_by_the_participant_id_of_the_download(course):
    export.main("moodle", root=course, out=lambda line: None)
    rows = read_csv(course / "grading" / "export" / f"moodle-{ASSIGNMENT}.csv")
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r["Last modified (grade)"]) for r in rows)
    assert [(r["Identifier"], r["Full name"], r["Email address"], r["Grade"], r["Maximum Grade"]) for r in rows] == [
        ("Participant 501", "Ada Lovelace", "ada@uni.example", "3", "3"),
        ("Participant 502", "Alan Turing", "aturing@uni.example", "1", "3")]


def test_moodle_feedback_zip_has_one_folder_per_participant_as_moodle_reads_it(course):
    export.main("moodle", root=course, out=lambda line: None)
    archive = zipfile.ZipFile(course / "grading" / "export" / f"moodle-{ASSIGNMENT}-feedback.zip")
    found = {}
    for name in archive.namelist():
        # Moodle's feedback import splits "/<path>/<file>" on "_" into 5: name, participant id, plugin
        # type, plugin, file name
        _, participant, plugin_type, plugin, filename = ("/" + name).split("_", 4)
        assert (plugin_type, plugin, filename) == ("assignfeedback", "file", "/forward.html")
        found[participant] = archive.read(name).decode()
    assert found == {"501": "<html>feedback for ada</html>", "502": "<html>feedback for alan</html>"}
    assert archive.namelist()[0] == "Ada Lovelace_501_assignfeedback_file_/forward.html"


def test_nbgrader_csv_is_nbgraders_own_export(course):
    export.main("csv", root=course, out=lambda line: None)
    rows = read_csv(course / "grading" / "export" / "grades.csv")
    assert {r["student_id"]: (float(r["raw_score"]), float(r["late_submission_penalty"]), float(r["score"]))
            for r in rows} == {"ada": (3.0, 0.0, 3.0), "alan": (2.0, 1.0, 1.0), "charles": (1.0, 0.0, 1.0)}


def test_a_written_answer_graded_by_hand_counts_in_every_export(course):
    before = export_all(course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:  # what formgrader does when alan's answer is graded
        gb.find_grade("question_hand_tuned", "forward", ASSIGNMENT, "alan").manual_score = 1
        gb.db.commit()
    after = export_all(course)
    assert (before["canvas"]["102"], before["moodle"]["Participant 502"], before["csv"]["alan"]) == ("1", "1", 1.0)
    assert (after["canvas"]["102"], after["moodle"]["Participant 502"], after["csv"]["alan"]) == ("2", "2", 2.0)
    assert after["canvas"]["101"] == before["canvas"]["101"] == "3"


def test_the_command_line_writes_the_export(course):
    assert cli(["export", "--lms", "canvas", "--assignment", ASSIGNMENT, "--root", str(course),
                "--to", str(course / "out")]) == 0
    assert read_csv(course / "out" / "canvas.csv")[1]["ID"] == "101"
