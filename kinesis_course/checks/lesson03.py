"""Checks of lesson 03 · When a batch fails.

03.1 triage: records built here with random ids (a good reading, a harmless bad one, data that is not JSON
or not base64), so that only a triage that fails the batch for poison and skips the rest passes.
03.2 the bounded mapping: created by the learner's call, read back from LocalStack, judged setting by setting
against the statement's numbered requirements; each hint names the requirement a setting breaks.
03.3 failed_range: on-failure records in the two shapes Lambda sends: after the retries ran out
(RetryAttemptsExhausted, with requestContext and responseContext) and after the records grew too old
(RecordAgeExceeded, without responseContext; LocalStack also leaves out requestContext).
03.4 reread: records put to a stream of the check's own, read back through a GetRecords that answers as
AWS may: a few records a call, and an empty page while more records exist.
Stretch 03.S the aged mapping: read back and judged like 03.2 (by age, 60 s, as well as by count), then deleted.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import random
import sys
import uuid
from datetime import datetime, timedelta, timezone

import botocore.client
import botocore.exceptions

from ..endpoint import ACCOUNT_ID, REGION
from ..logs import delete_logs
from ..mappings import delete_mappings_of, wait_for_state
from ..streams import ensure_stream, put_records
from . import ExerciseCheckFailed, ExerciseNotSolved, call_exercise, expect, fresh_random, passed
from .cases import property_cases, unchanged
from .mapping import Requirement, judge, mapping_of, on_failure_destination, refused, setting, stream_and_function

# ---------------------------------------------------------------------------------------------- 03.1 triage


def _event_record(rng: random.Random, data: bytes, *, encode: bool = True) -> dict:
    """One record of a Lambda Kinesis event, with a shard id and sequence number the learner has not seen."""
    shard_id = f"shardId-{rng.randint(0, 30):012d}"
    sequence_number = str(rng.randrange(10**55, 5 * 10**55))
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": f"sensor-{rng.randint(1, 99)}",
            "sequenceNumber": sequence_number,
            "data": base64.b64encode(data).decode("ascii") if encode else data.decode("ascii"),
            "approximateArrivalTimestamp": 1764000000.0 + rng.randint(0, 10**6) / 1000,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT_ID}:role/check-03",
        "awsRegion": REGION,
        "eventSourceARN": f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/check-03",
    }


KEEP_THE_RECORD = (
    "triage must not change the record it is given: the handler reports it, and Lambda retries the same batch. Read "
    "from it, keep what you compute in local variables."
)


def _triage_of(label: str, module, record: dict):
    """(returned value, exception raised or None, lines printed) of module.triage(record)."""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            result = unchanged(label, module.triage, record, hint=KEEP_THE_RECORD)
    except (ExerciseCheckFailed, ExerciseNotSolved):
        raise
    except Exception as error:  # noqa: BLE001 - judged below, by kind
        return None, error, printed.getvalue().splitlines()
    return result, None, printed.getvalue().splitlines()


def _skipped_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("SKIPPED ")]


def check_triage(module) -> None:
    """Exercise 03.1: ``module`` is the learner's triage.py, as ``lesson.load_module("triage.py")`` loads it."""
    label = "Exercise 03.1"
    rng = fresh_random(label)
    poison_type = getattr(module, "PoisonRecord", None)
    if not isinstance(poison_type, type):
        raise ExerciseCheckFailed(
            f"{label}: triage.py defines no class PoisonRecord.\nHint: keep the PoisonRecord class the cell gives, "
            "and raise it for a record whose data cannot be decoded."
        )
    decoding = sys.modules.get("decoding")
    malformed_type = getattr(module, "MalformedRecord", None) or getattr(decoding, "MalformedRecord", ValueError)

    # A good reading: the normalised reading comes back, and nothing is reported as skipped.
    reading = {
        "reading_id": f"r-{rng.randint(10000, 99999)}",
        "sensor": f"s-{rng.randint(10, 99)}",
        "temperature": round(rng.uniform(-10, 35), 1),
        "unit": "C",
        "humidity": rng.randint(20, 90),
    }
    record = _event_record(rng, json.dumps(reading).encode())
    expected = getattr(module, "normalise")(dict(reading)) if hasattr(module, "normalise") else None
    got, error, lines = _triage_of(label, module, record)
    if error is not None:
        raise ExerciseCheckFailed(
            f"{label}, a good reading {json.dumps(reading)}: triage raised {type(error).__name__}: {error}.\n"
            "Hint: a record that decodes and normalises is returned as normalise(reading) returns it."
        ) from error
    expect(
        f"{label}, a good reading {json.dumps(reading)}",
        expected is None or got == expected,
        expected=expected,
        got=got,
        hint="return normalise(decode_record(record)) for a good record.",
    )
    expect(
        f"{label}, a good reading: lines printed",
        not _skipped_lines(lines),
        expected=[],
        got=lines,
        hint="print a SKIPPED line only for a reading you skip.",
    )

    # Poison: data that is not JSON, and data that is not base64. Each must fail the batch, naming the record.
    truncated = json.dumps({"reading_id": f"r-{rng.randint(10000, 99999)}", "sensor": "s-1", "temperature": 21.5})
    poison_cases = [
        ("data is not JSON (a truncated payload)", _event_record(rng, truncated[: rng.randint(30, 45)].encode())),
        ("data is not base64", _event_record(rng, b"%%not-base64%%", encode=False)),
        ("data is not UTF-8", _event_record(rng, '{"unit": "°C"}'.encode("latin-1"))),
        ("data is JSON but not an object", _event_record(rng, f"[{round(rng.uniform(-10, 35), 1)}]".encode())),
    ]
    for what, record in poison_cases:
        where = f"{label}, a record whose {what}"
        got, error, lines = _triage_of(label, module, record)
        if error is None:
            raise ExerciseCheckFailed(
                f"{where}: expected PoisonRecord to be raised, got {got!r} returned (printed: {lines}).\n"
                "Hint: the poison record would be lost silently: the batch succeeds, the mapping checkpoints past "
                "it, and no retry limit or on-failure destination ever hears of it. Catch MalformedRecord and "
                "raise PoisonRecord instead of returning. (except ValueError or except Exception around "
                "decode_record catches it too: MalformedRecord is a ValueError, as InvalidReading is; catch "
                "each by its own class.)"
            )
        if not isinstance(error, poison_type):
            mistake = (
                "you let MalformedRecord through: turn it into PoisonRecord (`except MalformedRecord as error: "
                "raise PoisonRecord(...) from error`), so the handler and lesson 06 can tell poison by its class"
                if isinstance(error, malformed_type)
                else "decode the record with decode_record and turn its MalformedRecord into PoisonRecord"
            )
            raise ExerciseCheckFailed(
                f"{where}: expected PoisonRecord, got {type(error).__name__}: {error}.\nHint: {mistake}."
            ) from error
        expect(
            f"{where}: the PoisonRecord's message",
            record["eventID"] in str(error),
            expected=f"a message that contains the eventID {record['eventID']!r}",
            got=str(error),
            hint="name the record's eventID in the message (f\"{record['eventID']}: {error}\"): it says which "
            "shard and which sequence number, so whoever reads the logs can find the record.",
        )
        cause = error.__cause__
        expect(
            f"{where}: the PoisonRecord's __cause__",
            isinstance(cause, malformed_type),
            expected="the MalformedRecord it replaces",
            got=cause,
            hint="chain it: `raise PoisonRecord(...) from error`, so the traceback Lambda logs keeps the "
            "MalformedRecord and what exactly is wrong with the data."
            if cause is None
            else f"the cause is a {type(cause).__name__}: decode the record with decode_record (your decoding.py), "
            "not with your own base64/json calls, and turn its MalformedRecord into PoisonRecord. decode_record "
            "catches every kind of bad data (not UTF-8, JSON but not an object, ...) and names it.",
        )

    # Harmless bad readings: skipped (None) after exactly one SKIPPED line naming the record.
    harmless = [
        (
            "a reading in kelvin",
            {
                "reading_id": f"r-{rng.randint(10000, 99999)}",
                "sensor": f"s-{rng.randint(10, 99)}",
                "temperature": round(rng.uniform(270, 310), 1),
                "unit": "K",
                "humidity": 50,
            },
        ),
        (
            "a reading without a temperature",
            {"reading_id": f"r-{rng.randint(10000, 99999)}", "sensor": f"s-{rng.randint(10, 99)}", "unit": "C"},
        ),
        ("an empty object {}", {}),
    ]
    for what, reading in harmless:
        record = _event_record(rng, json.dumps(reading).encode())
        where = f"{label}, {what} {json.dumps(reading)}"
        got, error, lines = _triage_of(label, module, record)
        if isinstance(error, poison_type):
            empty = (
                " {} decodes: it is a JSON object, an empty one, so it is not poison; normalise refuses it "
                "(no reading_id), which makes it a harmless bad reading."
                if reading == {}
                else ""
            )
            raise ExerciseCheckFailed(
                f"{where}: expected None (skipped), got PoisonRecord: {error}.\nHint: a harmless reading would block "
                "the shard: PoisonRecord fails the whole batch, and with it every record behind it, for a reading "
                "no retry can change and nothing needs. Catch InvalidReading, print a SKIPPED line, return None."
                + empty
            ) from error
        if error is not None:
            raise ExerciseCheckFailed(
                f"{where}: expected None (skipped), got {type(error).__name__}: {error}.\nHint: catch InvalidReading "
                "from normalise: print one SKIPPED line and return None; it must not fail the batch."
            ) from error
        expect(
            where,
            got is None,
            expected=None,
            got=got,
            hint="return None for a reading that normalise refuses: the handler counts it as skipped.",
        )
        skipped = _skipped_lines(lines)
        expect(
            f"{where}: SKIPPED lines printed",
            len(skipped) == 1,
            expected="one line starting with 'SKIPPED '",
            got=lines,
            hint='report what you skip: print("SKIPPED " + json.dumps({"sequenceNumber": ..., "reason": '
            "str(error)})). A record skipped without a trace cannot be found again.",
        )
        try:
            report = json.loads(skipped[0][len("SKIPPED ") :])
        except json.JSONDecodeError:
            report = None
        number = record["kinesis"]["sequenceNumber"]
        event_id = isinstance(report, dict) and report.get("sequenceNumber") == record["eventID"]
        expect(
            f"{where}: the SKIPPED line",
            isinstance(report, dict)
            and report.get("sequenceNumber") == number
            and isinstance(report.get("reason"), str)
            and report["reason"],
            expected=f'SKIPPED {{"sequenceNumber": "{number}", "reason": "..."}}',
            got=skipped[0],
            hint="after 'SKIPPED ', print JSON with the record's sequenceNumber and the reason (str of the "
            "InvalidReading)."
            + (
                " You printed the eventID: sequenceNumber is record['kinesis']['sequenceNumber'], not its eventID."
                if event_id
                else ""
            ),
        )
    passed(label, "a good reading kept, poison raised as PoisonRecord, harmless readings skipped and reported")


# ---------------------------------------------------------------------------------------------- 03.2 mapping

# The requirements of Exercise 03.2, as the statement numbers them: each hint names the one a setting breaks.
FEEDS = "requirement 1 (the records of the stream, those already in it included, go to the function)"
DELIVERIES = "requirement 2 (a failing batch is delivered 3 times in all, then given up)"
TRACE = "requirement 3 (every batch given up leaves a description in the queue)"
FEW_GOOD_LOST = (
    "requirement 4 (at most 2 good records are given up with a poison one, in as few invocations as possible)"
)
WHOLE = "requirement 5 (a failing batch is retried whole; every other setting keeps its default)"
RECORDS_IN_STREAM = 9


def _retries_hint(retries) -> str:
    if retries == -1 or retries is None:
        return (
            "Left at -1 (the default), MaximumRetryAttempts retries until the record expires, so the shard stays "
            "blocked for up to the retention period (24 hours by default, up to 365 days)."
        )
    if retries == 0:
        return (
            "0 means no retry at all, one delivery in all, and a batch that failed once for a passing reason (a "
            "throttled database) is given up. MaximumRetryAttempts counts the retries after the first attempt."
        )
    if retries == 10000:
        return (
            "10,000 is the most AWS allows, not a bound that gives up soon: a poison record would be delivered "
            "10,001 times while the shard waits behind it."
        )
    if isinstance(retries, int) and retries > 0:
        return (
            "MaximumRetryAttempts counts the retries after the first attempt, not the deliveries: "
            f"{retries} retries make {retries + 1} invocations of a failing batch, not 3."
        )
    return "MaximumRetryAttempts counts the retries after the first attempt."


def _batch_size_hint(batch_size) -> str:
    if isinstance(batch_size, int) and batch_size > 3:
        default = " (the default, as you left it out)" if batch_size == 100 else ""
        return (
            f"With BatchSize {batch_size}{default}, a batch holds up to {batch_size} records, so up to "
            f"{batch_size - 1} good records are given up with one poison record."
        )
    if isinstance(batch_size, int) and 0 < batch_size < 3:
        invocations = -(-RECORDS_IN_STREAM // batch_size)
        return (
            f"Batches of at most {batch_size} records lose fewer good records, but take {invocations} invocations "
            "for the nine readings where batches of 3 take 3. Take the largest batch that gives up at most 2 good "
            "records with a poison one."
        )
    return "BatchSize is the most records one batch may hold."


def _requirements(function_name: str, stream_arn: str, queue_arn: str) -> list[Requirement]:
    """The statement's five requirements, as the stored settings that meet them (checks/mapping.py's judge)."""
    names = "Pass the function_name and stream_arn your function receives as FunctionName and EventSourceArn."
    named_by_arn = (
        "A destination is named by its ARN (arn:aws:sqs:region:account:name), not by the queue's name or URL. AWS "
        "refuses a URL; LocalStack 4.14 stores it and then cannot deliver anything to it. Use the queue_arn argument."
    )
    return [
        *stream_and_function(function_name, stream_arn, FEEDS, names, names),
        Requirement(
            "StartingPosition",
            "TRIM_HORIZON",
            FEEDS,
            "The records #0 to #8 are already in the stream, and LATEST starts after the newest record, so it would "
            "never read them. StartingPosition is required for Kinesis: there is no default to rely on.",
            read=lambda mapping: mapping.get("StartingPosition"),
        ),
        Requirement("BatchSize", 3, FEW_GOOD_LOST, _batch_size_hint),
        Requirement("MaximumRetryAttempts", 2, DELIVERIES, _retries_hint),
        Requirement(
            "DestinationConfig.OnFailure.Destination",
            queue_arn,
            TRACE,
            "Use the queue_arn your function receives.",
            mistakes=[
                (
                    lambda config: not (config or {}).get("OnFailure") and (config or {}).get("OnSuccess"),
                    "OnSuccess is the wrong key. The queue must hear of the batches Lambda gives up on, so it goes "
                    "under OnFailure.",
                ),
                (
                    lambda config: not ((config or {}).get("OnFailure") or {}).get("Destination"),
                    "Without a destination the failed batch is dropped without a trace. After the retries the "
                    "mapping moves on and nothing says which records were given up.",
                ),
                (
                    lambda config: config["OnFailure"]["Destination"].startswith("http"),
                    "It is the queue's URL. " + named_by_arn,
                ),
                (
                    lambda config: config["OnFailure"]["Destination"] == queue_arn.rsplit(":", 1)[-1],
                    "It is the queue's name. " + named_by_arn,
                ),
            ],
            met=lambda config: ((config or {}).get("OnFailure") or {}).get("Destination") == queue_arn,
            read=lambda mapping: setting(mapping, "DestinationConfig"),
        ),
        Requirement(
            "BisectBatchOnFunctionError",
            False,
            WHOLE,
            "BisectBatchOnFunctionError splits a failing batch in halves (lesson 06) instead of invoking it again as "
            "it is. Leave it out here.",
            met=lambda bisect: not bisect,
        ),
        Requirement(
            "MaximumRecordAgeInSeconds",
            -1,
            WHOLE,
            "An age limit gives a batch up when its records are too old, whatever the retries; this mapping gives up "
            "by the count of deliveries alone. Leave MaximumRecordAgeInSeconds out (section 4 shows it).",
            met=lambda age: age in (-1, None),
        ),
        Requirement(
            "State",
            "Enabled",
            FEEDS,
            "Enabled=False creates a mapping that never reads the stream. Leave Enabled out (it defaults to True).",
            met=lambda state: state not in ("Disabled", "Disabling"),
            read=lambda mapping: mapping.get("State"),
        ),
    ]


def _judge_bounded(label: str, mapping: dict, function_name: str, stream_arn: str, queue_arn: str) -> None:
    try:
        judge(label, mapping, _requirements(function_name, stream_arn, queue_arn))
    except ExerciseCheckFailed as failed:
        # A rejected mapping must not keep polling (its retries would block the shard and fill the logs), and a
        # second create for the same function and stream would fail with ResourceConflictException.
        delete_mappings_of(function_name)
        delete_logs(function_name)
        raise failed from None


def _refusals(label: str) -> list[tuple[str, str]]:
    """This lesson's hints for a refused call, by words of the error's message (checks/mapping.py's refused)."""
    only_on_failure = (
        f"{TRACE}: a stream mapping has only an OnFailure destination: DestinationConfig={{'OnFailure': "
        "{'Destination': queue_arn}}. OnSuccess is for asynchronous invocations; AWS and LocalStack "
        "refuse it for a Kinesis mapping."
    )
    by_arn = (
        f"{FEEDS}: EventSourceArn is the stream's ARN (the stream_arn argument), not its name: a mapping "
        "names its event source by ARN."
    )
    broken = AGE_LIMIT if label.startswith("Stretch") else WHOLE
    return [
        ("unsupported destinationconfig", only_on_failure),
        ("onsuccess", only_on_failure),
        (
            "destination",
            f"{TRACE}: give the queue's ARN (arn:aws:sqs:...), not its URL (http...): a destination is named by ARN.",
        ),
        (
            "maximumretryattempts",
            f"{DELIVERIES}: MaximumRetryAttempts ranges from -1 to 10,000 (-1: retry until the record expires) "
            "and counts the retries after the first attempt.",
        ),
        (
            "maximumrecordage",
            f"{broken}: MaximumRecordAgeInSeconds is -1 (no limit) or 60 to 604,800 seconds. AWS refuses "
            "0 to 59, and so does the course's LocalStack, with AWS's message.",
        ),
        ("provided arn", by_arn),
        ("must be of the format", by_arn),
    ]


def _created_mapping(label: str, create, function_name: str, *args) -> dict:
    """Calls the learner's create function and reads the mapping back (hints for a refused call)."""
    try:
        answer = call_exercise(label, create, function_name, *args)
    except (botocore.exceptions.ClientError, botocore.exceptions.ParamValidationError) as error:
        delete_mappings_of(function_name)  # one call may have succeeded before the one that failed
        raise refused(label, "create_event_source_mapping", error, _refusals(label)) from error
    try:
        return mapping_of(label, answer)
    except ExerciseCheckFailed:
        delete_mappings_of(function_name)  # created, maybe, but not returned: it must not go on polling unchecked
        raise


def check_bounded_mapping(create_bounded_mapping, function_name: str, stream_arn: str, queue_arn: str) -> str:
    """Exercise 03.2: calls create_bounded_mapping(function_name, stream_arn, queue_arn), reads the mapping back,
    and judges it against the statement's requirements, naming the one a setting breaks.

    Returns the mapping's UUID once it is Enabled.
    """
    label = "Exercise 03.2"
    # A function has at most one mapping per stream: clear what an earlier run of this cell created, and the
    # logs its invocations left, so that the lesson counts only the invocations of the mapping checked here.
    delete_mappings_of(function_name)
    delete_logs(function_name)
    mapping = _created_mapping(label, create_bounded_mapping, function_name, stream_arn, queue_arn)
    _judge_bounded(label, mapping, function_name, stream_arn, queue_arn)
    wait_for_state(mapping["UUID"], "Enabled")
    passed(
        label,
        "the records already in the stream are read (TRIM_HORIZON), batches of 3, 3 deliveries of a "
        "failing batch (MaximumRetryAttempts 2), each batch given up described in the queue",
    )
    return mapping["UUID"]


# ---------------------------------------------------------------------------------------------- 03.3, 03.4


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def failure_record(
    stream_arn: str,
    shard_id: str,
    start: str,
    end: str,
    batch_size: int,
    condition: str = "RetryAttemptsExhausted",
    invoke_count: int = 3,
    function_name: str = "check-03",
) -> dict:
    """An on-failure record as Lambda sends it to an SQS or SNS destination: metadata only, no record data.

    A RecordAgeExceeded record is built as LocalStack sends it: no responseContext (as on AWS) and no
    requestContext (AWS includes one).
    """
    now = datetime.now(timezone.utc)
    record = {
        "version": "1.0",
        "timestamp": _iso(now),
        "KinesisBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": start,
            "endSequenceNumber": end,
            "approximateArrivalOfFirstRecord": _iso(now - timedelta(seconds=30)),
            "approximateArrivalOfLastRecord": _iso(now - timedelta(seconds=29)),
            "batchSize": batch_size,
            "streamArn": stream_arn,
        },
    }
    if condition == "RetryAttemptsExhausted":
        record["requestContext"] = {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}",
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        }
        record["responseContext"] = {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    return record


def _sequence_numbers(rng: random.Random, count: int) -> list[str]:
    current = rng.randrange(10**55, 5 * 10**55)
    numbers = []
    for _ in range(count):
        current += rng.randrange(10**20, 10**22)
        numbers.append(str(current))
    return numbers


def _failed_range_hint(got, record: dict) -> str:
    info = record["KinesisBatchInfo"]
    start, end, size = info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]
    general = (
        "Read everything from record['KinesisBatchInfo']: shardId, startSequenceNumber, endSequenceNumber, "
        "and return them as a tuple of the strings they are. A RecordAgeExceeded record has no "
        "responseContext (and, on LocalStack, no requestContext), so do not rely on those."
    )
    if not (isinstance(got, tuple) and len(got) == 3):
        return general
    got_end = got[2]
    if isinstance(got_end, str) and got_end.isdigit() and got[1] == start:
        if int(got_end) == int(start) + size - 1 and got_end != end:
            return (
                "sequence numbers are not contiguous: start + batchSize - 1 is not the last record's number "
                "(Kinesis leaves gaps between them). Read endSequenceNumber from KinesisBatchInfo."
            )
        if int(got_end) > int(end):
            return (
                "the range is inclusive: endSequenceNumber is the last record of the failed batch, as given; do "
                "not move it past the end (Python's exclusive ranges do not apply here)."
            )
    return general


def _check_one_range(label: str, failed_range, case: tuple) -> None:
    condition, shard_number, numbers, invoke_count = case
    stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/check-03-{shard_number}"
    shard_id = f"shardId-{shard_number:012d}"
    record = failure_record(
        stream_arn, shard_id, numbers[0], numbers[-1], len(numbers), condition, invoke_count=invoke_count
    )
    where = f"{label}, a {condition} record of a batch of {len(numbers)}"
    try:
        got = unchanged(
            label,
            failed_range,
            record,
            hint="failed_range only reads the record: do not pop KinesisBatchInfo or assign into it "
            "(lesson 07's replay consumer reads the same message again).",
        )
    except (ExerciseNotSolved, ExerciseCheckFailed):
        raise
    except KeyError as error:
        raise ExerciseCheckFailed(
            f"{where}: your function raised KeyError {error}.\nHint: only KinesisBatchInfo is in every on-failure "
            f"record; this one has the keys {sorted(record)}."
        ) from None
    expected = (shard_id, numbers[0], numbers[-1])
    expect(
        where,
        isinstance(got, tuple) and got == expected,
        expected=expected,
        got=got,
        hint=_failed_range_hint(got, record),
    )


def _batch_strategy():
    from hypothesis import strategies as st

    @st.composite
    def numbers(draw):
        # Increasing, with the gaps Kinesis leaves between a shard's sequence numbers (at least 1).
        current = draw(st.integers(10**55, 5 * 10**55))
        gaps = draw(st.lists(st.integers(1, 10**22), max_size=draw(st.sampled_from([0, 1, 5, 30]))))
        found = [current]
        for gap in gaps:
            current += gap
            found.append(current)
        return [str(number) for number in found]

    return st.tuples(
        st.sampled_from(["RetryAttemptsExhausted", "RecordAgeExceeded"]),
        st.integers(0, 10**4),
        numbers(),
        st.integers(1, 10_001),
    )


def check_failed_range(failed_range) -> None:
    """Exercise 03.3: both conditions, batches of 1 (start = end) to many, with gaps between sequence numbers.

    The learner's function gets the record itself: a change made in place is caught."""
    label = "Exercise 03.3"
    rng = fresh_random(label)
    examples = [
        (condition, rng.randint(0, 20), _sequence_numbers(rng, size), rng.randint(1, 4))
        for condition in ("RetryAttemptsExhausted", "RecordAgeExceeded")
        for size in (rng.randint(2, 50), 1)
    ]
    drawn = property_cases(
        label,
        _batch_strategy(),
        lambda case: _check_one_range(label, failed_range, case),
        examples=examples,
        max_examples=40,
    )
    passed(label, f"both conditions, {drawn} on-failure records")


PAGE = 3  # the most records one GetRecords call of the check's stream returns
MAX_CALLS = 200


@contextlib.contextmanager
def _paged_get_records():
    """While active, GetRecords answers as AWS's may: no call returns more than PAGE records, whatever Limit asks,
    and the second call returns no records although more exist (MillisBehindLatest > 0, NextShardIterator at the
    same position). Yields the list of (records returned, MillisBehindLatest) per call."""
    original = botocore.client.BaseClient._make_api_call
    calls: list[tuple[int, int]] = []
    calls_iterator_types: list[str] = []

    def make_api_call(self, operation_name, api_params):
        if operation_name == "GetShardIterator":
            calls_iterator_types.append(api_params.get("ShardIteratorType"))
        if operation_name != "GetRecords":
            return original(self, operation_name, api_params)
        if len(calls) >= MAX_CALLS:
            raise ExerciseCheckFailed(
                f"Exercise 03.4: your function called GetRecords {MAX_CALLS} times and had not returned.\nHint: "
                "stop once you are past endSequenceNumber, and also when a call returns no records with "
                "MillisBehindLatest 0 (the end of the shard)."
            )
        if len(calls) == 1:
            calls.append((0, 8000))
            return {"Records": [], "NextShardIterator": api_params["ShardIterator"], "MillisBehindLatest": 8000}
        params = dict(api_params, Limit=min(int(api_params.get("Limit") or 10000), PAGE))
        response = original(self, operation_name, params)
        calls.append((len(response.get("Records", [])), response.get("MillisBehindLatest", 0)))
        return response

    botocore.client.BaseClient._make_api_call = make_api_call
    try:
        yield calls, calls_iterator_types
    finally:
        botocore.client.BaseClient._make_api_call = original


def check_reread(reread, lesson) -> None:
    label = "Exercise 03.4"
    rng = fresh_random(label)
    stream_name = lesson.name("check-reread")
    stream_arn = ensure_stream(stream_name)
    # Readings, and among them a truncated payload: re-reading must return bytes as stored, JSON or not.
    payloads = [
        {
            "reading_id": f"r-{rng.randint(10000, 99999)}",
            "sensor": f"s-{rng.randint(10, 99)}",
            "temperature": round(rng.uniform(-5, 30), 1),
            "unit": "C",
        }
        for _ in range(rng.randint(12, 16))
    ]
    bad = rng.randrange(4, len(payloads) - 4)
    payloads[bad] = b'{"reading_id": "r-0", "sensor": "s-0", "temperature": ' + str(rng.randint(1, 9)).encode()
    put = put_records(stream_name, payloads, progress=False)
    # A range of at least 2 pages, with records before and after it, on the stream's only shard.
    first = rng.randint(1, 3)
    last = rng.randint(first + 2 * PAGE, len(put) - 2)
    chosen = put[first : last + 1]
    shard_id = chosen[0]["ShardId"]
    record = failure_record(
        stream_arn, shard_id, chosen[0]["SequenceNumber"], chosen[-1]["SequenceNumber"], len(chosen)
    )

    with _paged_get_records() as (calls, iterator_types):
        got = unchanged(
            label,
            reread,
            record,
            hint="reread only reads the on-failure record: do not pop from it or assign into it (lesson 07's "
            "replay consumer reads the same message again).",
        )
    if not isinstance(got, list) or not all(isinstance(item, dict) and "SequenceNumber" in item for item in got):
        raise ExerciseCheckFailed(
            f"{label}: expected a list of records as GetRecords returns them (dicts with SequenceNumber, Data, ...), "
            f"got {got!r:.300}.\nHint: collect response['Records'] of each get_records call."
        )
    expected_numbers = [entry["SequenceNumber"] for entry in chosen]
    got_numbers = [item["SequenceNumber"] for item in got]
    where = f"{label}, the sequence numbers of {len(chosen)} records re-read (start..end inclusive)"
    if "LATEST" in iterator_types and not got_numbers:
        expect(
            where,
            False,
            expected=expected_numbers,
            got=got_numbers,
            hint="a LATEST shard iterator starts after the newest record of the shard, so it finds nothing of a "
            "batch that failed earlier. Use ShardIteratorType='AT_SEQUENCE_NUMBER' with "
            "StartingSequenceNumber=startSequenceNumber.",
        )
    if got_numbers[:1] and str(got_numbers[0]).isdigit() and int(got_numbers[0]) < int(expected_numbers[0]):
        types = ", ".join(sorted(set(map(str, iterator_types)))) or "?"
        expect(
            where,
            False,
            expected=expected_numbers,
            got=got_numbers,
            hint=f"your list begins with records before startSequenceNumber (iterator type {types}): "
            "TRIM_HORIZON starts at the oldest record of the shard, not at the failed batch. Use "
            "ShardIteratorType='AT_SEQUENCE_NUMBER' with StartingSequenceNumber=startSequenceNumber.",
        )
    if got_numbers == expected_numbers[:-1]:
        expect(
            where,
            False,
            expected=expected_numbers,
            got=got_numbers,
            hint="the last failed record is missing: endSequenceNumber is included in the range (it is the last "
            "record of the failed batch). Stop at the first record whose int(SequenceNumber) is greater than "
            "int(endSequenceNumber), not greater or equal.",
        )
    if got_numbers != expected_numbers and got_numbers == expected_numbers[: len(got_numbers)]:
        if len(calls) <= 1:
            hint = (
                "one GetRecords call is not enough: a call may return fewer records than exist, or none at all "
                "(this stream returns at most 3 a call, and one empty page with MillisBehindLatest > 0). Loop: call get_records "
                "again with response['NextShardIterator'] until you are past endSequenceNumber."
            )
        elif calls[-1][0] == 0 and calls[-1][1] > 0:
            hint = (
                "you stopped at an empty response, but its MillisBehindLatest was > 0: more records exist. An "
                "empty answer ends the reading only when MillisBehindLatest is 0 (the end of the shard); "
                "otherwise call again with NextShardIterator."
            )
        else:
            hint = (
                "you stopped before endSequenceNumber: a call returns at most Limit records, and often fewer. "
                "Keep calling get_records with NextShardIterator until you reach endSequenceNumber."
            )
        expect(
            f"{label}, the sequence numbers of {len(chosen)} records re-read (start..end inclusive)",
            False,
            expected=expected_numbers,
            got=got_numbers,
            hint=hint + f" (GetRecords calls made: {len(calls)})",
        )
    expect(
        f"{label}, the sequence numbers of {len(chosen)} records re-read (start..end inclusive)",
        got_numbers == expected_numbers,
        expected=expected_numbers,
        got=got_numbers,
        hint="Start with a shard iterator of type AT_SEQUENCE_NUMBER at startSequenceNumber (AFTER_SEQUENCE_NUMBER "
        "skips the first failed record), keep calling get_records with NextShardIterator, and stop after "
        "endSequenceNumber (records after it were not in the failed batch). Compare sequence numbers as int(...): "
        "they are numbers written as strings, and not contiguous.",
    )
    expected_data = [payload if isinstance(payload, bytes) else json.dumps(payload).encode() for payload in payloads]
    expected_data = expected_data[first : last + 1]
    got_data = [item.get("Data") for item in got]
    expect(
        f"{label}, the data of the records re-read",
        got_data == expected_data,
        expected=expected_data,
        got=got_data,
        hint="Return the records as get_records gives them; Data holds the bytes the producer put.",
    )
    passed(label, "the failed range re-read from a stream that pages its answers, bytes as they were put")


# ---------------------------------------------------------------------------------------------- Stretch 03.S

AGED_FEEDS = "requirement 1 (the records of the stream, from the oldest, go to the function)"
AGE_LIMIT = "requirement 2 (no record more than a minute old is delivered)"
FIVE_DELIVERIES = "requirement 3 (a failing batch is delivered 5 times in all, unless its records grow too old first)"
AGED_TRACE = "requirement 4 (every batch given up, for either reason, leaves a description in the queue)"
AGED_DEFAULTS = "requirement 5 (every other setting keeps its default)"


def _age_hint(age, window) -> str:
    if age in (-1, None):
        if window:
            return (
                f"{AGE_LIMIT} is broken: MaximumBatchingWindowInSeconds={window} is how long the mapping waits to "
                "gather records before it invokes, not an age limit: it makes records older, and gives none up. "
                "The age limit is MaximumRecordAgeInSeconds."
            )
        return (
            f"{AGE_LIMIT} is broken: left at -1 (the default), MaximumRecordAgeInSeconds sets no age limit: a "
            "failing batch is delivered until its retries run out, however old its records are."
        )
    if isinstance(age, int) and age >= 1000:
        return (
            f"{AGE_LIMIT} is broken: MaximumRecordAgeInSeconds counts seconds, not milliseconds: {age} s is "
            f"{age / 3600:.1f} hours."
        )
    if isinstance(age, int) and age < 60:
        return (
            f"{AGE_LIMIT}: {age} s gives up records younger than a minute, which the requirement keeps. And AWS "
            f"refuses any value from 0 to 59 (its range is -1, or 60 to 604,800); the course's LocalStack accepts "
            "them, for the lesson's demonstration only."
        )
    return f"{AGE_LIMIT} is broken: with {age} s, records up to {age} s old are still delivered, more than a minute."


def _judge_aged(label: str, mapping: dict, function_name: str, stream_arn: str, queue_arn: str) -> str | None:
    """The first expected/got/hint the mapping fails, or None."""
    if mapping.get("EventSourceArn") != stream_arn or not str(mapping.get("FunctionArn", "")).endswith(
        f":function:{function_name}"
    ):
        return (
            f"expected a mapping from {stream_arn} to {function_name}, got one from {mapping.get('EventSourceArn')} "
            f"to {mapping.get('FunctionArn')}.\nHint: {AGED_FEEDS} is broken: pass the function_name and stream_arn "
            "your function receives."
        )
    if mapping.get("StartingPosition") != "TRIM_HORIZON":
        return (
            f"expected StartingPosition 'TRIM_HORIZON', got {mapping.get('StartingPosition')!r}.\nHint: "
            f"{AGED_FEEDS} is broken: the oldest record is where TRIM_HORIZON starts; LATEST skips every record "
            "already in the stream."
        )
    age, window = setting(mapping, "MaximumRecordAgeInSeconds"), setting(mapping, "MaximumBatchingWindowInSeconds")
    if age != 60:
        return f"expected MaximumRecordAgeInSeconds 60, got {age!r}.\nHint: {_age_hint(age, window)}"
    retries = setting(mapping, "MaximumRetryAttempts")
    if retries != 4:
        if retries in (-1, None):
            hint = (
                f"{FIVE_DELIVERIES} is broken: left at -1, retries go on until the age limit ends them: a minute "
                "of deliveries, however many. The age limit bounds time; the count needs MaximumRetryAttempts."
            )
        elif isinstance(retries, int) and retries >= 0:
            hint = (
                f"{FIVE_DELIVERIES} is broken: MaximumRetryAttempts counts the retries after the first attempt: "
                f"{retries} retries make {retries + 1} deliveries of a failing batch, not 5."
            )
        else:
            hint = f"{FIVE_DELIVERIES}: MaximumRetryAttempts counts the retries after the first attempt."
        return f"expected MaximumRetryAttempts 4, got {retries!r}.\nHint: {hint}"
    destination = on_failure_destination(mapping)
    if destination != queue_arn:
        return (
            f"expected the OnFailure destination {queue_arn!r}, got DestinationConfig "
            f"{setting(mapping, 'DestinationConfig')!r}.\nHint: {AGED_TRACE} is broken: without the queue's ARN "
            "under DestinationConfig={'OnFailure': {'Destination': ...}}, a batch given up, by age or by count, "
            "leaves no trace."
        )
    changed = {
        key: setting(mapping, key)
        for key, default in (
            ("BatchSize", 100),
            ("MaximumBatchingWindowInSeconds", 0),
            ("BisectBatchOnFunctionError", False),
        )
        if setting(mapping, key) not in (default, None)
    }
    if changed:
        return (
            f"expected the defaults BatchSize 100, MaximumBatchingWindowInSeconds 0 and BisectBatchOnFunctionError "
            f"False, got {changed}.\nHint: {AGED_DEFAULTS} is broken: this mapping needs only the settings of "
            "requirements 1 to 4; leave the others out."
        )
    return None


def check_aged_mapping(create_aged_mapping, function_name: str, stream_arn: str, queue_arn: str) -> None:
    """Stretch 03.S: a mapping that gives a failing batch up by age (60 s, the least AWS accepts) as well as by the
    count of deliveries (5), with a trace in the queue. Read back from LocalStack, judged, then deleted: the stretch
    looks at the settings, it does not run the mapping."""
    label = "Stretch 03.S"
    delete_mappings_of(function_name)
    mapping = _created_mapping(label, create_aged_mapping, function_name, stream_arn, queue_arn)
    try:
        failure = _judge_aged(label, mapping, function_name, stream_arn, queue_arn)
    finally:
        delete_mappings_of(function_name)  # the stretch judges the settings; its mapping must not go on polling
        delete_logs(function_name)
    if failure:
        raise ExerciseCheckFailed(
            f"{label}: {failure}\n(The check deleted this mapping: fix your function, then run both cells again.)"
        )
    passed(
        label,
        "no record older than 60 s is delivered, a failing batch at most 5 times (MaximumRetryAttempts 4), "
        "each batch given up described in the queue (the check deleted the mapping)",
    )
