"""What the checks of mapping exercises share: read back the mapping the learner's code created or updated.

A mapping exercise returns what ``create_event_source_mapping`` (or ``update_event_source_mapping``) answered,
or just its ``UUID``. The check does not trust that answer: it reads the mapping back from LocalStack with
``get_event_source_mapping`` and judges the settings LocalStack stored, as the poller will use them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

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


Hint = str | Callable[[Any], str]


@dataclass(frozen=True)
class Requirement:
    """One requirement of a goal exercise, judged on one stored setting: a row of a mapping check's table.

    The stored value meets it when ``met(value)`` holds (by default: it equals ``expected``). When it does not, the
    hint is that of the first ``(when, hint)`` in ``mistakes`` whose ``when(value)`` holds, else ``otherwise``: the
    mistakes a learner is likely to make come first, each with a hint naming it. A hint is a text, or a function of
    the stored value. ``read`` picks the value out of the mapping (by default, ``setting(mapping, setting)``).
    """

    setting: str
    expected: Any
    requirement: str
    otherwise: Hint
    mistakes: Sequence[tuple[Callable[[Any], bool], Hint]] = ()
    met: Callable[[Any], bool] | None = None
    read: Callable[[dict], Any] | None = None

    def value_in(self, mapping: dict) -> Any:
        return self.read(mapping) if self.read else setting(mapping, self.setting)

    def is_met(self, value: Any) -> bool:
        return self.met(value) if self.met else value == self.expected

    def hint_for(self, value: Any) -> str:
        hint = next((hint for when, hint in self.mistakes if when(value)), self.otherwise)
        return hint(value) if callable(hint) else hint


def judge(label: str, mapping: dict, requirements: Sequence[Requirement]) -> None:
    """Raises, for the first requirement the stored mapping breaks, what was expected, what is stored, and why."""
    for row in requirements:
        value = row.value_in(mapping)
        if not row.is_met(value):
            raise unmet(label, row.setting, row.expected, value, row.requirement, row.hint_for(value))


def stream_and_function(
    function_name: str,
    stream_arn: str,
    requirement: str | None = None,
    stream_hint: Hint = "pass EventSourceArn=stream_arn.",
    function_hint: Hint = "pass FunctionName=function_name.",
) -> list[Requirement]:
    """What every mapping exercise asks first: the mapping reads the stream, and invokes the function, it is given.
    ``requirement``: the statement's words for both, where it numbers them (by default, one requirement each)."""
    return [
        Requirement(
            "EventSourceArn",
            stream_arn,
            requirement or "the mapping reads the stream it is given",
            stream_hint,
            read=lambda mapping: mapping.get("EventSourceArn"),
        ),
        Requirement(
            "FunctionArn",
            function_name,
            requirement or "the mapping invokes the function it is given",
            function_hint,
            read=lambda mapping: mapping.get("FunctionArn"),
            met=lambda arn: str(arn or "").endswith(f":function:{function_name}"),
        ),
    ]


def judge_unasked(label: str, mapping: dict, calls: list[dict], unasked: dict[str, tuple[Any, str]]) -> None:
    """Settings no requirement asks for, ``{name: (AWS's default, what changing it would do)}``: each must be left
    at its default, neither stored otherwise nor written out with another value."""
    for name, (default, effect) in unasked.items():
        value = mapping.get(name, default)
        if value not in (default, None) or (calls and name in calls[-1] and calls[-1][name] != default):
            raise ExerciseCheckFailed(
                f"{label}: {name}: expected it left at {default} (not given), got {value!r}.\nHint: {name} is not "
                f"asked for here: {effect}. No requirement needs it: set only what the requirements ask for."
            )


def refused(
    label: str,
    operation: str,
    error: ClientError | ParamValidationError,
    specific: Sequence[tuple[str, str]] = (),
) -> ExerciseCheckFailed:
    """What to tell a learner whose create/update_event_source_mapping call was refused: by LocalStack (a
    ClientError) or by botocore before it was sent (a ParamValidationError: a wrong name or type).

    ``specific``: an exercise's own ``(words, hint)`` pairs, tried first: the hint of the first whose words (lower
    case) the error's message contains. Then the hints every mapping exercise shares.
    """
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message", str(error))
    else:
        message = str(error)
    lowered = message.lower()
    own = next((hint for words, hint in specific if words in lowered), None)
    if own is not None:
        hint = own
    elif "startingposition" in lowered:
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
    who = operation if isinstance(error, ClientError) else f"botocore (before sending {operation})"
    return ExerciseCheckFailed(f"{label}: {who} refused your call: {message}\nHint: {hint}")
