"""The unsolved lesson's branch inside a solution's nbval run (tests/course/unsolved_lessons.py): what it accepts and
what it rejects, on a real kernel with small cells (no LocalStack)."""

from __future__ import annotations

import pytest
from nbval.kernel import RunningKernel
from unsolved_lessons import Branch, _execute, run_branch

PRELUDE = "class ExerciseNotSolved(Exception): pass"
STUB = "def answer():\n    raise NotImplementedError('Exercise 99.1: replace this line with your solution')"
CHECK = "try:\n    answer()\nexcept NotImplementedError as error:\n    raise ExerciseNotSolved(str(error)) from None"


@pytest.fixture(scope="module")
def kernel():
    running = RunningKernel("python3")
    yield running
    running.stop()


def run(kernel, cells, predictions=()):
    assert _execute(kernel, PRELUDE, 30) is None
    return run_branch(kernel, Branch("x", list(predictions), cells, "cell 9 ('check')"), 30)


def test_a_lesson_that_stops_at_its_check_with_exercise_not_solved_passes(kernel):
    assert run(kernel, [STUB, CHECK]) is None


def test_a_check_that_passes_on_the_stub_is_reported(kernel):
    assert "passed: does it really call the learner's code?" in run(kernel, [STUB, "answer"])


def test_a_stub_that_fires_before_the_check_is_reported(kernel):
    problem = run(kernel, ["raise NotImplementedError('Exercise 99.1: at top level')", CHECK])
    assert "failed before its first check" in problem and "NotImplementedError" in problem


def test_a_check_that_fails_with_another_error_is_reported(kernel):
    problem = run(kernel, [STUB, "answer()"])
    assert "failed with NotImplementedError" in problem and "not ExerciseNotSolved" in problem


def test_the_lesson_runs_with_no_prediction_and_the_solution_gets_its_own_back(kernel):
    predictions = [("guess = ...  # PREDICT: a word", "guess = 'solution\\'s'  # PREDICT: a word")]
    seen = run(kernel, [STUB, "assert guess is ..., guess\n" + CHECK], predictions)
    assert seen is None
    assert _execute(kernel, 'assert guess == "solution\'s", guess', 30) is None
