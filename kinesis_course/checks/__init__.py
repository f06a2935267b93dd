"""What every exercise check shares: two exceptions and the helpers that raise them.

A check calls the learner's code. If the code still raises the stub's NotImplementedError, the check raises
``ExerciseNotSolved``; if it returns the wrong thing, ``ExerciseCheckFailed`` says what was expected, what
came back, and gives a hint; when the learner's code raised inside a handler file carried from an earlier lesson,
it names that file and lesson too. Cases a check draws afresh on every run (so that no answer can fit them only)
come from a seed that a failure names; KC_CHECK_SEED=<seed> draws the same cases again. A pass is recorded (kinesis_course/own_handler.py), so that the next lesson
starts from the learner's own handler files. Lesson-specific checks live in ``checks.lessonNN``.
"""

from __future__ import annotations

import os
import random
import secrets
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import own_handler


class ExerciseNotSolved(Exception):
    """The exercise still holds its stub."""


class ExerciseCheckFailed(AssertionError):
    """The exercise runs but gives a wrong answer.

    When the learner's error it was raised from (its ``__cause__``) came out of a handler file carried from an
    earlier lesson, the message ends with a sentence naming that file and lesson (own_handler.carried_origin).
    """

    def __init__(self, *args) -> None:
        super().__init__(*args)
        # The seed of the fresh cases this exercise's check drew, if the failure is that check's.
        label_and_seed = _fresh_cases
        message = str(args[0]) if args else ""
        self._seed = label_and_seed[1] if label_and_seed and message.startswith(label_and_seed[0]) else None

    def __str__(self) -> str:
        text = super().__str__()
        if not hasattr(self, "_carried"):
            self._carried = own_handler.carried_origin(self.__cause__) if self.__cause__ is not None else ""
        if getattr(self, "_seed", None) is not None and "KC_CHECK_SEED" not in text:
            again = (
                f"(This check's fresh cases were drawn with seed {self._seed}: run "
                f"`%env {SEED_VARIABLE}={self._seed}` first, or `{SEED_VARIABLE}={self._seed} make check`, "
                "to draw the same ones again.)"
            )
            head, separator, hint = text.partition("\nHint:")
            text = f"{head}\n{again}{separator}{hint}"
        return f"{text}\n{self._carried}" if self._carried else text


SEED_VARIABLE = "KC_CHECK_SEED"
_fresh_cases: tuple[str, int] | None = None  # (exercise label, seed) of the latest fresh_random


def fresh_random(label: str) -> random.Random:
    """The random source of a check's fresh cases: another seed on every run, unless KC_CHECK_SEED sets it."""
    global _fresh_cases
    chosen = os.environ.get(SEED_VARIABLE, "").strip()
    seed = int(chosen) if chosen.isdigit() else secrets.randbits(32)
    _fresh_cases = (label, seed)
    return random.Random(seed)


_KIT = str(Path(__file__).resolve().parent.parent)


def _show_without_internals(shell, etype, value, tb, tb_offset=None):
    """IPython's handler for the two exceptions above: the check's message and hint, not the kit's frames.

    The cell still ends in an error (its ename stays ExerciseNotSolved or ExerciseCheckFailed, so "Run All"
    stops there and tools can tell which it was); only the traceback the learner reads is shortened.
    An error the learner's own code raised inside a check is chained as __cause__ and named in the message.
    """
    structured = [f"\x1b[0;31m{etype.__name__}\x1b[0m: {value}"]
    cause = value.__cause__
    if cause is not None and cause.__traceback__ is not None:
        # Where the learner's own code failed, without the check's frames around it.
        own = [frame for frame in traceback.extract_tb(cause.__traceback__) if not frame.filename.startswith(_KIT)]
        if own:
            structured.append("Where your code raised it:\n" + "".join(traceback.format_list(own)).rstrip())
    shell._showtraceback(etype, value, structured)
    return structured


def _install_learner_display() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((ExerciseNotSolved, ExerciseCheckFailed), _show_without_internals)


_install_learner_display()


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
            f"{_carried_from(error)}"
        ) from None
    raise ExerciseCheckFailed(
        f"{label}: expected {exception.__name__} for {args!r}, but nothing was raised.\nHint: {hint}"
    )


def _carried_from(error: BaseException) -> str:
    sentence = own_handler.carried_origin(error)
    return f"\n{sentence}" if sentence else ""


def passed(label: str, detail: str = "") -> None:
    own_handler.record_pass(label)
    print(f"✔ {label} passed{': ' + detail if detail else ''}")


def stretch(label: str, check: Callable, *args, **kwargs) -> None:
    """Runs the check of an optional stretch exercise: its untouched stub is "not attempted", never an error, so
    "Run All" goes on; a wrong attempt fails as any check does, with its message and hint. `make check` lists
    stretches apart (tools/check_my_work.py reads the line printed here)."""
    try:
        check(*args, **kwargs)
    except ExerciseNotSolved:
        print(f"· {label} (optional) not attempted: when you want more, replace its stub and run this cell again.")
