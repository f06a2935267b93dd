"""What every exercise check shares: two exceptions and the helpers that raise them.

A check calls the learner's code. If the code still raises the stub's NotImplementedError, the check raises
``ExerciseNotSolved``; if it returns the wrong thing, ``ExerciseCheckFailed`` says what was expected, what
came back, and gives a hint. Lesson-specific checks live in ``checks.lessonNN``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class ExerciseNotSolved(Exception):
    """The exercise still holds its stub."""


class ExerciseCheckFailed(AssertionError):
    """The exercise runs but gives a wrong answer."""


def call_exercise(label: str, function: Callable, *args, **kwargs) -> Any:
    """Calls the learner's function, turning the stub's NotImplementedError into ExerciseNotSolved."""
    try:
        return function(*args, **kwargs)
    except NotImplementedError as error:
        raise ExerciseNotSolved(
            f"{label} is not solved yet: {getattr(function, '__name__', 'your code')} still raises "
            f"NotImplementedError ({error}). Replace the `raise NotImplementedError(...)` line with your code, "
            "run that cell again, then this check."
        ) from None


def call_checked(label: str, function: Callable, *args, hint: str, shown_args: str | None = None) -> Any:
    """Like call_exercise, but any other exception becomes an ExerciseCheckFailed that says what happened."""
    try:
        return call_exercise(label, function, *args)
    except ExerciseNotSolved:
        raise
    except Exception as error:
        shown = shown_args if shown_args is not None else ", ".join(map(repr, args))
        raise ExerciseCheckFailed(
            f"{label}: {getattr(function, '__name__', 'your function')}({shown}) raised "
            f"{type(error).__name__}: {error}\nHint: {hint}"
        ) from error


def expect(label: str, condition: bool, *, expected: Any, got: Any, hint: str) -> None:
    if not condition:
        raise ExerciseCheckFailed(f"{label}: expected {expected!r}, got {got!r}.\nHint: {hint}")


def expect_equal(label: str, got: Any, expected: Any, hint: str) -> None:
    expect(label, got == expected, expected=expected, got=got, hint=hint)


def expect_raises(label: str, exception: type[BaseException], function: Callable, *args, hint: str) -> BaseException:
    """Checks that the learner's function rejects bad input with ``exception``; returns the raised error."""
    try:
        call_exercise(label, function, *args)
    except ExerciseNotSolved:
        raise
    except exception as error:
        return error
    except Exception as error:
        raise ExerciseCheckFailed(
            f"{label}: expected {exception.__name__} for {args!r}, got {type(error).__name__}: {error}.\nHint: {hint}"
        ) from None
    raise ExerciseCheckFailed(f"{label}: expected {exception.__name__} for {args!r}, but nothing was raised.\nHint: {hint}")


def passed(label: str, detail: str = "") -> None:
    print(f"✔ {label} passed{': ' + detail if detail else ''}")
