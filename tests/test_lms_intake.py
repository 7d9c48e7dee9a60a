"""Intake of Canvas, Moodle and Blackboard downloads (tests/lms_downloads.py): ids, attempts, lateness,
the roster, and files whose owner is in doubt. Pure logic: nothing is graded here."""
import zipfile

import pytest

from course.grading import intake, report, roster
from lms_downloads import ATTEMPTS, WEEK_LATER, blackboard_zip, canvas_zip, moodle_zip, plain_folder, roster_csv

ASSIGNMENT = ["02_forward"]
CONTENTS = {i: f'{{"attempt": {i}}}'.encode() for i in range(len(WEEK_LATER))}
BUILDERS = {"canvas": canvas_zip, "moodle": moodle_zip, "blackboard": blackboard_zip}


def download(tmp_path, layout, attempts=ATTEMPTS):
    tmp_path.mkdir(exist_ok=True)
    if layout == "plain":
        return plain_folder(tmp_path / "plain", attempts, CONTENTS)
    return BUILDERS[layout](tmp_path / f"{layout}.zip", attempts, CONTENTS)


def by_student(result):
    return {s.student: s for s in result.submissions}


@pytest.mark.parametrize("layout, ids", [
    ("canvas", {"101", "102", "104"}),
    ("moodle", {"501", "502", "504"}),
    ("blackboard", {"ada", "aturing", "cbabbage"}),
])
def test_without_a_roster_the_id_is_the_lms_identity_of_the_person(tmp_path, layout, ids):
    result = intake.from_path(download(tmp_path, layout), ASSIGNMENT)
    assert result.layout == layout
    assert set(by_student(result)) == ids
    assert result.collisions == [] and result.skipped == []
    assert {s.person.lms_user_id for s in result.submissions} == ids


@pytest.mark.parametrize("layout", ["plain", "canvas", "moodle", "blackboard"])
def test_with_a_roster_every_layout_gives_the_roster_ids_names_and_email(tmp_path, layout):
    class_list = roster.read(roster_csv(tmp_path / "roster.csv"))
    result = intake.from_path(download(tmp_path, layout), ASSIGNMENT, class_list)
    outsider = {"plain": "charles", "canvas": "104", "moodle": "504", "blackboard": "cbabbage"}[layout]
    assert set(by_student(result)) == {"ada", "alan", outsider}
    ada = by_student(result)["ada"].person
    assert (ada.first_name, ada.last_name, ada.email) == ("Ada", "Lovelace", "ada@uni.example")
    assert [line.split(":")[1].strip() for line in result.not_in_roster] == ["not on the roster, graded as " + outsider]
    assert [(a, p.id) for a, p in result.missing] == [("02_forward", "grace")]


@pytest.mark.parametrize("layout", ["plain", "canvas", "moodle", "blackboard"])
def test_a_resubmission_is_never_a_second_student_and_the_newest_attempt_is_graded(tmp_path, layout):
    result = intake.from_path(download(tmp_path, layout), ASSIGNMENT)
    ada = [s for s in result.submissions if s.person.first_name in ("", "Ada") and s.data == CONTENTS[1]]
    assert len(ada) == 1 and len(result.submissions) == 3
    assert ada[0].filename == "Copy of forward.ipynb"
    assert ada[0].log[0].startswith("2 files for this notebook: graded ")
    assert "left out 'forward.ipynb'" in ada[0].log[0]


def test_canvas_attempt_order_wins_over_the_file_times(tmp_path):
    """The zip's entry times say the first attempt is newer; Canvas's attachment ids say otherwise."""
    path = canvas_zip(tmp_path / "c.zip", ATTEMPTS[:2], CONTENTS)
    names = zipfile.ZipFile(path).namelist()
    with zipfile.ZipFile(tmp_path / "scrambled.zip", "w") as z:
        for name, when in zip(names, [(2026, 12, 1, 0, 0, 0), (2026, 11, 1, 0, 0, 0)]):
            z.writestr(zipfile.ZipInfo(name, date_time=when), zipfile.ZipFile(path).read(name))
    [ada] = intake.from_path(tmp_path / "scrambled.zip", ASSIGNMENT).submissions
    assert ada.data == CONTENTS[1] and "by the LMS's attempt order" in ada.log[0]


def test_blackboard_attempt_times_in_the_names_decide_not_the_file_times(tmp_path):
    """Every entry of this download has the same time: only the attempt times order them."""
    result = intake.from_path(download(tmp_path, "blackboard"), ASSIGNMENT)
    ada = by_student(result)["ada"]
    assert ada.data == CONTENTS[1] and ada.timestamp == "2026-11-20 12:00:00"
    assert "Blackboard receipt: submitted Friday, November 20, 2026 12:00:00 PM" in ada.log


@pytest.mark.parametrize("layout, alan", [("canvas", "102"), ("moodle", "502"), ("blackboard", "aturing")])
def test_the_submission_time_and_late_marker_reach_the_submission(tmp_path, layout, alan):
    submission = by_student(intake.from_path(download(tmp_path, layout), ASSIGNMENT))[alan]
    assert submission.timestamp == "2026-11-22 09:30:00"
    assert submission.late == (layout == "canvas")
    assert ("Canvas marked this file LATE" in submission.log) == (layout == "canvas")


@pytest.mark.parametrize("layout", ["canvas", "moodle", "blackboard"])
def test_a_download_a_week_later_maps_every_person_to_the_same_id(tmp_path, layout):
    class_list = roster.read(roster_csv(tmp_path / "roster.csv"))
    first = intake.from_path(download(tmp_path / "w1", layout), ASSIGNMENT, class_list)
    later = intake.from_path(download(tmp_path / "w2", layout, WEEK_LATER), ASSIGNMENT, class_list)
    assert set(by_student(first)) == set(by_student(later))
    assert by_student(later)["ada"].data == CONTENTS[4]      # the newest attempt of the second download


def test_canvas_names_a_resubmitted_file_with_the_same_name_minus_one(tmp_path):
    names = zipfile.ZipFile(canvas_zip(tmp_path / "c.zip", WEEK_LATER, CONTENTS)).namelist()
    assert "lovelaceada_LATE_101_7040_Copy of forward-1.ipynb" in names
    assert "turingalan_LATE_102_7030_forward.ipynb" in names


# --- roster formats -----------------------------------------------------------------------------

def test_rosters_from_canvas_moodle_and_nbgrader_give_ids_names_and_email(tmp_path):
    (tmp_path / "canvas.csv").write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Forward (123)\n"
        "    Points Possible,,,,,3\n"
        '"Lovelace, Ada",101,S-1,ada,Section A,\n')
    (tmp_path / "worksheet.csv").write_text(
        "Identifier,Full name,Email address,Status,Grade,Maximum Grade\n"
        "Participant 501,Ada Lovelace,ada@uni.example,Submitted,,3\n")
    (tmp_path / "moodle.csv").write_text(
        "First name,Last name,ID number,Institution,Department,Email address\n"
        "Ada,Lovelace,,Uni,CS,ada@uni.example\n")
    read = {name: list(roster.read(tmp_path / name)) for name in ("canvas.csv", "worksheet.csv", "moodle.csv")}
    assert [(p.id, p.first_name, p.last_name) for p in read["canvas.csv"]] == [("101", "Ada", "Lovelace")]
    assert read["canvas.csv"][0].columns["SIS Login ID"] == "ada"
    assert [(p.id, p.email) for p in read["worksheet.csv"]] == [("501", "ada@uni.example")]
    assert [(p.id, p.full_name) for p in read["moodle.csv"]] == [("ada", "Ada Lovelace")]
    (tmp_path / "grades.csv").write_text("name,score\nada,3\n")
    with pytest.raises(SystemExit, match="not a roster CSV"):
        roster.read(tmp_path / "grades.csv")


def test_a_canvas_roster_matches_canvas_files_by_user_id(tmp_path):
    (tmp_path / "canvas.csv").write_text('Student,ID,SIS User ID,SIS Login ID,Section\n"Lovelace, Ada",101,,,\n')
    result = intake.from_path(download(tmp_path, "canvas"), ASSIGNMENT, roster.read(tmp_path / "canvas.csv"))
    assert "101" in by_student(result) and by_student(result)["101"].person.first_name == "Ada"


# --- files whose owner is in doubt (issue 11) ---------------------------------------------------

def test_a_flat_name_that_could_be_two_students_is_kept_and_graded_for_nobody(tmp_path):
    (tmp_path / "jane_forward.ipynb").write_bytes(b"jane's")
    (tmp_path / "jane_doe_forward.ipynb").write_bytes(b"jane or jane_doe's")
    result = intake.from_path(tmp_path, ASSIGNMENT)
    assert {s.student: s.data for s in result.submissions} == {"jane": b"jane's"}
    [collision] = result.collisions
    assert collision.reason.startswith("jane_doe_forward.ipynb could be the work of jane_doe or jane: not graded")
    assert sorted(data for _, data in collision.files) == [b"jane or jane_doe's", b"jane's"]
    intake.keep(result.collisions, tmp_path / "collisions")
    kept = sorted((tmp_path / "collisions" / "jane_doe" / "02_forward").iterdir())
    assert [p.read_bytes() for p in kept] == [b"jane or jane_doe's", b"jane's"]


def test_two_people_mapping_to_one_id_are_both_kept_and_neither_chosen_by_date(tmp_path):
    for folder, data in (("jo smith", b"one"), ("jo_smith", b"two")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "forward.ipynb").write_bytes(data)
    result = intake.from_path(tmp_path, ASSIGNMENT)
    assert result.submissions == []
    [collision] = result.collisions
    assert collision.student == "jo_smith" and "all map to student id 'jo_smith'" in collision.reason
    assert sorted(data for _, data in collision.files) == [b"one", b"two"]


def test_a_stray_file_cannot_claim_a_canvas_students_id(tmp_path):
    path = canvas_zip(tmp_path / "c.zip", ATTEMPTS, CONTENTS)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("101_forward.ipynb", b"someone else's")
    result = intake.from_path(path, ASSIGNMENT)
    assert "101" not in by_student(result)
    [collision] = result.collisions
    assert collision.reason.startswith("Canvas 101 (lovelaceada) and '101' all map to student id '101'")
    assert b"someone else's" in [data for _, data in collision.files]


def test_two_canvas_users_with_one_roster_name_are_a_collision(tmp_path):
    attempts = ATTEMPTS[:1]
    path = canvas_zip(tmp_path / "c.zip", attempts, CONTENTS)
    with zipfile.ZipFile(path, "a") as z:  # another Ada Lovelace, another Canvas user
        z.writestr("lovelaceada_150_7990_forward.ipynb", b"the other ada")
    result = intake.from_path(path, ASSIGNMENT, roster.read(roster_csv(tmp_path / "r.csv")))
    assert result.submissions == []
    assert [c.student for c in result.collisions] == ["ada"]


def test_a_name_two_roster_rows_share_is_not_settled(tmp_path):
    (tmp_path / "r.csv").write_text("id,first_name,last_name,email\nada1,Ada,Lovelace,a1@x\nada2,Ada,Lovelace,a2@x\n")
    result = intake.from_path(download(tmp_path, "moodle", ATTEMPTS[:2]), ASSIGNMENT, roster.read(tmp_path / "r.csv"))
    assert result.submissions == []
    assert all("could be the work of ada1 or ada2" in c.reason for c in result.collisions)


def test_the_report_lists_late_work_collisions_and_the_roster(tmp_path):
    class_list = roster.read(roster_csv(tmp_path / "roster.csv"))
    result = intake.from_path(download(tmp_path, "canvas"), ASSIGNMENT, class_list)
    result.collisions.append(intake.Collision("ada", "02_forward", "x could be the work of a or b", [("x", b"")]))
    page = report.intake_html(result, [("102", "02_forward", "2026-11-22 09:30:00", "2026-11-21 23:59:00",
                                         9 * 3600 + 31 * 60, 3.0)])
    for text in ("<td>102</td><td>02_forward</td><td>2026-11-22 09:30:00</td>", "<td>9 h 31 min</td><td>3</td>",
                 "x could be the work of a or b", "Canvas 104 (babbagecharles): not on the roster, graded as 104",
                 "02_forward: grace (Grace Hopper)", "Download layout: <b>canvas</b>"):
        assert text in page


def test_late_by_reads_like_a_person_wrote_it():
    assert [report.late_by(s) for s in (42, 90, 3725, 90000)] == ["42 s", "1 min", "1 h 2 min", "1 d 1 h"]


def test_a_folder_a_moodle_student_uploads_cannot_claim_another_participant(tmp_path):
    path = moodle_zip(tmp_path / "m.zip", ATTEMPTS, CONTENTS)
    with zipfile.ZipFile(path, "a") as z:  # charles uploads a folder named like ada's participant folder
        z.writestr("Charles Babbage_504_assignsubmission_file_/Ada Lovelace_501_assignsubmission_file_/forward.ipynb",
                   b"charles, as ada")
    result = intake.from_path(path, ASSIGNMENT)
    assert by_student(result)["501"].data == CONTENTS[1]
    assert b"charles, as ada" not in [s.data for s in result.submissions if s.student != "504"]


def test_canvas_names_inside_nbgraders_submitted_folders_are_the_students_not_canvass(tmp_path):
    folder = tmp_path / "submitted" / "mallory" / "02_forward"
    folder.mkdir(parents=True)
    (folder / "lovelaceada_101_7000_forward.ipynb").write_bytes(b"mallory's")
    [submission] = intake.from_submitted(tmp_path, ASSIGNMENT).submissions
    assert (submission.student, submission.data) == ("mallory", b"mallory's")


def test_the_grade_command_passes_the_roster_on(monkeypatch):
    from course.__main__ import main as cli
    from course.grading import grade
    calls = []
    monkeypatch.setattr(grade, "main", lambda *args, **kwargs: calls.append((args, kwargs)))
    assert cli(["grade", "02_forward", "--from", "canvas.zip", "--roster", "roster.csv", "--no-sandbox"]) == 0
    [(args, kwargs)] = calls
    assert args == (["02_forward"],) and kwargs["from_path"] == "canvas.zip" and kwargs["roster"] == "roster.csv"
