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
from . import ExerciseCheckFailed, ExerciseNotSolved, call_checked, call_exercise, expect, expect_equal, passed

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


# The words of the other kinds of failure, which a message about this kind must not use: one generic message
# ("not base64, UTF-8 or JSON") names every step and so tells the reader nothing. "JSON but not an object" is fine.
OTHER_WORDS = {
    NOT_BASE64: ("utf-8", "utf8", "json", "object"),
    NOT_UTF8: ("base64", "json", "object"),
    NOT_JSON: ("base64", "utf-8", "utf8", "object"),
    NOT_OBJECT: ("base64", "utf-8", "utf8"),
}
# The exception each step raises, which MalformedRecord must be chained to (`raise ... from error`).
CAUSES = {NOT_BASE64: ValueError, NOT_UTF8: UnicodeDecodeError, NOT_JSON: json.JSONDecodeError}
CAUSE_NAMES = {NOT_BASE64: "binascii.Error", NOT_UTF8: "UnicodeDecodeError", NOT_JSON: "json.JSONDecodeError"}
NOTHING_RAISED_HINTS = {
    NOT_BASE64: "use base64.b64decode(data, validate=True): without validate=True it silently drops the characters "
    "outside the base64 alphabet and decodes what is left, so bad data can pass as good",
    NOT_UTF8: "decode the bytes with .decode('utf-8') (strict, the default errors='strict'), not errors='ignore' or "
    "'replace', and turn its UnicodeDecodeError into MalformedRecord",
    NOT_JSON: "catch json.JSONDecodeError from json.loads and raise MalformedRecord(...) from it",
    NOT_OBJECT: "json.loads accepts any JSON value: [21.5, 22.0], 21.5 and null are valid JSON but not objects. "
    "Check isinstance(value, dict) and raise MalformedRecord when it is not; never return a list or a number",
}


def _case(label: str, kind: str, record: dict) -> str:
    return f"{label} (data that is not {WHAT_IT_IS_NOT[kind]}: {record['kinesis']['data']!r})"


def _expect_malformed(case: str, kind: str, MalformedRecord, decode_record, record: dict) -> BaseException:
    """The MalformedRecord decode_record raised for one bad record (ExerciseCheckFailed, shortly put, otherwise)."""
    try:
        got = call_exercise(case, decode_record, record)
    except ExerciseNotSolved:
        raise
    except MalformedRecord as error:
        return error
    except Exception as error:
        raise ExerciseCheckFailed(
            f"{case}: expected MalformedRecord, got {type(error).__name__}: {error}.\nHint: raise the "
            "MalformedRecord class decoding.py defines (not a plain ValueError or the decoder's own error), so a "
            "handler can tell a record that cannot be decoded from other failures."
        ) from error
    raise ExerciseCheckFailed(
        f"{case}: expected MalformedRecord, but decode_record returned {got!r}.\nHint: {NOTHING_RAISED_HINTS[kind]}"
    )


def _check_message(case: str, kind: str, error: BaseException, sequence_number: str) -> None:
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
        hint="name the step that failed, with its own message: not base64, not UTF-8, not JSON, or JSON but not "
        "an object.",
    )
    others = [word for word in OTHER_WORDS[kind] if word in message.lower()]
    expect(
        f"{case}: the message names only the step that failed", not others,
        expected=f"a message about {WHAT_IT_IS_NOT[kind]} only", got=message,
        hint=f"one generic message for all four kinds of bad data does not say what is wrong: this data is not "
        f"{WHAT_IT_IS_NOT[kind]}, yet the message also names {others}. Raise a separate MalformedRecord in each "
        "step (base64, UTF-8, JSON, object), each naming its own problem.",
    )
    if kind in CAUSES:
        cause = error.__cause__
        expect(
            f"{case}: the original error is chained", isinstance(cause, CAUSES[kind]),
            expected=f"MalformedRecord(...) from the {CAUSE_NAMES[kind]} of that step",
            got=f"__cause__ = {type(cause).__name__ if cause is not None else None}",
            hint="chain the original error: `raise MalformedRecord(...) from error` inside the except block, so "
            "the traceback keeps the decoder's own details (not chaining, or `from None`, loses them).",
        )


def check_decode_record(decode_record, MalformedRecord) -> None:
    """Exercise 01.1: good records decode to their dict; each kind of bad data raises a MalformedRecord that
    names the record's sequence number and what went wrong, chained to the decoder's own error."""
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
        case = _case(label, kind, record)
        error = _expect_malformed(case, kind, MalformedRecord, decode_record, record)
        _check_message(case, kind, error, record["kinesis"]["sequenceNumber"])
    passed(label, f"{len(good)} good records decoded, {len(bad)} bad ones rejected with clear messages")


def check_shard_of(shard_of) -> None:
    """Exercise 01.2: the shard id comes from eventID, whatever the partition key or the stream's ARN say."""
    label = "Exercise 01.2"
    rng = random.Random()
    shards = [f"shardId-{number:012d}" for number in rng.sample(range(1, 1000), 3)]
    # Partition keys that look like shard ids or hold colons: only eventID tells the truth.
    keys = ["shardId-000000000000", "site:zurich:roof", "sensor-42"]
    for shard_id, key in zip(shards, keys):
        record = _record(rng, b'{"celsius": 20.0}', shard_id=shard_id, partition_key=key)
        got = call_checked(label, shard_of, record, shown_args="record", hint="split record['eventID'] at its first ':'.")
        if got == record["kinesis"]["partitionKey"] or got == key.split(":", 1)[0]:
            hint = ("you returned (part of) the partition key. The partition key is the producer's own string: it "
                    "chooses a shard through MD5, but says nothing about the shard's id, even when it looks like one. "
                    "The shard id is in eventID, before the first ':'.")
        elif isinstance(got, str) and got and got in record["eventSourceARN"]:
            hint = ("you took it from eventSourceARN, which is the stream's ARN: it names the stream, and every shard "
                    "of the stream has the same one. The shard id is in eventID, before the first ':'.")
        elif got == record["kinesis"]["sequenceNumber"]:
            hint = ("that is the sequence number: eventID is 'shardId:sequenceNumber', and you took the part after "
                    "the ':' (split(':')[-1]). The shard id is the part before the first ':'.")
        else:
            hint = "the shard id is the part of eventID before the first ':' (e.g. 'shardId-000000000007')."
        expect_equal(f"{label} (eventID {record['eventID']!r}, partitionKey {key!r})", got, shard_id, hint=hint)
    passed(label, f"{len(shards)} records, each traced to its shard")
