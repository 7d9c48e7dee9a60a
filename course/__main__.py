"""The command line: python -m course {release,check,publish,grade,export,demo} ... (also installed as `course`)."""
import argparse
import sys

from .layout import ASSIGNMENTS


def main(argv=None):
    parser = argparse.ArgumentParser(prog="course", description="Backprop Lab instructor tools.")
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser("release", help="build release/ from source/ with nbgrader")
    release.add_argument("assignments", nargs="*", choices=[[]] + list(ASSIGNMENTS), metavar="ASSIGNMENT")

    check = commands.add_parser("check", help="run every source notebook: solutions pass, stubs fail")
    check.add_argument("assignments", nargs="*", choices=[[]] + list(ASSIGNMENTS), metavar="ASSIGNMENT")

    publish = commands.add_parser("publish", help="write the student repository (release notebooks and a "
                                  "student README, nothing else) to DEST, checked and committed")
    publish.add_argument("dest", metavar="DEST", help="a folder: new, empty, or an earlier publish")

    grade = commands.add_parser("grade", help="grade submitted/ (or --from a folder/.zip) in parallel, "
                                "with feedback and a report in grading/")
    grade.add_argument("assignments", nargs="*", choices=[[]] + list(ASSIGNMENTS), metavar="ASSIGNMENT")
    grade.add_argument("--from", dest="from_path", metavar="PATH",
                       help="a folder or .zip of notebooks: a Canvas, Moodle or Blackboard download, "
                       "<student>_<notebook>.ipynb or <student>/<file>")
    grade.add_argument("--roster", metavar="CSV", default=None,
                       help="class list (nbgrader's id,first_name,last_name,email, or a Canvas/Moodle export): "
                       "its ids, names and e-mail go to the gradebook")
    grade.add_argument("--workers", type=int, default=None, help="submissions graded at once (default: cores)")
    grade.add_argument("--timeout", type=int, default=30, help="seconds one cell may run (default 30)")
    grade.add_argument("--db-url", default=None, help="gradebook SQLAlchemy URL (default: nbgrader_config.py's)")
    grade.add_argument("--no-sandbox", dest="sandbox", action="store_false",
                       help="run student code without the sandbox (logged in the report)")
    grade.add_argument("--cluster", metavar="ADDRESS", default=None,
                       help="grade on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://10.0.0.5:8786) "
                       "instead of --workers local processes")
    grade.add_argument("--root", default=None, help="the course folder (default: this repository)")

    export = commands.add_parser("export", help="grades (and Moodle feedback) as the LMS imports them, "
                                 "in grading/export/")
    export.add_argument("--lms", required=True, choices=["canvas", "moodle", "csv"])
    export.add_argument("--assignment", dest="assignments", action="append", choices=list(ASSIGNMENTS),
                        metavar="ASSIGNMENT", help="only this assignment (repeat for more; default: all)")
    export.add_argument("--roster", metavar="CSV", default=None,
                        help="a Canvas gradebook export: fills SIS User ID, SIS Login ID and Section")
    export.add_argument("--to", metavar="FOLDER", default=None, help="where to write (default grading/export/)")
    export.add_argument("--db-url", default=None, help="gradebook SQLAlchemy URL (default: nbgrader_config.py's)")
    export.add_argument("--root", default=None, help="the course folder (default: this repository)")

    demo = commands.add_parser("demo", help="the README's main job: release, simulate a class, grade it")
    demo.add_argument("--students", type=int, default=32, help="size of the simulated class (default 32)")
    demo.add_argument("--workers", type=int, default=None, help="submissions graded at once (default: cores)")
    demo.add_argument("--no-sandbox", dest="sandbox", action="store_false", help="grade without the sandbox")

    args = parser.parse_args(argv)
    if args.command == "release":
        from .authoring.release import release as run
        run(args.assignments or None)
        return 0
    if args.command == "check":
        from .authoring.check import check as run
        reports = run(args.assignments or None)
        return 1 if any(r.problems for r in reports) or not reports else 0
    if args.command == "publish":
        from .authoring.publish import publish as run
        run(args.dest)
        return 0
    if args.command == "grade":
        from .grading.grade import main as run
        run(args.assignments or None, from_path=args.from_path, workers=args.workers, timeout=args.timeout,
            db_url=args.db_url, sandbox=args.sandbox, cluster=args.cluster, roster=args.roster,
            **({"root": args.root} if args.root else {}))
        return 0
    if args.command == "export":
        from .grading.export import main as run
        run(args.lms, args.assignments, to=args.to, roster=args.roster, db_url=args.db_url,
            **({"root": args.root} if args.root else {}))
        return 0
    if args.command == "demo":
        from .demo import main as run
        run(students=args.students, workers=args.workers, sandbox=args.sandbox)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
