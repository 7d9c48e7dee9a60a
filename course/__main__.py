"""The command line: python -m course {release,check} [ASSIGNMENT ...] (also installed as `course`)."""
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

    commands.add_parser("demo", help="the README's main job: release, then check every notebook")

    args = parser.parse_args(argv)
    if args.command == "release":
        from .release import release as run
        run(args.assignments or None)
        return 0
    if args.command == "check":
        from .check import check as run
        reports = run(args.assignments or None)
        return 1 if any(r.problems for r in reports) or not reports else 0
    if args.command == "demo":
        from .check import check as run_check
        from .release import release as run_release
        run_release()
        reports = run_check()
        return 1 if any(r.problems for r in reports) else 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
