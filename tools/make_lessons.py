"""Generate the learners' notebooks (lessons/) from the maintained ones (solutions/).

    python tools/make_lessons.py            write lessons/NN-name.ipynb for every solutions/NN-name.ipynb
    python tools/make_lessons.py --check    write nothing; exit 1 if lessons/ is out of date
    python tools/make_lessons.py --force    also overwrite lessons you edited (each copy is kept, renamed)
    python tools/make_lessons.py --fresh 03 a fresh lessons/03-*.ipynb; your copy is kept, renamed

A learner's work is theirs: a lesson whose text is neither git's committed copy nor what this script last wrote
(recorded in .state/generated-lessons/) has been edited, and is not overwritten or removed without --force; even
then, and with --fresh, the learner's copy is moved aside as NN-name.yours-YYYYmmdd-HHMMSS.ipynb, never deleted.

solutions/ is the single source (as in nbgrader or the scikit-learn MOOC): a maintainer edits and runs
only the solution notebooks, and this script derives the lessons from them:

* In code cells, every block from a line `# BEGIN SOLUTION: <label>` through the next `# END SOLUTION`
  becomes one line at the BEGIN marker's indentation:
      raise NotImplementedError("<label>: replace this line with your solution")
  Plain line matching, so it works the same in function bodies and in `%%writefile` cells.
* A line that assigns a prediction and ends with a `# PREDICT: <what to write>` comment keeps its name and comment
  and loses its value, which becomes `...`: nothing predicted yet (kinesis_course/predictions.py).
* Cells tagged `solution-only` (answers shown only in solutions/) or `ci-only` (assertions and other test
  machinery that nbval needs and a learner should not see) are dropped.
* Outputs and execution counts are cleared; cell ids, tags and the notebook's metadata are kept.

It also writes the handler the course grows (kinesis_course/handler_steps/): every cell tagged
`handler-file` starts with `%%writefile {lesson.build_dir}/NAME.py`; the rest of the cell, solved (markers
removed, answers kept), becomes handler_steps/lessonNN/NAME.py, and handler_steps/exercises.json says which
exercises (`# BEGIN SOLUTION: Exercise NN.M`) each file holds. The next lesson starts from the learner's own files
when every check of their exercises passed, from those files otherwise (`Lesson.start()` copies them into its
build folder), so no notebook keeps a copy of an earlier lesson's code.

The output is byte-for-byte deterministic, so `--check` (and tests/unit/course/test_generator.py)
can tell whether someone edited a lesson by hand or forgot to regenerate.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
LESSONS = ROOT / "lessons"

SOLUTION_ONLY_TAG = "solution-only"
CI_ONLY_TAG = "ci-only"
DROPPED_TAGS = {SOLUTION_ONLY_TAG, CI_ONLY_TAG}
HANDLER_FILE_TAG = "handler-file"
EXERCISE_INDEX = "exercises.json"
WRITEFILE = re.compile(r"^%%writefile\s+\{lesson\.build_dir\}/(?P<name>[A-Za-z_][A-Za-z0-9_]*\.py)\s*$")
REGENERATE_HINT = "run `make lessons` to regenerate lessons/ and kinesis_course/handler_steps/ from solutions/"

# Markers are whole comment lines; the label is whatever follows the colon.
BEGIN = re.compile(r"^(?P<indent>[ \t]*)#[ \t]*BEGIN SOLUTION\b(?P<rest>.*)$")
END = re.compile(r"^[ \t]*#[ \t]*END SOLUTION\b")
# `name = value  # PREDICT: what to write`: the learner's copy says `name = ...` (kinesis_course/predictions.py).
PREDICTION = re.compile(
    r"^(?P<head>[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*=[ \t]*)(?P<value>.*?)(?P<comment>[ \t]*#[ \t]*PREDICT:.*)$"
)
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


def without_predictions(source: str) -> str:
    """One cell's source with the value of every `# PREDICT:` line replaced by `...` (the learner predicts)."""
    return "\n".join(PREDICTION.sub(r"\g<head>...\g<comment>", line) for line in source.split("\n"))


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
            cell.source = without_predictions(strip_solutions(cell.source, where))
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


def handler_exercises(notebook: nbformat.NotebookNode) -> dict[str, list[str]]:
    """{file name: labels of the exercises in it} of the cells tagged `handler-file` (the last cell per file wins,
    as in handler_files); a file the lesson gives whole has an empty list."""
    exercises = {}
    for cell in notebook.cells:
        if HANDLER_FILE_TAG in cell.get("metadata", {}).get("tags", []):
            match = WRITEFILE.match(cell.source.partition("\n")[0])
            if match:
                exercises[match["name"]] = [
                    begin["rest"].strip()[1:].strip() for begin in map(BEGIN.match, cell.source.split("\n")) if begin
                ]
    return exercises


def expected_exercise_index(solutions: Path = SOLUTIONS, steps: Path = HANDLER_STEPS) -> dict[Path, str]:
    """steps/exercises.json: which exercise lives in which handler file, per lesson. Lesson.start() reads it to
    tell whether every check of a learner's file passed (kinesis_course/own_handler.py)."""
    index = {}
    for source in sorted(solutions.glob("*.ipynb")):
        exercises = handler_exercises(nbformat.read(source, as_version=nbformat.NO_CONVERT))
        if exercises:
            index[source.name.split("-", 1)[0]] = dict(sorted(exercises.items()))
    if not index:
        return {}
    return {steps / EXERCISE_INDEX: json.dumps(index, indent=1, sort_keys=True, ensure_ascii=False) + "\n"}


def generated(solutions: Path, lessons: Path, steps: Path) -> dict[Path, str]:
    return {
        **expected_lessons(solutions, lessons),
        **expected_handler_steps(solutions, steps),
        **expected_exercise_index(solutions, steps),
    }


def existing(lessons: Path, steps: Path) -> set[Path]:
    return set(lessons.glob("*.ipynb")) | set(steps.glob("lesson*/*.py")) | set(steps.glob(EXERCISE_INDEX))


def committed_text(path: Path) -> str | None:
    """`path`'s text in git's HEAD commit; None when git does not track it there (or this is no git checkout)."""
    try:
        result = subprocess.run(
            ["git", "-C", str(path.parent), "show", f"HEAD:./{path.name}"],
            capture_output=True,
            check=False,
        )
    except (FileNotFoundError, NotADirectoryError):
        return None
    return result.stdout.decode("utf-8") if result.returncode == 0 else None


def _record(path: Path) -> Path:
    """Where the hash of the text this script last wrote to a lesson is kept (one file per lesson: no races)."""
    return path.parent.parent / ".state" / "generated-lessons" / f"{path.name}.sha256"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def remember_generated(path: Path, text: str) -> None:
    record = _record(path)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(_digest(text) + "\n")


def generated_by_us(path: Path, text: str) -> bool:
    """True when `text` is git's committed copy of `path` or what this script last wrote there: nobody edited it."""
    try:
        if _record(path).read_text().strip() == _digest(text):
            return True
    except OSError:
        pass
    return committed_text(path) == text


def edited_lessons(expected: dict[Path, str], lessons: Path) -> list[Path]:
    """Lessons that differ from what the generator writes now and that someone (a learner) edited."""
    edited = []
    for path, text in expected.items():
        if path.suffix == ".ipynb" and path.exists():
            current = path.read_text(encoding="utf-8")
            if current != text and not generated_by_us(path, current):
                edited.append(path)
    return edited


def own_notebooks(lessons: Path, expected: dict[Path, str]) -> list[Path]:
    """Notebooks in lessons/ that no solution writes and that the generator never wrote: the learner's own."""
    return [
        path
        for path in sorted(lessons.glob("*.ipynb"))
        if path not in expected and not generated_by_us(path, path.read_text(encoding="utf-8"))
    ]


def keep_aside(path: Path) -> Path:
    """Renames a learner's lesson to NN-name.yours-YYYYmmdd-HHMMSS.ipynb beside it; returns the new path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.yours-{stamp}{path.suffix}")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.stem}.yours-{stamp}-{counter}{path.suffix}")
    path.rename(target)
    return target


def out_of_date(
    solutions: Path = SOLUTIONS, lessons: Path = LESSONS, steps: Path | None = None, accept_committed: bool = False
) -> list[str]:
    """One line per lesson or handler step that is missing, differs from what the generator writes, or has no source.

    With accept_committed, a lesson also counts as up to date when git's committed copy is what the generator
    writes: a learner's edits to their working copy are theirs, and the course as committed is still in sync.
    """
    steps = steps or steps_beside(lessons)
    expected = generated(solutions, lessons, steps)
    problems = []
    for path, text in expected.items():
        if accept_committed and path.suffix == ".ipynb" and committed_text(path) == text:
            continue
        if not path.exists():
            problems.append(f"missing: {display(path)}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"differs: {display(path)}")
    ignored = set(own_notebooks(lessons, expected)) if accept_committed else set()
    for path in sorted(existing(lessons, steps) - set(expected) - ignored):
        problems.append(f"extra:   {display(path)} (no solution writes it)")
    return problems


def out_of_date_message(problems: list[str]) -> str:
    return "lessons/ is out of date:\n" + "".join(f"  {p}\n" for p in problems) + REGENERATE_HINT


def write_lessons(
    solutions: Path = SOLUTIONS, lessons: Path = LESSONS, steps: Path | None = None, force: bool = False
) -> list[Path]:
    """Writes every lesson and handler step that changed; returns the edited lessons it left alone (none with force).

    With force, each edited lesson is first moved aside (keep_aside), then written fresh.
    """
    steps = steps or steps_beside(lessons)
    expected = generated(solutions, lessons, steps)  # all of it first: a marker error writes nothing
    edited = edited_lessons(expected, lessons)
    if force:
        for path in edited:
            print(f"kept your copy of {display(path)} as {display(keep_aside(path))}")
        edited = []
    for path, text in expected.items():
        if path in edited:
            continue
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {display(path)}")
        if path.suffix == ".ipynb":
            remember_generated(path, text)
    # Both folders are generated: what no solution produces any more must go too (but not a learner's own notebook).
    own = set(own_notebooks(lessons, expected))
    for path in sorted(existing(lessons, steps) - set(expected) - own):
        path.unlink()
        print(f"removed {display(path)} (no solution writes it)")
    notebooks = sum(1 for path in expected if path.suffix == ".ipynb")
    if edited:
        print(
            "Left alone, because you edited them (your work is yours):\n"
            + "".join(f"  {display(path)}\n" for path in edited)
            + "To get a fresh copy of one lesson: make fresh L=NN (yours is kept, renamed). "
            "To regenerate them all: make lessons FORCE=1 (each of yours is kept, renamed).",
            file=sys.stderr,
        )
    else:
        handler_files_count = sum(1 for path in expected if path.suffix == ".py")
        print(
            f"lessons/ and handler_steps/ are up to date ({notebooks} notebooks, {handler_files_count} handler files)"
        )
    return edited


def fresh_lesson(number: str, solutions: Path = SOLUTIONS, lessons: Path = LESSONS) -> Path:
    """Writes a fresh lessons/NUMBER-*.ipynb; a copy that differs from it is moved aside first, never deleted."""
    sources = sorted(solutions.glob(f"{number}-*.ipynb"))
    if len(sources) != 1:
        known = ", ".join(path.name.split("-", 1)[0] for path in sorted(solutions.glob("*.ipynb")))
        raise SystemExit(f"error: no single lesson numbered {number!r}; the lessons are {known}")
    source = sources[0]
    path = lessons / source.name
    text = to_text(generate_lesson(nbformat.read(source, as_version=nbformat.NO_CONVERT), display(source)))
    if path.exists() and path.read_text(encoding="utf-8") != text:
        print(f"kept your copy of {display(path)} as {display(keep_aside(path))}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    remember_generated(path, text)
    print(f"wrote a fresh {display(path)}")
    return path


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if lessons/ is out of date")
    parser.add_argument("--force", action="store_true", help="also regenerate lessons you edited (kept, renamed)")
    parser.add_argument("--fresh", metavar="NN", help="write a fresh copy of lesson NN only (yours is kept, renamed)")
    args = parser.parse_args(argv)
    try:
        if args.fresh:
            fresh_lesson(args.fresh, SOLUTIONS, LESSONS)
            return 0
        if not args.check:
            return 1 if write_lessons(SOLUTIONS, LESSONS, steps_beside(LESSONS), force=args.force) else 0
        problems = out_of_date(SOLUTIONS, LESSONS, steps_beside(LESSONS), accept_committed=True)
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
