"""Fixtures for the engine's tests: LocalStack must run, every resource gets a unique name and is removed.

Names start with ``kct-<8 hex>-`` so that tests running in parallel (pytest-xdist), a second run of the
suite, and the notebooks (``kcNN-``) never touch each other's resources.
"""

from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

import kinesis_course
from kinesis_course import client
from kinesis_course.endpoint import LocalStackNotRunning
from kinesis_course.logs import delete_logs


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


@pytest.fixture
def prefix() -> str:
    return f"kct-{uuid.uuid4().hex[:8]}-"


class Resources:
    """Creates course resources under one prefix and deletes them, newest first, when the test ends."""

    def __init__(self, prefix: str, folder: Path) -> None:
        self.prefix = prefix
        self.folder = folder
        self._cleanups: list[Callable[[], None]] = []

    def name(self, suffix: str) -> str:
        return f"{self.prefix}{suffix}"

    def on_cleanup(self, action: Callable[[], None]) -> None:
        self._cleanups.append(action)

    def function(self, suffix: str, code: str, **settings) -> str:
        """Writes ``code`` as handler.py, deploys it as function ``<prefix><suffix>``; returns the function's name."""
        name = self.name(suffix)
        folder = self.folder / suffix
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "handler.py").write_text(textwrap.dedent(code))
        # Registered before the deploy, so that a function left Failed by a refused deploy is removed as well.
        self.on_cleanup(lambda: _delete_function_and_logs(name))
        kinesis_course.deploy_function(name, folder, **settings)
        return name

    def stream(self, suffix: str, shards: int = 1) -> str:
        name = self.name(suffix)
        self.on_cleanup(lambda: kinesis_course.delete_stream(name))
        kinesis_course.ensure_stream(name, shards=shards)
        return name

    def queue(self, suffix: str) -> tuple[str, str]:
        name = self.name(suffix)
        self.on_cleanup(lambda: kinesis_course.delete_queue(name))
        return kinesis_course.ensure_queue(name)

    def table(self, suffix: str, key: str = "pk") -> str:
        name = self.name(suffix)
        self.on_cleanup(lambda: kinesis_course.delete_table(name))
        kinesis_course.ensure_table(name, key=key)
        return name

    def mapping(self, function_name: str, stream_arn: str, **parameters) -> str:
        uuid_ = kinesis_course.create_mapping(function_name, stream_arn, **parameters)
        self.on_cleanup(lambda: kinesis_course.delete_mapping(uuid_))
        return uuid_

    def close(self) -> None:
        errors = []
        for action in reversed(self._cleanups):
            try:
                action()
            except Exception as error:  # clean up the rest, then report
                errors.append(error)
        self._cleanups.clear()
        if errors:
            raise errors[0]


def _delete_function_and_logs(name: str) -> None:
    kinesis_course.delete_mappings_of(name)
    kinesis_course.delete_function(name)
    delete_logs(name)


@pytest.fixture
def resources(prefix, tmp_path) -> Resources:
    created = Resources(prefix, tmp_path)
    yield created
    created.close()


@pytest.fixture
def lam():
    return client("lambda")
