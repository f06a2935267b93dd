"""Checks for lesson 01 (anatomy of a Kinesis event).

Every record is built here, fresh on each run, in the shape the event source mapping delivers
(kinesis_course.events.kinesis_event), with sequence numbers and contents the learner has not seen.
Stretch 01.S gets interleaved events of a three-shard stream of the check's own.
"""

from __future__ import annotations

import base64
import json
import random

from ..endpoint import ACCOUNT_ID, REGION
from ..events import kinesis_event
from . import ExerciseCheckFailed, ExerciseNotSolved, expect, expect_equal, fresh_random, passed
from .cases import answer_of, property_cases, unchanged

STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/check-readings"

# What went wrong, and a word the MalformedRecord message must contain for that kind of bad data.
NOT_BASE64, NOT_UTF8, NOT_JSON, NOT_OBJECT = "base64", "utf-8", "json", "object"
ACCEPTED_WORDS = {NOT_BASE64: ("base64",), NOT_UTF8: ("utf-8", "utf8"), NOT_JSON: ("json",), NOT_OBJECT: ("object",)}
WHAT_IT_IS_NOT = {NOT_BASE64: "base64", NOT_UTF8: "UTF-8", NOT_JSON: "JSON", NOT_OBJECT: "a JSON object"}


def _sequence_number(rng: random.Random) -> str:
    # Shaped like Kinesis's (56 digits, starting 49...), but never one the notebook printed.
    return "49" + "".join(rng.choice("0123456789") for _ in range(54))


def _record(
    rng: random.Random, data: bytes, *, shard_id: str = "shardId-000000000000", partition_key: str = "sensor-7"
) -> dict:
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
    NOT_OBJECT: 'json.loads accepts any JSON value: [21.5, 22.0], 21.5, "text", true and null are valid JSON but '
    "not objects. Check isinstance(value, dict) and raise MalformedRecord when it is not; never return a list, a "
    "number, a string, a bool or None",
}


def _case(label: str, kind: str, record: dict) -> str:
    return f"{label} (data that is not {WHAT_IT_IS_NOT[kind]}: {record['kinesis']['data']!r})"


def _expect_malformed(
    case: str, kind: str, MalformedRecord, decode_record, record: dict, hint: str | None = None
) -> BaseException:
    """The MalformedRecord decode_record raised for one bad record (ExerciseCheckFailed, shortly put, otherwise)."""
    try:
        got = unchanged(case, decode_record, record, hint=KEEP_THE_RECORD)
    except (ExerciseNotSolved, ExerciseCheckFailed):
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
        f"{case}: expected MalformedRecord, but decode_record returned {got!r}.\nHint: {hint or NOTHING_RAISED_HINTS[kind]}"
    )


def _check_message(case: str, kind: str, error: BaseException, sequence_number: str) -> None:
    message = str(error)
    expect(
        f"{case}: the message names the sequence number",
        sequence_number in message,
        expected=f"a message containing {sequence_number}",
        got=message,
        hint="put record['kinesis']['sequenceNumber'] in the message: it is how you find the record again.",
    )
    words = ACCEPTED_WORDS[kind]
    expect(
        f"{case}: the message says what went wrong",
        any(word in message.lower() for word in words),
        expected=f"a message containing {words[0]!r}",
        got=message,
        hint="name the step that failed, with its own message: not base64, not UTF-8, not JSON, or JSON but not "
        "an object.",
    )
    others = [word for word in OTHER_WORDS[kind] if word in message.lower()]
    expect(
        f"{case}: the message names only the step that failed",
        not others,
        expected=f"a message about {WHAT_IT_IS_NOT[kind]} only",
        got=message,
        hint=f"one generic message for all four kinds of bad data does not say what is wrong: this data is not "
        f"{WHAT_IT_IS_NOT[kind]}, yet the message also names {others}. Raise a separate MalformedRecord in each "
        "step (base64, UTF-8, JSON, object), each naming its own problem.",
    )
    if kind in CAUSES:
        cause = error.__cause__
        expect(
            f"{case}: the original error is chained",
            isinstance(cause, CAUSES[kind]),
            expected=f"MalformedRecord(...) from the {CAUSE_NAMES[kind]} of that step",
            got=f"__cause__ = {type(cause).__name__ if cause is not None else None}",
            hint="chain the original error: `raise MalformedRecord(...) from error` inside the except block, so "
            "the traceback keeps the decoder's own details (not chaining, or `from None`, loses them).",
        )


def _json_strategies():
    """(JSON objects, JSON values that are not objects), as a producer may send them."""
    from hypothesis import strategies as st

    text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=8)  # no lone surrogates: not UTF-8
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=False, allow_infinity=False), text
    )
    values = st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
        max_leaves=8,
    )
    objects = st.dictionaries(text, values, max_size=4)
    not_objects = st.one_of(scalars, st.lists(values, max_size=3))
    return objects, not_objects


def _good_record_hint(document, error: BaseException) -> str:
    if isinstance(error, KeyError) and error.args and error.args[0] == "data":
        return (
            "the data is under record['kinesis']['data']: record['data'] is the article's flat shape, which no "
            "event of a stream mapping has. Each record's Kinesis fields sit under record['kinesis']."
        )
    if document == {}:
        return (
            "{} is a JSON object, an empty one: it decodes to {}, so return it. Test the kind of value with "
            "isinstance(value, dict), not its truthiness (`if not value` refuses the empty object)."
        )
    return "base64-decode record['kinesis']['data'], decode the bytes as UTF-8, then json.loads the text."


def _check_good_record(label: str, decode_record, rng: random.Random, document: dict) -> None:
    record = _record(rng, json.dumps(document, ensure_ascii=False).encode("utf-8"))
    case = f"{label} (a good record, data {json.dumps(document, ensure_ascii=False)})"
    got = answer_of(
        label,
        case,
        decode_record,
        record,
        keep_hint=KEEP_THE_RECORD,
        when_raised=lambda error: (
            f"decode_record(record) raised {type(error).__name__}: {error}\nHint: {_good_record_hint(document, error)}"
        ),
    )
    expect_equal(
        case, got, document, hint="return the decoded JSON object itself; an empty object {} is a valid reading too."
    )


def _check_bad_record(label: str, kind: str, MalformedRecord, decode_record, record: dict, hint: str | None = None):
    case = _case(label, kind, record)
    error = _expect_malformed(case, kind, MalformedRecord, decode_record, record, hint)
    _check_message(case, kind, error, record["kinesis"]["sequenceNumber"])


KEEP_THE_RECORD = (
    "decode_record must not change the record it is given (the handler reports it, and Lambda may retry the same "
    "batch): keep the decoded bytes and text in local variables, never write them back into record['kinesis']."
)
GUESSED_ENCODING = (
    "this data is JSON in {encoding}, not UTF-8, and you decoded it: json.loads(bytes) guesses the encoding "
    "(UTF-8, UTF-16 or UTF-32). Decode the bytes yourself with .decode('utf-8') (strict) and json.loads the text, "
    "so that anything not UTF-8 raises MalformedRecord."
)


def check_decode_record(decode_record, MalformedRecord) -> None:
    """Exercise 01.1: good records decode to their dict; each kind of bad data raises a MalformedRecord that
    names the record's sequence number and what went wrong, chained to the decoder's own error.

    Boundary cases first (the empty object, non-ASCII text, JSON in UTF-16 and UTF-32, every kind of JSON value
    that is not an object), then objects and non-objects drawn with Hypothesis. The learner's function gets the
    record itself, not a copy, so a change made in place is caught."""
    label = "Exercise 01.1"
    rng = fresh_random(label)
    sensor = f"sensor-{rng.randrange(100, 1000)}"
    good = [
        {"sensor": sensor, "celsius": round(rng.uniform(-10, 35), 2), "unit": "°C"},
        {"site": "Zürich", "readings": [rng.randrange(100) for _ in range(3)], "meta": {"battery": None, "ok": True}},
        {},
    ]
    for document in good:
        _check_good_record(label, decode_record, rng, document)

    valid = base64.b64encode(json.dumps({"sensor": sensor, "celsius": 21.5}).encode()).decode()
    reading = json.dumps({"sensor": sensor, "unit": "°C"}, ensure_ascii=False)
    bad = [
        # b64decode without validate=True drops the characters it does not know and decodes the rest.
        (NOT_BASE64, lambda: _with_base64(_record(rng, b""), valid[:8] + "*!" + valid[8:]), None),
        (NOT_BASE64, lambda: _with_base64(_record(rng, b""), "temperature is 21.5"), None),
        (NOT_UTF8, lambda: _record(rng, '{"unit": "°C"}'.encode("latin-1")), None),
        (NOT_UTF8, lambda: _record(rng, b'{"sensor": "\xff\xfe"}'), None),
        # Valid JSON, but not in UTF-8: json.loads(bytes) would detect the encoding from the BOM and decode it.
        (NOT_UTF8, lambda: _record(rng, reading.encode("utf-16")), GUESSED_ENCODING.format(encoding="UTF-16")),
        (NOT_UTF8, lambda: _record(rng, reading.encode("utf-32")), GUESSED_ENCODING.format(encoding="UTF-32")),
        (NOT_JSON, lambda: _record(rng, f"sensor={sensor};celsius=21.5".encode()), None),
        (NOT_JSON, lambda: _record(rng, b""), None),
        (NOT_OBJECT, lambda: _record(rng, b"[21.5, 22.0]"), None),
        (NOT_OBJECT, lambda: _record(rng, b"21.5"), None),
        (NOT_OBJECT, lambda: _record(rng, b"null"), None),
        (NOT_OBJECT, lambda: _record(rng, b'"21.5 C"'), None),
        (NOT_OBJECT, lambda: _record(rng, b"true"), None),
    ]
    for kind, build, hint in bad:
        _check_bad_record(label, kind, MalformedRecord, decode_record, build(), hint)

    objects, not_objects = _json_strategies()
    drawn = property_cases(
        f"{label} (JSON objects drawn at random)",
        objects,
        lambda document: _check_good_record(label, decode_record, rng, document),
        max_examples=40,
    )
    drawn += property_cases(
        f"{label} (JSON values that are not objects)",
        not_objects,
        lambda value: _check_bad_record(
            label, NOT_OBJECT, MalformedRecord, decode_record, _record(rng, json.dumps(value).encode())
        ),
        max_examples=40,
    )
    passed(
        label,
        f"{len(good)} good records decoded, {len(bad)} bad ones rejected with clear messages, "
        f"then {drawn} more drawn at random",
    )


def _shard_of_hint(got, record: dict, shard_id: str, others: set[str]) -> str:
    key = record["kinesis"]["partitionKey"]
    if not isinstance(got, str):
        return (
            f"return a str, the shard id itself: you returned a {type(got).__name__}. str.split gives a list: take "
            "the part before the first ':', record['eventID'].split(':', 1)[0]."
        )
    if got == key or got == key.split(":", 1)[0]:
        return (
            "you returned (part of) the partition key. The partition key is the producer's own string: it "
            "chooses a shard through MD5, but says nothing about the shard's id, even when it looks like one. "
            "The shard id is in eventID, before the first ':'."
        )
    if got.isdigit() and got in shard_id:
        return (
            f"return the whole shard id ({shard_id!r}), 'shardId-' included, as eventID writes it and as "
            "GetShardIterator expects it: not only its number."
        )
    if got and got in record["eventSourceARN"]:
        return (
            "you took it from eventSourceARN, which is the stream's ARN: it names the stream, and every shard "
            "of the stream has the same one. The shard id is in eventID, before the first ':'."
        )
    if got == record["kinesis"]["sequenceNumber"]:
        return (
            "that is the sequence number: eventID is 'shardId:sequenceNumber', and you took the part after "
            "the ':' (split(':')[-1]). The shard id is the part before the first ':'."
        )
    if got in others:
        return (
            f"you returned the same shard id, {got!r}, for records of different shards: the lesson's stream has "
            "one shard, but a stream may have many. Read it from each record's eventID, before the first ':'."
        )
    return "the shard id is the part of eventID before the first ':' (e.g. 'shardId-000000000007')."


def check_shard_of(shard_of) -> None:
    """Exercise 01.2: the shard id comes from eventID, whatever the partition key or the stream's ARN say.

    Shards 0, 1 and the last possible id first, with partition keys that look like shard ids or hold colons,
    then shard numbers and partition keys drawn at random. The record is passed itself, not a copy."""
    from hypothesis import strategies as st

    label = "Exercise 01.2"
    rng = fresh_random(label)
    returned: set[str] = set()

    def check_one(case: tuple[int, str]) -> None:
        number, key = case
        shard_id = f"shardId-{number:012d}"
        record = _record(rng, b'{"celsius": 20.0}', shard_id=shard_id, partition_key=key)
        try:
            got = unchanged(
                label,
                shard_of,
                record,
                hint="shard_of only reads the record: do not pop from it or "
                "assign into it (record['eventID'].split(':', 1)[0] leaves it as it was).",
            )
        except (ExerciseNotSolved, ExerciseCheckFailed):
            raise
        except Exception as error:
            raise ExerciseCheckFailed(
                f"{label}: shard_of(record) raised {type(error).__name__}: {error}\n"
                "Hint: split record['eventID'] at its first ':'."
            ) from error
        expect_equal(
            f"{label} (eventID {record['eventID']!r}, partitionKey {key!r})",
            got,
            shard_id,
            hint=_shard_of_hint(got, record, shard_id, returned - {shard_id}),
        )
        returned.add(got)

    # Partition keys that look like shard ids or hold colons: only eventID tells the truth.
    examples = [
        (0, "shardId-000000000001"),
        (rng.randrange(2, 1000), "site:zurich:roof"),
        (1, "sensor-42"),
        (10**12 - 1, "shardId-000000000000:49"),
    ]
    keys = st.one_of(st.text(min_size=1, max_size=12), st.from_regex(r"\Ashard[Ii]d-\d{12}(:\d+)?\Z"))
    drawn = property_cases(
        label, st.tuples(st.integers(0, 10**12 - 1), keys), check_one, examples=examples, max_examples=40
    )
    passed(label, f"{drawn} records, each traced to its shard")


# ---------------------------------------------------------------------------------------------- Stretch 01.S

KEEP_THE_EVENTS = (
    "records_by_shard only reads the events: do not pop, sort or assign in their Records lists. "
    "Build new lists (the records themselves may go in them as they are)."
)


def _shard_stream(rng: random.Random) -> tuple[list[dict], dict[str, list[dict]]]:
    """Events as a mapping of a three-shard stream delivers them (each from one shard, shards interleaved), and
    each shard's records in the order delivered. Partition keys look like shard ids of other shards, and one
    shard's sequence numbers cross a power of ten, so that only integers compare them in order."""
    shards = [f"shardId-{number:012d}" for number in sorted(rng.sample(range(12), 3))]
    start = {shards[0]: int("49" + "7" * 54), shards[1]: 10**5 - 3, shards[2]: int("49" + "1" * 54)}
    pending: list[str] = []
    for shard in shards:
        pending += [shard] * rng.randint(2, 3)
    rng.shuffle(pending)
    events, expected, next_number = [], {shard: [] for shard in shards}, dict(start)
    for shard in pending:
        raws = []
        for _ in range(rng.randint(1, 3)):
            next_number[shard] += rng.randint(1, 2)
            wrong_shard = rng.choice([other for other in shards if other != shard])
            raws.append(
                {
                    "PartitionKey": wrong_shard,
                    "SequenceNumber": str(next_number[shard]),
                    "Data": json.dumps({"celsius": round(rng.uniform(-5, 30), 1)}).encode(),
                    "ApproximateArrivalTimestamp": 1_700_000_000 + rng.randrange(10**6) / 1000,
                }
            )
        event = kinesis_event(raws, STREAM_ARN, shard)
        events.append(event)
        expected[shard] += event["Records"]
    return events, expected


def _numbers(records) -> list[str]:
    return [
        record["kinesis"]["sequenceNumber"]
        for record in records
        if isinstance(record, dict) and isinstance(record.get("kinesis"), dict)
    ]


def _by_shard_hint(got: dict, expected: dict[str, list[dict]], events: list[dict]) -> str | None:
    keys = set(got)
    partition_keys = {record["kinesis"]["partitionKey"] for event in events for record in event["Records"]}
    if keys == {STREAM_ARN} or any(str(key).startswith("arn:") for key in keys):
        return (
            "you grouped by eventSourceARN, which names the stream: every record of every shard has the same one. "
            "The shard is in eventID, before the first ':' (your shard_of)."
        )
    by_key: dict[str, list[str]] = {}
    for event in events:
        for record in event["Records"]:
            by_key.setdefault(record["kinesis"]["partitionKey"], []).append(record["kinesis"]["sequenceNumber"])
    mine = {key: _numbers(records) for key, records in got.items() if isinstance(records, list)}
    if mine == by_key or (keys != set(expected) and keys <= partition_keys):
        return (
            "you grouped by partition key. Here the producer's keys look like shard ids, of other shards: a "
            "partition key says nothing about the shard a record was read from. Group by shard_of(record)."
        )
    if keys != set(expected):
        return (
            "the keys must be the shard ids of the records (shard_of(record)), one for each shard the events came from."
        )
    for shard, records in expected.items():
        mine = got[shard]
        if not isinstance(mine, list):
            return f"each value must be a list of records (got a {type(mine).__name__} for {shard})."
        if _numbers(mine) == _numbers(records):
            continue
        last_event = [event["Records"] for event in events if event["Records"][0]["eventID"].startswith(shard + ":")][
            -1
        ]
        if _numbers(mine) == _numbers(last_event):
            return (
                f"{shard} sent several events, and you kept only the records of its last one: a shard's records "
                "arrive in many batches. Add each event's records to the shard's list (extend), do not replace it."
            )
        if sorted(_numbers(mine)) == sorted(_numbers(records)):
            if _numbers(mine) == sorted(_numbers(records)):
                return (
                    "you sorted the sequence numbers as strings: '100001' < '99999' as text. Sequence numbers are "
                    "numbers written as strings (compare them with int), and the order delivered is already the "
                    "order the shard was read in: keep it."
                )
            return (
                "keep each shard's records in the order they were delivered: event after event, and in each "
                "event, record after record."
            )
        return f"{shard}'s list must hold every record of every event from {shard}, each once, in the order delivered."
    return None


def check_records_by_shard(records_by_shard) -> None:
    """Stretch 01.S: events of a three-shard stream, delivered interleaved, grouped by the shard in eventID, each
    shard's records in the order delivered (one shard's sequence numbers cross a power of ten)."""
    label = "Stretch 01.S"
    rng = fresh_random(label)
    for _ in range(3):
        events, expected = _shard_stream(rng)
        got = unchanged(label, records_by_shard, events, hint=KEEP_THE_EVENTS)
        shown = {shard: _numbers(records) for shard, records in expected.items()}
        if not isinstance(got, dict):
            raise ExerciseCheckFailed(
                f"{label}: expected a dict from shard id to records, got {type(got).__name__}: {got!r}"[:600]
                + "\nHint: return a dict such as {'shardId-000000000003': [record, record, ...], ...}."
            )
        hint = _by_shard_hint(got, expected, events)
        if hint is None and got != expected:
            hint = "put the records themselves in the lists, as the events hold them (not their data or their numbers)."
        if hint is not None:
            mine = {
                shard: _numbers(records) if isinstance(records, list) else records for shard, records in got.items()
            }
            raise ExerciseCheckFailed(
                f"{label}: for {len(events)} events, expected these sequence numbers per shard "
                f"{shown}, got {mine}.\nHint: {hint}"
            )
    passed(
        label, "3 streams of interleaved events from three shards, each shard's records grouped in the order delivered"
    )
