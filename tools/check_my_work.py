"""Which of my exercises pass? Runs your lessons headlessly, as "Run All" would, and prints a table.

    make check            every lesson in lessons/
    make check L=03       lesson 03 only (or several: L="02 03")
    make check LEARNER=ada REPORT=/media/usb/room     name yourself, and where your report goes

Each lesson runs from the top in a fresh kernel, in lessons/ (as in JupyterLab), on the course's LocalStack.
Your notebooks are read, never written: their outputs stay as you left them. A lesson stops at its first error,
as "Run All" does, so the exercises after it are "not reached". The table shows each failure's first line; below
it, every wrong or failed exercise's whole message and hint, wrapped to the terminal's width. Exit code 0 only
when every exercise passes, so an instructor can run it on each machine of a room to see where it stands.

Each run also writes a report (JSON) of where you stand, build/reports/<you>.json unless REPORT names another
folder: your name (LEARNER, or this machine's name), and per exercise its result, the check's first line and when
it was checked. A run of some lessons updates those lessons and keeps the others. An instructor collects the
reports of a room and merges them with `make room DIR=...` (tools/room_report.py). Nothing is sent anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
SOLUTIONS = ROOT / "solutions"
REPORTS = ROOT / "build" / "reports"
REPORT_KIND = "kinesis-course check report"
CHECK_TAG = "exercise-check"
STRETCH_TAG = "stretch-check"  # an optional exercise's check: listed, never counted in the exit code
CELL_TIMEOUT_S = 180
PASSED_LINE = re.compile(r"✔ (?P<label>.+?) passed")
LABEL_IN_TEXT = re.compile(r"(?:Exercise|Stretch) \d+\.\w+")
NOT_ATTEMPTED_LINE = re.compile(r"· (?P<label>.+?) \(optional\) not attempted")
# What kinesis_course/predictions.py prints after an experiment.
PREDICTION_LINE = re.compile(
    r"^[◆◇·] Prediction (?P<label>\S+): (?P<result>as predicted|different|not made)\.", re.MULTILINE
)

PASSED, NOT_SOLVED, WRONG, ERROR, NOT_REACHED = "passed", "not solved", "wrong", "error", "not reached"
NOT_ATTEMPTED = "not attempted"
EXERCISE, STRETCH = "exercise", "stretch"


@dataclass
class Row:
    lesson: str
    exercise: str
    result: str
    detail: str = ""
    message: str = ""  # a wrong or failed exercise's whole message (hint included), shown below the table
    kind: str = EXERCISE  # or STRETCH: optional, shown in the table, never counted in the exit code


@dataclass
class Prediction:
    lesson: str
    label: str
    result: str  # kinesis_course.predictions: "as predicted", "different" or "not made"


def check_cells(notebook) -> list[int]:
    return [
        i
        for i, cell in enumerate(notebook.cells)
        if {CHECK_TAG, STRETCH_TAG} & set(cell.get("metadata", {}).get("tags", []))
    ]


def is_stretch(cell) -> bool:
    return STRETCH_TAG in cell.get("metadata", {}).get("tags", [])


def output_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


def exercise_labels(lesson: nbformat.NotebookNode, solution: Path | None) -> dict[int, str]:
    """{index of a check cell: "Exercise NN.M"}, read from what the same cell prints in the solved notebook."""
    by_id = {}
    if solution is not None and solution.exists():
        for cell in nbformat.read(solution, as_version=4).cells:
            found = PASSED_LINE.findall(output_text(cell))
            if found and cell.get("id"):
                by_id[cell["id"]] = ", ".join(found)
    labels = {}
    for number, index in enumerate(check_cells(lesson), start=1):
        cell = lesson.cells[index]
        label = by_id.get(cell.get("id"))
        if not label:
            # The check names its exercise in its source or arguments, or the stub before it does.
            match = LABEL_IN_TEXT.search(cell.source) or next(
                (m for c in reversed(lesson.cells[:index]) if (m := LABEL_IN_TEXT.search(c.source))), None
            )
            label = match.group(0) if match else f"check {number} (cell {index})"
        labels[index] = label
    return labels


def plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text or "").strip()


def first_line(text: str) -> str:
    return plain(text).split("\n", 1)[0]


def run_lesson(
    path: Path,
    solution: Path | None = None,
    timeout: float = CELL_TIMEOUT_S,
    predictions: list[Prediction] | None = None,
) -> list[Row]:
    """Runs one lesson top to bottom until its first error; one Row per exercise check (a stretch's Row has kind
    STRETCH). The predictions the lesson compared on the way are appended to ``predictions``."""
    notebook = nbformat.read(path, as_version=4)
    labels = exercise_labels(notebook, solution)
    name = path.stem
    kinds = {index: STRETCH if is_stretch(notebook.cells[index]) else EXERCISE for index in labels}
    if not labels:
        return [Row(name, "(no exercise)", ERROR, "this notebook has no cell tagged exercise-check")]
    rows: dict[int, Row] = {}
    stopped: str | None = None
    stop_message = ""  # the whole error, when a cell that is not a check stopped the lesson
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=timeout, resources={"metadata": {"path": str(path.parent)}}
    )
    try:
        # The kernel's own log lines (e.g. ipykernel's note on TCP) are not the learner's business.
        with client.setup_kernel(stderr=subprocess.DEVNULL):
            for index, cell in enumerate(notebook.cells):
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as error:
                    where = labels.get(index) or f"cell {index} ({first_line(cell.source)[:50]!r})"
                    if index in labels:
                        if error.ename == "ExerciseNotSolved":
                            rows[index] = Row(name, labels[index], NOT_SOLVED, kind=kinds[index])
                        elif error.ename == "ExerciseCheckFailed":
                            rows[index] = Row(
                                name,
                                labels[index],
                                WRONG,
                                first_line(error.evalue),
                                plain(error.evalue),
                                kind=kinds[index],
                            )
                        else:
                            rows[index] = Row(
                                name,
                                labels[index],
                                ERROR,
                                f"{error.ename}: {first_line(error.evalue)}",
                                f"{error.ename}: {plain(error.evalue)}",
                                kind=kinds[index],
                            )
                        stopped = f"the lesson stopped at {where}"
                    else:
                        stopped = f"the lesson stopped at {where}: {error.ename}: {first_line(error.evalue)}"
                        stop_message = f"{error.ename}: {plain(error.evalue)}"
                    break
                finally:
                    if predictions is not None:
                        predictions += [
                            Prediction(name, match["label"], match["result"])
                            for match in PREDICTION_LINE.finditer(plain(output_text(cell)))
                        ]
                if index in labels:
                    attempted = kinds[index] == EXERCISE or not NOT_ATTEMPTED_LINE.search(output_text(cell))
                    rows[index] = Row(name, labels[index], PASSED if attempted else NOT_ATTEMPTED, kind=kinds[index])
    except (DeadKernelError, TimeoutError, RuntimeError) as error:
        stopped = f"the lesson stopped: {type(error).__name__}: {first_line(str(error))}"
        stop_message = f"{type(error).__name__}: {plain(str(error))}"
    for index, label in labels.items():
        if index not in rows:
            # The error that stopped the lesson is told once, with its first unreached exercise.
            rows[index] = Row(name, label, NOT_REACHED, stopped or "", stop_message, kind=kinds[index])
            stop_message = ""
    return [rows[index] for index in sorted(rows)]


def lessons_to_check(numbers: list[str], lessons: Path = LESSONS, solutions: Path = SOLUTIONS) -> list[Path]:
    """The course's lessons (one per solution; not your renamed copies or notes), all or those numbered."""
    course = [lessons / source.name for source in sorted(solutions.glob("*.ipynb"))]
    if not numbers:
        return course
    chosen = []
    for number in numbers:
        matches = [path for path in course if path.name.split("-", 1)[0] == number.zfill(2)]
        if not matches:
            known = ", ".join(path.name.split("-", 1)[0] for path in course)
            raise SystemExit(f"error: there is no lesson {number!r}; the lessons are {known}")
        chosen += matches
    return chosen


def terminal_width() -> int:
    return max(60, shutil.get_terminal_size(fallback=(100, 24)).columns)


def table(rows: list[Row], width: int) -> str:
    widths = [
        max(len(header), *(len(getattr(row, field)) for row in rows))
        for header, field in (("lesson", "lesson"), ("exercise", "exercise"), ("result", "result"))
    ]
    # The detail column gets what the terminal has left: a shortened first line; the whole message comes below.
    room = max(30, width - sum(widths) - 6 - 2)
    lines = [
        f"{'lesson':<{widths[0]}}  {'exercise':<{widths[1]}}  {'result':<{widths[2]}}  detail",
        f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * widths[2]}  ------",
    ]
    for row in rows:
        mark = "✔" if row.result == PASSED else "✘" if row.result in (WRONG, ERROR) else "·"
        detail = textwrap.shorten(row.detail, room, placeholder=" …") if row.detail else ""
        if row.kind == STRETCH:
            detail = f"(optional) {detail}".rstrip()
        lines.append(
            f"{row.lesson:<{widths[0]}}  {row.exercise:<{widths[1]}}  {row.result:<{widths[2]}}  "
            f"{mark} {detail}".rstrip()
        )
    return "\n".join(lines)


def prediction_table(predictions: list[Prediction], width: int) -> str:
    """Per lesson, the predictions column: each prediction's label and how it came out (never a failure)."""
    by_lesson: dict[str, list[str]] = {}
    for prediction in predictions:
        by_lesson.setdefault(prediction.lesson, []).append(f"{prediction.label} {prediction.result}")
    if not by_lesson:
        return ""
    first = max(len("lesson"), *map(len, by_lesson))
    lines = [
        f"{'lesson':<{first}}  predictions (what you expected before each experiment; never a failure)",
        f"{'-' * first}  -----------",
    ]
    for lesson, said in by_lesson.items():
        text = textwrap.fill(" · ".join(said), max(30, width - first - 2), break_on_hyphens=False)
        lines.append(f"{lesson:<{first}}  " + text.replace("\n", "\n" + " " * (first + 2)))
    return "\n".join(lines)


def wrapped(message: str, width: int, indent: str = "  ") -> str:
    """A check's whole message, each of its lines wrapped (never cut); a "Hint:" line is a paragraph of its own."""
    paragraphs = []
    for line in message.splitlines():
        if line.lstrip().startswith("Hint:") and paragraphs and paragraphs[-1] != "":
            paragraphs.append("")
        if not line.strip():
            paragraphs.append("")
            continue
        # A line's own indentation (a listing in a message) is kept under the block's.
        own = line[: len(line) - len(line.lstrip())]
        paragraphs.append(
            textwrap.fill(
                line.strip(),
                width,
                initial_indent=indent + own,
                subsequent_indent=indent + own + "  ",
                break_on_hyphens=False,
                break_long_words=False,
            )
        )  # a sequence number stays whole, to copy
    return "\n".join(paragraphs).strip("\n")


def messages(rows: list[Row], width: int) -> str:
    """What each wrong or failed exercise said, in full: the table shows only its first line."""
    told = [row for row in rows if row.message]
    if not told:
        return ""
    blocks = ["What the checks said:"]
    for row in told:
        where = f"stopped before {row.exercise}" if row.result == NOT_REACHED else f"{row.exercise} · {row.result}"
        blocks.append(f"✘ {row.lesson} · {where}\n{wrapped(row.message, width)}")
    return "\n\n".join(blocks)


def learner_name() -> str:
    """Who the report is for: LEARNER as the learner set it, else this machine's name."""
    return (os.environ.get("LEARNER") or "").strip() or socket.gethostname()


def report_path(folder: Path, learner: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", learner).strip("-.") or "learner"
    return folder / f"{safe}.json"


def write_report(
    rows: list[Row], folder: Path, learner: str, now: datetime | None = None, predictions: list[Prediction] = ()
) -> Path:
    """Writes (or updates) the learner's report: the lessons just checked replace their earlier rows, the other
    lessons' rows stay, so `make check L=03` does not forget lesson 02. Written whole, then renamed into place."""
    path = report_path(folder, learner)
    checked_at = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    earlier, earlier_predictions = [], []
    try:
        previous = json.loads(path.read_text())
        if previous.get("kind") == REPORT_KIND:
            earlier = previous.get("results", [])
            earlier_predictions = previous.get("predictions", [])
    except (OSError, ValueError, AttributeError):
        pass  # no report yet, or one that is not ours: start afresh
    checked = {row.lesson for row in rows}
    results = [entry for entry in earlier if entry.get("lesson") not in checked]
    results += [
        {
            "lesson": row.lesson,
            "exercise": row.exercise,
            "result": row.result,
            "first_line": row.detail,
            "checked_at": checked_at,
            **({"kind": STRETCH} if row.kind == STRETCH else {}),
        }
        for row in rows
    ]
    results.sort(key=lambda entry: (entry.get("lesson", ""), entry.get("exercise", "")))
    predicted = [entry for entry in earlier_predictions if entry.get("lesson") not in checked]
    predicted += [
        {"lesson": p.lesson, "prediction": p.label, "result": p.result, "checked_at": checked_at} for p in predictions
    ]
    report = {
        "kind": REPORT_KIND,
        "version": 1,
        "learner": learner,
        "host": socket.gethostname(),
        "written_at": checked_at,
        "results": results,
        "predictions": predicted,
    }
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    partial.replace(path)
    return path


def main(
    argv: list[str] | None = None, lessons: Path = LESSONS, solutions: Path = SOLUTIONS, reports: Path | None = None
) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("numbers", nargs="*", help="lesson numbers, e.g. 03 (default: all)")
    parser.add_argument("--timeout", type=float, default=CELL_TIMEOUT_S, help="seconds per cell")
    args = parser.parse_args(argv)
    numbers = [n for arg in args.numbers for n in arg.split()]
    rows: list[Row] = []
    predictions: list[Prediction] = []
    for path in lessons_to_check(numbers, lessons, solutions):
        if not path.exists():
            rows.append(Row(path.stem, "(lesson)", ERROR, f"{path.name} is missing: `make fresh L={path.name[:2]}`"))
            continue
        print(f"Running {path.relative_to(path.parent.parent)} ...", flush=True)
        started = time.monotonic()
        lesson_rows = run_lesson(path, solutions / path.name, args.timeout, predictions)
        exercises = [row for row in lesson_rows if row.kind == EXERCISE]
        passed = sum(row.result == PASSED for row in exercises)
        print(f"  {passed} of {len(exercises)} exercises pass ({time.monotonic() - started:.0f} s)", flush=True)
        rows += lesson_rows
    if not rows:
        print("No lessons to check.")
        return 1
    width = terminal_width()
    print()
    print(table(rows, width))
    if predicted := prediction_table(predictions, width):
        print()
        print(predicted)
    if said := messages(rows, width):
        print()
        print(said)
    exercises = [row for row in rows if row.kind == EXERCISE]
    passed = sum(row.result == PASSED for row in exercises)
    stretches = [row for row in rows if row.kind == STRETCH]
    extra = f" (and {sum(row.result == PASSED for row in stretches)} of {len(stretches)} optional stretches)"
    print(f"\n{passed} of {len(exercises)} exercises pass{extra if stretches else ''}.")
    folder = reports or Path(os.environ.get("REPORT") or REPORTS)
    try:
        written = write_report(rows, folder, learner_name(), predictions=predictions)
        print(f"Your report: {written} (for your instructor's `make room`; LEARNER=yourname to name it)")
    except OSError as error:
        print(f"Your report could not be written in {folder}: {error}. Set REPORT to a folder you can write to.")
    if passed < len(exercises):
        print("A lesson stops at its first error, as Run All does: solve that exercise, then check again.")
    return 0 if passed == len(exercises) else 1


if __name__ == "__main__":
    sys.exit(main())
