"""Checks for lesson 00 (welcome and setup)."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from ..functions import deploy_function
from . import call_checked, expect, expect_equal, expect_raises, passed

# Functions of the check's own, so the learner's code meets a response and an error it has not seen.
ECHO_HANDLER = """\
def handler(event, context):
    return {"received": event, "function": context.function_name}
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
    echo, failing = lesson.name("check-echo"), lesson.name("check-fail")
    _deploy(echo, ECHO_HANDLER)
    _deploy(failing, FAILING_HANDLER)

    rng = random.Random()
    payload = {
        "sensor": f"sensor-{rng.randrange(100, 1000)}",
        "celsius": round(rng.uniform(-10, 35), 1),
        "unit": "°C",
        "tags": sorted(rng.sample(["roof", "north", "garden", "cellar", "attic"], 2)),
    }
    got = call_checked(
        label, invoke_json, echo, payload,
        hint="send the payload as JSON bytes with client('lambda').invoke(FunctionName=..., Payload=...), keeping the "
        "default InvocationType (RequestResponse), and decode response['Payload'], a stream: json.load(...).",
    )
    expect_equal(
        f"{label} (a function that answers)", got, {"received": payload, "function": echo},
        hint="return the function's decoded JSON answer itself, not the whole invoke response. Use the default "
        "InvocationType (RequestResponse): 'Event' returns at once, without the answer.",
    )

    error = expect_raises(
        f"{label} (a function that raises)", FunctionFailed, invoke_json, failing, {"sensor": payload["sensor"]},
        hint="a function that raises still gets HTTP 200 from Invoke; the sign is response['FunctionError'] "
        "('Unhandled'), and the payload is then the error document {errorType, errorMessage, ...}.",
    )
    message = str(error)
    wanted = f"no calibration for {payload['sensor']}"
    expect(
        f"{label} (the FunctionFailed message)", "LookupError" in message and wanted in message,
        expected=f"a message naming LookupError and {wanted!r}", got=message,
        hint="put the error document's errorType and errorMessage in the message, so whoever reads it knows why.",
    )
    passed(label, "a JSON answer came back intact, and a function error became FunctionFailed")
