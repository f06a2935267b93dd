"""Checks for lesson 01 (anatomy of a Kinesis event).

Every record is built here, fresh on each run, in the shape the event source mapping delivers
(kinesis_course.events.kinesis_event), with sequence numbers and contents the learner has not seen.
"""

from __future__ import annotations

import base64
import json
import random

from ..endpoint import ACCOUNT_ID, REGION
from ..events import kinesis_event
from . import call_checked, expect, expect_equal, expect_raises, passed

STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/check-readings"

# What went wrong, and a word the MalformedRecord message must contain for that kind of bad data.
NOT_BASE64, NOT_UTF8, NOT_JSON, NOT_OBJECT = "base64", "utf-8", "json", "object"
ACCEPTED_WORDS = {NOT_BASE64: ("base64",), NOT_UTF8: ("utf-8", "utf8"), NOT_JSON: ("json",), NOT_OBJECT: ("object",)}
WHAT_IT_IS_NOT = {NOT_BASE64: "base64", NOT_UTF8: "UTF-8", NOT_JSON: "JSON", NOT_OBJECT: "a JSON object"}


def _sequence_number(rng: random.Random) -> str:
    # Shaped like Kinesis's (56 digits, starting 49...), but never one the notebook printed.
    return "49" + "".join(rng.choice("0123456789") for _ in range(54))


def _record(rng: random.Random, data: bytes, *, shard_id: str = "shardId-000000000000", partition_key: str = "sensor-7") -> dict:
    raw = {
        "PartitionKey": partition_key,
        "SequenceNumber": _sequence_number(rng),
        "Data": data,
        "ApproximateArrivalTimestamp": 1_700_000_000 + rng.randrange(10**7) / 1000,
    }
    return kinesis_event([raw], STREAM_ARN, shard_id)["Records"][0]


def _with_base64(record: dict, text: str) -> dict:
    record["kinesis"]["data"] = text
    return record


def check_decode_record(decode_record, MalformedRecord) -> None:
    """Exercise 01.1: good records decode to their dict; each kind of bad data raises a MalformedRecord that
    names the record's sequence number and what went wrong."""
    label = "Exercise 01.1"
    rng = random.Random()
    sensor = f"sensor-{rng.randrange(100, 1000)}"
    good = [
        {"sensor": sensor, "celsius": round(rng.uniform(-10, 35), 2), "unit": "°C"},
        {"site": "Zürich", "readings": [rng.randrange(100) for _ in range(3)], "meta": {"battery": None, "ok": True}},
        {},
    ]
    for document in good:
        record = _record(rng, json.dumps(document, ensure_ascii=False).encode("utf-8"))
        got = call_checked(
            label, decode_record, record, shown_args="record",
            hint="base64-decode record['kinesis']['data'], decode the bytes as UTF-8, then json.loads the text.",
        )
        expect_equal(
            f"{label} (a good record)", got, document,
            hint="return the decoded JSON object itself; an empty object {} is a valid reading too.",
        )

    valid = base64.b64encode(json.dumps({"sensor": sensor, "celsius": 21.5}).encode()).decode()
    bad = [
        # b64decode without validate=True drops the characters it does not know and decodes the rest.
        (NOT_BASE64, lambda: _with_base64(_record(rng, b""), valid[:8] + "*!" + valid[8:])),
        (NOT_BASE64, lambda: _with_base64(_record(rng, b""), "temperature is 21.5")),
        (NOT_UTF8, lambda: _record(rng, '{"unit": "°C"}'.encode("latin-1"))),
        (NOT_UTF8, lambda: _record(rng, b'{"sensor": "\xff\xfe"}')),
        (NOT_JSON, lambda: _record(rng, f"sensor={sensor};celsius=21.5".encode())),
        (NOT_JSON, lambda: _record(rng, b"")),
        (NOT_OBJECT, lambda: _record(rng, b"[21.5, 22.0]")),
        (NOT_OBJECT, lambda: _record(rng, b"21.5")),
        (NOT_OBJECT, lambda: _record(rng, b"null")),
    ]
    for kind, build in bad:
        record = build()
        sequence_number = record["kinesis"]["sequenceNumber"]
        case = f"{label} (data that is not {WHAT_IT_IS_NOT[kind]}: {record['kinesis']['data']!r})"
        error = expect_raises(
            case, MalformedRecord, decode_record, record,
            hint=(
                "use base64.b64decode(data, validate=True): without validate it skips characters outside the "
                "alphabet and decodes garbage"
                if kind == NOT_BASE64
                else "catch each step's own error (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) and "
                "raise MalformedRecord(...) from it; check that the JSON value is a dict"
            ),
        )
        message = str(error)
        expect(
            f"{case}: the message names the sequence number", sequence_number in message,
            expected=f"a message containing {sequence_number}", got=message,
            hint="put record['kinesis']['sequenceNumber'] in the message: it is how you find the record again.",
        )
        words = ACCEPTED_WORDS[kind]
        expect(
            f"{case}: the message says what went wrong", any(word in message.lower() for word in words),
            expected=f"a message containing {words[0]!r}", got=message,
            hint="name the step that failed: not base64, not UTF-8, not JSON, or JSON but not an object.",
        )
    passed(label, f"{len(good)} good records decoded, {len(bad)} bad ones rejected with clear messages")


def check_shard_of(shard_of) -> None:
    """Exercise 01.2: the shard id comes from eventID, whatever the partition key says."""
    label = "Exercise 01.2"
    rng = random.Random()
    shards = [f"shardId-{number:012d}" for number in rng.sample(range(1, 1000), 3)]
    # Partition keys that look like shard ids or hold colons: only eventID tells the truth.
    keys = ["shardId-000000000000", "site:zurich:roof", "sensor-42"]
    for shard_id, key in zip(shards, keys):
        record = _record(rng, b'{"celsius": 20.0}', shard_id=shard_id, partition_key=key)
        got = call_checked(label, shard_of, record, shown_args="record", hint="split record['eventID'] at its first ':'.")
        expect_equal(
            f"{label} (eventID {record['eventID']!r}, partitionKey {key!r})", got, shard_id,
            hint="the shard id is the part of eventID before the first ':'; the partition key is the producer's "
            "own string and says nothing about the shard.",
        )
    passed(label, f"{len(shards)} records, each traced to its shard")
