"""kinesis_course/predictions.py: a prediction is compared and explained, never graded."""

from __future__ import annotations

import pytest

from kinesis_course.predictions import AS_PREDICTED, DIFFERENT, NOT_MADE, compare, outcome


@pytest.mark.parametrize(
    "predicted, observed, expected",
    [
        (9, 9, AS_PREDICTED),
        (5, 9, DIFFERENT),
        (..., 9, NOT_MADE),
        (None, 9, NOT_MADE),
        ("  R-05 ", "r-05", AS_PREDICTED),  # case and spaces do not matter in a word
        ("r-04", "r-05", DIFFERENT),
        ({"r-06", "r-05"}, {"r-05", "r-06"}, AS_PREDICTED),
        (["r-05", "r-06"], ["r-06", "r-05"], DIFFERENT),  # a list's order does
        ("nine", 9, DIFFERENT),
    ],
)
def test_outcome(predicted, observed, expected):
    assert outcome(predicted, observed) == expected


def test_a_tolerance_replaces_equality_and_a_word_for_a_number_is_different_not_an_error():
    def within_a_second(p, o):
        return abs(p - o) <= 1000

    assert outcome(1500, 2200, within_a_second) == AS_PREDICTED
    assert outcome(500, 2200, within_a_second) == DIFFERENT
    assert outcome("soon", 2200, within_a_second) == DIFFERENT


def test_compare_prints_the_line_make_check_reads_and_always_the_explanation(capsys):
    assert compare("06.A", 5, 9, why="the halves that hold the poison fail too") is None  # no Out[] in a notebook
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "◇ Prediction 06.A: different. Observed 9; you predicted 5.",
        "  Why: the halves that hold the poison fail too",
    ]
    compare("06.A", ..., 9, why="w")
    assert capsys.readouterr().out.startswith("· Prediction 06.A: not made. Observed 9; no prediction made")
