"""Wrong answers to lesson 01's exercises: each must be rejected with a hint that names the mistake."""

from __future__ import annotations

import base64
import binascii
import importlib.util
import json

import pytest
from wrong_answers import assert_rejected

from kinesis_course import handler_steps
from kinesis_course.checks import ExerciseNotSolved
from kinesis_course.checks import lesson01 as checks


def _load(path):
    spec = importlib.util.spec_from_file_location(f"wrong01_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


decoding = _load(handler_steps.files_of("01")["decoding.py"])
MalformedRecord = decoding.MalformedRecord


def _where(record):
    return f"record {record['kinesis']['sequenceNumber']}"


# ---- Exercise 01.1: decode_record -------------------------------------------------------------------------------


def one_generic_message(record):
    try:
        value = json.loads(base64.b64decode(record["kinesis"]["data"], validate=True).decode("utf-8"))
        if not isinstance(value, dict):
            raise ValueError("not a dict")
        return value
    except (ValueError, binascii.Error) as error:
        raise MalformedRecord(f"{_where(record)}: data is not a base64-encoded UTF-8 JSON object") from error


def without_validate(record):
    where = _where(record)
    try:
        raw = base64.b64decode(record["kinesis"]["data"])  # skips characters outside the alphabet
    except binascii.Error as error:
        raise MalformedRecord(f"{where}: data is not base64") from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedRecord(f"{where}: data is not UTF-8") from error
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise MalformedRecord(f"{where}: data is not JSON") from error
    if not isinstance(value, dict):
        raise MalformedRecord(f"{where}: JSON but not an object")
    return value


def any_json_value(record):
    where = _where(record)
    try:
        raw = base64.b64decode(record["kinesis"]["data"], validate=True)
    except binascii.Error as error:
        raise MalformedRecord(f"{where}: data is not base64") from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedRecord(f"{where}: data is not UTF-8") from error
    try:
        return json.loads(text)  # a list, a number or None pass through
    except json.JSONDecodeError as error:
        raise MalformedRecord(f"{where}: data is not JSON") from error


def not_chained(record):
    where = _where(record)
    try:
        raw = base64.b64decode(record["kinesis"]["data"], validate=True)
    except binascii.Error:
        raise MalformedRecord(f"{where}: data is not base64")  # noqa: B904 (the mistake under test)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRecord(f"{where}: data is not UTF-8")  # noqa: B904
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise MalformedRecord(f"{where}: data is not JSON")  # noqa: B904
    if not isinstance(value, dict):
        raise MalformedRecord(f"{where}: JSON but not an object")
    return value


def no_sequence_number(record):
    try:
        raw = base64.b64decode(record["kinesis"]["data"], validate=True)
    except binascii.Error as error:
        raise MalformedRecord("data is not base64") from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedRecord("data is not UTF-8") from error
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise MalformedRecord("data is not JSON") from error
    if not isinstance(value, dict):
        raise MalformedRecord("JSON but not an object")
    return value


def plain_value_error(record):
    try:
        return decoding.decode_record(record)
    except MalformedRecord as error:
        raise ValueError(str(error)) from error


def _steps(
    record, *, refuse_empty=False, loads_bytes=False, flat=False, in_place=False, object_test=None, utf8_error=()
):
    """The reference's four steps, with one mistake switched on."""
    where = _where(record) if not flat else "record"
    data = record["data"] if flat else record["kinesis"]["data"]
    try:
        raw = base64.b64decode(data, validate=True)
    except binascii.Error as error:
        raise MalformedRecord(f"{where}: data is not base64") from error
    if in_place:  # keeps the decoded bytes in the record, "for later"
        record["kinesis"]["data"] = raw
    try:
        value = json.loads(raw) if loads_bytes else json.loads(raw.decode("utf-8"))
    except utf8_error:  # caught only to be raised again as it is: the decoder's own class reaches the caller
        raise
    except UnicodeDecodeError as error:
        raise MalformedRecord(f"{where}: data is not UTF-8") from error
    except json.JSONDecodeError as error:
        raise MalformedRecord(f"{where}: data is not JSON") from error
    is_object = object_test(value) if object_test else isinstance(value, dict)
    if not is_object or (refuse_empty and not value):
        raise MalformedRecord(f"{where}: data is JSON but not an object")
    return value


NEW_DECODER_MISTAKES = {
    "refuses-the-empty-object": (dict(refuse_empty=True), ["{}", "is a JSON object", "isinstance"]),
    "json-loads-of-bytes": (dict(loads_bytes=True), ["UTF-16", "guesses the encoding", ".decode('utf-8')"]),
    "flat-record-data": (dict(flat=True), ["record['kinesis']['data']", "flat"]),
    "changes-the-record": (dict(in_place=True), ["in place"]),
    "lets-the-decoders-error-through": (
        dict(utf8_error=UnicodeDecodeError),
        ["expected MalformedRecord", "got UnicodeDecodeError", "decoder's own"],
    ),
    "object-test-misses-strings": (
        dict(object_test=lambda value: not (value is None or isinstance(value, (list, int, float)))),
        ["not objects", "isinstance"],
    ),
}


@pytest.mark.parametrize("mistake", list(NEW_DECODER_MISTAKES))
def test_a_new_wrong_decoder_is_rejected(mistake):
    options, mentions = NEW_DECODER_MISTAKES[mistake]
    assert_rejected(
        lambda: checks.check_decode_record(lambda record: _steps(record, **options), MalformedRecord), *mentions
    )


def test_the_reference_steps_pass(capsys):
    checks.check_decode_record(_steps, MalformedRecord)
    assert "✔ Exercise 01.1 passed" in capsys.readouterr().out


def test_the_stub_decoder_is_not_solved():
    def stub(record):
        raise NotImplementedError("Exercise 01.1: replace this line with your solution")

    with pytest.raises(ExerciseNotSolved):
        checks.check_decode_record(stub, MalformedRecord)


def test_the_reference_decoder_passes(capsys):
    checks.check_decode_record(decoding.decode_record, MalformedRecord)
    assert "✔ Exercise 01.1 passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (one_generic_message, ["one generic message", "separate"]),
        (without_validate, ["validate=True"]),
        (any_json_value, ["isinstance", "dict", "not objects"]),
        (not_chained, ["from error", "chain"]),
        (no_sequence_number, ["sequenceNumber"]),
        (plain_value_error, ["expected MalformedRecord", "got ValueError", "not a plain ValueError"]),
    ],
    ids=lambda value: getattr(value, "__name__", None) or "-",
)
def test_a_wrong_decoder_is_rejected(wrong, mentions):
    assert_rejected(lambda: checks.check_decode_record(wrong, MalformedRecord), *mentions)


# ---- Exercise 01.2: shard_of ------------------------------------------------------------------------------------


def test_the_reference_shard_of_passes(capsys):
    checks.check_shard_of(decoding.shard_of)
    assert "✔ Exercise 01.2 passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (lambda record: record["kinesis"]["partitionKey"], ["partition key", "eventID"]),
        (lambda record: record["eventSourceARN"].split("/")[-1], ["eventSourceARN", "stream"]),
        (lambda record: record["eventSourceARN"].split(":")[-1], ["eventSourceARN", "stream"]),
        (lambda record: record["eventID"].split(":")[-1], ["sequence number", "before the first ':'"]),
    ],
    ids=["partition-key", "stream-name-from-arn", "arn-tail", "split-last"],
)
def test_a_wrong_shard_of_is_rejected(wrong, mentions):
    assert_rejected(lambda: checks.check_shard_of(wrong), *mentions)


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (lambda record: "shardId-000000000000", ["the same shard id", "eventID"]),
        (lambda record: record["eventID"].split(":")[0].split("-")[1], ["the whole shard id", "shardId-"]),
        (lambda record: record["eventID"].split(":", 1), ["a str", "[0]"]),
        (lambda record: record.pop("eventID").split(":", 1)[0], ["in place"]),
    ],
    ids=["always-the-first-shard", "digits-only", "the-list-split-returns", "pops-event-id"],
)
def test_a_new_wrong_shard_of_is_rejected(wrong, mentions):
    assert_rejected(lambda: checks.check_shard_of(wrong), *mentions)


def test_the_stub_shard_of_is_not_solved():
    def stub(record):
        raise NotImplementedError("Exercise 01.2: replace this line with your solution")

    with pytest.raises(ExerciseNotSolved):
        checks.check_shard_of(stub)


# ---- Stretch 01.S: records_by_shard ------------------------------------------------------------------------------


def records_by_shard(events):
    grouped = {}
    for event in events:
        for record in event["Records"]:
            grouped.setdefault(decoding.shard_of(record), []).append(record)
    return grouped


def _by(key):
    def group(events):
        grouped = {}
        for event in events:
            for record in event["Records"]:
                grouped.setdefault(key(record), []).append(record)
        return grouped

    return group


def last_event_only(events):
    return {decoding.shard_of(event["Records"][0]): list(event["Records"]) for event in events}


def sorted_as_strings(events):
    return {
        shard: sorted(records, key=lambda record: record["kinesis"]["sequenceNumber"])
        for shard, records in records_by_shard(events).items()
    }


def newest_first(events):
    return {shard: records[::-1] for shard, records in records_by_shard(events).items()}


def pops_the_records(events):
    grouped = {}
    for event in events:
        while event["Records"]:
            record = event["Records"].pop(0)
            grouped.setdefault(decoding.shard_of(record), []).append(record)
    return grouped


def test_the_reference_records_by_shard_passes(capsys):
    checks.check_records_by_shard(records_by_shard)
    assert "✔ Stretch 01.S passed" in capsys.readouterr().out


def test_the_stub_records_by_shard_is_not_solved():
    def stub(events):
        raise NotImplementedError("Stretch 01.S: replace this line with your solution")

    with pytest.raises(ExerciseNotSolved):
        checks.check_records_by_shard(stub)


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (_by(lambda record: record["kinesis"]["partitionKey"]), ["grouped by partition key"]),
        (_by(lambda record: record["eventSourceARN"]), ["eventSourceARN", "names the stream"]),
        (last_event_only, ["only the records of its last one", "extend"]),
        (sorted_as_strings, ["as strings", "int"]),
        (newest_first, ["order they were delivered"]),
        (pops_the_records, ["in place"]),
        (lambda events: [record for event in events for record in event["Records"]], ["a dict"]),
    ],
    ids=[
        "partition-key",
        "event-source-arn",
        "last-event-only",
        "sorted-as-strings",
        "newest-first",
        "pops",
        "a-flat-list",
    ],
)
def test_a_wrong_records_by_shard_is_rejected(wrong, mentions):
    assert_rejected(lambda: checks.check_records_by_shard(wrong), *mentions)
