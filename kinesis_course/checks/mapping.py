"""What the checks of mapping exercises share: read back the mapping the learner's code created or updated.

A mapping exercise returns what ``create_event_source_mapping`` (or ``update_event_source_mapping``) answered,
or just its ``UUID``. The check does not trust that answer: it reads the mapping back from LocalStack with
``get_event_source_mapping`` and judges the settings LocalStack stored, as the poller will use them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from ..endpoint import client
from . import ExerciseCheckFailed


def mapping_of(label: str, answer: Any) -> dict:
    """The stored settings of the mapping ``answer`` names (a UUID, or a create/update response)."""
    uuid = answer.get("UUID") if isinstance(answer, dict) else answer
    if not isinstance(uuid, str) or not uuid:
        raise ExerciseCheckFailed(
            f"{label}: expected the mapping's UUID or the response of create_event_source_mapping, got {answer!r}.\n"
            "Hint: return what `client('lambda').create_event_source_mapping(...)` answered (or its ['UUID'])."
        )
    lam = client("lambda")
    try:
        return lam.get_event_source_mapping(UUID=uuid)
    except lam.exceptions.ResourceNotFoundException:
        raise ExerciseCheckFailed(
            f"{label}: LocalStack has no event source mapping with UUID {uuid!r}.\n"
            "Hint: run the cell that creates the mapping again; a later cell or `lesson.reset()` may have deleted it."
        ) from None


def setting(mapping: dict, key: str) -> Any:
    """One stored setting, with the value AWS reports for a setting that was never given."""
    defaults = {"FunctionResponseTypes": [], "BisectBatchOnFunctionError": False, "DestinationConfig": {}}
    return mapping.get(key, defaults.get(key))


def on_failure_destination(mapping: dict) -> str | None:
    return (setting(mapping, "DestinationConfig") or {}).get("OnFailure", {}).get("Destination")


@contextlib.contextmanager
def calls_to(operation: str) -> Iterator[list[dict]]:
    """The parameters of every ``operation`` call made through the course's Lambda client while the block runs.

    The stored mapping cannot tell a parameter written out from one left to its default (BatchSize 100 either
    way); what the learner's call passed can. botocore's ``provide-client-params`` event sees each call's own
    keyword arguments. A call through another client (a ``boto3.client("lambda", ...)`` of the learner's) is not
    seen: then the list stays empty and a check judges the stored mapping alone.
    """
    seen: list[dict] = []

    def record(params, **_):
        seen.append(dict(params))

    event = f"provide-client-params.lambda.{operation}"
    events = client("lambda").meta.events
    events.register(event, record)
    try:
        yield seen
    finally:
        events.unregister(event, record)


def left_out(calls: list[dict], names) -> list[str]:
    """Which of ``names`` the last call seen did not pass (none if no call was seen)."""
    return [name for name in names if calls and name not in calls[-1]]


def unmet(label: str, what: str, expected: Any, got: Any, requirement: str, hint: str) -> ExerciseCheckFailed:
    """A stored setting that breaks one of a goal exercise's requirements: expected, got, the requirement, why."""
    return ExerciseCheckFailed(
        f"{label}: {what}: expected {expected!r}, got {got!r}.\nHint: requirement not met: {requirement}. {hint}"
    )


def judge_stream_and_function(label: str, mapping: dict, function_name: str, stream_arn: str) -> None:
    """What every mapping exercise asks first: the mapping reads the stream, and invokes the function, it is given."""
    if mapping.get("EventSourceArn") != stream_arn:
        raise unmet(
            label,
            "EventSourceArn",
            stream_arn,
            mapping.get("EventSourceArn"),
            "the mapping reads the stream it is given",
            "pass EventSourceArn=stream_arn.",
        )
    if not str(mapping.get("FunctionArn", "")).endswith(f":function:{function_name}"):
        raise unmet(
            label,
            "FunctionArn",
            function_name,
            mapping.get("FunctionArn"),
            "the mapping invokes the function it is given",
            "pass FunctionName=function_name.",
        )


def refused(label: str, operation: str, error: ClientError) -> ExerciseCheckFailed:
    """What to tell a learner whose create/update_event_source_mapping call LocalStack refused."""
    message = error.response.get("Error", {}).get("Message", str(error))
    lowered = message.lower()
    if "startingposition" in lowered:
        hint = (
            "StartingPosition is required for a Kinesis stream: it says where a new mapping starts reading "
            "(TRIM_HORIZON: the oldest record the stream keeps; LATEST: only records put from now on)."
        )
    elif "maximumrecordageinseconds" in lowered:
        hint = (
            "MaximumRecordAgeInSeconds is in seconds: -1 (no limit) or 60 to 604,800. AWS refuses 0 to 59, and "
            "so does the course's LocalStack."
        )
    elif "destinationconfig" in lowered:
        hint = (
            "A Kinesis mapping has an OnFailure destination only (no OnSuccess: AWS refuses it for stream "
            "sources): DestinationConfig={'OnFailure': {'Destination': queue_arn}}."
        )
    else:
        hint = (
            f"{operation} refused a parameter: read the message above, then compare your names and values with "
            "the statement and the cheat sheet (docs/esm-parameters.md): spelling, type, range."
        )
    return ExerciseCheckFailed(f"{label}: {operation} refused your call: {message}\nHint: {hint}")
