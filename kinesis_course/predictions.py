"""Predict, then run: a learner writes down what an experiment will show before it runs, then compares.

A prediction cell holds one assignment whose line ends with a ``# PREDICT: <what to write>`` comment. In solutions/
it holds the answer; tools/make_lessons.py turns its value into ``...`` for the learner (nothing predicted yet).
After the experiment, ``compare`` prints one line that says what was predicted and what was observed, then why.
A wrong prediction, or none, is never a failure: the cell does not raise, "Run All" goes on, and `make check`
lists predictions apart from the exercises (tools/check_my_work.py reads the line this module prints).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The line `make check` reads (tools/check_my_work.py PREDICTION_LINE): keep its shape.
AS_PREDICTED, DIFFERENT, NOT_MADE = "as predicted", "different", "not made"


def _normal(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.lower().split())
    if isinstance(value, (list, tuple)):
        return [_normal(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_normal(item) for item in value)
    return value


def outcome(predicted: Any, observed: Any, matches: Callable[[Any, Any], bool] | None = None) -> str:
    """AS_PREDICTED, DIFFERENT or NOT_MADE. Strings compare without case or extra spaces; ``matches`` (a function
    of the prediction and the observation) replaces equality where a range or a tolerance is fair."""
    if predicted is ... or predicted is None:
        return NOT_MADE
    if matches is not None:
        try:
            return AS_PREDICTED if matches(predicted, observed) else DIFFERENT
        except (TypeError, ValueError):
            return DIFFERENT  # e.g. a word where a number was asked for
    return AS_PREDICTED if _normal(predicted) == _normal(observed) else DIFFERENT


def compare(
    label: str, predicted: Any, observed: Any, *, why: str, matches: Callable[[Any, Any], bool] | None = None
) -> None:
    """Prints the prediction against the observation, then ``why`` (the explanation, whatever the prediction was).
    Returns nothing, so a notebook cell shows the two lines only. Never raises: predicting is for learning, not
    for grading."""
    result = outcome(predicted, observed, matches)
    if result == NOT_MADE:
        said = "no prediction made (write yours in the prediction cell, then run it and this cell again)"
    else:
        said = f"you predicted {predicted!r}"
    mark = {AS_PREDICTED: "◆", DIFFERENT: "◇", NOT_MADE: "·"}[result]
    print(f"{mark} Prediction {label}: {result}. Observed {observed!r}; {said}.")
    print(f"  Why: {why}")
