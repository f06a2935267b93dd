"""The process executor runs Python functions the way AWS's Python runtime does, without Docker."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from kinesis_course import client, delete_function, endpoint_url, receive_json, wait_for_lines, wait_until
from kinesis_course.functions import ensure_role, function_exists, zip_folder

pytestmark = pytest.mark.localstack


def invoke(name: str, payload: dict | None = None) -> tuple[dict, object]:
    """Invokes synchronously; returns (the raw response, the decoded payload)."""
    response = client("lambda").invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode())
    body = response["Payload"].read()
    return response, json.loads(body) if body else None


ECHO = """
    def handler(event, context):
        return {"echo": event, "answer": 42}
"""


def test_a_returned_value_comes_back_as_the_json_payload(resources):
    name = resources.function("echo", ECHO)

    response, payload = invoke(name, {"reading": 21.5, "tags": ["a", "b"]})

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert payload == {"echo": {"reading": 21.5, "tags": ["a", "b"]}, "answer": 42}


FAILING = """
    def handler(event, context):
        return parse(event)

    def parse(event):
        raise ValueError(f"cannot parse {event['reading']!r}")
"""


def test_a_raised_exception_is_an_unhandled_function_error(resources):
    name = resources.function("raises", FAILING)

    response, payload = invoke(name, {"reading": "warm"})

    assert response["StatusCode"] == 200, "a function error is still a successful Invoke call"
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "cannot parse 'warm'"
    trace = "".join(payload["stackTrace"])
    # The trace names the user's frames (handler, then parse), not the runtime's own.
    assert "handler.py" in trace and "in handler" in trace and "in parse" in trace
    assert "runtime_bootstrap" not in trace


@pytest.mark.parametrize(
    ("handler", "error_type", "message_part"),
    [
        ("missing_module.handler", "Runtime.ImportModuleError", "Unable to import module 'missing_module'"),
        ("handler.not_there", "Runtime.HandlerNotFound", "not_there"),
    ],
)
def test_a_handler_that_cannot_be_loaded_gives_the_runtime_error_type(resources, handler, error_type, message_part):
    name = resources.function("badhandler", ECHO, handler=handler)

    response, payload = invoke(name)

    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == error_type
    assert message_part in payload["errorMessage"]


COUNTING_SLEEPER = """
    import time

    # Module state lives as long as the runtime process: a restart resets it.
    invocations = 0

    def handler(event, context):
        global invocations
        invocations += 1
        time.sleep(event.get("sleep", 0))
        return {"invocations": invocations}
"""


def test_a_timeout_ends_the_invocation_and_restarts_the_runtime(resources):
    name = resources.function("sleeper", COUNTING_SLEEPER, timeout=1)
    assert invoke(name)[1] == {"invocations": 1}
    assert invoke(name)[1] == {"invocations": 2}, "the second invocation reuses the warm runtime"

    started = time.monotonic()
    response, payload = invoke(name, {"sleep": 5})
    elapsed = time.monotonic() - started

    assert response["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in payload["errorMessage"]
    assert elapsed < 4, f"the invocation lasted {elapsed:.1f}s: the 5 s sleep was not cut short at 1 s"
    # AWS restarts the runtime after a timeout: the module is imported again, so its counter starts over.
    response, payload = invoke(name)
    assert "FunctionError" not in response
    assert payload == {"invocations": 1}


ENVIRONMENT = """
    import os

    def handler(event, context):
        return {key: os.environ.get(key) for key in event["keys"]}
"""


def test_the_function_sees_its_own_and_the_lambda_environment_variables(host_mode, resources):
    name = resources.function("environ", ENVIRONMENT, environment={"SENSOR_UNIT": "celsius", "THRESHOLD": "30"})
    keys = ["SENSOR_UNIT", "THRESHOLD", "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "AWS_ENDPOINT_URL"]

    _, seen = invoke(name, {"keys": keys})

    assert seen["SENSOR_UNIT"] == "celsius" and seen["THRESHOLD"] == "30"
    assert seen["AWS_REGION"] == "us-east-1"
    assert seen["AWS_LAMBDA_FUNCTION_NAME"] == name
    endpoint = urlparse(seen["AWS_ENDPOINT_URL"] or "")
    assert endpoint.hostname == "127.0.0.1", f"AWS_ENDPOINT_URL={seen['AWS_ENDPOINT_URL']!r}"
    assert endpoint.port == urlparse(endpoint_url()).port


CONTEXT = """
    def handler(event, context):
        return {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
        }
"""


def test_the_context_object_describes_the_invocation(resources):
    name = resources.function("context", CONTEXT, timeout=7, memory=256)
    function_arn = client("lambda").get_function_configuration(FunctionName=name)["FunctionArn"]

    response, context = invoke(name)

    assert context["aws_request_id"] == response["ResponseMetadata"]["RequestId"]
    assert context["function_name"] == name
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == function_arn
    assert int(context["memory_limit_in_mb"]) == 256
    assert context["log_group_name"] == f"/aws/lambda/{name}"
    assert context["log_stream_name"], "the log stream name is empty"
    assert 0 < context["remaining_ms"] <= 7000


SENDS_TO_SQS = """
    import boto3

    def handler(event, context):
        # No endpoint_url here: the runtime's AWS_ENDPOINT_URL sends boto3 to LocalStack.
        sqs = boto3.client("sqs")
        sqs.send_message(QueueUrl=event["queue_url"], MessageBody='{"from": "%s"}' % context.function_name)
        return {"streams": boto3.client("kinesis").list_streams()["StreamNames"]}
"""


def test_boto3_inside_the_function_reaches_localstack(resources):
    queue_url, _ = resources.queue("inbox")
    stream = resources.stream("visible")
    name = resources.function("boto3", SENDS_TO_SQS)

    response, payload = invoke(name, {"queue_url": queue_url})

    assert "FunctionError" not in response, payload
    assert stream in payload["streams"]
    assert receive_json(queue_url, expected=1, timeout=15) == [{"from": name}]


LOGGING = """
    import logging

    logger = logging.getLogger()
    logger.setLevel(logging.INFO)

    def handler(event, context):
        print(f"printed {event['tag']}")
        logger.info("logged %s", event["tag"])
        return "ok"
"""


def test_print_and_logging_reach_cloudwatch_logs_between_start_end_and_report(resources):
    name = resources.function("logs", LOGGING)
    response, _ = invoke(name, {"tag": "t-1"})
    request_id = response["ResponseMetadata"]["RequestId"]

    lines = wait_for_lines(
        name,
        lambda lines: any(line.startswith(f"REPORT RequestId: {request_id}") for line in lines),
        timeout=15,
        what=f"the REPORT line of {request_id}",
    )

    def index(predicate, what):
        found = [i for i, line in enumerate(lines) if predicate(line)]
        assert len(found) == 1, f"expected one {what} line, got {len(found)} in {lines}"
        return found[0]

    start = index(lambda line: line == f"START RequestId: {request_id} Version: $LATEST", "START")
    printed = index(lambda line: line == "printed t-1", "print")
    logged = index(
        lambda line: line.startswith("[INFO]") and request_id in line and line.endswith("logged t-1"), "logging"
    )
    end = index(lambda line: line == f"END RequestId: {request_id}", "END")
    report = index(lambda line: line.startswith(f"REPORT RequestId: {request_id}\tDuration: "), "REPORT")
    assert start < printed < logged < end < report, lines


NODE_HANDLER = "exports.handler = async () => ({ ok: true });\n"


def test_a_non_python_runtime_is_refused_with_a_reason(host_mode, resources, lam):
    name = resources.name("node")
    folder = resources.folder / "node"
    folder.mkdir()
    (folder / "index.js").write_text(NODE_HANDLER)
    resources.on_cleanup(lambda: delete_function(name))
    lam.create_function(
        FunctionName=name,
        Runtime="nodejs20.x",
        Role=ensure_role(),
        Handler="index.handler",
        Code={"ZipFile": zip_folder(folder)},
    )
    configuration = wait_until(
        lambda: c if (c := lam.get_function_configuration(FunctionName=name))["State"] != "Pending" else None,
        timeout=30,
        what=f"{name} to leave Pending",
    )

    assert configuration["State"] == "Failed"
    assert "runs Python functions only" in configuration["StateReason"]
    assert "nodejs20.x" in configuration["StateReason"]
    with pytest.raises(lam.exceptions.ResourceConflictException, match="Failed"):
        lam.invoke(FunctionName=name, Payload=b"{}")
    # A refused function must not be stuck: the learner deletes it and deploys a Python one instead.
    lam.delete_function(FunctionName=name)
    wait_until(lambda: not function_exists(name), timeout=10, what=f"{name} to be deleted")


EXITS = """
    import os

    invocations = 0

    def handler(event, context):
        global invocations
        invocations += 1
        if event.get("exit"):
            os._exit(3)
        return {"invocations": invocations}
"""


def test_a_handler_that_ends_its_process_fails_and_the_next_invoke_gets_a_fresh_runtime(resources):
    name = resources.function("exits", EXITS)
    assert invoke(name)[1] == {"invocations": 1}

    response, payload = invoke(name, {"exit": True})

    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in payload["errorMessage"]
    response, payload = invoke(name)
    assert "FunctionError" not in response
    assert payload == {"invocations": 1}, "the module was imported afresh in a new runtime process"


HANGS_ON_IMPORT = """
    import time

    print("connecting to a service that never answers")
    time.sleep(600)

    def handler(event, context):
        return "unreachable"
"""


def bootstrap_processes_of(function_name: str) -> list[int]:
    """Runtime processes (host mode) whose working folder is this function's unpacked code."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes()
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if b"runtime_bootstrap" in command and f"/{function_name}-" in cwd:
            found.append(int(proc.name))
    return found


def test_an_import_that_never_ends_times_out_like_the_aws_init_phase(host_mode, resources):
    # AWS gives the init phase 10 s, then runs the init again inside the first invocation, under the
    # function's timeout. A module stuck at import must fail invocations, not hang them or leak processes.
    name = resources.function("hangs", HANGS_ON_IMPORT, timeout=2)

    started = time.monotonic()
    response, payload = invoke(name)
    first = time.monotonic() - started

    assert response["FunctionError"] == "Unhandled"
    assert "Task timed out after 2.00 seconds" in payload["errorMessage"]
    assert first < 20, f"the first invocation took {first:.1f}s: the init was not cut at 10 s"
    lines = wait_for_lines(name, lambda lines: any(line.startswith("REPORT") for line in lines), timeout=15)
    assert any(line.startswith("INIT_REPORT Init Duration:") and line.endswith("Status: timeout") for line in lines), (
        lines
    )
    assert "connecting to a service that never answers" in lines
    assert bootstrap_processes_of(name) == [], "the stuck runtime processes were not ended"

    started = time.monotonic()
    response, payload = invoke(name)
    assert "Task timed out after 2.00 seconds" in payload["errorMessage"]
    assert time.monotonic() - started < 8, "a later invocation waits for the function's timeout only"
