"""Results of a grading run, in grading/ (or the folder given):

- grades.csv   nbgrader's own export (`nbgrader export`), one row per student and assignment;
- items.csv    points per test cell per student (student, assignment, item, score, max_score);
- report.html  what an instructor looks at first: the score distribution per assignment and
               the items most students missed (PNG charts embedded), then every student's
               problems and normalization log; who was late and by how much (nbgrader's
               timestamps against the due date); files whose owner is in doubt (not graded,
               kept in collisions/); people not on the roster and roster students who handed
               nothing in; sandbox on/off and the run's settings.
"""
import base64
import csv
import html
import io
import statistics
from datetime import datetime, timezone

from nbgrader.api import Gradebook
from nbgrader.plugins.export import CsvExportPlugin


def write(results, db_url, assignments, records, skipped, settings, found=None):
    """Write grades.csv, items.csv and report.html into the folder `results`.

    found: the course.grading.intake.Intake the records came from (collisions, roster lists).
    """
    results.mkdir(parents=True, exist_ok=True)
    with Gradebook(db_url) as gb:  # what `nbgrader export` does, without starting another Python
        CsvExportPlugin(to=str(results / "grades.csv")).export(gb)
    items = item_rows(db_url, assignments)
    with open(results / "items.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "item", "score", "max_score"])
        writer.writerows(items)
    page = render(assignments, records, items, skipped, settings, found, late_rows(db_url, assignments))
    (results / "report.html").write_text(page, encoding="utf-8")


def late_rows(db_url, assignments):
    """[(student, assignment, submitted, due, seconds late, penalty)] for every late submission."""
    rows = []
    with Gradebook(db_url) as gb:
        for assignment in assignments:
            for submission in gb.assignment_submissions(assignment):
                if submission.total_seconds_late > 0:
                    rows.append((submission.student_id, assignment, str(submission.timestamp),
                                 str(submission.duedate), submission.total_seconds_late,
                                 submission.late_submission_penalty or 0.0))
    return sorted(rows)


def late_by(seconds):
    """3725 -> '1 h 2 min'; 90000 -> '1 d 1 h'."""
    minutes = int(seconds // 60)
    days, hours, minutes = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min" if minutes else f"{int(seconds)} s"


def item_rows(db_url, assignments):
    """[(student, assignment, grade_id, score, max_score)] for every autograded test cell."""
    rows = []
    with Gradebook(db_url) as gb:
        for assignment in assignments:
            for submission in gb.assignment_submissions(assignment):
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        if grade.cell_type == "code":
                            rows.append((submission.student_id, assignment, grade.name,
                                         round(grade.score, 2), grade.max_score))
    return sorted(rows)


def grades_table(db_url, assignments):
    """A plain-text table: one row per student, one column per assignment (points)."""
    scores, maxima, by_hand = {}, {}, 0.0
    with Gradebook(db_url) as gb:
        for assignment in assignments:
            maxima[assignment] = gb.find_assignment(assignment).max_score
            by_hand += sum(cell.max_score for nb in gb.find_assignment(assignment).notebooks
                           for cell in nb.grade_cells if cell.cell_type == "markdown")
            for submission in gb.assignment_submissions(assignment):
                scores.setdefault(submission.student_id, {})[assignment] = submission.score
    width = max([len("student")] + [len(s) for s in scores])
    lines = [f"{'student':<{width}}  " + "  ".join(f"{a[:14]:>14}" for a in assignments)]
    lines.append(f"{'(out of)':<{width}}  " + "  ".join(f"{maxima[a]:>14g}" for a in assignments))
    for student in sorted(scores):
        cells = [f"{scores[student][a]:>14g}" if a in scores[student] else f"{'-':>14}" for a in assignments]
        lines.append(f"{student:<{width}}  " + "  ".join(cells))
    if by_hand:
        lines.append(f"(out of includes {by_hand:g} points of written answers, graded by hand in nbgrader's "
                     "formgrader; they count 0 until then)")
    return "\n".join(lines)


def _png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def charts(assignments, records, items):
    """(distribution PNG, most-missed PNG) as base64 strings."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    graded = [a for a in assignments if any(r.assignment == a for r in records)]
    figure, axes = plt.subplots(1, len(graded), figsize=(3.2 * len(graded), 2.6), squeeze=False)
    for ax, assignment in zip(axes[0], graded):
        percents = [100 * r.score / r.max_score for r in records if r.assignment == assignment and r.max_score]
        ax.hist(percents, bins=range(0, 101, 10), color="#4c72b0", edgecolor="white")
        ax.set_title(f"{assignment} (n={len(percents)})", fontsize=9)
        ax.set_xlabel("score (%)")
        ax.set_xlim(0, 100)
    axes[0][0].set_ylabel("students")
    for ax in axes[0]:
        ax.yaxis.get_major_locator().set_params(integer=True)
    distribution = _png(figure)
    plt.close(figure)

    missed = missed_items(items)[:12]
    figure, ax = plt.subplots(figsize=(7, 0.35 * max(3, len(missed)) + 0.8))
    labels = [f"{a} / {item}" for a, item, _, _ in missed]
    ax.barh(labels[::-1], [100 * share for _, _, share, _ in missed][::-1], color="#c44e52")
    ax.set_xlabel("students who lost points (%)")
    ax.set_xlim(0, 100)
    ax.set_title("Items most students missed", fontsize=10)
    if not missed:
        ax.set_yticks([])
        ax.text(50, 0.5, "every student earned every autograded point", ha="center", va="center")
        ax.set_ylim(0, 1)
    worst = _png(figure)
    plt.close(figure)
    return distribution, worst


def missed_items(items):
    """[(assignment, item, share of students who lost points, students)] most missed first."""
    totals = {}
    for _, assignment, item, score, max_score in items:
        lost, count = totals.get((assignment, item), (0, 0))
        totals[(assignment, item)] = (lost + (score < max_score), count + 1)
    ranked = [(a, i, lost / count, count) for (a, i), (lost, count) in totals.items() if lost]
    return sorted(ranked, key=lambda row: (-row[2], row[0], row[1]))


def intake_html(found, late):
    """The report's sections on late work, collisions and the roster (HTML)."""
    e = html.escape
    late_html = "".join(f"<tr><td>{e(s)}</td><td>{e(a)}</td><td>{e(t)}</td><td>{e(d)}</td>"
                        f"<td>{late_by(sec)}</td><td>{p:g}</td></tr>" for s, a, t, d, sec, p in late)
    parts = ["<h2>Late submissions</h2>",
             "<p>nbgrader's timestamps (the LMS's submission times) against the due date "
             "(<code>nbgrader db assignment add ID --duedate=...</code>); the penalty is nbgrader's "
             "(<code>c.LateSubmissionPlugin.penalty_method</code>).</p>",
             "<table><tr><th>student</th><th>assignment</th><th>submitted</th><th>due</th><th>late by</th>"
             f"<th>penalty</th></tr>{late_html}</table>" if late else "<p>none (or no due date set)</p>"]
    if found is None:
        return "".join(parts)
    collisions = "".join(f"<li><b>{e(c.student)} / {e(c.assignment)}</b>: {e(c.reason)}<br>files kept: "
                         f"{e(', '.join(origin for origin, _ in c.files))}</li>" for c in found.collisions)
    parts += [f"<h2>Files whose owner is in doubt (not graded)</h2><p>Copies in <code>collisions/</code>.</p>"
              f"<ul>{collisions or '<li>none</li>'}</ul>",
              f"<h2>Who handed in</h2><p>Download layout: <b>{e(found.layout)}</b>.</p>"]
    if found.not_in_roster or found.missing:
        outside = "".join(f"<li>{e(line)}</li>" for line in found.not_in_roster) or "<li>none</li>"
        missing = "".join(f"<li>{e(a)}: {e(p.id)} ({e(p.full_name or p.email or '-')})</li>"
                          for a, p in found.missing) or "<li>none</li>"
        parts += [f"<h3>Not on the roster (graded under their LMS id)</h3><ul>{outside}</ul>",
                  f"<h3>On the roster, no submission</h3><ul>{missing}</ul>"]
    return "".join(parts)


def render(assignments, records, items, skipped, settings, found=None, late=()):
    """The report page (self-contained HTML)."""
    distribution, worst = charts(assignments, records, items)
    e = html.escape
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows = []
    for assignment in assignments:
        mine = [r for r in records if r.assignment == assignment]
        if mine:
            scores = [r.score for r in mine]
            rows.append(f"<tr><td>{e(assignment)}</td><td>{len(mine)}</td><td>{mine[0].max_score:g}</td>"
                        f"<td>{statistics.mean(scores):.1f}</td><td>{statistics.median(scores):g}</td>"
                        f"<td>{min(scores):g}</td><td>{max(scores):g}</td>"
                        f"<td>{sum(1 for r in mine if r.problem)}</td></tr>")
    students = []
    for r in sorted(records, key=lambda r: (r.student, r.assignment)):
        trouble = ([f"<b>{e(r.problem)}</b>"] if r.problem else []) + [e(n) for n in r.notes]
        students.append(
            f"<tr{' class=bad' if trouble else ''}><td>{e(r.student)}</td><td>{e(r.assignment)}</td>"
            f"<td>{r.score:g} / {r.max_score:g}</td><td>{'<br>'.join(trouble)}</td>"
            f"<td>{'<br>'.join(e(line) for line in r.log) or '-'}</td>"
            f"<td>{e(r.origin)}</td><td>{r.seconds:.1f}</td></tr>")
    missed = "".join(f"<tr><td>{e(a)} / {e(item)}</td><td>{100 * share:.0f}%</td><td>{count}</td></tr>"
                     for a, item, share, count in missed_items(items)[:12])
    skipped_html = "".join(f"<li>{e(s)}</li>" for s in skipped) or "<li>none</li>"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Backprop Lab grading report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 90%; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; vertical-align: top; text-align: left; }}
tr.bad td {{ background: #fff3f3; }}
</style></head><body>
<h1>Backprop Lab grading report</h1>
<p>{when} &middot; {len(records)} submissions of {len({r.student for r in records})} students &middot;
sandbox: <b>{e(str(settings['sandbox']))}</b> &middot; {settings['workers']} workers &middot;
{settings['timeout']} s per cell &middot; {settings['seconds']:.0f} s in all</p>
<h2>Scores</h2>
<p>Autograded points; written answers are graded by hand in nbgrader's formgrader and are not counted here.</p>
<table><tr><th>assignment</th><th>submissions</th><th>out of</th><th>mean</th><th>median</th>
<th>min</th><th>max</th><th>problems</th></tr>{''.join(rows)}</table>
<img alt="score distribution per assignment" src="data:image/png;base64,{distribution}">
<h2>Items most students missed</h2>
<img alt="items most students missed" src="data:image/png;base64,{worst}">
<table><tr><th>item</th><th>students who lost points</th><th>graded</th></tr>{missed}</table>
<h2>Students</h2>
<p>Problems, grading notes (kernel deaths, time limits) and what normalization changed.</p>
<table><tr><th>student</th><th>assignment</th><th>score</th><th>problems</th><th>normalization</th>
<th>file</th><th>seconds</th></tr>{''.join(students)}</table>
<h2>Files not graded</h2><ul>{skipped_html}</ul>
{intake_html(found, late)}
</body></html>
"""
