"""Mutation tests of lesson 07's checks: plausible wrong answers must be rejected with a hint naming the mistake."""

from __future__ import annotations

import base64
import uuid

import pytest
from wrong_answers import assert_rejected

from kinesis_course import client, delete_function, deploy_function, ensure_queue, ensure_stream
from kinesis_course.capstone.replay import reference_dead_letters, reference_replay
from kinesis_course.checks import lesson07 as checks
from kinesis_course.checks.lesson04 import reading_item
from kinesis_course.checks import stretch
from kinesis_course.mappings import delete_mappings_of
from kinesis_course.queues import delete_queue
from kinesis_course.streams import delete_stream

# Exercise 07.1: the mapping for the stated target ------------------------------------------------------------------

REFERENCE = dict(StartingPosition="TRIM_HORIZON", **checks.TARGET)


def mapping_answer(**changes):
    """The reference answer with some parameters changed (None: the parameter left out)."""

    def create(function_name, stream_arn, queue_arn):
        parameters = {**REFERENCE, "DestinationConfig": {"OnFailure": {"Destination": queue_arn}}, **changes}
        parameters = {key: value for key, value in parameters.items() if value is not None}
        return client("lambda").create_event_source_mapping(
            FunctionName=function_name, EventSourceArn=stream_arn, **parameters
        )

    return create


@pytest.fixture(scope="module")
def resources(tmp_path_factory):
    prefix = f"kcm07-{uuid.uuid4().hex[:8]}-"
    folder = tmp_path_factory.mktemp("fn")
    (folder / "handler.py").write_text("def handler(event, context):\n    return {'batchItemFailures': []}\n")
    function = prefix + "fn"
    deploy_function(function, folder)
    stream_arn = ensure_stream(prefix + "readings", shards=1)
    _, queue_arn = ensure_queue(prefix + "failures")
    yield function, stream_arn, queue_arn
    delete_mappings_of(function)
    delete_function(function)
    delete_stream(prefix + "readings")
    delete_queue(prefix + "failures")


@pytest.mark.localstack
def test_reference_mapping_passes(resources, capsys):
    checks.check_capstone_mapping(mapping_answer(), *resources)
    assert "✔ Exercise 07.1 passed" in capsys.readouterr().out


# Each hint names the requirement of the statement that the wrong setting breaks.
BOUNDED = "a poison record's cost is bounded"


@pytest.mark.localstack
@pytest.mark.parametrize(
    "changes, mentions",
    [
        (dict(MaximumBatchingWindowInSeconds=0), ["a short wait", "window of 0", "every poll"]),
        (dict(MaximumBatchingWindowInSeconds=60), ["a short wait", "1 second"]),
        (dict(MaximumRetryAttempts=None), ["MaximumRetryAttempts", BOUNDED, "blocks its shard"]),
        (dict(MaximumRetryAttempts=4), [BOUNDED, "after the first attempt", "5 times", "3 retries"]),
        (dict(MaximumRetryAttempts=1), [BOUNDED, "2 attempt", "transient fault"]),
        (dict(MaximumRetryAttempts=10000), [BOUNDED, "10001 times", "3 retries"]),
        (dict(FunctionResponseTypes=None), ["failed records are read", "ReportBatchItemFailures", "silently"]),
        (dict(BisectBatchOnFunctionError=None), ["a bug costs one record", "BisectBatchOnFunctionError", "splits"]),
        (dict(BisectBatchOnFunctionError=False), ["a bug costs one record", "whole batch", "alone"]),
        (dict(DestinationConfig=None), ["nothing given up without a trace", "OnFailure", "dropped"]),
        (dict(StartingPosition="LATEST"), ["every record the stream keeps", "LATEST", "TRIM_HORIZON"]),
        (
            dict(StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=1_700_000_000),
            ["every record the stream keeps", "AT_TIMESTAMP", "TRIM_HORIZON"],
        ),
        (dict(BatchSize=10000), ["small batches", "BatchSize", "100", "Timeout"]),
        (dict(BatchSize=10), ["small batches", "more invocations", "100"]),
        (dict(MaximumRecordAgeInSeconds=None), ["MaximumRecordAgeInSeconds", BOUNDED, "10 minutes", "in seconds"]),
        (dict(MaximumRecordAgeInSeconds=3600), [BOUNDED, "60 minutes", "600 seconds"]),
    ],
    ids=[
        "window-0",
        "window-60",
        "retries-default",
        "retries-off-by-one",
        "retries-1",
        "retries-10000",
        "no-response-types",
        "no-bisect",
        "bisect-false",
        "no-destination",
        "latest",
        "at-timestamp",
        "batch-10000",
        "batch-10",
        "age-default",
        "age-an-hour",
    ],
)
def test_wrong_mappings_are_rejected(resources, changes, mentions):
    assert_rejected(lambda: checks.check_capstone_mapping(mapping_answer(**changes), *resources), *mentions)
    # A rejected mapping is deleted, so the fault run never starts with it.
    assert client("lambda").list_event_source_mappings(FunctionName=resources[0])["EventSourceMappings"] == []


@pytest.mark.localstack
def test_a_queue_url_is_not_a_destination(resources):
    function, stream_arn, queue_arn = resources

    def create(function_name, stream_arn, queue_arn):
        return client("lambda").create_event_source_mapping(
            FunctionName=function_name,
            EventSourceArn=stream_arn,
            **REFERENCE,
            DestinationConfig={"OnFailure": {"Destination": queue_arn.replace("failures", "elsewhere")}},
        )

    assert_rejected(
        lambda: checks.check_capstone_mapping(create, *resources), "queue's ARN", "nothing given up without a trace"
    )


@pytest.mark.localstack
@pytest.mark.parametrize(
    "changes, mentions",
    [
        (dict(BatchSize=None), ["BatchSize", "left out", "written out", "small batches"]),
        (
            dict(MaximumBatchingWindowInSeconds=None),
            ["MaximumBatchingWindowInSeconds", "left out", "a short wait", "window of 0"],
        ),
        (dict(MaximumRetryAttempts=-1), ["MaximumRetryAttempts", BOUNDED, "blocks its shard"]),
        (dict(MaximumRecordAgeInSeconds=10), ["MaximumRecordAgeInSeconds", BOUNDED, "seconds", "600"]),
        (dict(DestinationConfig={"OnSuccess": {"Destination": "QUEUE"}}), ["OnSuccess", "OnFailure"]),
        (dict(StartingPosition=None), ["StartingPosition", "required"]),
    ],
    ids=[
        "batch-size-left-out",
        "window-left-out",
        "retries-minus-1",
        "age-in-minutes",
        "on-success-destination",
        "starting-position-left-out",
    ],
)
def test_more_wrong_mappings_are_rejected(resources, changes, mentions):
    function, stream_arn, queue_arn = resources
    if "DestinationConfig" in changes:
        changes = dict(DestinationConfig={"OnSuccess": {"Destination": queue_arn}})
    assert_rejected(lambda: checks.check_capstone_mapping(mapping_answer(**changes), *resources), *mentions)
    assert client("lambda").list_event_source_mappings(FunctionName=resources[0])["EventSourceMappings"] == []


# Exercise 07.2: the replay -----------------------------------------------------------------------------------------


def test_reference_replay_passes(capsys):
    checks.check_replay(reference_replay)
    assert "✔ Exercise 07.2 passed" in capsys.readouterr().out


def replay_exclusive_end(failures, read_from, process):
    outcomes = {}
    for failure in failures:
        info = failure["KinesisBatchInfo"]
        for record in read_from(info["shardId"], info["startSequenceNumber"]):
            number = record["kinesis"]["sequenceNumber"]
            if int(number) >= int(info["endSequenceNumber"]):
                break
            try:
                outcomes[number] = process(record)
            except Exception:
                outcomes[number] = "failed"
    return outcomes


def replay_without_try(failures, read_from, process):
    outcomes = {}
    for failure in failures:
        info = failure["KinesisBatchInfo"]
        for record in read_from(info["shardId"], info["startSequenceNumber"]):
            number = record["kinesis"]["sequenceNumber"]
            if int(number) > int(info["endSequenceNumber"]):
                break
            outcomes[number] = process(record)
    return outcomes


def replay_stops_at_failure(failures, read_from, process):
    outcomes = {}
    for failure in failures:
        info = failure["KinesisBatchInfo"]
        for record in read_from(info["shardId"], info["startSequenceNumber"]):
            number = record["kinesis"]["sequenceNumber"]
            if int(number) > int(info["endSequenceNumber"]):
                break
            try:
                outcomes[number] = process(record)
            except Exception:
                outcomes[number] = "failed"
                break
    return outcomes


def replay_text_comparison(failures, read_from, process):
    outcomes = {}
    for failure in failures:
        info = failure["KinesisBatchInfo"]
        for record in read_from(info["shardId"], info["startSequenceNumber"]):
            number = record["kinesis"]["sequenceNumber"]
            if number > info["endSequenceNumber"]:
                break
            try:
                outcomes[number] = process(record)
            except Exception:
                outcomes[number] = "failed"
    return outcomes


def replay_never_stops(failures, read_from, process):
    outcomes = {}
    for failure in failures:
        info = failure["KinesisBatchInfo"]
        for record in read_from(info["shardId"], info["startSequenceNumber"]):
            try:
                outcomes[record["kinesis"]["sequenceNumber"]] = process(record)
            except Exception:
                outcomes[record["kinesis"]["sequenceNumber"]] = "failed"
    return outcomes


def replay_booleans(failures, read_from, process):
    outcomes = {}
    for failure in failures:
        info = failure["KinesisBatchInfo"]
        for record in read_from(info["shardId"], info["startSequenceNumber"]):
            number = record["kinesis"]["sequenceNumber"]
            if int(number) > int(info["endSequenceNumber"]):
                break
            try:
                process(record)
                outcomes[number] = True
            except Exception:
                outcomes[number] = False
    return outcomes


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (replay_exclusive_end, ["endSequenceNumber is part of the range"]),
        (replay_without_try, ["must not stop the replay", "catch Exception"]),
        (replay_stops_at_failure, ["goes on with the next"]),
        (replay_text_comparison, ["int(", "as text"]),
        (replay_never_stops, ["Stop after endSequenceNumber"]),
        (replay_booleans, ["what process(record) returned"]),
    ],
)
def test_wrong_replays_are_rejected(wrong, mentions):
    assert_rejected(lambda: checks.check_replay(wrong), *mentions)


def _outcome(outcomes, record, process):
    try:
        outcomes[record["kinesis"]["sequenceNumber"]] = process(record)
    except Exception:
        outcomes[record["kinesis"]["sequenceNumber"]] = "failed"


def replay_first_range_only(failures, read_from, process):
    """Returns inside the loop over the on-failure records: only the first range is replayed."""
    outcomes = {}
    for failure in failures:
        info = failure["KinesisBatchInfo"]
        for record in read_from(info["shardId"], info["startSequenceNumber"]):
            if int(record["kinesis"]["sequenceNumber"]) > int(info["endSequenceNumber"]):
                break
            _outcome(outcomes, record, process)
        return outcomes
    return outcomes


def replay_skips_the_start(failures, read_from, process):
    """Takes startSequenceNumber for the last record processed, as a checkpoint is, and skips it."""
    outcomes = {}
    for failure in failures:
        info = failure["KinesisBatchInfo"]
        for record in read_from(info["shardId"], info["startSequenceNumber"]):
            number = int(record["kinesis"]["sequenceNumber"])
            if number == int(info["startSequenceNumber"]):
                continue
            if number > int(info["endSequenceNumber"]):
                break
            _outcome(outcomes, record, process)
    return outcomes


def replay_catches_runtime_error_only(failures, read_from, process):
    """Catches the one exception class it saw in a test run."""
    outcomes = {}
    for failure in failures:
        info = failure["KinesisBatchInfo"]
        for record in read_from(info["shardId"], info["startSequenceNumber"]):
            number = record["kinesis"]["sequenceNumber"]
            if int(number) > int(info["endSequenceNumber"]):
                break
            try:
                outcomes[number] = process(record)
            except RuntimeError:
                outcomes[number] = "failed"
    return outcomes


def replay_pops_the_failures(failures, read_from, process):
    """Empties the caller's list of on-failure records as it goes (the caller can no longer report or re-run them)."""
    outcomes = {}
    while failures:
        info = failures.pop(0)["KinesisBatchInfo"]
        for record in read_from(info["shardId"], info["startSequenceNumber"]):
            if int(record["kinesis"]["sequenceNumber"]) > int(info["endSequenceNumber"]):
                break
            _outcome(outcomes, record, process)
    return outcomes


def replay_processes_twice(failures, read_from, process):
    """Calls process once to test it and once more for the outcome: every record is written twice."""
    outcomes = {}
    for failure in failures:
        info = failure["KinesisBatchInfo"]
        for record in read_from(info["shardId"], info["startSequenceNumber"]):
            number = record["kinesis"]["sequenceNumber"]
            if int(number) > int(info["endSequenceNumber"]):
                break
            try:
                process(record)
            except Exception:
                outcomes[number] = "failed"
                continue
            outcomes[number] = process(record)
    return outcomes


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (replay_first_range_only, ["every on-failure record", "return"]),
        (replay_skips_the_start, ["startSequenceNumber is part of the range"]),
        (replay_catches_runtime_error_only, ["any exception"]),
        (replay_pops_the_failures, ["changed", "failures"]),
        (replay_processes_twice, ["once"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_more_wrong_replays_are_rejected(wrong, mentions):
    assert_rejected(lambda: checks.check_replay(wrong), *mentions)


def stub(*args):
    raise NotImplementedError("Exercise 07.M: replace this line with your solution")


def test_the_replay_stub_is_not_solved():
    with pytest.raises(checks.ExerciseNotSolved):
        checks.check_replay(stub)


@pytest.mark.localstack
def test_the_mapping_stub_is_not_solved(resources):
    with pytest.raises(checks.ExerciseNotSolved):
        checks.check_capstone_mapping(stub, *resources)


# Stretch 07.S: dead letters ------------------------------------------------------------------------------------------


def test_reference_dead_letters_pass(capsys):
    checks.check_stretch_dead_letters(reference_dead_letters)
    assert "✔ Stretch 07.S passed" in capsys.readouterr().out


def test_an_untouched_stretch_is_not_attempted(capsys):
    stretch("Stretch 07.S", checks.check_stretch_dead_letters, stub)
    assert "not attempted" in capsys.readouterr().out


def _letters(failures, read_from, process, *, dedup=True, only_failing=True, letter=None, catch=True):
    """A dead-letter replay with one of the usual mistakes switched on."""
    letters, seen = [], set()
    for failure in failures:
        info = failure["KinesisBatchInfo"]
        for record in read_from(info["shardId"], info["startSequenceNumber"]):
            number = record["kinesis"]["sequenceNumber"]
            if int(number) > int(info["endSequenceNumber"]):
                break
            if dedup and (info["shardId"], number) in seen:
                continue
            seen.add((info["shardId"], number))
            error = None
            if catch:
                try:
                    process(record)
                except Exception as raised:
                    error = raised
            else:
                process(record)
            if error is not None or not only_failing:
                entry = {
                    "shardId": info["shardId"],
                    "sequenceNumber": number,
                    "partitionKey": record["kinesis"]["partitionKey"],
                    "data": record["kinesis"]["data"],
                    "error": type(error).__name__ if error else None,
                }
                letters.append(letter(entry, record, error) if letter else entry)
    return letters


def letters_listed_twice(failures, read_from, process):
    """Trusts the queue to deliver each on-failure record once."""
    return _letters(failures, read_from, process, dedup=False)


def letters_without_data(failures, read_from, process):
    """Keeps where the record was, not what it said."""
    return _letters(
        failures,
        read_from,
        process,
        letter=lambda entry, record, error: {k: v for k, v in entry.items() if k != "data"},
    )


def letters_decoded(failures, read_from, process):
    """Keeps the data decoded from base64 (bytes), not as the event carries it."""
    return _letters(
        failures,
        read_from,
        process,
        letter=lambda entry, record, error: {**entry, "data": base64.b64decode(entry["data"])},
    )


def letters_of_every_record(failures, read_from, process):
    """Keeps every record of the ranges, the stored ones too."""
    return _letters(failures, read_from, process, only_failing=False)


def letters_with_the_message(failures, read_from, process):
    """Keeps the error's message, not its class."""
    return _letters(failures, read_from, process, letter=lambda entry, record, error: {**entry, "error": str(error)})


def letters_without_try(failures, read_from, process):
    """Lets the first failing record stop the replay."""
    return _letters(failures, read_from, process, catch=False)


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (letters_listed_twice, ["listed twice", "at least once"]),
        (letters_without_data, ["metadata only", "retention"]),
        (letters_decoded, ["base64", "not decoded"]),
        (letters_of_every_record, ["only the records that still fail"]),
        (letters_with_the_message, ["class name", "type(error).__name__"]),
        (letters_without_try, ["catch Exception"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_wrong_dead_letters_are_rejected(wrong, mentions):
    assert_rejected(lambda: checks.check_stretch_dead_letters(wrong), *mentions)


# Exercise 07.3: a per-sensor count, exactly once ---------------------------------------------------------------------


ADD_ONE = {"UpdateExpression": "ADD readings :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}


def counter_key(reading):
    return {"pk": {"S": reading["sensor"]}}


def idempotent_writes(
    count_condition="NOT contains(counted, :id)", key=counter_key, catch_all=False, ids="counted", element=str
):
    """The reference answer (two writes, each idempotent, the count on every delivery), or it with one part changed
    (``ids``: the name of the string set of counted ids; ``element``: what of the key goes into it)."""

    def write_counted(dynamodb, table_name, counter_table, key_, reading):
        stored = True
        try:
            dynamodb.put_item(
                TableName=table_name, Item=reading_item(key_, reading), ConditionExpression="attribute_not_exists(pk)"
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            stored = False
        update = {
            "TableName": counter_table,
            "Key": key(reading),
            "UpdateExpression": f"ADD readings :one, {ids} :ids",
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":ids": {"SS": [element(key_)]}},
        }
        if count_condition:
            update["ConditionExpression"] = count_condition.replace("counted", ids)
            if ":id" in count_condition:
                update["ExpressionAttributeValues"][":id"] = {"S": element(key_)}
        try:
            dynamodb.update_item(**update)
        except dynamodb.exceptions.ConditionalCheckFailedException:
            pass
        except Exception:
            if catch_all:
                return False
            raise
        return stored

    return write_counted


def in_one_transaction(dynamodb, table_name, counter_table, key, reading):
    """Right on AWS; in the course's LocalStack (moto) a cancelled transaction restores whole tables."""
    try:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table_name,
                        "Item": reading_item(key, reading),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {"Update": {"TableName": counter_table, "Key": counter_key(reading), **ADD_ONE}},
            ]
        )
    except dynamodb.exceptions.TransactionCanceledException:
        return False
    return True


def plain_add(dynamodb, table_name, counter_table, key, reading):
    dynamodb.update_item(TableName=counter_table, Key=counter_key(reading), **ADD_ONE)
    dynamodb.put_item(TableName=table_name, Item=reading_item(key, reading))
    return True


def put_then_update(dynamodb, table_name, counter_table, key, reading):
    try:
        dynamodb.put_item(
            TableName=table_name, Item=reading_item(key, reading), ConditionExpression="attribute_not_exists(pk)"
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    dynamodb.update_item(TableName=counter_table, Key=counter_key(reading), **ADD_ONE)
    return True


def read_first(dynamodb, table_name, counter_table, key, reading):
    """Decides 'stored before' by a read, then puts without a condition (the count itself is right)."""
    stored = "Item" not in dynamodb.get_item(TableName=table_name, Key={"pk": {"S": key}})
    if stored:
        dynamodb.put_item(TableName=table_name, Item=reading_item(key, reading))
    idempotent_writes()(dynamodb, table_name, counter_table, key, reading)
    return stored


def marks_the_reading(dynamodb, table_name, counter_table, key, reading):
    reading["counted"] = True  # changes the caller's reading
    return idempotent_writes()(dynamodb, table_name, counter_table, key, reading)


@pytest.fixture
def counting_lesson():
    """Stands for the notebook's Lesson: only name() is used, with a prefix of its own; its tables go afterwards."""
    from types import SimpleNamespace

    from kinesis_course.tables import delete_table

    prefix = f"kcm07-{uuid.uuid4().hex[:8]}-"
    yield SimpleNamespace(name=lambda suffix: prefix + suffix)
    for suffix in ("check-readings", "check-counts"):
        delete_table(prefix + suffix)


@pytest.mark.localstack
def test_07_3_reference_passes(counting_lesson, capsys):
    checks.check_counted_write(idempotent_writes(), counting_lesson)
    assert "✔ Exercise 07.3 passed" in capsys.readouterr().out


@pytest.mark.localstack
def test_07_3_stub_is_not_solved(counting_lesson):
    def stub(dynamodb, table_name, counter_table, key, reading):
        raise NotImplementedError("Exercise 07.3")

    with pytest.raises(checks.ExerciseNotSolved):
        checks.check_counted_write(stub, counting_lesson)


@pytest.mark.localstack
@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (plain_add, ("ADD without a condition",)),
        (idempotent_writes(count_condition=""), ("ADD without a condition",)),
        (put_then_update, ("only when the put succeeded", "run it on every delivery")),
        (idempotent_writes(count_condition="attribute_not_exists(pk)"), ("wrong attribute", "NOT contains(counted")),
        (
            idempotent_writes(key=lambda reading: {"pk": {"S": f"{reading['sensor']}#{uuid.uuid4().hex}"}}),
            ("ONE item", "changes from call to call"),
        ),
        (idempotent_writes(key=lambda reading: {"pk": {"S": reading["reading_id"]}}), ("ONE item", "the reading's id")),
        (marks_the_reading, ("changed the reading",)),
        (read_first, ("read before the write", "part of each write")),
        (idempotent_writes(catch_all=True), ("only ConditionalCheckFailedException", "must propagate")),
        (in_one_transaction, ("moto", "restoring whole tables")),
        (idempotent_writes(ids="seen_ids"), ("does not test the attribute counted", "every execution environment")),
        (idempotent_writes(element=lambda key: str(hash(key))), ("reading's id (key)", "only your process")),
    ],
    ids=[
        "plain-add",
        "count-without-condition",
        "put-then-update",
        "condition-on-wrong-attribute",
        "random-counter-key",
        "counter-keyed-by-reading",
        "mutates-reading",
        "reads-first",
        "swallows-errors",
        "transaction-in-moto",
        "ids-under-another-name",
        "id-only-this-process-computes",
    ],
)
def test_07_3_rejects(wrong, mentions, counting_lesson):
    assert_rejected(lambda: checks.check_counted_write(wrong, counting_lesson), *mentions)
