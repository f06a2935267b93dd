"""Where a room stands: merges the reports `make check` wrote on each learner's machine into one table.

    make room DIR=/media/usb/room                 a table per exercise, and room.csv in that folder
    python tools/room_report.py DIR [--csv FILE]

Every learner's `make check` writes build/reports/<name>.json (or into REPORT=<folder>); the instructor collects
them in one folder (a shared drive, a USB stick: no server, nothing sent anywhere) and runs this. It prints, per
exercise in course order, how many learners passed, were wrong, met an error, have not solved it or were not
reached, and the check messages most learners got (their first lines); and writes a CSV, one row per learner and
exercise, for a gradebook or an LMS. A file that is not a report is named and left out.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

from check_my_work import ERROR, NOT_ATTEMPTED, NOT_REACHED, NOT_SOLVED, PASSED, REPORT_KIND, WRONG

RESULTS = (PASSED, WRONG, ERROR, NOT_SOLVED, NOT_REACHED, NOT_ATTEMPTED)  # the last: an optional stretch
PREDICTION_RESULTS = ("as predicted", "different", "not made")  # kinesis_course/predictions.py
COMMON = 3  # messages shown per exercise
CSV_FIELDS = ("learner", "host", "lesson", "exercise", "result", "first_line", "checked_at")


def read_reports(folder: Path) -> tuple[list[dict], list[str]]:
    """The reports in ``folder`` (one learner each: the newest if a learner's name appears twice), and a line
    for each file left out."""
    by_learner: dict[str, dict] = {}
    left_out = []
    for path in sorted(folder.glob("*.json")):
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(report, dict) or report.get("kind") != REPORT_KIND:
                raise ValueError("not a `make check` report")
            if not isinstance(report.get("results"), list) or not report.get("learner"):
                raise ValueError("a report without its learner or results")
        except (OSError, ValueError) as error:
            left_out.append(f"left out {path.name}: {error}")
            continue
        earlier = by_learner.get(report["learner"])
        if earlier is None or report.get("written_at", "") > earlier.get("written_at", ""):
            by_learner[report["learner"]] = report
    return [by_learner[name] for name in sorted(by_learner, key=str.lower)], left_out


def rows(reports: list[dict]) -> list[dict]:
    return [
        {
            "learner": report["learner"],
            "host": report.get("host", ""),
            **{key: entry.get(key, "") for key in ("lesson", "exercise", "result", "first_line", "checked_at")},
        }
        for report in reports
        for entry in report["results"]
        if isinstance(entry, dict)
    ]


def summary(reports: list[dict]) -> str:
    every = rows(reports)
    exercises = sorted({(row["lesson"], row["exercise"]) for row in every})
    learners = len(reports)
    header = ["exercise", *RESULTS, "no report"]
    table = [header]
    said: list[str] = []
    for lesson, exercise in exercises:
        mine = [row for row in every if (row["lesson"], row["exercise"]) == (lesson, exercise)]
        counts = Counter(row["result"] for row in mine)
        name = exercise if exercise.startswith("Exercise") else f"{lesson} {exercise}"
        table.append([name, *(str(counts[result]) for result in RESULTS), str(learners - len(mine))])
        messages = Counter(row["first_line"] for row in mine if row["result"] in (WRONG, ERROR) and row["first_line"])
        for message, count in messages.most_common(COMMON):
            said.append(f"  {exercise} · {count} learner{'s' if count > 1 else ''}: {message}")
    widths = [max(len(line[column]) for line in table) for column in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(line, widths))
        )
        for line in table
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    text = f"{learners} learner{'s' if learners != 1 else ''}: " + ", ".join(r["learner"] for r in reports)
    text += "\n\n" + "\n".join(lines)
    if predicted := prediction_summary(reports):
        text += "\n\n" + predicted
    if said:
        text += "\n\nWhat the checks said most (first lines; `make check` on the learner's machine shows the hint):\n"
        text += "\n".join(said)
    return text


def prediction_summary(reports: list[dict]) -> str:
    """Per prediction, how many learners predicted what the experiment showed, something else, or nothing: where
    the room's intuition and the course part ways, worth a discussion before moving on."""
    counts: dict[str, Counter] = {}
    for report in reports:
        for entry in report.get("predictions", []):
            if isinstance(entry, dict) and entry.get("prediction"):
                counts.setdefault(f"Prediction {entry['prediction']}", Counter())[entry.get("result", "")] += 1
    if not counts:
        return ""
    header = ["prediction", *PREDICTION_RESULTS]
    table = [header] + [
        [name, *(str(count[result]) for result in PREDICTION_RESULTS)] for name, count in sorted(counts.items())
    ]
    widths = [max(len(line[column]) for line in table) for column in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(line, widths))
        )
        for line in table
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "Predictions made before each experiment (never a failure):\n" + "\n".join(lines)


def write_csv(reports: list[dict], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows(reports))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="the folder holding the learners' reports (*.json)")
    parser.add_argument("--csv", type=Path, help="where the CSV goes (default: room.csv in the folder)")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(
            f"error: {args.folder} is not a folder. Collect the learners' build/reports/*.json files in one "
            "folder and pass it: make room DIR=that/folder",
            file=sys.stderr,
        )
        return 2
    reports, left_out = read_reports(args.folder)
    for line in left_out:
        print(line)
    if not reports:
        print(
            f"No `make check` reports in {args.folder}: each learner's is build/reports/<name>.json on their "
            "machine (or in the folder they gave as REPORT)."
        )
        return 1
    print(summary(reports))
    csv_path = args.csv or args.folder / "room.csv"
    write_csv(reports, csv_path)
    print(f"\nOne row per learner and exercise: {csv_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
