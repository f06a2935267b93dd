"""Bounded polling: every wait in the course ends, with a message that says what did not happen."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# The first retry comes after FIRST_PAUSE_S, each later one after GROWTH times the one before, up to the caller's
# interval: most awaited events (a stream ACTIVE, a function ready, a log line) happen within tens of milliseconds
# on LocalStack, and a fixed 0.2-0.5 s between tries overshot every one of them by half that on average.
FIRST_PAUSE_S = 0.02
GROWTH = 1.5


class WaitTimeout(TimeoutError):
    pass


def pauses(interval: float):
    """The pauses between tries: FIRST_PAUSE_S, growing by GROWTH, never above ``interval``."""
    pause = min(FIRST_PAUSE_S, interval)
    while True:
        yield pause
        pause = min(pause * GROWTH, interval)


def wait_until(condition: Callable[[], T], *, timeout: float, what: str, interval: float = 0.2) -> T:
    """Calls ``condition`` until it returns something truthy, and returns that; raises after ``timeout`` seconds.

    ``interval`` is the longest pause between two tries (the first ones are shorter: see FIRST_PAUSE_S)."""
    deadline = time.monotonic() + timeout
    for pause in pauses(interval):
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"Waited {timeout:g}s for {what}, and it did not happen.")
        time.sleep(pause)
    raise AssertionError("unreachable")  # pauses() never ends
