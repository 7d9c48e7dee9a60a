"""The class list: ``course grade --roster FILE`` gives every person the roster's id and name.

Read from a CSV (the format is told by its header row):

nbgrader            ``id,first_name,last_name,email`` (what ``nbgrader db student import`` reads)
Canvas gradebook    ``Student,ID,SIS User ID,SIS Login ID,Section,...`` ("Lovelace, Ada"; the
                    "Points Possible" row is skipped). id: the Canvas user id (``ID``).
Moodle worksheet    ``Identifier,Full name,Email address,...`` (the assignment's grading
                    worksheet; "Participant 501"). id: the participant id.
Moodle gradebook    ``First name,Last name,ID number,...,Email address`` (the course's grade
                    export). id: the ID number, else the e-mail's user name.

A file's claim (course.grading.lms.Claim) is matched to a row first by identity (the
LMS's user id, participant id or user name equal to one of the row's ids, logins or
e-mail user name), then by name (Canvas's sortable name, or the full name); more than
one row is an ambiguous match, which intake reports instead of choosing.
"""
import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook

SAFE_ID = re.compile(r"[^A-Za-z0-9_.@+-]+")


def safe_student_id(raw):
    """A student id nbgrader can use as a folder name (spaces and odd characters become '_')."""
    return SAFE_ID.sub("_", raw.strip()).strip("_") or "unknown"


@dataclass
class Person:
    """One student as the gradebook should know them."""
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""
    keys: set = field(default_factory=set)      # identities that name this person (casefolded)
    columns: dict = field(default_factory=dict)  # the roster row as read (Canvas SIS ids, Section, ...)

    @property
    def full_name(self):
        return " ".join(part for part in (self.first_name, self.last_name) if part)


def full_form(name):
    """'  Ada   LOVELACE ' -> 'ada lovelace'."""
    return " ".join(name.casefold().split())


def sortable_form(last, first):
    """Canvas's file-name form of a name: ('Lovelace', 'Ada') -> 'lovelaceada'."""
    return re.sub(r"[^0-9a-z]", "", (last + first).casefold())


class Roster:
    """The people of one roster file, and the matching of a file's claim to them."""

    def __init__(self, people, source="roster"):
        self.people = people
        self.source = source

    def __iter__(self):
        return iter(self.people)

    def match(self, claim):
        """The roster people a claim may be: by identity first, then by name (a list; [] = not here)."""
        key = claim.key.casefold()
        found = [p for p in self.people if key in p.keys or key == p.id.casefold()]
        if found or claim.lms == "plain":
            return found
        if claim.lms == "canvas":
            return [p for p in self.people if sortable_form(p.last_name, p.first_name) == claim.name]
        wanted = full_form(claim.name)
        return [p for p in self.people if full_form(p.full_name) == wanted
                or full_form(f"{p.last_name} {p.first_name}") == wanted]


def read(path):
    """A Roster from a CSV file (see the module docstring for the formats)."""
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"--roster {path}: no such file")
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    header = {h.strip().casefold(): h for h in (rows[0].keys() if rows else [])}
    for kind, needed in (("canvas", ("student", "id")), ("moodle worksheet", ("identifier", "full name")),
                         ("moodle gradebook", ("first name", "last name")),
                         ("nbgrader", ("id",))):
        if all(n in header for n in needed):
            break
    else:
        raise SystemExit(f"--roster {path}: not a roster CSV; expected nbgrader's id,first_name,last_name,email, "
                         "a Canvas or Moodle gradebook export, or a Moodle grading worksheet")
    people = []
    for row in rows:
        cell = {k.strip().casefold(): (v or "").strip() for k, v in row.items() if k}
        person = _person(kind, cell)
        if person:
            person.columns = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            people.append(person)
    return Roster(people, f"{path.name} ({kind})")


def _person(kind, cell):
    email = cell.get("email address", cell.get("email", ""))
    keys = {email.casefold(), email.split("@")[0].casefold()} - {""}
    if kind == "nbgrader":
        person = Person(cell["id"], cell.get("first_name", ""), cell.get("last_name", ""), email)
    elif kind == "canvas":
        if not cell["id"] or cell["student"].startswith("Points Possible"):
            return None
        last, _, first = cell["student"].partition(",")
        person = Person(cell["id"], first.strip(), last.strip(), email, cell["id"])
        keys |= {cell.get("sis user id", "").casefold(), cell.get("sis login id", "").casefold()}
    elif kind == "moodle worksheet":
        number = re.sub(r"\D", "", cell["identifier"])
        first, _, last = cell["full name"].partition(" ")
        person = Person(number, first, last, email, number)
    else:
        raw = cell.get("id number") or email.split("@")[0] or email
        person = Person(raw, cell["first name"], cell["last name"], email)
        keys.add(cell.get("id number", "").casefold())
    if not person.id:
        return None
    person.id = safe_student_id(person.id)
    person.keys = (keys | {person.id.casefold()}) - {""}
    return person


def fill_gradebook(db_url, people):
    """Names, e-mail and LMS identity of these Persons into the gradebook's students (empty ones left alone)."""
    with Gradebook(db_url) as gb:
        for person in people:
            values = {name: getattr(person, name) for name in ("first_name", "last_name", "email", "lms_user_id")
                      if getattr(person, name)}
            gb.update_or_create_student(person.id, **values)
