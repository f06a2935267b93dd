"""Run every lesson as a learner who has not solved anything yet would.

Each lesson must run cleanly up to its first cell tagged `exercise-check`, and that cell must fail with
`ExerciseNotSolved` (raised by kinesis_course.checks when it meets the stub's NotImplementedError).
This catches lessons that break before the learner reaches an exercise, checks that pass on the stub,
and exercises whose stub fires too early (e.g. at top level instead of inside a function or handler).

The lessons tested are the ones tools/make_lessons.py generates from solutions/ now (in memory), not the
notebooks in lessons/: those are the learner's, and may be solved or edited (tests/unit/course/test_generator.py
checks that the committed lessons/ is what the generator writes). They run in a folder named lessons/ under
tmp_path, as in JupyterLab but with a build folder of their own: a learner's handler files in build/lessons/ are
theirs, and a stub must never overwrite them.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
CHECK_TAG = "exercise-check"
EXPECTED_ENAME = "ExerciseNotSolved"
HEALTH_URL = f"http://127.0.0.1:{os.environ.get('LOCALSTACK_PORT', '4566')}/_localstack/health"
CELL_TIMEOUT_S = 180


def load_generator():
    spec = importlib.util.spec_from_file_location("make_lessons", ROOT / "tools" / "make_lessons.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def generated_lesson(solution: Path):
    """The lesson as `make lessons` would write it from this solution (a fresh notebook object each call)."""
    make_lessons = load_generator()
    notebook = nbformat.read(solution, as_version=nbformat.NO_CONVERT)
    return nbformat.reads(make_lessons.to_text(make_lessons.generate_lesson(notebook, str(solution))), as_version=4)


# One test id per lesson (named as in lessons/); with none, one skipped test that says why rather than a silent pass.
LESSON_PARAMS = [pytest.param(path, id=path.name) for path in sorted(SOLUTIONS.glob("*.ipynb"))] or [
    pytest.param(None, marks=pytest.mark.skip(reason="solutions/ has no notebooks yet"))
]


def check_cells(notebook) -> list[int]:
    return [i for i, cell in enumerate(notebook.cells) if CHECK_TAG in cell.get("metadata", {}).get("tags", [])]


def describe(notebook, index: int) -> str:
    first_line = notebook.cells[index].source.strip().split("\n")[0][:80]
    return f"cell {index} ({first_line!r})"


@pytest.fixture(scope="module")
def localstack():
    try:
        urllib.request.urlopen(HEALTH_URL, timeout=5).close()
    except (urllib.error.URLError, OSError) as error:
        pytest.fail(
            f"LocalStack is not reachable at {HEALTH_URL} ({error}): run the tests with tools/run_tests.sh, "
            "which starts it, or start it with `make up`"
        )


def run_until_first_error(notebook, cwd: Path) -> tuple[int, str, str] | None:
    """Execute cells in order as "Run All" would; return (cell index, ename, evalue) of the first error."""
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=CELL_TIMEOUT_S, resources={"metadata": {"path": str(cwd)}}
    )
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as error:
                return index, error.ename, error.evalue
    return None


@pytest.mark.parametrize("path", LESSON_PARAMS)
def test_lesson_has_an_exercise_check(path):
    notebook = generated_lesson(path)
    assert check_cells(notebook), (
        f"{path.name} has no cell tagged {CHECK_TAG!r}: tag the cell that checks the first exercise "
        f"in solutions/{path.name} and run `make lessons`"
    )


@pytest.mark.localstack
@pytest.mark.parametrize("path", LESSON_PARAMS)
def test_unsolved_lesson_stops_at_its_first_exercise_check(path, localstack, tmp_path):
    notebook = generated_lesson(path)
    checks = check_cells(notebook)
    assert checks, f"{path.name} has no cell tagged {CHECK_TAG!r}"
    expected = describe(notebook, checks[0])

    (tmp_path / "lessons").mkdir()
    failure = run_until_first_error(notebook, tmp_path / "lessons")

    assert failure is not None, (
        f"{path.name} ran without any error, but an unsolved lesson must stop at {expected} "
        f"with {EXPECTED_ENAME}: does the check really call the learner's code?"
    )
    index, ename, evalue = failure
    assert (index, ename) == (checks[0], EXPECTED_ENAME), (
        f"{path.name}: the first error was in {describe(notebook, index)}: {ename}: {evalue}\n"
        f"expected {expected} to be the first to fail, with {EXPECTED_ENAME}"
    )
