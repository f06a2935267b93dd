"""Checks for lesson 00 (welcome and setup)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..functions import deploy_function
from . import (
    ExerciseCheckFailed,
    ExerciseNotSolved,
    call_checked,
    call_exercise,
    expect,
    expect_equal,
    fresh_random,
    passed,
)

# Functions of the check's own, so the learner's code meets a response and an error it has not seen.
ECHO_HANDLER = """\
def handler(event, context):
    return {"received": event, "function": context.function_name}
"""

# A function that works and answers with a report of errors: its answer has errorType and errorMessage keys, but
# Invoke's response has no FunctionError. Only FunctionError tells a failure from an answer.
REPORT_HANDLER = """\
def handler(event, context):
    return {"errorType": "SensorOffline", "errorMessage": event["sensor"] + " sent nothing for 10 minutes",
            "checked": True}
"""

FAILING_HANDLER = """\
def handler(event, context):
    raise LookupError("no calibration for " + event["sensor"])
"""


def _deploy(name: str, source: str) -> None:
    with tempfile.TemporaryDirectory(prefix="kinesis-course-check-") as folder:
        Path(folder, "handler.py").write_text(source, encoding="utf-8")
        deploy_function(name, folder)


def check_invoke_json(invoke_json, FunctionFailed, lesson) -> None:
    """Exercise 00.1: invoke_json(function_name, payload) returns the JSON answer, raises FunctionFailed on error."""
    label = "Exercise 00.1"
    echo, failing, report = lesson.name("check-echo"), lesson.name("check-fail"), lesson.name("check-report")
    _deploy(echo, ECHO_HANDLER)
    _deploy(failing, FAILING_HANDLER)
    _deploy(report, REPORT_HANDLER)

    rng = fresh_random(label)
    payload = {
        "sensor": f"sensor-{rng.randrange(100, 1000)}",
        "celsius": round(rng.uniform(-10, 35), 1),
        "unit": "°C",
        "tags": sorted(rng.sample(["roof", "north", "garden", "cellar", "attic"], 2)),
    }
    got = call_checked(
        label,
        invoke_json,
        echo,
        payload,
        hint="send the payload as JSON bytes, Payload=json.dumps(payload).encode(), with "
        "client('lambda').invoke(FunctionName=..., Payload=...), keeping the default InvocationType (RequestResponse), "
        "and decode response['Payload'], a stream: json.load(...).",
    )
    expect_equal(
        f"{label} (a function that answers)",
        got,
        {"received": payload, "function": echo},
        hint="you returned the JSON text (a str): decode it, json.load(response['Payload']), and return the dict."
        if isinstance(got, str)
        else "return the function's decoded JSON answer itself, not the whole invoke response. Use the default "
        "InvocationType (RequestResponse): 'Event' returns at once, without the answer.",
    )
    expected_report = {
        "errorType": "SensorOffline",
        "errorMessage": f"{payload['sensor']} sent nothing for 10 minutes",
        "checked": True,
    }
    try:
        got = call_exercise(label, invoke_json, report, {"sensor": payload["sensor"]})
    except ExerciseNotSolved:
        raise
    except Exception as error:
        raise ExerciseCheckFailed(
            f"{label} (a function that answers with errorType and errorMessage keys): invoke_json raised "
            f"{type(error).__name__}: {error}\nHint: this function did not fail: its answer just has errorType and "
            "errorMessage keys (a report of errors). Only response['FunctionError'] says that a function failed; "
            "do not guess it from the answer's keys."
        ) from error
    expect_equal(
        f"{label} (a function that answers with errorType and errorMessage keys)",
        got,
        expected_report,
        hint="return the decoded JSON answer: only response['FunctionError'] says the function failed.",
    )

    try:
        call_exercise(label, invoke_json, failing, {"sensor": payload["sensor"]})
    except ExerciseNotSolved:
        raise
    except FunctionFailed as raised:
        error = raised
    except Exception as raised:
        raise ExerciseCheckFailed(
            f"{label} (a function that raises): expected FunctionFailed, got {type(raised).__name__}: {raised}.\n"
            f"Hint: raise FunctionFailed, the class the exercise gives (not {type(raised).__name__}), so a caller can "
            "catch a function's failure apart from other errors."
        ) from raised
    else:
        raise ExerciseCheckFailed(
            f"{label} (a function that raises): expected FunctionFailed, but nothing was raised.\nHint: a function "
            "that raises still gets HTTP 200 from Invoke; the sign is response['FunctionError'] ('Unhandled'), and "
            "the payload is then the error document {errorType, errorMessage, ...}."
        )
    message = str(error)
    wanted = f"no calibration for {payload['sensor']}"
    expect(
        f"{label} (the FunctionFailed message)",
        "LookupError" in message and wanted in message,
        expected=f"a message naming LookupError and {wanted!r}",
        got=message,
        hint="put the error document's errorType and errorMessage in the message, so whoever reads it knows why.",
    )
    passed(label, "JSON answers came back intact (one with errorType keys), and a function error became FunctionFailed")
