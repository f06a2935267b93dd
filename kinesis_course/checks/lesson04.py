"""Checks of lesson 04 · Idempotent writes.

Each check makes its own inputs with random values the learner has not seen: readings with fresh ids,
records with random, non-contiguous sequence numbers, and (for the write) a fresh DynamoDB table.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

from botocore.exceptions import ClientError

from ..endpoint import client
from ..events import kinesis_event
from ..tables import delete_table, ensure_table
from . import ExerciseCheckFailed, ExerciseNotSolved, call_exercise, expect, passed


def _reading(rng: random.Random, **fields) -> dict:
    reading = {
        "sensor": f"s-{rng.randint(10, 99)}",
        "reading_id": f"r-{rng.getrandbits(48):012x}",
        "temperature": round(rng.uniform(-10, 35), 2),
        "unit": "C",
    }
    reading.update(fields)
    return reading


class _Shard:
    """Stores payloads as one shard would: every put gets a new, higher sequence number and arrival time."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.sequence = rng.randrange(10**55, 5 * 10**55)
        self.arrival = datetime.now(timezone.utc)
        self.shard_id = f"shardId-{rng.randint(0, 9):012d}"
        self.stream_arn = f"arn:aws:kinesis:us-east-1:000000000000:stream/check-04-{rng.randint(1000, 9999)}"

    def record(self, data: bytes, partition_key: str) -> dict:
        self.sequence += self.rng.randrange(10**20, 10**22)
        self.arrival += timedelta(milliseconds=self.rng.randint(5, 900))
        stored = {"SequenceNumber": str(self.sequence), "PartitionKey": partition_key, "Data": data,
                  "ApproximateArrivalTimestamp": self.arrival}
        return kinesis_event([stored], self.stream_arn, self.shard_id)["Records"][0]


def _key(label: str, idempotency_key, record: dict, what: str):
    try:
        key = call_exercise(label, idempotency_key, record)
    except (KeyError, TypeError, ValueError) as error:
        raise ExerciseCheckFailed(
            f"{label}: idempotency_key raised {type(error).__name__}: {error} on {what}.\n"
            "Hint: the reading is JSON in base64 under record['kinesis']['data']; decode it and return its reading_id."
        ) from None
    expect(
        f"{label}, {what}", isinstance(key, str) and key != "", expected="a non-empty str (a DynamoDB S key)",
        got=key, hint="Return a string: it becomes the pk of a DynamoDB item.",
    )
    return key


def check_idempotency_key(idempotency_key) -> None:
    label = "Exercise 04.1"
    rng = random.Random()
    shard = _Shard(rng)
    reading = _reading(rng)
    data = json.dumps(reading).encode()

    first = _key(label, idempotency_key, shard.record(data, reading["sensor"]), "a record")
    # A producer that did not hear back from PutRecords sends the same reading again: new sequence number,
    # new eventID, new arrival time. Its bytes may differ too (another serializer, another key order).
    resent = shard.record(data, reading["sensor"])
    again = _key(label, idempotency_key, resent, "the same reading put again by a producer retry")
    expect(
        f"{label}, one reading stored twice by a producer retry",
        again == first, expected=first, got=again,
        hint="A producer retry stores the reading again under a new sequence number and eventID, so anything taken "
        "from the record's metadata differs; the reading's own reading_id does not.",
    )
    reordered = json.dumps(dict(reversed(list(reading.items()))), indent=1).encode()
    respelled = _key(label, idempotency_key, shard.record(reordered, reading["sensor"]), "the same reading serialized differently")
    expect(
        f"{label}, the same reading with other JSON formatting", respelled == first, expected=first, got=respelled,
        hint="Do not hash the raw bytes of data: the same reading can be serialized with other spacing or key "
        "order. Parse the JSON and use the reading_id field.",
    )

    # Two different readings that look alike: same sensor, same temperature, taken one after the other.
    twin = _reading(rng, sensor=reading["sensor"], temperature=reading["temperature"])
    twin_key = _key(label, idempotency_key, shard.record(json.dumps(twin).encode(), twin["sensor"]), "another reading")
    expect(
        f"{label}, two readings with the same sensor and temperature but different reading_id",
        twin_key != first, expected=f"a key different from {first!r}", got=twin_key,
        hint="Two readings can carry the same values; only reading_id tells them apart. Key on reading_id.",
    )
    others = [_reading(rng) for _ in range(5)]
    keys = {_key(label, idempotency_key, shard.record(json.dumps(other).encode(), other["sensor"]), "another reading")
            for other in others}
    expect(
        f"{label}, 5 other readings", len(keys) == 5 and first not in keys, expected="5 distinct keys, none equal to "
        "the first reading's", got=sorted(keys), hint="Each reading_id must give its own key.",
    )
    passed(label, "a producer retry and a re-serialized copy give the same key; 6 other readings give 6 other keys")


def _item(table: str, key: str) -> dict | None:
    return client("dynamodb").get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True).get("Item")


def _count(table: str) -> int:
    return client("dynamodb").scan(TableName=table, Select="COUNT", ConsistentRead=True)["Count"]


def _stored_temperature(item: dict | None):
    try:
        return float(item["temperature"]["N"])
    except (TypeError, KeyError, ValueError):
        return None


def _write(label: str, write_reading, table: str, key: str, reading: dict, what: str):
    try:
        result = call_exercise(label, write_reading, client("dynamodb"), table, key, dict(reading))
    except ClientError as error:
        raise ExerciseCheckFailed(
            f"{label}: write_reading raised {error.response['Error']['Code']} on {what}: {error}.\n"
            "Hint: a ConditionalCheckFailedException means the item is already there: return False for it."
        ) from None
    expect(
        f"{label}, {what}", result is True or result is False, expected="True or False", got=result,
        hint="Return True when this call stored the item, False when the condition failed (already stored).",
    )
    return result


def check_write_reading(write_reading, lesson) -> None:
    label = "Exercise 04.2"
    rng = random.Random()
    dynamodb = client("dynamodb")
    table = lesson.name("check-write")
    delete_table(table)  # a fresh, empty table every time the check runs
    ensure_table(table)
    try:
        reading = _reading(rng)
        key = reading["reading_id"]
        results = [_write(label, write_reading, table, key, reading, f"call {n} with the same key") for n in (1, 2, 3)]
        expect(
            f"{label}, the same reading written 3 times", results == [True, False, False],
            expected=[True, False, False], got=results,
            hint="The first call stores the item and returns True; every later call with the same key finds it "
            "there (ConditionExpression='attribute_not_exists(pk)') and returns False.",
        )
        item = _item(table, key)
        expect(
            f"{label}, the stored item", item is not None and item.get("pk") == {"S": key}
            and _stored_temperature(item) == reading["temperature"] and item.get("sensor") == {"S": reading["sensor"]},
            expected={"pk": {"S": key}, "sensor": {"S": reading["sensor"]}, "temperature": {"N": str(reading["temperature"])}},
            got=item, hint="Store the item under pk=key (type S), with the reading's sensor (S) and temperature (N).",
        )

        # A late duplicate that differs (e.g. a resent reading after a sensor recalibration) must not change
        # what the first write stored: the effect happens once.
        changed = dict(reading, temperature=round(reading["temperature"] + rng.uniform(1, 5), 2))
        late = _write(label, write_reading, table, key, changed, "a different reading under a key already stored")
        kept = _stored_temperature(_item(table, key))
        expect(
            f"{label}, a second write under the same key", late is False and kept == reading["temperature"],
            expected=(False, reading["temperature"]), got=(late, kept),
            hint="A plain put_item replaces the item (last write wins). Make the put conditional, so the first write "
            "stays and later ones are refused.",
        )

        other = _reading(rng)
        fresh = _write(label, write_reading, table, other["reading_id"], other, "a new reading")
        count = _count(table)
        expect(
            f"{label}, a second reading", fresh is True and count == 2, expected=(True, 2), got=(fresh, count),
            hint="Another key is another item: the condition only refuses keys that exist.",
        )

        missing = lesson.name("check-no-such-table")
        try:
            returned = call_exercise(label, write_reading, dynamodb, missing, key, dict(reading))
        except ExerciseNotSolved:
            raise
        except ClientError:
            pass  # DynamoDB's own error came through: the batch would fail and be retried
        except Exception as error:
            raise ExerciseCheckFailed(
                f"{label}: for a table that does not exist expected DynamoDB's ResourceNotFoundException, got "
                f"{type(error).__name__}: {error}.\nHint: let DynamoDB's own error propagate."
            ) from None
        else:
            raise ExerciseCheckFailed(
                f"{label}: writing to a table that does not exist returned {returned!r} instead of raising.\n"
                "Hint: catch only ConditionalCheckFailedException. Any other error (missing table, throttling, no "
                "permission) must propagate, so that the batch fails and is retried; returning False for it would "
                "silently drop the reading."
            )
    finally:
        delete_table(table)
    passed(label, "3 writes of one reading stored it once, a changed duplicate was refused, other errors propagate")
