"""Run every lesson as a learner who has not solved anything yet would.

Each lesson must run cleanly up to its first cell tagged `exercise-check`, and that cell must fail with
`ExerciseNotSolved` (raised by kinesis_course.checks when it meets the stub's NotImplementedError).
This catches lessons that break before the learner reaches an exercise, checks that pass on the stub,
and exercises whose stub fires too early (e.g. at top level instead of inside a function or handler).

Where a lesson parts from its solution only in its exercise cells, this is proved inside nbval's run of the
solution, at the cell where they part (tests/course/unsolved_lessons.py, the root conftest.py): the set-up before it
is the same code, and runs once. The other lessons run here, each in a new kernel. The lessons tested are the ones
tools/make_lessons.py generates from solutions/ now (in memory), not the notebooks in lessons/: those are the
learner's, and may be solved or edited (tests/unit/course/test_generator.py checks that the committed lessons/ is
what the generator writes). They run in a folder named lessons/ under tmp_path, as in JupyterLab but with a build
folder of their own: a learner's handler files in build/lessons/ are theirs, and a stub must never overwrite them.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from unsolved_lessons import CHECK_TAG, EXPECTED_ENAME, SOLUTIONS, branch, check_cells, describe, generated_lesson

HEALTH_URL = f"http://127.0.0.1:{os.environ.get('LOCALSTACK_PORT', '4566')}/_localstack/health"
CELL_TIMEOUT_S = 180

# One test id per lesson (named as in lessons/); with none, one skipped test that says why rather than a silent pass.
LESSON_PARAMS = [pytest.param(path, id=path.name) for path in sorted(SOLUTIONS.glob("*.ipynb"))] or [
    pytest.param(None, marks=pytest.mark.skip(reason="solutions/ has no notebooks yet"))
]
# The lessons that cannot be proved inside their solution's run (see tests/course/unsolved_lessons.py).
OWN_RUN_PARAMS = [
    pytest.param(path, id=path.name) for path in sorted(SOLUTIONS.glob("*.ipynb")) if branch(path) is None
] or [pytest.param(None, marks=pytest.mark.skip(reason="every lesson is proved inside its solution's run"))]


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


@pytest.mark.parametrize("path", LESSON_PARAMS)
def test_each_lesson_is_proved_in_its_solutions_run_or_in_its_own(path):
    """Every lesson is tested one way or the other; those proved inside their solution's run part from it only in
    exercise cells, their check the last cell of the branch."""
    found = branch(path)
    if found is None:
        assert path in [param.values[0] for param in OWN_RUN_PARAMS]
        return
    lesson = generated_lesson(path)
    assert found.check == describe(lesson, check_cells(lesson)[0])
    assert found.cells[-1] == lesson.cells[check_cells(lesson)[0]].source
    assert all("NotImplementedError" in source for source in found.cells[:-1]), found.cells
    assert all("= ..." in lesson_source and lesson_source != solution for lesson_source, solution in found.predictions)


@pytest.mark.localstack
@pytest.mark.parametrize("path", OWN_RUN_PARAMS)
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
