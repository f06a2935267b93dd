"""Checks of lesson 03 · When a batch fails.

The on-failure records the checks use are built here, in the two shapes Lambda sends: after the retries ran
out (RetryAttemptsExhausted, with requestContext and responseContext) and after the records grew too old
(RecordAgeExceeded, without responseContext; LocalStack also leaves out requestContext). The re-read check
puts records of its own to a stream of its own, so its answer cannot be copied from the lesson.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone

from ..endpoint import ACCOUNT_ID, REGION
from ..streams import ensure_stream, put_records
from . import ExerciseCheckFailed, call_exercise, expect, passed


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def failure_record(
    stream_arn: str, shard_id: str, start: str, end: str, batch_size: int,
    condition: str = "RetryAttemptsExhausted", invoke_count: int = 3, function_name: str = "check-03",
) -> dict:
    """An on-failure record as Lambda sends it to an SQS or SNS destination: metadata only, no record data."""
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


def check_failed_range(failed_range) -> None:
    label = "Exercise 03.1"
    rng = random.Random()
    stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/check-03-{rng.randint(1000, 9999)}"
    for condition in ("RetryAttemptsExhausted", "RecordAgeExceeded"):
        shard_id = f"shardId-{rng.randint(0, 20):012d}"
        size = rng.randint(2, 50)
        numbers = _sequence_numbers(rng, size)
        record = failure_record(stream_arn, shard_id, numbers[0], numbers[-1], size, condition,
                                invoke_count=rng.randint(1, 4))
        # A copy, so a function that modifies its argument cannot change what the check compares with.
        try:
            got = call_exercise(label, failed_range, json.loads(json.dumps(record)))
        except KeyError as error:
            raise ExerciseCheckFailed(
                f"{label}, a {condition} record: your function raised KeyError {error}.\nHint: only "
                "KinesisBatchInfo is in every on-failure record; this one has the keys "
                f"{sorted(record)}."
            ) from None
        expected = (shard_id, numbers[0], numbers[-1])
        expect(
            f"{label}, a {condition} record", isinstance(got, tuple) and got == expected, expected=expected, got=got,
            hint="Read everything from record['KinesisBatchInfo']: shardId, startSequenceNumber, endSequenceNumber, "
            "and return them as a tuple of the strings they are. A RecordAgeExceeded record has no responseContext "
            "(and, on LocalStack, no requestContext), so do not rely on those.",
        )
    passed(label, "both conditions")


def check_reread(reread, lesson) -> None:
    label = "Exercise 03.2"
    rng = random.Random()
    stream_name = lesson.name("check-reread")
    stream_arn = ensure_stream(stream_name)
    # Readings, and among them a truncated payload: re-reading must return bytes as stored, JSON or not.
    payloads = [{"sensor": f"s-{rng.randint(10, 99)}", "temperature": round(rng.uniform(-5, 30), 1), "unit": "C"}
                for _ in range(rng.randint(9, 14))]
    bad = rng.randrange(3, len(payloads) - 3)
    payloads[bad] = b'{"sensor": "s-0", "temperature": ' + str(rng.randint(1, 9)).encode()
    put = put_records(stream_name, payloads, progress=False)
    # A range with records before and after it, on the stream's only shard.
    first = rng.randint(1, bad)
    last = rng.randint(bad, len(put) - 2)
    chosen = put[first : last + 1]
    shard_id = chosen[0]["ShardId"]
    record = failure_record(stream_arn, shard_id, chosen[0]["SequenceNumber"], chosen[-1]["SequenceNumber"], len(chosen))

    got = call_exercise(label, reread, json.loads(json.dumps(record)))
    if not isinstance(got, list) or not all(isinstance(item, dict) and "SequenceNumber" in item for item in got):
        raise ExerciseCheckFailed(
            f"{label}: expected a list of records as GetRecords returns them (dicts with SequenceNumber, Data, ...), "
            f"got {got!r:.300}.\nHint: collect response['Records'] of each get_records call."
        )
    expected_numbers = [entry["SequenceNumber"] for entry in chosen]
    got_numbers = [item["SequenceNumber"] for item in got]
    expect(
        f"{label}, the sequence numbers of {len(chosen)} records re-read (start..end inclusive)",
        got_numbers == expected_numbers, expected=expected_numbers, got=got_numbers,
        hint="Start with a shard iterator of type AT_SEQUENCE_NUMBER at startSequenceNumber, keep calling "
        "get_records with NextShardIterator, and stop after endSequenceNumber. Compare sequence numbers as "
        "int(...): they are numbers written as strings, and not contiguous.",
    )
    expected_data = [payload if isinstance(payload, bytes) else json.dumps(payload).encode() for payload in payloads]
    expected_data = expected_data[first : last + 1]
    got_data = [item.get("Data") for item in got]
    expect(
        f"{label}, the data of the records re-read", got_data == expected_data, expected=expected_data, got=got_data,
        hint="Return the records as get_records gives them; Data holds the bytes the producer put.",
    )
    passed(label, "the failed range, re-read from the stream, bytes as they were put")
