"""Fixtures for the engine's tests: LocalStack must run, every resource gets a unique name and is removed.

Names start with ``kct-<8 hex>-`` (tests/conftest.py) so that tests running in parallel (pytest-xdist), a second
run of the suite, and the notebooks (``kcNN-``) never touch each other's resources.
"""

from __future__ import annotations

import os

import pytest

import kinesis_course
from kinesis_course import client
from kinesis_course.endpoint import LocalStackNotRunning


@pytest.fixture(scope="session", autouse=True)
def localstack_running():
    """Fails (not skips) every engine test when the course's LocalStack does not answer: a skip would hide it."""
    try:
        return kinesis_course.require_localstack()
    except LocalStackNotRunning as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def host_mode():
    """For tests of the host-mode engine itself (process executor, processes on this machine)."""
    if os.environ.get("LOCALSTACK", "host") != "host":
        pytest.skip(
            "tests the host-mode engine; with LOCALSTACK=docker, Lambda functions run in LocalStack's containers"
        )


class StreamsByName:
    """The shared ``resources`` (tests/conftest.py), except that ``stream`` returns the stream's name, not its ARN:
    the engine's tests put records by StreamName and read the ARN only where a mapping needs it."""

    def __init__(self, shared) -> None:
        self._shared = shared

    def __getattr__(self, attribute: str):
        return getattr(self._shared, attribute)

    def stream(self, suffix: str, shards: int = 1) -> str:
        self._shared.stream(suffix, shards=shards)
        return self._shared.name(suffix)


@pytest.fixture
def resources(resources) -> StreamsByName:
    """Overrides the shared fixture of the same name, which it wraps: creation and clean-up stay in one place."""
    return StreamsByName(resources)


@pytest.fixture(scope="module")
def module_resources(module_resources) -> StreamsByName:
    return StreamsByName(module_resources)


@pytest.fixture
def lam():
    return client("lambda")
