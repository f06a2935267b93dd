"""Wrong answers to lesson 06's exercises: each must be rejected with a hint that names the mistake.

06.1 (predict_bisection) and 06.2 (the partial batch response in handler.py) run in-process; 06.3 (the mapping)
creates real mappings on the shared LocalStack, with names of its own (kcm06-<uuid8>-...), deleted afterwards.
"""

from __future__ import annotations


import pytest
from wrong_answers import assert_rejected

from kinesis_course import client, handler_steps
from kinesis_course.checks import lesson06 as checks

# ---- Exercise 06.1: predict_bisection -----------------------------------------------------------------------------

OBSERVED, CASE = [8, 4, 4, 2, 1, 1, 1, 1, 2], (8, 5, 2)


def test_the_reference_prediction_passes(capsys):
    checks.check_predict_bisection(checks.reference_bisection, observed=OBSERVED, case=CASE)
    assert "✔ Exercise 06.1 passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "mistake, mentions",
    [
        ({"lone_retries": False}, ["max_retries + 1"]),
        ({"second_half_first": True}, ["first half"]),
        ({"odd_to_second": True}, ["odd", "first half takes the extra record"]),
        ({"split_costs_retry": True}, ["no retry attempt"]),
        ({"split_every_half": True}, ["only a batch that failed is split"]),
    ],
    ids=[
        "lone record not retried",
        "second half first",
        "odd record to the second half",
        "splits use retries",
        "every half split",
    ],
)
def test_wrong_predictions_are_rejected(mistake, mentions):
    def predict(batch_size, poison_index, max_retries):
        return checks.bisection_schedule(batch_size, poison_index, max_retries, **mistake)

    assert_rejected(lambda: checks.check_predict_bisection(predict, observed=OBSERVED, case=CASE), *mentions)


def test_a_prediction_of_the_wrong_type_is_rejected():
    assert_rejected(
        lambda: checks.check_predict_bisection(
            lambda *case: tuple(checks.reference_bisection(*case)), observed=OBSERVED, case=CASE
        ),
        "list",
    )


# ---- Exercise 06.2: the partial batch response in handler.py -----------------------------------------------------

HEAD = """import json
import os

import boto3

from decoding import shard_of
from store import idempotency_key, write_reading
from triage import PoisonRecord, triage

dynamodb = boto3.client("dynamodb")


def process(record):
    reading = triage(record)
    if reading is None:
        return "skipped"
    stored = write_reading(dynamodb, os.environ["TABLE"], idempotency_key(record, reading), reading)
    return "stored" if stored else "duplicate"


def seq(record):
    return record["kinesis"]["sequenceNumber"]


def failed_line(record, error):
    print("FAILED " + json.dumps({"sequenceNumber": seq(record), "error": repr(error)}))


def handler(event, context):
    records = event["Records"]
    print("BATCH " + json.dumps({"shardId": shard_of(records[0]), "sequenceNumbers": [seq(r) for r in records]}))
"""

REFERENCE = """
    for index, record in enumerate(records):
        try:
            process(record)
        except Exception as error:
            failed_line(record, error)
            return {"batchItemFailures": [{"itemIdentifier": seq(r)} for r in records[index:]]}
    return {"batchItemFailures": []}
"""

WRONG_HANDLERS = {
    "reports only the failed record (stops there)": (
        """
    for record in records:
        try:
            process(record)
        except Exception as error:
            failed_line(record, error)
            return {"batchItemFailures": [{"itemIdentifier": seq(record)}]}
    return {"batchItemFailures": []}
""",
        ["only the failed record", "On AWS", "no later record is written before it"],
    ),
    "keeps going and reports each failure (Powertools' way)": (
        """
    failures = []
    for record in records:
        try:
            process(record)
        except Exception as error:
            failed_line(record, error)
            failures.append({"itemIdentifier": seq(record)})
    return {"batchItemFailures": failures}
""",
        ["stop at the first failure", "in order"],
    ),
    "reports earlier records that succeeded": (
        """
    for index, record in enumerate(records):
        try:
            process(record)
        except Exception as error:
            failed_line(record, error)
            return {"batchItemFailures": [{"itemIdentifier": seq(r)} for r in records]}
    return {"batchItemFailures": []}
""",
        ["before the failure", "sent and written again"],
    ),
    "uses eventID as itemIdentifier": (REFERENCE.replace("seq(r)}", 'r["eventID"]}'), ["eventID", "sequenceNumber"]),
    "returns the article's statusCode reply": (
        """
    for record in records:
        try:
            process(record)
        except Exception as error:
            failed_line(record, error)
            break
    return {"statusCode": 200, "body": "Batch processed successfully!"}
""",
        ["article", "statusCode", "success"],
    ),
    "catches nothing (lesson 04's loop)": (
        """
    for record in records:
        process(record)
    return {"batchItemFailures": []}
""",
        ["whole batch", "catch"],
    ),
    "catches only PoisonRecord, so a failed write escapes": (
        REFERENCE.replace("except Exception", "except PoisonRecord"),
        ["whole batch"],
    ),
    "returns an empty list when a record failed": (
        """
    for record in records:
        try:
            process(record)
        except Exception as error:
            failed_line(record, error)
            break
    return {"batchItemFailures": []}
""",
        ["empty list", "never retried"],
    ),
    "misspells itemIdentifier": (
        REFERENCE.replace('"itemIdentifier"', '"itemIdentifer"'),
        ["misspelt", "itemIdentifier"],
    ),
    "misspells batchItemFailures": (
        REFERENCE.replace('"batchItemFailures"', '"batchItemFailure"'),
        ["misspelt", "batchItemFailures"],
    ),
    "reports skipped readings as failures": (
        """
    for index, record in enumerate(records):
        try:
            if process(record) == "skipped":
                raise ValueError("skipped")
        except Exception as error:
            failed_line(record, error)
            return {"batchItemFailures": [{"itemIdentifier": seq(r)} for r in records[index:]]}
    return {"batchItemFailures": []}
""",
        ["skipped"],
    ),
    "returns None when every record went through": (
        REFERENCE.replace('    return {"batchItemFailures": []}\n', "    return None\n"),
        ["batchItemFailures"],
    ),
    "prints no FAILED line": (REFERENCE.replace("            failed_line(record, error)\n", ""), ["FAILED"]),
}


def _handler_folder(tmp_path, body: str):
    folder = tmp_path / "build"
    handler_steps.copy_handler_before("06", folder)
    (folder / "handler.py").write_text(HEAD + body, encoding="utf-8")
    return folder


def test_the_reference_handler_passes(tmp_path, capsys):
    checks.check_partial_response(_handler_folder(tmp_path, REFERENCE))
    assert "✔ Exercise 06.2 passed" in capsys.readouterr().out


def test_the_lessons_own_handler_passes(tmp_path, capsys):
    folder = tmp_path / "build"
    handler_steps.copy_handler_before("07", folder)  # with lesson 06's handler.py, as its solution writes it
    checks.check_partial_response(folder)
    assert "✔ Exercise 06.2 passed" in capsys.readouterr().out


@pytest.mark.parametrize("name", list(WRONG_HANDLERS))
def test_wrong_handlers_are_rejected(tmp_path, name):
    body, mentions = WRONG_HANDLERS[name]
    for _ in range(3):  # the check's batches are random: the mistake must be caught every time
        assert_rejected(lambda: checks.check_partial_response(_handler_folder(tmp_path, body)), *mentions)


def test_the_stub_is_not_solved(tmp_path):
    stub = '    raise NotImplementedError("Exercise 06.2: replace this line with your solution")\n'
    with pytest.raises(checks.ExerciseNotSolved):
        checks.check_partial_response(_handler_folder(tmp_path, stub))


# ---- Exercise 06.3: the mapping -------------------------------------------------------------------------------------

REFERENCE_MAPPING = dict(
    StartingPosition="TRIM_HORIZON",
    BatchSize=8,
    FunctionResponseTypes=["ReportBatchItemFailures"],
    BisectBatchOnFunctionError=True,
    MaximumRetryAttempts=2,
)


def _create_mapping(*, destination=True, **changes):
    settings = {**REFERENCE_MAPPING, **changes}
    settings = {key: value for key, value in settings.items() if value is not None}

    def create_partial_mapping(function_name, stream_arn, queue_arn):
        extra = {"DestinationConfig": {"OnFailure": {"Destination": queue_arn}}} if destination else {}
        return client("lambda").create_event_source_mapping(
            FunctionName=function_name, EventSourceArn=stream_arn, **settings, **extra
        )

    return create_partial_mapping


@pytest.fixture(scope="module")
def mapping_target(module_resources):
    """A function of its own and a lesson-like namer, so the check's stream and queue are this test's too."""
    code = "def handler(event, context):\n    return {'batchItemFailures': []}\n"
    function_name = module_resources.function("fn", code)
    module_resources.streams_made_elsewhere("mapping-check")
    module_resources.queues_made_elsewhere("mapping-check-failures")
    return function_name, module_resources


@pytest.mark.localstack
def test_the_reference_mapping_passes(mapping_target, capsys):
    function_name, lesson = mapping_target
    checks.check_partial_mapping(_create_mapping(), function_name, lesson)
    assert "✔ Exercise 06.3 passed" in capsys.readouterr().out


@pytest.mark.localstack
@pytest.mark.parametrize(
    "create, mentions",
    [
        (
            _create_mapping(FunctionResponseTypes=None),
            ["act on the batchItemFailures", "batchItemFailures would be ignored", "ReportBatchItemFailures is listed"],
        ),
        (_create_mapping(BisectBatchOnFunctionError=False), ["cost one record, not the batch", "bisect is off"]),
        (_create_mapping(MaximumRetryAttempts=-1), ["given up after 3 invocations", "the shard stays blocked"]),
        (_create_mapping(MaximumRetryAttempts=None), ["given up after 3 invocations", "the shard stays blocked"]),
        (_create_mapping(destination=False), ["leaves a trace in the queue", "no destination"]),
        (
            _create_mapping(StartingPosition="LATEST"),
            ["already in the stream", "TRIM_HORIZON", "LATEST would start after"],
        ),
        (_create_mapping(BatchSize=None), ["two batches of 8", "BatchSize", "as one batch"]),
        (_create_mapping(BatchSize=16), ["two batches of 8", "as one batch"]),
        (_create_mapping(MaximumRetryAttempts=100), ["given up after 3 invocations", "101 times", "more than asked"]),
        (_create_mapping(MaximumRetryAttempts=1), ["given up after 3 invocations", "2 times", "too few"]),
    ],
    ids=[
        "no ReportBatchItemFailures",
        "bisect off",
        "retries -1",
        "retries not given",
        "no destination",
        "LATEST",
        "default BatchSize",
        "BatchSize 16",
        "100 retries",
        "1 retry",
    ],
)
def test_wrong_mappings_are_rejected(mapping_target, create, mentions):
    function_name, lesson = mapping_target
    message = assert_rejected(lambda: checks.check_partial_mapping(create, function_name, lesson), *mentions)
    assert "requirement not met" in message.lower()
    assert not [
        m
        for m in client("lambda").list_event_source_mappings(FunctionName=function_name)["EventSourceMappings"]
        if m["State"] not in ("Deleting",)
    ], "the check must delete the mapping it read back"


# ---- More wrong answers: 06.1's boundaries, 06.2's identifiers and exception classes ------------------------------


def retries_before_splitting(batch_size, poison_index, max_retries):
    """Retries the whole failed batch max_retries times before splitting it (bisection does not wait for retries)."""
    sizes = []

    def deliver(start, end):
        sizes.append(end - start)
        if not start <= poison_index < end:
            return
        sizes.extend([end - start] * max_retries)
        if end - start > 1:
            middle = start + (end - start + 1) // 2
            deliver(start, middle)
            deliver(middle, end)

    deliver(0, batch_size)
    return sizes


def halves_of_equal_size(batch_size, poison_index, max_retries):
    """Splits n into n // 2 and n // 2: right for powers of two only, loses the odd record."""
    sizes = []

    def deliver(start, size):
        sizes.append(size)
        if not start <= poison_index < start + size:
            return
        if size <= 1:
            sizes.extend([1] * max_retries)
            return
        deliver(start, size // 2)
        deliver(start + size // 2, size // 2)

    deliver(0, batch_size)
    return sizes


def pair_treated_as_lone(batch_size, poison_index, max_retries):
    """Stops splitting at two records: a failed pair is retried, never split."""
    sizes = []

    def deliver(start, end):
        sizes.append(end - start)
        if not start <= poison_index < end:
            return
        if end - start <= 2:
            sizes.extend([end - start] * max_retries)
            return
        middle = start + (end - start + 1) // 2
        deliver(start, middle)
        deliver(middle, end)

    deliver(0, batch_size)
    return sizes


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (retries_before_splitting, ["split at once", "no retry"]),
        (halves_of_equal_size, ["odd", "every record"]),
        (pair_treated_as_lone, ["two records", "split"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_more_wrong_predictions_are_rejected(wrong, mentions):
    assert_rejected(lambda: checks.check_predict_bisection(wrong, observed=OBSERVED, case=CASE), *mentions)


MORE_WRONG_HANDLERS = {
    "uses partitionKey as itemIdentifier": (
        REFERENCE.replace("seq(r)}", 'r["kinesis"]["partitionKey"]}'),
        ["partitionKey", "sequenceNumber"],
    ),
    "reports the records after the failed one, not the failed one": (
        REFERENCE.replace("records[index:]", "records[index + 1:]"),
        ["failed record itself"],
    ),
    "sequence numbers as ints": (REFERENCE.replace("seq(r)}", "int(seq(r))}"), ["string"]),
    "catches only the classes a throttled write raises": (
        REFERENCE.replace(
            "except Exception", "except (PoisonRecord, dynamodb.exceptions.ProvisionedThroughputExceededException)"
        ),
        ["any exception", "timeout"],
    ),
}


@pytest.mark.parametrize("name", list(MORE_WRONG_HANDLERS))
def test_more_wrong_handlers_are_rejected(tmp_path, name):
    body, mentions = MORE_WRONG_HANDLERS[name]
    for _ in range(3):
        assert_rejected(lambda: checks.check_partial_response(_handler_folder(tmp_path, body)), *mentions)


def test_a_handler_naming_real_client_exception_classes_passes(tmp_path, capsys):
    """A correct handler may name any of the real client's exception classes: the check's DynamoDB has them all."""
    body = REFERENCE.replace(
        "except Exception as error:",
        "except (PoisonRecord, dynamodb.exceptions.ResourceNotFoundException, "
        "dynamodb.exceptions.ProvisionedThroughputExceededException, Exception) as error:",
    )
    checks.check_partial_response(_handler_folder(tmp_path, body))
    assert "✔ Exercise 06.2 passed" in capsys.readouterr().out


@pytest.mark.localstack
@pytest.mark.parametrize(
    "create, mentions",
    [
        (
            _create_mapping(MaximumRetryAttempts=3),
            ["given up after 3 invocations", "off by one", "retries after the first"],
        ),
        (
            _create_mapping(FunctionResponseTypes=["ReportBatchItemFailure"]),
            ["act on the batchItemFailures", "misspelt", "ReportBatchItemFailures"],
        ),
        (_create_mapping(MaximumRecordAgeInSeconds=60), ["MaximumRecordAgeInSeconds", "not asked", "no requirement"]),
        (_create_mapping(StartingPosition=None), ["StartingPosition", "required"]),
    ],
    ids=["3 retries", "misspelt response type", "record age set", "no StartingPosition"],
)
def test_more_wrong_mappings_are_rejected(mapping_target, create, mentions):
    function_name, lesson = mapping_target
    assert_rejected(lambda: checks.check_partial_mapping(create, function_name, lesson), *mentions)
    assert not [
        m
        for m in client("lambda").list_event_source_mappings(FunctionName=function_name)["EventSourceMappings"]
        if m["State"] not in ("Deleting",)
    ], "the check must delete the mapping it read back"


@pytest.mark.localstack
def test_an_on_success_destination_is_rejected(mapping_target):
    function_name, lesson = mapping_target

    def create(function_name, stream_arn, queue_arn):
        return client("lambda").create_event_source_mapping(
            FunctionName=function_name,
            EventSourceArn=stream_arn,
            **REFERENCE_MAPPING,
            DestinationConfig={"OnSuccess": {"Destination": queue_arn}},
        )

    assert_rejected(lambda: checks.check_partial_mapping(create, function_name, lesson), "OnSuccess", "OnFailure")


def stub(*args):
    raise NotImplementedError("Exercise 06.M: replace this line with your solution")


def test_the_prediction_stub_is_not_solved():
    with pytest.raises(checks.ExerciseNotSolved):
        checks.check_predict_bisection(stub, observed=OBSERVED, case=CASE)


@pytest.mark.localstack
def test_the_mapping_stub_is_not_solved(mapping_target):
    function_name, lesson = mapping_target
    with pytest.raises(checks.ExerciseNotSolved):
        checks.check_partial_mapping(stub, function_name, lesson)


# ---- Stretch 06.S: where Lambda resumes ---------------------------------------------------------------------------


def resume_at(sequence_numbers, response):
    """A learner's answer, as the statement asks for it."""
    failures = (response or {}).get("batchItemFailures") or []
    if not failures:
        return None
    reported = [item.get("itemIdentifier") for item in failures]
    if any(not identifier or identifier not in sequence_numbers for identifier in reported):
        return sequence_numbers[0]
    return min(reported, key=int)


def as_strings(sequence_numbers, response):
    failures = (response or {}).get("batchItemFailures") or []
    if not failures:
        return None
    reported = [item.get("itemIdentifier") for item in failures]
    if any(not identifier or identifier not in sequence_numbers for identifier in reported):
        return sequence_numbers[0]
    return min(reported)


def first_listed(sequence_numbers, response):
    failures = (response or {}).get("batchItemFailures") or []
    if not failures:
        return None
    reported = [item.get("itemIdentifier") for item in failures]
    if any(not identifier or identifier not in sequence_numbers for identifier in reported):
        return sequence_numbers[0]
    return reported[0]


def after_the_lowest(sequence_numbers, response):
    lowest = resume_at(sequence_numbers, response)
    if lowest is None or lowest == sequence_numbers[-1]:
        return lowest
    return sequence_numbers[sequence_numbers.index(lowest) + 1]


def empty_list_fails(sequence_numbers, response):
    if isinstance(response, dict) and response.get("batchItemFailures") == []:
        return sequence_numbers[0]
    return resume_at(sequence_numbers, response)


def status_code_fails(sequence_numbers, response):
    if isinstance(response, dict) and "statusCode" in response:
        return sequence_numbers[0]
    return resume_at(sequence_numbers, response)


def ignores_unknown_identifiers(sequence_numbers, response):
    failures = (response or {}).get("batchItemFailures") or []
    reported = [item.get("itemIdentifier") for item in failures]
    if any(not identifier for identifier in reported):
        return sequence_numbers[0]
    known = [identifier for identifier in reported if identifier in sequence_numbers]
    return min(known, key=int) if known else None


def trusts_the_key(sequence_numbers, response):
    failures = (response or {}).get("batchItemFailures") or []
    if not failures:
        return None
    reported = [item["itemIdentifier"] for item in failures]
    if any(not identifier or identifier not in sequence_numbers for identifier in reported):
        return sequence_numbers[0]
    return min(reported, key=int)


def test_06_s_reference_passes(capsys):
    checks.check_stretch_resume_at(resume_at)
    assert "✔ Stretch 06.S passed" in capsys.readouterr().out


def test_06_s_stub_is_not_solved():
    with pytest.raises(checks.ExerciseNotSolved):
        checks.check_stretch_resume_at(stub)


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (as_strings, ["compare them as numbers", "'1000' sorts before '999'"]),
        (first_listed, ["lowest reported", "not the first one listed"]),
        (after_the_lowest, ["lowest reported record itself", "not after it"]),
        (empty_list_fails, ["empty batchItemFailures list is success"]),
        (status_code_fails, ["statusCode", "read as success"]),
        (ignores_unknown_identifiers, ["not in the batch", "whole batch fails"]),
        (trusts_the_key, ["misspelt key", "KeyError"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_06_s_rejects(wrong, mentions):
    for _ in range(3):  # fresh batches every time: the mistake must be caught every time
        assert_rejected(lambda: checks.check_stretch_resume_at(wrong), *mentions)
