"""A function's CloudWatch Logs, where the ESM's invocations leave their trace."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .endpoint import client
from .waiting import wait_until


def log_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


@dataclass
class _StreamSeen:
    """What this process has read of one log stream: its events so far and where to go on from."""

    created: int
    changed: tuple = ()
    events: list[dict] = field(default_factory=list)
    next_token: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)  # threads of one harness poll the same group


# Per log group, per log stream: a poll reads only what was added since the last one (GetLogEvents from the last
# forward token), and skips a stream whose size and last ingestion time have not changed. A log group is polled
# many times while a test or lesson waits for a line; re-reading it whole each time cost one request per stream
# and every event again.
_SEEN: dict[str, dict[str, _StreamSeen]] = {}
_SEEN_LOCK = threading.Lock()


def log_events(function_name: str) -> list[dict]:
    """Every log event of the function (message and timestamp in ms), across all its log streams, oldest first."""
    logs = client("logs")
    group = log_group(function_name)
    try:
        streams = [
            stream
            for page in logs.get_paginator("describe_log_streams").paginate(logGroupName=group)
            for stream in page["logStreams"]
        ]
    except logs.exceptions.ResourceNotFoundException:
        with _SEEN_LOCK:
            _SEEN.pop(group, None)
        return []
    with _SEEN_LOCK:
        seen = _SEEN.setdefault(group, {})
        # A stream gone or made anew (the group was deleted and created again) is read from its head.
        for name in set(seen) - {stream["logStreamName"] for stream in streams}:
            del seen[name]
        for stream in streams:
            known = seen.get(stream["logStreamName"])
            if known is None or known.created != stream.get("creationTime"):
                seen[stream["logStreamName"]] = _StreamSeen(created=stream.get("creationTime"))
        current = dict(seen)
    events: list[dict] = []
    for stream in streams:
        known = current[stream["logStreamName"]]
        with known.lock:
            _read_new_events(logs, group, stream, known)
            events.extend(known.events)
    events.sort(key=lambda event: (event["timestamp"], event.get("ingestionTime", 0)))
    return events


def _read_new_events(logs, group: str, stream: dict, known: _StreamSeen) -> None:
    # AWS reports storedBytes as 0 for every log stream (deprecated since 2019) and updates lastIngestionTime
    # lazily: there a stream is always read on from its token. LocalStack updates both with every write.
    changed = (stream.get("storedBytes"), stream.get("lastIngestionTime"), stream.get("lastEventTimestamp"))
    if changed == known.changed and stream.get("storedBytes"):
        return
    kwargs = {"logGroupName": group, "logStreamName": stream["logStreamName"], "startFromHead": True}
    if known.next_token:
        kwargs["nextToken"] = known.next_token
    while True:
        page = logs.get_log_events(**kwargs)
        known.events.extend(page["events"])
        token = page.get("nextForwardToken")
        if token:
            known.next_token = token
        if not page["events"] or token is None or token == kwargs.get("nextToken"):
            break
        kwargs["nextToken"] = token
    known.changed = changed


def log_lines(function_name: str) -> list[str]:
    """Every line the function logged, across all its log streams, oldest first (no trailing newlines)."""
    return [event["message"].rstrip("\n") for event in log_events(function_name)]


def json_lines(function_name: str, prefix: str) -> list[dict]:
    """The JSON documents a handler printed after ``prefix`` (e.g. ``BATCH {...}``), oldest first."""
    return [json.loads(line[len(prefix) :]) for line in log_lines(function_name) if line.startswith(prefix)]


def wait_for_lines(
    function_name: str, predicate: Callable[[list[str]], bool], timeout: float = 60, what: str = "log lines"
) -> list[str]:
    """Polls the function's logs until ``predicate(lines)`` holds; returns the lines."""
    return wait_until(
        lambda: lines if predicate(lines := log_lines(function_name)) else None,
        timeout=timeout,
        what=f"{what} from {function_name}",
        interval=0.5,
    )


def delete_log_group(group: str) -> None:
    """Deletes the log group (if it exists) and forgets what was read of it."""
    logs = client("logs")
    with _SEEN_LOCK:
        _SEEN.pop(group, None)
    try:
        logs.delete_log_group(logGroupName=group)
    except logs.exceptions.ResourceNotFoundException:
        pass


def delete_logs(function_name: str) -> None:
    delete_log_group(log_group(function_name))
