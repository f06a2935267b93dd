"""Generate the learners' notebooks (lessons/) from the maintained ones (solutions/).

    python tools/make_lessons.py            write lessons/NN-name.ipynb for every solutions/NN-name.ipynb
    python tools/make_lessons.py --check    write nothing; exit 1 if lessons/ is out of date

solutions/ is the single source (as in nbgrader or the scikit-learn MOOC): a maintainer edits and runs
only the solution notebooks, and this script derives the lessons from them:

* In code cells, every block from a line `# BEGIN SOLUTION: <label>` through the next `# END SOLUTION`
  becomes one line at the BEGIN marker's indentation:
      raise NotImplementedError("<label>: replace this line with your solution")
  Plain line matching, so it works the same in function bodies and in `%%writefile` cells.
* Cells tagged `solution-only` are dropped.
* Outputs and execution counts are cleared; cell ids, tags and the notebook's metadata are kept.

The output is byte-for-byte deterministic, so `--check` (and tests/course/test_lessons_in_sync.py)
can tell whether someone edited a lesson by hand or forgot to regenerate.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
LESSONS = ROOT / "lessons"

SOLUTION_ONLY_TAG = "solution-only"
REGENERATE_HINT = "run `make lessons` to regenerate lessons/ from solutions/"

# Markers are whole comment lines; the label is whatever follows the colon.
BEGIN = re.compile(r"^(?P<indent>[ \t]*)#[ \t]*BEGIN SOLUTION\b(?P<rest>.*)$")
END = re.compile(r"^[ \t]*#[ \t]*END SOLUTION\b")
# Cell metadata that records a particular run (nbclient's timings); meaningless to a learner.
RUN_METADATA = ("execution",)


class MarkerError(ValueError):
    """A solution notebook's BEGIN/END SOLUTION markers cannot be turned into a lesson."""


def stub_line(indent: str, label: str) -> str:
    message = f"{label}: replace this line with your solution"
    # json.dumps gives a valid double-quoted Python literal even if the label holds quotes.
    return f"{indent}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})"


def strip_solutions(source: str, where: str) -> str:
    """Replace every marked solution block in one cell's source by its stub line.

    `where` names the notebook and cell in error messages, e.g. "solutions/01-x.ipynb, cell 4".
    """
    out: list[str] = []
    open_block: tuple[int, str] | None = None  # (line number of the BEGIN, its label)
    lines = source.split("\n")
    for number, line in enumerate(lines, start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if open_block:
                raise MarkerError(
                    f"{where}: line {number} opens a solution block inside the one opened on line "
                    f"{open_block[0]}; add `# END SOLUTION` before it (blocks cannot nest)"
                )
            label = begin["rest"].strip()
            if not label.startswith(":") or not label[1:].strip():
                raise MarkerError(
                    f"{where}: line {number}: write the marker as `# BEGIN SOLUTION: Exercise NN.M` "
                    f"(the label after the colon goes into the learner's stub), got {line.strip()!r}"
                )
            label = label[1:].strip()
            open_block = (number, label)
            out.append(stub_line(begin["indent"], label))
        elif end:
            if not open_block:
                raise MarkerError(
                    f"{where}: line {number} has `# END SOLUTION` without a `# BEGIN SOLUTION: ...` before it"
                )
            open_block = None
        elif not open_block:
            out.append(line)
    if open_block:
        raise MarkerError(
            f"{where}: the solution block opened on line {open_block[0]} ({open_block[1]}) "
            f"has no `# END SOLUTION` in the same cell"
        )
    return "\n".join(out)


def generate_lesson(notebook: nbformat.NotebookNode, name: str = "<notebook>") -> nbformat.NotebookNode:
    """Return the lesson for one solution notebook (the input is not modified)."""
    lesson = copy.deepcopy(notebook)
    cells = []
    for index, cell in enumerate(notebook.cells):
        if SOLUTION_ONLY_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        cell = copy.deepcopy(cell)
        where = f"{name}, cell {index}"
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, where)
            cell.outputs = []
            cell.execution_count = None
        elif any(BEGIN.match(line) or END.match(line) for line in cell.source.split("\n")):
            # Markers outside code cells would not be stripped, so the answer would leak.
            raise MarkerError(f"{where}: solution markers only work in code cells, this one is {cell.cell_type}")
        for key in RUN_METADATA:
            cell.metadata.pop(key, None)
        cells.append(cell)
    lesson.cells = cells
    return lesson


def to_text(notebook: nbformat.NotebookNode) -> str:
    # nbformat's writer sorts keys and uses indent=1, ensure_ascii=False: same input, same bytes.
    return nbformat.writes(notebook, version=nbformat.NO_CONVERT) + "\n"


def expected_lessons(solutions: Path = SOLUTIONS, lessons: Path = LESSONS) -> dict[Path, str]:
    """The text every lesson should have, keyed by its path under `lessons`."""
    expected = {}
    for source in sorted(solutions.glob("*.ipynb")):
        notebook = nbformat.read(source, as_version=nbformat.NO_CONVERT)
        expected[lessons / source.name] = to_text(generate_lesson(notebook, display(source)))
    return expected


def out_of_date(solutions: Path = SOLUTIONS, lessons: Path = LESSONS) -> list[str]:
    """One line per lesson that is missing, differs from what the generator writes, or has no solution."""
    expected = expected_lessons(solutions, lessons)
    problems = []
    for path, text in expected.items():
        if not path.exists():
            problems.append(f"missing: {display(path)}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"differs: {display(path)}")
    for path in sorted(set(lessons.glob("*.ipynb")) - set(expected)):
        problems.append(f"extra:   {display(path)} (no solutions/{path.name})")
    return problems


def out_of_date_message(problems: list[str]) -> str:
    return "lessons/ is out of date:\n" + "".join(f"  {p}\n" for p in problems) + REGENERATE_HINT


def write_lessons(solutions: Path = SOLUTIONS, lessons: Path = LESSONS) -> None:
    expected = expected_lessons(solutions, lessons)  # all of it first: a marker error writes nothing
    lessons.mkdir(exist_ok=True)
    for path, text in expected.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {display(path)}")
    # lessons/ is generated: a lesson whose solution was renamed or deleted must go too.
    for path in sorted(set(lessons.glob("*.ipynb")) - set(expected)):
        path.unlink()
        print(f"removed {display(path)} (no solutions/{path.name})")
    print(f"lessons/ is up to date ({len(expected)} notebooks)")


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if lessons/ is out of date")
    args = parser.parse_args(argv)
    try:
        if not args.check:
            write_lessons(SOLUTIONS, LESSONS)
            return 0
        problems = out_of_date(SOLUTIONS, LESSONS)
    except MarkerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if problems:
        print(out_of_date_message(problems), file=sys.stderr)
        return 1
    print(f"OK: lessons/ matches solutions/ ({len(list(SOLUTIONS.glob('*.ipynb')))} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
