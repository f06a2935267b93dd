"""Wrong answers to lesson 03's exercises: each must be rejected with a hint that names the mistake."""

from __future__ import annotations

import base64
import importlib
import json
import sys
from types import SimpleNamespace

import pytest
from wrong_answers import assert_rejected

from kinesis_course import client, delete_mappings_of, handler_steps
from kinesis_course.checks import lesson03 as checks


@pytest.fixture(scope="module")
def triage_module(tmp_path_factory):
    """The reference triage.py with the handler it builds on (lessons 01-02), imported as Lambda would."""
    folder = tmp_path_factory.mktemp("handler03")
    handler_steps.copy_handler_before("04", folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(folder)  # taken off sys.path again when the module's tests end
        try:
            for name in ("decoding", "readings", "triage"):
                sys.modules.pop(name, None)
            yield importlib.import_module("triage")
        finally:
            for name in ("decoding", "readings", "triage"):
                sys.modules.pop(name, None)


def variant(module, triage):
    """The learner's triage.py with another triage function."""
    return SimpleNamespace(
        triage=triage,
        PoisonRecord=module.PoisonRecord,
        MalformedRecord=module.MalformedRecord,
        InvalidReading=module.InvalidReading,
        normalise=module.normalise,
    )


# ---- Exercise 03.1: triage -----------------------------------------------------------------------------------


def wrong_triages(m):
    def skipped(record, error):
        print("SKIPPED " + json.dumps({"sequenceNumber": record["kinesis"]["sequenceNumber"], "reason": str(error)}))

    def swallows_poison(record):
        try:
            reading = m.decode_record(record)
        except m.MalformedRecord as error:
            skipped(record, error)
            return None
        try:
            return m.normalise(reading)
        except m.InvalidReading as error:
            skipped(record, error)
            return None

    def poison_for_invalid(record):
        try:
            return m.normalise(m.decode_record(record))
        except (m.MalformedRecord, m.InvalidReading) as error:
            raise m.PoisonRecord(f"{record['eventID']}: {error}") from error

    def no_event_id(record):
        try:
            reading = m.decode_record(record)
        except m.MalformedRecord as error:
            raise m.PoisonRecord(str(error)) from error
        try:
            return m.normalise(reading)
        except m.InvalidReading as error:
            skipped(record, error)
            return None

    def not_chained(record):
        try:
            reading = m.decode_record(record)
        except m.MalformedRecord as error:
            raise m.PoisonRecord(f"{record['eventID']}: {error}")  # noqa: B904 - the mistake under test
        try:
            return m.normalise(reading)
        except m.InvalidReading as error:
            skipped(record, error)
            return None

    def silent_skip(record):
        try:
            reading = m.decode_record(record)
        except m.MalformedRecord as error:
            raise m.PoisonRecord(f"{record['eventID']}: {error}") from error
        try:
            return m.normalise(reading)
        except m.InvalidReading:
            return None

    def malformed_passes_through(record):
        reading = m.decode_record(record)
        try:
            return m.normalise(reading)
        except m.InvalidReading as error:
            skipped(record, error)
            return None

    def catches_everything(record):
        try:
            return m.normalise(m.decode_record(record))
        except Exception as error:  # noqa: BLE001 - the mistake under test
            skipped(record, error)
            return None

    def changes_the_record(record):
        record["reading"] = triage_right(record)  # keeps the result with its record, in the event itself
        return record["reading"]

    def triage_right(record):
        try:
            reading = m.decode_record(record)
        except m.MalformedRecord as error:
            raise m.PoisonRecord(f"{record['eventID']}: {error}") from error
        try:
            return m.normalise(reading)
        except m.InvalidReading as error:
            skipped(record, error)
            return None

    def empty_object_is_poison(record):
        try:
            reading = m.decode_record(record)
        except m.MalformedRecord as error:
            raise m.PoisonRecord(f"{record['eventID']}: {error}") from error
        if not reading:
            raise m.PoisonRecord(f"{record['eventID']}: empty reading")
        try:
            return m.normalise(reading)
        except m.InvalidReading as error:
            skipped(record, error)
            return None

    def own_decoding(record):
        try:
            reading = json.loads(base64.b64decode(record["kinesis"]["data"]))
        except ValueError as error:  # binascii.Error and JSONDecodeError are both ValueErrors
            raise m.PoisonRecord(f"{record['eventID']}: {error}") from error
        try:
            return m.normalise(reading)
        except m.InvalidReading as error:
            skipped(record, error)
            return None

    def catches_valueerror(record):
        try:
            return m.normalise(m.decode_record(record))
        except ValueError as error:  # InvalidReading is a ValueError... and so is MalformedRecord
            skipped(record, error)
            return None

    def skipped_with_event_id(record):
        try:
            reading = m.decode_record(record)
        except m.MalformedRecord as error:
            raise m.PoisonRecord(f"{record['eventID']}: {error}") from error
        try:
            return m.normalise(reading)
        except m.InvalidReading as error:
            print("SKIPPED " + json.dumps({"sequenceNumber": record["eventID"], "reason": str(error)}))
            return None

    return {
        "changes_the_record": (changes_the_record, ["in place"]),
        "empty_object_is_poison": (empty_object_is_poison, ["{}", "block the shard"]),
        "own_decoding": (own_decoding, ["decode_record", "MalformedRecord"]),
        "catches_valueerror": (catches_valueerror, ["lost silently", "ValueError"]),
        "skipped_with_event_id": (skipped_with_event_id, ["sequenceNumber", "not its eventID"]),
        "swallows_poison": (swallows_poison, ["lost silently", "PoisonRecord"]),
        "poison_for_invalid": (poison_for_invalid, ["block the shard", "InvalidReading"]),
        "no_event_id": (no_event_id, ["eventID"]),
        "not_chained": (not_chained, ["from error"]),
        "silent_skip": (silent_skip, ["SKIPPED"]),
        "malformed_passes_through": (malformed_passes_through, ["MalformedRecord", "PoisonRecord"]),
        "catches_everything": (catches_everything, ["lost silently"]),
    }


@pytest.mark.parametrize("name", list(wrong_triages(SimpleNamespace()).keys()))
def test_check_triage_rejects(triage_module, name):
    triage, mentions = wrong_triages(triage_module)[name]
    assert_rejected(lambda: checks.check_triage(variant(triage_module, triage)), *mentions)


def test_check_triage_accepts_the_reference(triage_module, capsys):
    checks.check_triage(triage_module)
    assert "✔ Exercise 03.1 passed" in capsys.readouterr().out


def test_check_triage_accepts_the_event_id_anywhere_in_the_message(triage_module, capsys):
    """The statement asks for a message that contains the eventID, not one that starts with it."""
    m = triage_module

    def event_id_last(record):
        try:
            reading = m.decode_record(record)
        except m.MalformedRecord as error:
            raise m.PoisonRecord(f"cannot decode ({error}), record {record['eventID']}") from error
        return m.triage(record) if reading is not None else None

    checks.check_triage(variant(m, event_id_last))
    assert "✔ Exercise 03.1 passed" in capsys.readouterr().out


def test_check_triage_on_the_stub_is_not_solved(triage_module):
    def stub(record):
        raise NotImplementedError("Exercise 03.1: replace this line with your solution")

    with pytest.raises(checks.ExerciseNotSolved):
        checks.check_triage(variant(triage_module, stub))


# ---- Exercise 03.2: the bounded mapping (real mappings on the shared LocalStack) --------------------------------


@pytest.fixture(scope="module")
def targets(module_resources):
    """A function, a stream and a queue of this module's own, and the namer check_reread uses for its stream."""
    function_name = module_resources.function("fn", "def handler(event, context):\n    return None\n")
    stream_arn = module_resources.stream("readings")
    queue_url, queue_arn = module_resources.queue("failed")
    module_resources.streams_made_elsewhere("check-reread")
    return SimpleNamespace(
        function=function_name,
        stream_arn=stream_arn,
        queue_url=queue_url,
        queue_arn=queue_arn,
        name=module_resources.name,
    )


def mapping_answer(**overrides):
    returns = overrides.pop("return", True)

    def create(function_name, stream_arn, queue_arn):
        parameters = dict(
            FunctionName=function_name,
            EventSourceArn=stream_arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=3,
            MaximumRetryAttempts=2,
            DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        )
        parameters.update(overrides)
        response = client("lambda").create_event_source_mapping(
            **{k: v for k, v in parameters.items() if v is not None}
        )
        return response if returns else None

    return create


WRONG_MAPPINGS = {
    "retries_left_at_default": (
        {"MaximumRetryAttempts": None},
        ["requirement 2", "retries until the record expires", "blocked"],
    ),
    "no_destination": ({"DestinationConfig": None}, ["requirement 3", "dropped without a trace"]),
    "no_retry_at_all": ({"MaximumRetryAttempts": 0}, ["requirement 2", "0 means no retry", "one delivery"]),
    "on_success": ({"DestinationConfig": "on-success"}, ["requirement 3", "OnFailure", "OnSuccess"]),
    "queue_url": ({"DestinationConfig": "url"}, ["requirement 3", "URL", "ARN"]),
    "latest": ({"StartingPosition": "LATEST"}, ["requirement 1", "LATEST", "never read them"]),
    "default_batch_size": ({"BatchSize": None}, ["requirement 4", "the default", "up to 99 good records"]),
    "batch_size_4": ({"BatchSize": 4}, ["requirement 4", "up to 3 good records"]),
    "batch_size_1": ({"BatchSize": 1}, ["requirement 4", "take 9 invocations"]),
    "nothing_returned": ({"return": False}, ["return", "create_event_source_mapping"]),
    "retries_counting_the_first_attempt": (
        {"MaximumRetryAttempts": 3},
        ["requirement 2", "after the first attempt", "4 invocations"],
    ),
    "one_retry": ({"MaximumRetryAttempts": 1}, ["requirement 2", "2 invocations"]),
    "retries_at_the_limit": ({"MaximumRetryAttempts": 10000}, ["requirement 2", "10,000", "the most"]),
    "retries_over_the_limit": ({"MaximumRetryAttempts": 10001}, ["requirement 2", "-1 to 10,000"]),
    "stream_name": ({"EventSourceArn": "stream-name"}, ["requirement 1", "stream's ARN", "not its name"]),
    "queue_name": ({"DestinationConfig": "queue-name"}, ["requirement 3", "queue's name", "ARN"]),
    "disabled": ({"Enabled": False}, ["requirement 1", "Enabled=False", "never reads"]),
    "bisection": ({"BisectBatchOnFunctionError": True}, ["requirement 5", "BisectBatchOnFunctionError", "halves"]),
    "age_limit_too": ({"MaximumRecordAgeInSeconds": 60}, ["requirement 5", "age limit", "MaximumRecordAgeInSeconds"]),
}


@pytest.mark.localstack
@pytest.mark.parametrize("name", list(WRONG_MAPPINGS))
def test_check_bounded_mapping_rejects(targets, name):
    overrides, mentions = WRONG_MAPPINGS[name]
    overrides = dict(overrides)
    if overrides.get("DestinationConfig") == "on-success":
        overrides = {"DestinationConfig": {"OnSuccess": {"Destination": targets.queue_arn}}}
    elif overrides.get("DestinationConfig") == "url":
        overrides = {"DestinationConfig": {"OnFailure": {"Destination": targets.queue_url}}}
    elif overrides.get("DestinationConfig") == "queue-name":
        overrides = {"DestinationConfig": {"OnFailure": {"Destination": targets.queue_arn.rsplit(":", 1)[-1]}}}
    elif overrides.get("EventSourceArn") == "stream-name":
        overrides = {"EventSourceArn": targets.stream_arn.rsplit("/", 1)[-1]}
    answer = mapping_answer(**overrides)
    assert_rejected(
        lambda: checks.check_bounded_mapping(answer, targets.function, targets.stream_arn, targets.queue_arn),
        *mentions,
    )
    # A rejected mapping is deleted, so the learner can run the cell again.
    lam = client("lambda")
    assert lam.list_event_source_mappings(FunctionName=targets.function)["EventSourceMappings"] == []


@pytest.mark.localstack
def test_check_bounded_mapping_accepts_the_reference_twice(targets, capsys):
    for _ in range(2):  # running the cell again replaces the mapping instead of failing with a conflict
        uuid_ = checks.check_bounded_mapping(mapping_answer(), targets.function, targets.stream_arn, targets.queue_arn)
        assert "✔ Exercise 03.2 passed" in capsys.readouterr().out
    stored = client("lambda").get_event_source_mapping(UUID=uuid_)
    assert stored["MaximumRetryAttempts"] == 2 and stored["State"] == "Enabled"
    delete_mappings_of(targets.function)


# ---- Exercise 03.3: failed_range --------------------------------------------------------------------------------


def failed_range(record):
    info = record["KinesisBatchInfo"]
    return info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"]


WRONG_RANGES = {
    "needs_request_context": (
        lambda r: (
            (
                r["KinesisBatchInfo"]["shardId"],
                r["KinesisBatchInfo"]["startSequenceNumber"],
                r["KinesisBatchInfo"]["endSequenceNumber"],
            )
            if r["requestContext"]
            else None
        ),
        ["KinesisBatchInfo", "requestContext"],
    ),
    "a_list": (lambda r: list(failed_range(r)), ["tuple"]),
    "integers": (lambda r: (failed_range(r)[0], int(failed_range(r)[1]), int(failed_range(r)[2])), ["strings"]),
    "start_and_end_swapped": (
        lambda r: (failed_range(r)[0], failed_range(r)[2], failed_range(r)[1]),
        ["startSequenceNumber", "endSequenceNumber"],
    ),
    "end_from_batch_size": (
        lambda r: (
            failed_range(r)[0],
            failed_range(r)[1],
            str(int(failed_range(r)[1]) + r["KinesisBatchInfo"]["batchSize"] - 1),
        ),
        ["not contiguous", "endSequenceNumber"],
    ),
    "end_exclusive": (
        lambda r: (failed_range(r)[0], failed_range(r)[1], str(int(failed_range(r)[2]) + 1)),
        ["inclusive", "last record"],
    ),
    "pops_batch_info": (lambda r: failed_range({"KinesisBatchInfo": r.pop("KinesisBatchInfo")}), ["in place"]),
}


@pytest.mark.parametrize("name", list(WRONG_RANGES))
def test_check_failed_range_rejects(name):
    answer, mentions = WRONG_RANGES[name]
    assert_rejected(lambda: checks.check_failed_range(answer), *mentions)


def test_check_failed_range_on_the_stub_is_not_solved():
    def stub(record):
        raise NotImplementedError("Exercise 03.3: replace this line with your solution")

    with pytest.raises(checks.ExerciseNotSolved):
        checks.check_failed_range(stub)


def test_check_failed_range_accepts_the_reference(capsys):
    checks.check_failed_range(failed_range)
    assert "✔ Exercise 03.3 passed" in capsys.readouterr().out


# ---- Exercise 03.4: reread (a stream of the check's own on the shared LocalStack) -------------------------------


def reread_answer(
    *,
    iterator_type="AT_SEQUENCE_NUMBER",
    single_call=False,
    stop_at_empty=False,
    stop_at_end=True,
    decode=False,
    end_exclusive=False,
    pop_info=False,
    numbers_only=False,
):
    kinesis = client("kinesis")

    def reread(record):
        shard_id, start, end = failed_range(record)
        arn = (record.pop("KinesisBatchInfo") if pop_info else record["KinesisBatchInfo"])["streamArn"]
        position = {"StartingSequenceNumber": start} if "SEQUENCE" in iterator_type else {}
        iterator = kinesis.get_shard_iterator(
            StreamARN=arn, ShardId=shard_id, ShardIteratorType=iterator_type, **position
        )["ShardIterator"]
        found = []
        while iterator:
            response = kinesis.get_records(StreamARN=arn, ShardIterator=iterator, Limit=1000)
            for item in response["Records"]:
                if stop_at_end and (
                    int(item["SequenceNumber"]) >= int(end) if end_exclusive else int(item["SequenceNumber"]) > int(end)
                ):
                    return found
                found.append(
                    dict(item, Data=item["Data"].decode("utf-8"))
                    if decode
                    else item["SequenceNumber"]
                    if numbers_only
                    else item
                )
            if single_call or (stop_at_empty and not response["Records"]):
                return found
            if not response["Records"] and response.get("MillisBehindLatest", 0) == 0:
                return found
            iterator = response.get("NextShardIterator")
        return found

    return reread


WRONG_REREADS = {
    "single_call": ({"single_call": True}, ["one GetRecords call is not enough", "NextShardIterator"]),
    "stops_at_the_first_empty_page": ({"stop_at_empty": True}, ["empty response", "MillisBehindLatest"]),
    "after_sequence_number": ({"iterator_type": "AFTER_SEQUENCE_NUMBER"}, ["AFTER_SEQUENCE_NUMBER"]),
    "reads_past_the_end": ({"stop_at_end": False}, ["stop after endSequenceNumber"]),
    "decodes_the_data": ({"decode": True}, ["bytes"]),
    "end_exclusive": ({"end_exclusive": True}, ["endSequenceNumber is included", "last failed record"]),
    "latest_iterator": ({"iterator_type": "LATEST"}, ["LATEST", "AT_SEQUENCE_NUMBER"]),
    "trim_horizon_from_the_start": ({"iterator_type": "TRIM_HORIZON"}, ["before startSequenceNumber", "TRIM_HORIZON"]),
    "pops_batch_info": ({"pop_info": True}, ["in place"]),
    "sequence_numbers_only": ({"numbers_only": True}, ["list of records", "SequenceNumber, Data"]),
}


@pytest.mark.localstack
@pytest.mark.parametrize("name", list(WRONG_REREADS))
def test_check_reread_rejects(targets, name):
    options, mentions = WRONG_REREADS[name]
    assert_rejected(lambda: checks.check_reread(reread_answer(**options), targets), *mentions)


@pytest.mark.localstack
def test_check_reread_on_the_stub_is_not_solved(targets):
    def stub(record):
        raise NotImplementedError("Exercise 03.4: replace this line with your solution")

    with pytest.raises(checks.ExerciseNotSolved):
        checks.check_reread(stub, targets)


@pytest.mark.localstack
def test_check_reread_accepts_the_reference(targets, capsys):
    checks.check_reread(reread_answer(), targets)
    assert "✔ Exercise 03.4 passed" in capsys.readouterr().out


# ---- Stretch 03.S: a mapping that gives up by age as well as by count (real mappings on the shared LocalStack) ----


def aged_answer(**overrides):
    def create(function_name, stream_arn, queue_arn):
        parameters = dict(
            FunctionName=function_name,
            EventSourceArn=stream_arn,
            StartingPosition="TRIM_HORIZON",
            MaximumRecordAgeInSeconds=60,
            MaximumRetryAttempts=4,
            DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        )
        parameters.update(overrides)
        return client("lambda").create_event_source_mapping(**{k: v for k, v in parameters.items() if v is not None})

    return create


WRONG_AGED_MAPPINGS = {
    "age_under_60": ({"MaximumRecordAgeInSeconds": 59}, ["requirement 2", "AWS refuses", "60 to 604,800"]),
    "age_in_milliseconds": ({"MaximumRecordAgeInSeconds": 60000}, ["requirement 2", "seconds, not milliseconds"]),
    "no_age_limit": ({"MaximumRecordAgeInSeconds": None}, ["requirement 2", "no age limit"]),
    "batching_window_for_age": (
        {"MaximumRecordAgeInSeconds": None, "MaximumBatchingWindowInSeconds": 60},
        ["requirement 2", "not an age limit", "MaximumRecordAgeInSeconds"],
    ),
    "five_retries": ({"MaximumRetryAttempts": 5}, ["requirement 3", "6 deliveries"]),
    "age_alone": ({"MaximumRetryAttempts": None}, ["requirement 3", "the count needs MaximumRetryAttempts"]),
    "no_destination": ({"DestinationConfig": None}, ["requirement 4", "no trace"]),
    "batch_size_of_03_2": ({"BatchSize": 3}, ["requirement 5", "BatchSize"]),
}


@pytest.mark.localstack
@pytest.mark.parametrize("name", list(WRONG_AGED_MAPPINGS))
def test_check_aged_mapping_rejects(targets, name):
    overrides, mentions = WRONG_AGED_MAPPINGS[name]
    assert_rejected(
        lambda: checks.check_aged_mapping(
            aged_answer(**overrides), targets.function, targets.stream_arn, targets.queue_arn
        ),
        *mentions,
    )
    assert client("lambda").list_event_source_mappings(FunctionName=targets.function)["EventSourceMappings"] == []


@pytest.mark.localstack
def test_check_aged_mapping_accepts_the_reference_and_deletes_it(targets, capsys):
    checks.check_aged_mapping(aged_answer(), targets.function, targets.stream_arn, targets.queue_arn)
    assert "✔ Stretch 03.S passed" in capsys.readouterr().out
    assert client("lambda").list_event_source_mappings(FunctionName=targets.function)["EventSourceMappings"] == []


@pytest.mark.localstack
def test_check_aged_mapping_on_the_stub_is_not_solved(targets):
    def stub(function_name, stream_arn, queue_arn):
        raise NotImplementedError("Stretch 03.S: replace this line with your solution")

    with pytest.raises(checks.ExerciseNotSolved):
        checks.check_aged_mapping(stub, targets.function, targets.stream_arn, targets.queue_arn)
