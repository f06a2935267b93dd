"""A function's CloudWatch Logs, where the ESM's invocations leave their trace."""

from __future__ import annotations

import json
from collections.abc import Callable

from .endpoint import client
from .waiting import wait_until


def log_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def log_events(function_name: str) -> list[dict]:
    """Every log event of the function (message and timestamp in ms), across all its log streams, oldest first."""
    logs = client("logs")
    group = log_group(function_name)
    try:
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    events = []
    for stream in streams:
        kwargs = {"logGroupName": group, "logStreamName": stream["logStreamName"], "startFromHead": True}
        while True:
            page = logs.get_log_events(**kwargs)
            events.extend(page["events"])
            if not page["events"] or page.get("nextForwardToken") == kwargs.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextForwardToken"]
    events.sort(key=lambda event: (event["timestamp"], event.get("ingestionTime", 0)))
    return events


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


def delete_logs(function_name: str) -> None:
    logs = client("logs")
    try:
        logs.delete_log_group(logGroupName=log_group(function_name))
    except logs.exceptions.ResourceNotFoundException:
        pass
