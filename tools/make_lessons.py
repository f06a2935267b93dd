"""Generate the learners' notebooks (lessons/) from the maintained ones (solutions/).

    python tools/make_lessons.py            write lessons/NN-name.ipynb for every solutions/NN-name.ipynb
    python tools/make_lessons.py --check    write nothing; exit 1 if lessons/ is out of date

solutions/ is the single source (as in nbgrader or the scikit-learn MOOC): a maintainer edits and runs
only the solution notebooks, and this script derives the lessons from them:

* In code cells, every block from a line `# BEGIN SOLUTION: <label>` through the next `# END SOLUTION`
  becomes one line at the BEGIN marker's indentation:
      raise NotImplementedError("<label>: replace this line with your solution")
  Plain line matching, so it works the same in function bodies and in `%%writefile` cells.
* Cells tagged `solution-only` (answers shown only in solutions/) or `ci-only` (assertions and other test
  machinery that nbval needs and a learner should not see) are dropped.
* Outputs and execution counts are cleared; cell ids, tags and the notebook's metadata are kept.

It also writes the handler the course grows (kinesis_course/handler_steps/): every cell tagged
`handler-file` starts with `%%writefile {lesson.build_dir}/NAME.py`; the rest of the cell, solved (markers
removed, answers kept), becomes handler_steps/lessonNN/NAME.py. The next lesson starts from those files
(`Lesson.start()` copies them into its build folder), so no notebook keeps a copy of an earlier lesson's code.

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
CI_ONLY_TAG = "ci-only"
DROPPED_TAGS = {SOLUTION_ONLY_TAG, CI_ONLY_TAG}
HANDLER_FILE_TAG = "handler-file"
WRITEFILE = re.compile(r"^%%writefile\s+\{lesson\.build_dir\}/(?P<name>[A-Za-z_][A-Za-z0-9_]*\.py)\s*$")
REGENERATE_HINT = "run `make lessons` to regenerate lessons/ and kinesis_course/handler_steps/ from solutions/"

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


def solved(source: str) -> str:
    """One cell's source with the solution markers removed and the answers kept."""
    return "\n".join(line for line in source.split("\n") if not (BEGIN.match(line) or END.match(line)))


def handler_files(notebook: nbformat.NotebookNode, name: str = "<notebook>") -> dict[str, str]:
    """{file name: solved text} of the cells tagged `handler-file`, in the order the notebook writes them."""
    files = {}
    for index, cell in enumerate(notebook.cells):
        if HANDLER_FILE_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        first, _, body = cell.source.partition("\n")
        match = WRITEFILE.match(first) if cell.cell_type == "code" else None
        if not match:
            raise MarkerError(
                f"{name}, cell {index}: a cell tagged {HANDLER_FILE_TAG!r} must start with "
                f"`%%writefile {{lesson.build_dir}}/NAME.py`, got {first.strip()!r}"
            )
        strip_solutions(cell.source, f"{name}, cell {index}")  # the same marker errors as for the lesson
        files[match["name"]] = solved(body).rstrip("\n") + "\n"
    return files


def generate_lesson(notebook: nbformat.NotebookNode, name: str = "<notebook>") -> nbformat.NotebookNode:
    """Return the lesson for one solution notebook (the input is not modified)."""
    lesson = copy.deepcopy(notebook)
    cells = []
    for index, cell in enumerate(notebook.cells):
        if DROPPED_TAGS & set(cell.get("metadata", {}).get("tags", [])):
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


def steps_beside(lessons: Path) -> Path:
    """Where the handler steps of a course whose lessons are in `lessons` go."""
    return lessons.parent / "kinesis_course" / "handler_steps"


HANDLER_STEPS = steps_beside(LESSONS)


def expected_handler_steps(solutions: Path = SOLUTIONS, steps: Path = HANDLER_STEPS) -> dict[Path, str]:
    """The text of every handler file each solution writes, keyed by steps/lessonNN/NAME.py."""
    expected = {}
    for source in sorted(solutions.glob("*.ipynb")):
        notebook = nbformat.read(source, as_version=nbformat.NO_CONVERT)
        number = source.name.split("-", 1)[0]
        for file_name, text in handler_files(notebook, display(source)).items():
            expected[steps / f"lesson{number}" / file_name] = text
    return expected


def generated(solutions: Path, lessons: Path, steps: Path) -> dict[Path, str]:
    return {**expected_lessons(solutions, lessons), **expected_handler_steps(solutions, steps)}


def existing(lessons: Path, steps: Path) -> set[Path]:
    return set(lessons.glob("*.ipynb")) | set(steps.glob("lesson*/*.py"))


def out_of_date(solutions: Path = SOLUTIONS, lessons: Path = LESSONS, steps: Path | None = None) -> list[str]:
    """One line per lesson or handler step that is missing, differs from what the generator writes, or has no source."""
    steps = steps or steps_beside(lessons)
    expected = generated(solutions, lessons, steps)
    problems = []
    for path, text in expected.items():
        if not path.exists():
            problems.append(f"missing: {display(path)}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"differs: {display(path)}")
    for path in sorted(existing(lessons, steps) - set(expected)):
        problems.append(f"extra:   {display(path)} (no solution writes it)")
    return problems


def out_of_date_message(problems: list[str]) -> str:
    return "lessons/ is out of date:\n" + "".join(f"  {p}\n" for p in problems) + REGENERATE_HINT


def write_lessons(solutions: Path = SOLUTIONS, lessons: Path = LESSONS, steps: Path | None = None) -> None:
    steps = steps or steps_beside(lessons)
    expected = generated(solutions, lessons, steps)  # all of it first: a marker error writes nothing
    for path, text in expected.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {display(path)}")
    # Both folders are generated: what no solution produces any more must go too.
    for path in sorted(existing(lessons, steps) - set(expected)):
        path.unlink()
        print(f"removed {display(path)} (no solution writes it)")
    notebooks = sum(1 for path in expected if path.suffix == ".ipynb")
    print(f"lessons/ and handler_steps/ are up to date ({notebooks} notebooks, {len(expected) - notebooks} handler files)")


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
            write_lessons(SOLUTIONS, LESSONS, HANDLER_STEPS)
            return 0
        problems = out_of_date(SOLUTIONS, LESSONS, HANDLER_STEPS)
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
