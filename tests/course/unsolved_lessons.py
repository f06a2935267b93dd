"""An unsolved lesson, as `make lessons` generates it, and where its run parts from its solution's.

An unsolved lesson must run cleanly up to its first cell tagged `exercise-check`, and that cell must fail with
`ExerciseNotSolved`. Until the lesson's cells part from the solution's, both run the same code: so the proof can
be made inside nbval's run of the solution, at the cell where they part, in the solution's kernel, instead of
running the same set-up again in a new kernel (tests/course/test_unsolved_lessons.py does that for the lessons where
this is not possible). `branch()` says for which lessons it is, and what to run:

* ``predictions``: cells before the parting whose only difference is a prediction's value (`name = ...  #
  PREDICT:`). The lesson's version runs first, so the lesson runs with no prediction made, as a learner's does;
  then the solution's version again, so the solution goes on with its own. Allowed only when no cell between them
  and the parting reads a predicted name (that cell would have run with the solution's value).
* ``cells``: the lesson's cells from the parting to its first check. Allowed only when each is an exercise cell
  (it holds a `# BEGIN SOLUTION` block) or the check itself: the solution runs its own version of each right after,
  so the branch leaves no trace (a cell of other code could, e.g. put records twice, and is not branched).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
CHECK_TAG = "exercise-check"
EXPECTED_ENAME = "ExerciseNotSolved"
PREDICTION = re.compile(r"#\s*PREDICT:")
ASSIGNED = re.compile(r"^[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*=", re.MULTILINE)


def generated_lesson(solution: Path):
    """The lesson as `make lessons` would write it from this solution (a fresh notebook object each call)."""
    import make_lessons  # tools/, on pytest's pythonpath (pyproject.toml)

    notebook = nbformat.read(solution, as_version=nbformat.NO_CONVERT)
    return nbformat.reads(make_lessons.to_text(make_lessons.generate_lesson(notebook, str(solution))), as_version=4)


def check_cells(notebook) -> list[int]:
    return [i for i, cell in enumerate(notebook.cells) if CHECK_TAG in cell.get("metadata", {}).get("tags", [])]


def describe(notebook, index: int) -> str:
    first_line = notebook.cells[index].source.strip().split("\n")[0][:80]
    return f"cell {index} ({first_line!r})"


@dataclass(frozen=True)
class Branch:
    """Where a lesson parts from its solution, and the lesson's cells to run there (see the module's docstring)."""

    parting_id: str  # the id of the solution's cell before which the branch runs
    predictions: list[tuple[str, str]]  # (the lesson's source, the solution's source) of each prediction cell
    cells: list[str]  # the lesson's sources from the parting through its first check (the last)
    check: str  # describe() of the lesson's first check, for messages


@functools.cache
def branch(solution: Path) -> Branch | None:
    """The branch of this solution's lesson, or None where it must run on its own (see the module's docstring).
    Computed once per process: the root conftest.py asks at every cell of a solution."""
    notebook = nbformat.read(solution, as_version=4)
    lesson = generated_lesson(solution)
    checks = check_cells(lesson)
    if not checks:
        return None
    check_id = lesson.cells[checks[0]].get("id")
    in_lesson = {cell.get("id"): cell for cell in lesson.cells}
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    predictions, parting = [], None
    for index, cell in enumerate(code):
        twin = in_lesson.get(cell.get("id"))
        if twin is not None and twin.source == cell.source and cell.get("id") != check_id:
            continue
        only_a_prediction = twin is not None and PREDICTION.search(cell.source) and "BEGIN SOLUTION" not in cell.source
        if only_a_prediction and cell.get("id") != check_id:
            predictions.append((index, twin.source, cell.source))
            continue
        parting = index
        break
    if parting is None:
        return None
    names = {name for _, lesson_source, _ in predictions for name in ASSIGNED.findall(lesson_source)}
    predicted_at = {index for index, _, _ in predictions}
    first_prediction = min(predicted_at, default=parting)
    for index in range(first_prediction, parting):
        if index not in predicted_at and any(
            re.search(rf"\b{re.escape(name)}\b", code[index].source) for name in names
        ):
            return None
    cells = []
    for cell in code[parting:]:
        twin = in_lesson.get(cell.get("id"))
        if cell.get("id") == check_id:
            cells.append(twin.source)
            break
        if twin is None or "BEGIN SOLUTION" not in cell.source:
            return None
        cells.append(twin.source)
    return Branch(
        parting_id=code[parting].get("id"),
        predictions=[(lesson_source, solution_source) for _, lesson_source, solution_source in predictions],
        cells=cells,
        check=describe(lesson, checks[0]),
    )


def run_branch(kernel, branch: Branch, timeout: float) -> str | None:
    """Runs the branch in nbval's kernel (nbval.kernel.RunningKernel); returns what went wrong, None when the lesson
    stopped at its first check with ExerciseNotSolved. The solution's predictions are restored in every case."""
    try:
        for lesson_source, _ in branch.predictions:
            if (error := _execute(kernel, lesson_source, timeout)) is not None:
                return f"the lesson's prediction cell {lesson_source.splitlines()[0]!r} failed: {error}"
        for position, source in enumerate(branch.cells):
            error = _execute(kernel, source, timeout)
            last = position == len(branch.cells) - 1
            if not last and error is not None:
                return f"the lesson failed before its first check, in {source.splitlines()[0]!r}: {error}"
            if last and error is None:
                return f"the lesson's first check, {branch.check}, passed: does it really call the learner's code?"
            if last and not error.startswith(f"{EXPECTED_ENAME}:"):
                return f"the lesson's first check, {branch.check}, failed with {error}, not {EXPECTED_ENAME}"
        return None
    finally:
        for _, solution_source in branch.predictions:
            _execute(kernel, solution_source, timeout)


def _execute(kernel, source: str, timeout: float) -> str | None:
    """Runs one cell's source; returns "ename: evalue" when it raised, None otherwise."""
    msg_id = kernel.kc.execute(source, store_history=False, allow_stdin=False, stop_on_error=False)
    while True:
        reply = kernel.kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    kernel.await_idle(msg_id, timeout)  # its outputs are not nbval's to compare
    content = reply["content"]
    if content["status"] == "ok":
        return None
    return f"{content.get('ename')}: {content.get('evalue')}"
