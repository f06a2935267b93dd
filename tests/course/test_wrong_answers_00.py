"""Wrong answers to lesson 00's exercise (invoke_json): each must be rejected with a hint that names the mistake.

The check deploys two functions of its own on LocalStack (names kcm00-<uuid8>-...), deleted afterwards.
"""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace

import pytest
from wrong_answers import assert_rejected

from kinesis_course import client, delete_function
from kinesis_course.checks import ExerciseNotSolved
from kinesis_course.checks import lesson00 as checks

pytestmark = pytest.mark.localstack


class FunctionFailed(RuntimeError):
    """As in the lesson: the function ran and raised."""


@pytest.fixture
def lesson():
    prefix = f"kcm00-{uuid.uuid4().hex[:8]}-"
    yield SimpleNamespace(name=lambda suffix: prefix + suffix)
    for suffix in ("check-echo", "check-fail", "check-report"):
        delete_function(prefix + suffix)


def invoke(function_name, payload, **options):
    return client("lambda").invoke(FunctionName=function_name, Payload=json.dumps(payload).encode(), **options)


def reference(function_name, payload):
    response = invoke(function_name, payload)
    answer = json.load(response["Payload"])
    if "FunctionError" in response:
        raise FunctionFailed(f"{function_name}: {answer.get('errorType')}: {answer.get('errorMessage')}")
    return answer


def whole_response(function_name, payload):
    response = invoke(function_name, payload)
    response["Payload"] = json.load(response["Payload"])
    return response


def asynchronous(function_name, payload):
    response = invoke(function_name, payload, InvocationType="Event")
    return json.loads(response["Payload"].read() or b"null")


def ignores_function_error(function_name, payload):
    return json.load(invoke(function_name, payload)["Payload"])


def vague_failure(function_name, payload):
    response = invoke(function_name, payload)
    answer = json.load(response["Payload"])
    if "FunctionError" in response:
        raise FunctionFailed("the function failed")
    return answer


def undecoded(function_name, payload):
    return invoke(function_name, payload)["Payload"].read()


def error_keys_in_the_answer(function_name, payload):
    answer = json.load(invoke(function_name, payload)["Payload"])
    if isinstance(answer, dict) and "errorType" in answer:  # guesses the failure from the answer's shape
        raise FunctionFailed(f"{answer['errorType']}: {answer.get('errorMessage')}")
    return answer


def status_code(function_name, payload):
    response = invoke(function_name, payload)
    answer = json.load(response["Payload"])
    if response["StatusCode"] != 200:
        raise FunctionFailed(f"{answer.get('errorType')}: {answer.get('errorMessage')}")
    return answer


def another_exception_class(function_name, payload):
    response = invoke(function_name, payload)
    answer = json.load(response["Payload"])
    if "FunctionError" in response:
        raise RuntimeError(f"{answer.get('errorType')}: {answer.get('errorMessage')}")
    return answer


def json_text(function_name, payload):
    return invoke(function_name, payload)["Payload"].read().decode("utf-8")


def payload_as_a_dict(function_name, payload):
    response = client("lambda").invoke(FunctionName=function_name, Payload=payload)
    return json.load(response["Payload"])


def stub(function_name, payload):
    raise NotImplementedError("Exercise 00.1: replace this line with your solution")


def test_the_reference_answer_passes(lesson, capsys):
    checks.check_invoke_json(reference, FunctionFailed, lesson)
    assert "✔ Exercise 00.1 passed" in capsys.readouterr().out


def test_the_stub_is_not_solved(lesson):
    with pytest.raises(ExerciseNotSolved):
        checks.check_invoke_json(stub, FunctionFailed, lesson)


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (whole_response, ["not the whole invoke response"]),
        (asynchronous, ["RequestResponse", "Event"]),
        (ignores_function_error, ["FunctionError"]),
        (vague_failure, ["errorType", "errorMessage"]),
        (undecoded, ["decoded JSON answer"]),
        (error_keys_in_the_answer, ["errorType", "only response['FunctionError']"]),
        (status_code, ["FunctionError", "HTTP 200"]),
        (another_exception_class, ["FunctionFailed", "RuntimeError", "the class the exercise gives"]),
        (json_text, ["JSON text", "decode it"]),
        (payload_as_a_dict, ["JSON bytes", "json.dumps"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_a_wrong_answer_is_rejected(lesson, wrong, mentions):
    assert_rejected(lambda: checks.check_invoke_json(wrong, FunctionFailed, lesson), *mentions)
