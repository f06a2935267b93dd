"""tests/unit: the tests that need no LocalStack. The fast CI job runs them (`pytest tests/unit`) with none running.

Every test here sees the course's endpoint moved to a local port where nothing listens, so that a test which
reaches LocalStack fails on a maintainer's machine too, where the course's LocalStack usually runs, and not only
in CI. A test that needs LocalStack belongs beside what it tests: tests/course, tests/engine, tests/capstone.
"""

from __future__ import annotations

import functools
import socket

import pytest


@functools.cache
def _closed_port() -> int:
    # A port the system just handed out and took back: nothing listens there.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(autouse=True)
def no_localstack(monkeypatch):
    port = str(_closed_port())
    monkeypatch.setenv("LOCALSTACK_PORT", port)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("KINESIS_COURSE_ENDPOINT", raising=False)
