"""What the tests share about optional tools: a learner may lack them, CI must not.

A test that needs something a learner's machine may not have (Chromium, actionlint, a LocalStack service)
calls `missing_tool(reason)` when it is absent. On a learner's machine the test is skipped, and pytest's
summary (`-ra`) shows the one-line reason; where `CI` is set (GitHub Actions and most CI services set
CI=true; `.ci/run` sets it too) the test fails with the same reason, so that CI never passes by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NoReturn

import pytest


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _missing_tool(reason: str) -> NoReturn:
    __tracebackhide__ = True  # pytest's summary names the test that lacks the tool, not this line
    if running_in_ci():
        pytest.fail(f"{reason} [CI is set: CI must provide it, so this fails rather than skips]", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def missing_tool() -> Callable[[str], NoReturn]:
    """missing_tool(reason): skip on a learner's machine, fail in CI."""
    return _missing_tool
