"""What the course runs on: facts about the LocalStack these notebooks talk to (lesson 00, and bug reports).

Only facts that stay the same from one run to the next: no uptimes, pids or session ids.
"""

from __future__ import annotations

import os

from .endpoint import COURSE_SERVICES, endpoint_url, health, localstack_document

EXPECTED_VERSION = "4.14.0"


def describe_environment() -> dict:
    """Where the course's calls go and what answers there.

    Keys: endpoint, remote_allowed, localstack_version, expected_version, backend ("host" or "docker"),
    services (each course service and its state, sorted by name), ready (every course service is up).
    """
    state = health()
    info = localstack_document("info")
    services = {name: state.get("services", {}).get(name, "missing") for name in sorted(COURSE_SERVICES)}
    return {
        "endpoint": endpoint_url(),
        "remote_allowed": os.environ.get("KINESIS_COURSE_ALLOW_REMOTE") == "1",
        "localstack_version": state.get("version"),
        "expected_version": EXPECTED_VERSION,
        # `make up` runs LocalStack as a process of this machine; `LOCALSTACK=docker make up` in a container.
        "backend": "docker" if info.get("is_docker") else "host",
        "services": services,
        "ready": all(value in ("running", "available") for value in services.values()),
    }
