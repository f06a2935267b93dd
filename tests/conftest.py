"""What the tests share: optional tools (a learner may lack them, CI must not), and LocalStack resources.

A test that needs something a learner's machine may not have (Chromium, actionlint, a LocalStack service)
calls `missing_tool(reason)` when it is absent. On a learner's machine the test is skipped, and pytest's
summary (`-ra`) shows the one-line reason; where `CI` is set (GitHub Actions and most CI services set
CI=true; `.ci/run` sets it too) the test fails with the same reason, so that CI never passes by skipping.

A test that creates streams, functions, queues, tables or mappings on the course's LocalStack takes `resources`
(for one test) or `module_resources` (shared by a test module): every name starts with a prefix of its own, so
that tests running in parallel (pytest-xdist), a second run of the suite and the notebooks (`kcNN-`, which a
lesson's start deletes) never touch each other's, and everything is deleted, newest first, when the test or
module ends, whether it passed or not.
"""

from __future__ import annotations

import os
import re
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

import kinesis_course
from kinesis_course.logs import delete_logs


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


class Resources:
    """Creates course resources under one prefix and deletes them, newest first, when closed."""

    def __init__(self, prefix: str, folder: Path) -> None:
        self.prefix = prefix
        self.folder = folder
        self._cleanups: list[Callable[[], None]] = []

    def name(self, suffix: str) -> str:
        """``<prefix><suffix>``: also what a check that creates its own resources is given as its lesson's namer."""
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
        """Creates stream ``<prefix><suffix>``; returns its ARN."""
        name = self.name(suffix)
        self.on_cleanup(lambda: kinesis_course.delete_stream(name))
        return kinesis_course.ensure_stream(name, shards=shards)

    def queue(self, suffix: str) -> tuple[str, str]:
        """Creates queue ``<prefix><suffix>``; returns its URL and ARN."""
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

    def streams_made_elsewhere(self, *suffixes: str) -> None:
        """Streams a check creates itself under this prefix (named with ``name``): deleted with the rest."""
        for suffix in suffixes:
            self.on_cleanup(lambda name=self.name(suffix): kinesis_course.delete_stream(name))

    def queues_made_elsewhere(self, *suffixes: str) -> None:
        """Queues a check creates itself under this prefix: deleted with the rest."""
        for suffix in suffixes:
            self.on_cleanup(lambda name=self.name(suffix): kinesis_course.delete_queue(name))

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
def resources(tmp_path) -> Iterator[Resources]:
    """Resources of one test, named ``kct-<8 hex>-...``."""
    created = Resources(f"kct-{uuid.uuid4().hex[:8]}-", tmp_path)
    yield created
    created.close()


@pytest.fixture(scope="module")
def module_resources(request, tmp_path_factory) -> Iterator[Resources]:
    """Resources shared by a test module, named ``kcm<NN>-<8 hex>-...`` (NN: the lesson test_wrong_answers_NN is of)."""
    lesson = re.search(r"_(\d+)$", request.module.__name__)
    created = Resources(
        f"kcm{lesson.group(1) if lesson else ''}-{uuid.uuid4().hex[:8]}-", tmp_path_factory.mktemp("resources")
    )
    yield created
    created.close()
