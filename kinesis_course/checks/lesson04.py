"""Checks of lesson 04 · Idempotent writes (store.py: idempotency_key and write_reading).

Each check makes its own inputs with random values the learner has not seen: readings with fresh ids,
records with random, non-contiguous sequence numbers, and (for the write) a fresh DynamoDB table. The write's
check also hands the learner's code a recording DynamoDB client, which can let a rival delivery of the same
reading store it at the worst moment (just before the learner's own write): a deterministic race.
"""

from __future__ import annotations

import base64
import copy
import inspect
import json
import os
import random
import re
import string
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from botocore.exceptions import ClientError
from hypothesis import strategies as st

from ..endpoint import client
from ..events import kinesis_event
from ..tables import delete_table, ensure_table
from . import ExerciseCheckFailed, ExerciseNotSolved, call_exercise, expect, fresh_random, passed
from .cases import in_another_process, on_another_date, property_cases, unchanged


# ---------------------------------------------------------------------------------------------------------
# Inputs: readings as a sensor sends them, as normalise returns them, and the records that carry them.


def _payload(rng: random.Random, **fields) -> dict:
    """A reading as a sensor sends it (°C), with a fresh reading_id."""
    payload = {
        "reading_id": f"r-{rng.randint(10_000, 99_999)}-{rng.getrandbits(24):06x}",
        "sensor": f"s-{rng.randint(10, 99)}",
        "temperature": round(rng.uniform(-10, 35), 1),
        "unit": "C",
        "humidity": round(rng.uniform(20, 90), 1),
    }
    payload.update(fields)
    return payload


def _normalised(payload: dict) -> dict:
    """What lesson 02's normalise returns for a payload: °F, two decimals."""
    fahrenheit = payload["temperature"] * 9 / 5 + 32 if payload["unit"] == "C" else payload["temperature"]
    return {
        "reading_id": payload["reading_id"],
        "sensor": payload["sensor"],
        "temperature": round(fahrenheit, 2),
        "unit": "F",
        "humidity": payload.get("humidity"),
    }


class _Shard:
    """Stores payloads as one shard would: every put gets a new, higher sequence number and arrival time."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.sequence = rng.randrange(10**55, 5 * 10**55)
        self.arrival = datetime.now(timezone.utc)
        self.shard_id = f"shardId-{rng.randint(0, 9):012d}"
        self.stream_arn = f"arn:aws:kinesis:us-east-1:000000000000:stream/check-04-{rng.randint(1000, 9999)}"

    def child(self) -> _Shard:
        """The shard that takes over this one's partition keys after a reshard (a split or a merge)."""
        child = _Shard(self.rng)
        child.stream_arn, child.sequence, child.arrival = self.stream_arn, self.sequence + 10**30, self.arrival
        child.shard_id = f"shardId-{int(self.shard_id.rsplit('-', 1)[1]) + 10:012d}"
        return child

    def record(self, data: bytes, partition_key: str) -> dict:
        self.sequence += self.rng.randrange(10**20, 10**22)
        self.arrival += timedelta(milliseconds=self.rng.randint(5, 900))
        stored = {
            "SequenceNumber": str(self.sequence),
            "PartitionKey": partition_key,
            "Data": data,
            "ApproximateArrivalTimestamp": self.arrival,
        }
        return kinesis_event([stored], self.stream_arn, self.shard_id)["Records"][0]


def _compact(payload: dict) -> bytes:
    """How the producer serialised the reading: no spaces."""
    return json.dumps(payload, separators=(",", ":")).encode()


def _with_data(record: dict, data: bytes) -> dict:
    """The same stored record, delivered with other data bytes (e.g. re-serialised by a filtering ESM)."""
    return {**record, "kinesis": {**record["kinesis"], "data": base64.b64encode(data).decode("ascii")}}


# ---------------------------------------------------------------------------------------------------------
# Exercise 04.1 · idempotency_key(record, reading)

KEY_MUTATION_HINT = (
    "Your idempotency_key changed the record or the reading it was given. The handler passes that same reading to "
    "write_reading next, so what it stores is no longer what normalise made. Read the values you need; do not pop, "
    "delete or assign into the dicts you receive."
)


def _key(label: str, idempotency_key, record: dict, reading: dict) -> str:
    # Fresh copies for every call (so one call's damage cannot leak into the next), compared after the call.
    record, reading = copy.deepcopy(record), dict(reading)
    try:
        key = unchanged(label, idempotency_key, record, reading, hint=KEY_MUTATION_HINT)
    except (ExerciseNotSolved, ExerciseCheckFailed):
        raise
    except Exception as error:
        raise ExerciseCheckFailed(
            f"{label}: {getattr(idempotency_key, '__name__', 'your function')}(record, reading) raised "
            f"{type(error).__name__}: {error}\nHint: idempotency_key receives one record of the event and the reading "
            "normalise made of it (a dict with reading_id, sensor, temperature, unit, humidity); return a string."
        ) from error
    expect(
        f"{label}: the key's type",
        isinstance(key, str) and key != "",
        expected="a non-empty str (a DynamoDB S key)",
        got=key,
        hint="Return a string: it becomes the pk (type S) of the reading's DynamoDB item.",
    )
    return key


def _taken_from(key: str, record: dict) -> str | None:
    """Which field of the record's metadata the key was made from, if any."""
    kinesis = record["kinesis"]
    if record["eventID"] in key:
        return "the record's eventID"
    if kinesis["sequenceNumber"] in key:
        return "the record's sequenceNumber"
    if str(kinesis["approximateArrivalTimestamp"]) in key:
        return "the record's approximateArrivalTimestamp"
    return None


def check_idempotency_key(idempotency_key) -> None:
    label = "Exercise 04.1"
    rng = fresh_random(label)
    shard = _Shard(rng)
    payload = _payload(rng)
    reading = _normalised(payload)
    record = shard.record(_compact(payload), payload["sensor"])

    # 1. An ESM retry: the very same record, delivered again.
    first = _key(label, idempotency_key, record, reading)
    again = _key(label, idempotency_key, record, reading)
    expect(
        f"{label}: the same record delivered twice (an ESM retry of its batch)",
        again == first,
        expected=first,
        got=again,
        hint="A key made at delivery time (uuid4(), a clock, a counter) is new on every delivery, so every retry "
        "becomes a new item: an insert, not an idempotent write. Derive the key from the reading itself.",
    )

    # 2. A producer retry: the same bytes, stored again as a new record.
    resent = shard.record(_compact(payload), payload["sensor"])
    resent_key = _key(label, idempotency_key, resent, reading)
    if resent_key != first:
        source = _taken_from(first, record)
        raise ExerciseCheckFailed(
            f"{label}: the same reading put twice by its producer gave two keys: expected {first!r} again, got "
            f"{resent_key!r}.\nHint: {'Your key comes from ' + source + '. ' if source else ''}A producer that got "
            "no answer from PutRecords (a timeout) sends the reading again, and Kinesis stores it as a new record "
            "with a new sequence number, so its sequenceNumber, eventID and arrival time differ. Only the reading's "
            "own reading_id is the same in both copies."
        )

    # 2b. A producer retry after a reshard: its partition key now maps to a child shard.
    moved = shard.child().record(_compact(payload), payload["sensor"])
    moved_key = _key(label, idempotency_key, moved, reading)
    if moved_key != first:
        named = "Your key contains the shard's id. " if shard.shard_id in first else ""
        raise ExerciseCheckFailed(
            f"{label}: the same reading, resent by its producer after a reshard, gave another key: expected {first!r} "
            f"again, got {moved_key!r}.\nHint: {named}A reshard (a split or a merge of shards) moves a partition "
            "key to a new shard, so a copy of a reading can arrive from another shard than the first. Leave the "
            "shard out of the key: the reading's reading_id is the same on every shard."
        )

    # 2c. The same record in a new execution environment (another Python process) and on another day.
    _check_in_another_process(label, idempotency_key, record, reading, first)
    later_day = on_another_date(lambda: _key(label, idempotency_key, record, reading), days=400)
    if later_day != first:
        raise ExerciseCheckFailed(
            f"{label}: the same record, delivered again on another day, gave another key: expected {first!r}, got "
            f"{later_day!r}.\nHint: your key depends on the date or the clock. A copy can arrive on another day (a "
            "replay of the on-failure queue, a retry that waits out an outage, a record kept for up to a year), "
            "and must find the item stored the first time. Leave the date out: key on the reading's reading_id."
        )

    # 3. The same stored record whose data arrives re-serialised (same sequence number, other bytes).
    respelled = _with_data(record, json.dumps(json.loads(_compact(payload))).encode())
    respelled_key = _key(label, idempotency_key, respelled, reading)
    expect(
        f"{label}: the same record with its data re-serialised",
        respelled_key == first,
        expected=first,
        got=respelled_key,
        hint="Do not hash the raw data bytes: the same reading can arrive as other bytes. LocalStack's event "
        "filtering re-serialises data with json.dumps (spaces after ':' and ','), and another producer library "
        "orders or spaces keys differently. The parsed reading's reading_id stays the same.",
    )

    # 4. Another reading of the same sensor (so the same partition key), a minute later, warmer.
    later = _payload(rng, sensor=payload["sensor"], temperature=round(payload["temperature"] + 1.5, 1))
    later_key = _key(label, idempotency_key, shard.record(_compact(later), later["sensor"]), _normalised(later))
    if later_key == first:
        partition_key = record["kinesis"]["partitionKey"]
        named = "Your key is the record's partition key. " if first == partition_key else ""
        raise ExerciseCheckFailed(
            f"{label}: two different readings of sensor {payload['sensor']!r} (reading_id {payload['reading_id']!r} "
            f"and {later['reading_id']!r}) got the same key {first!r}.\nHint: {named}The producer chose the sensor as "
            "the partition key so that Kinesis puts all of its readings on one shard: every reading of that "
            "sensor carries it, so the second reading would be refused as a duplicate of the first. Key on the "
            "reading's reading_id."
        )

    # 5. Two different readings that share their values: same sensor, same temperature (and humidity).
    twin = _payload(rng, sensor=payload["sensor"], temperature=payload["temperature"], humidity=payload["humidity"])
    twin_key = _key(label, idempotency_key, shard.record(_compact(twin), twin["sensor"]), _normalised(twin))
    expect(
        f"{label}: two readings with the same sensor and temperature but different reading_id got the same key",
        twin_key != first,
        expected=f"a key other than {first!r}",
        got=twin_key,
        hint="Different readings share values: a sensor reports the same temperature twice in a row all the time. "
        "A key made of sensor and temperature (or of any of the reading's values) merges them into one item, "
        "losing a reading. Only reading_id tells them apart. (If your key does come from reading_id but is cut "
        "short, a few characters of a hash, two ids can share it: keep the whole id, or a whole hash of it.)",
    )

    # 6. Distinct reading_ids give distinct keys: pairs drawn from the spec (the boundaries first), then many at once.
    def distinct(pair):
        keys = [
            _key(label, idempotency_key, shard.record(_compact(one), one["sensor"]), _normalised(one))
            for one in (_payload(rng, reading_id=pair[0]), _payload(rng, reading_id=pair[1]))
        ]
        expect(
            f"{label}: two readings with reading_id {pair[0]!r} and {pair[1]!r}",
            keys[0] != keys[1],
            expected="two different keys",
            got=keys,
            hint="Two different readings got the same key, so the second would be refused as a duplicate of the "
            "first and lost. Keep the reading_id whole and as it is: do not shorten it, change its case or "
            "shorten a digest of it.",
        )

    property_cases(
        f"{label}: distinct reading_ids", READING_ID_PAIRS, distinct, examples=READING_ID_EDGES, max_examples=40
    )
    many = [f"r-{rng.randint(10_000, 99_999)}-{index:04d}" for index in range(300)]
    keys = {
        _key(label, idempotency_key, shard.record(_compact(one), one["sensor"]), _normalised(one))
        for one in (_payload(rng, reading_id=reading_id) for reading_id in many)
    }
    expect(
        f"{label}: 300 readings with 300 different reading_ids",
        len(keys) == len(many) and first not in keys,
        expected="300 distinct keys, none equal to the first reading's",
        got=f"{len(keys)} distinct keys",
        hint="Some different readings got the same key: the later ones would be refused as duplicates and lost. A "
        "short digest (a few hex digits, a number modulo something) collides; keep the reading_id whole.",
    )
    passed(
        label,
        "an ESM retry, a producer retry (also after a reshard), another process, another day and "
        "re-serialised data give the same key; different readings, some sharing sensor and "
        "temperature, give different keys",
    )


ID_ALPHABET = string.ascii_letters + string.digits + "-_:#."
READING_ID_PAIRS = st.tuples(
    st.text(ID_ALPHABET, min_size=1, max_size=40), st.text(ID_ALPHABET, min_size=1, max_size=40)
).filter(lambda pair: pair[0] != pair[1])
READING_ID_EDGES = [
    ("r-1a2b", "r-1A2B"),  # only the case differs
    ("r-100", "r-1000"),  # one is a prefix of the other
    ("sensor-7-000001", "sensor-7-000002"),  # only the last character differs
    ("x" * 40 + "1", "x" * 40 + "2"),  # a long shared prefix
    ("a", "b"),  # the shortest ids
]


def _check_in_another_process(label: str, idempotency_key, record: dict, reading: dict, expected: str) -> None:
    """The key of the same record in a fresh interpreter, with another hash() salt, as a new Lambda environment."""
    path = _module_file(idempotency_key)
    if path is None:
        return  # defined outside a module file (a test's lambda): nothing to run elsewhere
    current = os.environ.get("PYTHONHASHSEED", "random")
    seed = int(current) + 1 if current.isdigit() else 1  # any salt other than this process's
    other = in_another_process(path, idempotency_key.__name__, [record, reading], hash_seed=seed, label=label)
    if other != expected:
        named = (
            "Your key uses hash(), which " if "hash(" in path.read_text(encoding="utf-8") else "Something in your key "
        )
        raise ExerciseCheckFailed(
            f"{label}: the same record in another Python process (another Lambda execution environment) gave "
            f"another key: expected {expected!r}, got {other!r}.\nHint: {named}changes from one process to the "
            "next: Python salts hash() of a str per process (PYTHONHASHSEED), and every Lambda execution environment "
            "is a new process, so a retry would not find the stored item. Use the reading_id itself (or a stable "
            "digest such as hashlib.sha256)."
        )


def _module_file(function) -> Path | None:
    """The .py file that defines ``function`` at its top level, if there is one."""
    name = getattr(function, "__name__", "")
    if not name.isidentifier() or getattr(function, "__qualname__", name) != name:
        return None
    try:
        path = Path(inspect.getsourcefile(function) or "")
    except TypeError:
        return None
    if path.suffix != ".py" or not path.is_file() or f"def {name}(" not in path.read_text(encoding="utf-8"):
        return None
    return path


# ---------------------------------------------------------------------------------------------------------
# Exercise 04.2 · write_reading(dynamodb, table_name, key, reading)

READS = {"get_item", "batch_get_item", "query", "scan", "transact_get_items"}
WRITES = {"put_item", "update_item", "transact_write_items", "batch_write_item"}


class _RecordingClient:
    """A DynamoDB client that forwards every call to a real one and records (method, arguments).

    If ``rival`` is given, it runs once, just before the first call that writes: another delivery of the same
    reading storing it between whatever the learner's code read and what it writes.
    """

    def __init__(self, real, rival=None) -> None:
        self._real = real
        self._rival = rival
        self.calls: list[tuple[str, dict]] = []

    def __getattr__(self, name):
        attribute = getattr(self._real, name)
        if name.startswith("_") or not callable(attribute) or name in ("exceptions", "meta"):
            return attribute

        def call(*args, **kwargs):
            self.calls.append((name, kwargs))
            if name in WRITES and self._rival is not None:
                rival, self._rival = self._rival, None
                rival()
            return attribute(*args, **kwargs)

        return call

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def conditions(self) -> list[tuple[str, dict, str]]:
        """(ConditionExpression or "", ExpressionAttributeNames, method) of every put_item and update_item."""
        return [
            (kwargs.get("ConditionExpression") or "", kwargs.get("ExpressionAttributeNames") or {}, name)
            for name, kwargs in self.calls
            if name in ("put_item", "update_item")
        ]


EXISTS = re.compile(r"attribute_(not_)?exists\s*\(\s*([#\w.]+)\s*\)")


def _exists_tests(expression: str, names: dict) -> list[tuple[bool, str]]:
    """(negated, attribute) of each attribute_exists / attribute_not_exists in a condition."""
    return [(bool(negated), names.get(attribute, attribute)) for negated, attribute in EXISTS.findall(expression)]


def _condition_hint(recorder: _RecordingClient) -> str:
    """Names what is wrong with the condition the learner's writes used, judged from the recorded calls."""
    conditions = recorder.conditions()
    if not conditions:
        if "put_item" not in recorder.names() and "update_item" not in recorder.names():
            return f"Your code called {recorder.names()} and no put_item. "
        return ""
    expression, names, method = conditions[-1]
    if not expression:
        return (
            f"Your {method} has no ConditionExpression: an unconditional write replaces any item with that key "
            "(last write wins) and succeeds every time, so it returns True twice. "
        )
    tests = _exists_tests(expression, names)
    if tests and all(attribute != "pk" for _, attribute in tests):
        named = ", ".join(sorted({attribute for _, attribute in tests}))
        return (
            f"Your ConditionExpression {expression!r} tests attribute {named}, not the table's key: it never matches "
            f"an existing item that lacks {named}, so the put goes through again and overwrites it. Test the "
            "table's key attribute, pk, which every item has. "
        )
    return ""


WRITE_MUTATION_HINT = (
    "Your write_reading changed the reading it was given (popped or replaced a value). The handler still uses that "
    "reading after the write (to log it, to report it), and a caller's data must not change behind its back: build "
    "the item in a new dict and leave the reading as it came."
)


def _write(label: str, write_reading, recorder, table: str, key: str, reading: dict, what: str):
    def call(given: dict):
        return write_reading(recorder, table, key, given)

    call.__name__ = getattr(write_reading, "__name__", "write_reading")
    try:
        # The reading the learner's code gets is compared with a copy afterwards: a change in place is reported.
        result = unchanged(label, call, dict(reading), hint=WRITE_MUTATION_HINT)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        hint = (
            "A ConditionalCheckFailedException means an item with that key is already there: catch it "
            "(dynamodb.exceptions.ConditionalCheckFailedException) and return False."
            if code == "ConditionalCheckFailedException"
            else "DynamoDB refused the call: read its message. Items use the low-level format, e.g. "
            "{'pk': {'S': key}, 'temperature': {'N': str(reading['temperature'])}}."
            + (
                " This reading has no humidity (None, as normalise returns it when the sensor sent none): "
                "{'N': 'None'} is not a number, so leave the attribute out."
                if reading.get("humidity") is None
                else ""
            )
        )
        raise ExerciseCheckFailed(f"{label}: write_reading raised {code} on {what}: {error}.\nHint: {hint}") from None
    except (ExerciseNotSolved, ExerciseCheckFailed):
        raise
    except Exception as error:
        raise ExerciseCheckFailed(
            f"{label}: write_reading raised {type(error).__name__} on {what}: {error}.\nHint: build the item from the "
            "reading's fields in DynamoDB's low-level format and call dynamodb.put_item(TableName=..., Item=..., "
            "ConditionExpression=...)."
        ) from error
    expect(
        f"{label}: the answer for {what}",
        result is True or result is False,
        expected="True or False",
        got=result,
        hint="Return True when this call stored the item, False when an item with that key was already there.",
    )
    return result


def _key_of(reading: dict) -> str:
    """The key the check gives write_reading: not the bare reading_id, so that a write must use the key it is given."""
    return f"{reading['sensor']}#{reading['reading_id']}"


def _item(table: str, key: str) -> dict | None:
    return client("dynamodb").get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True).get("Item")


def _number(item: dict | None, name: str):
    try:
        return Decimal(item[name]["N"])
    except (TypeError, KeyError, ArithmeticError):
        return None


def reading_item(key: str, reading: dict) -> dict:
    """The item Exercise 04.2's write stores for a reading under ``key`` (DynamoDB's attribute-value form)."""
    item = {
        "pk": {"S": key},
        "reading_id": {"S": reading["reading_id"]},
        "sensor": {"S": reading["sensor"]},
        "temperature": {"N": str(reading["temperature"])},
        "unit": {"S": reading["unit"]},
    }
    if reading.get("humidity") is not None:
        item["humidity"] = {"N": str(reading["humidity"])}
    return item


def _check_item(label: str, item: dict | None, key: str, reading: dict) -> None:
    expected = reading_item(key, reading)
    expect(
        f"{label}: the stored item under pk {key!r}",
        item is not None,
        expected=expected,
        got=item,
        hint="Store the item in the table named table_name, under pk = the key argument as it is given (here "
        "not the reading's reading_id: the key comes from idempotency_key, and the caller looks the item up by it).",
    )
    temperature = item.get("temperature", {})
    expect(
        f"{label}: the stored temperature's type",
        "N" in temperature,
        expected={"N": str(reading["temperature"])},
        got=temperature,
        hint="Store temperature (and humidity) as a number, type N, written as a string: {'N': '71.6'}. "
        "A string type (S) compares letter by letter ('100.4' < '99.5'), so conditions, sorting and sums on it go "
        "wrong; with S you cannot ADD it to a total either.",
    )
    wrong = sorted(name for name in ("pk", "reading_id", "sensor", "unit") if item.get(name) != expected[name])
    if _number(item, "temperature") != Decimal(str(reading["temperature"])):
        wrong.append("temperature")
    if "humidity" in expected and _number(item, "humidity") != Decimal(str(reading["humidity"])):
        wrong.append("humidity")
    expect(
        f"{label}: the stored item",
        not wrong,
        expected=expected,
        got=item,
        hint=f"These attributes are missing or wrong: {', '.join(wrong)}. pk is the key argument (S); reading_id, "
        "sensor and unit are strings (S); temperature and humidity are numbers (N).",
    )


def check_write_reading(write_reading, lesson) -> None:
    label = "Exercise 04.2"
    rng = fresh_random(label)
    real = client("dynamodb")
    table = lesson.name("check-write")
    delete_table(table)  # a fresh, empty table every time the check runs
    ensure_table(table)
    try:
        _check_writes(label, write_reading, real, table, rng)
        _check_other_errors(label, write_reading, real, lesson.name("check-no-such-table"), rng)
    finally:
        delete_table(table)
    passed(
        label,
        "a reading written 3 times was stored once; a reading another delivery stored just before your "
        "write was not stored again; other errors propagate",
    )


def _check_writes(label: str, write_reading, real, table: str, rng: random.Random) -> None:
    reading = _normalised(_payload(rng))
    key = _key_of(reading)

    recorder = _RecordingClient(real)
    first = _write(label, write_reading, recorder, table, key, reading, "the first write of a reading")
    if first is not True:
        inverted = any(
            not negated and attribute == "pk"
            for expression, names, _ in recorder.conditions()
            for negated, attribute in _exists_tests(expression, names)
        )
        raise ExerciseCheckFailed(
            f"{label}: the first write of a reading to an empty table returned {first!r}, expected True.\nHint: "
            + (
                "Your condition is attribute_exists(pk): it only lets a write through when the item is already "
                "there, the opposite of what you want. Use attribute_not_exists(pk). "
                if inverted
                else ""
            )
            + "Return True when this call stored the item."
        )
    _check_item(label, _item(table, key), key, reading)

    recorder = _RecordingClient(real)
    second = _write(label, write_reading, recorder, table, key, reading, "the same reading written again")
    if second is not False:
        raise ExerciseCheckFailed(
            f"{label}: writing the same reading again under the same key returned {second!r}, expected False "
            f"(the item was already there).\nHint: {_condition_hint(recorder)}Make the put conditional, "
            "ConditionExpression='attribute_not_exists(pk)', and return False when DynamoDB refuses it."
        )

    # A late copy that differs (the producer resent the reading after a recalibration): the first write stays.
    changed = dict(reading, temperature=round(reading["temperature"] + rng.uniform(1, 5), 2))
    recorder = _RecordingClient(real)
    late = _write(label, write_reading, recorder, table, key, changed, "a changed copy of a stored reading")
    kept = _number(_item(table, key), "temperature")
    expect(
        f"{label}: a changed copy under a key already stored (answer, stored temperature)",
        late is False and kept == Decimal(str(reading["temperature"])),
        expected=(False, reading["temperature"]),
        got=(late, kept),
        hint=_condition_hint(recorder) + "The first write of a key must stay: a later copy must be refused, not "
        "overwrite it (a plain put or an update_item with SET replaces it: last write wins).",
    )

    # The race: another delivery of a new reading stores it between what this call read and what it writes.
    raced = _normalised(_payload(rng))
    rival_item = {
        "pk": {"S": _key_of(raced)},
        "reading_id": {"S": raced["reading_id"]},
        "sensor": {"S": raced["sensor"]},
        "temperature": {"N": str(raced["temperature"])},
        "unit": {"S": "F"},
        "stored_by": {"S": "the other delivery"},
    }

    def rival():
        real.put_item(TableName=table, Item=rival_item, ConditionExpression="attribute_not_exists(pk)")

    recorder = _RecordingClient(real, rival=rival)
    result = _write(
        label,
        write_reading,
        recorder,
        table,
        _key_of(raced),
        raced,
        "a reading that another delivery stores at the same moment",
    )
    survived = (_item(table, _key_of(raced)) or {}).get("stored_by") == rival_item["stored_by"]
    if result is not False or not survived:
        reads = [name for name in recorder.names() if name in READS]
        if reads:
            why = (
                f"Your code reads first ({reads[0]}) and writes after. Two deliveries of one reading (a replay job "
                "running beside the live mapping, two consumers writing to one table) can both read 'not there' and "
                "both write: a race. The check let another delivery store the item between your read and your "
                "write, and your put " + ("returned True" if result else "overwrote its item") + ". No read can "
                "close that gap: the test and the write must be one request, a put_item with "
                "ConditionExpression='attribute_not_exists(pk)', which DynamoDB decides atomically. "
            )
        else:
            why = _condition_hint(recorder) + "Another delivery stored this reading just before your write. "
        raise ExerciseCheckFailed(
            f"{label}: another delivery stored the reading just before this call's write; expected (False, the other "
            f"delivery's item kept), got ({result!r}, {'kept' if survived else 'overwritten'}).\nHint: {why}"
        )

    fresh_reading = dict(_normalised(_payload(rng)), humidity=None)  # a sensor that measures no humidity
    fresh_key = _key_of(fresh_reading)
    fresh = _write(
        label, write_reading, _RecordingClient(real), table, fresh_key, fresh_reading, "a new reading without humidity"
    )
    humidity = (_item(table, fresh_key) or {}).get("humidity")
    expect(
        f"{label}: the humidity of a reading whose humidity is None",
        humidity in (None, {"NULL": True}),
        expected="no humidity attribute",
        got=humidity,
        hint="When reading['humidity'] is None, leave humidity out of the item: there is no number to store.",
    )
    recorder = _RecordingClient(real)
    again = _write(
        label, write_reading, recorder, table, fresh_key, fresh_reading, "the reading without humidity written again"
    )
    expect(
        f"{label}: the reading without humidity written again",
        again is False,
        expected=False,
        got=again,
        hint=_condition_hint(recorder) + "An item with that key is already there: the put must be refused whatever "
        "attributes the reading has. Test the table's key attribute, pk, which every item has.",
    )
    count = real.scan(TableName=table, Select="COUNT", ConsistentRead=True)["Count"]
    expect(
        f"{label}: a new reading in a table of 2 items (answer, items)",
        fresh is True and count == 3,
        expected=(True, 3),
        got=(fresh, count),
        hint="Another key is another item: the condition must refuse only a key that exists.",
    )


def _check_other_errors(label: str, write_reading, real, missing: str, rng: random.Random) -> None:
    reading = _normalised(_payload(rng))
    try:
        returned = call_exercise(label, write_reading, real, missing, _key_of(reading), reading)
    except ExerciseNotSolved:
        raise
    except ClientError:
        return  # DynamoDB's own error came through: the batch would fail and the ESM would retry it
    except Exception as error:
        raise ExerciseCheckFailed(
            f"{label}: for a table that does not exist expected DynamoDB's ResourceNotFoundException, got "
            f"{type(error).__name__}: {error}.\nHint: let DynamoDB's own error propagate."
        ) from None
    raise ExerciseCheckFailed(
        f"{label}: writing to a table that does not exist (a missing table) returned {returned!r} instead of "
        "raising.\nHint: catch ConditionalCheckFailedException only. Any other error (a missing table, throttling, "
        "no permission) must propagate: the handler fails, so the batch fails and the ESM retries it. Catching "
        "every exception and returning turns an outage into silently lost readings."
    )


# ---------------------------------------------------------------------------------------------------------
# Stretch 04.S: a per-sensor counter that counts each reading once, in one update_item per reading.


def check_stretch_count_once(count_once, lesson) -> None:
    """Feeds ``count_once(dynamodb, table_name, reading)`` fresh readings of a few sensors (some sharing a
    temperature), delivered as a batch, a retry of its first half, producer copies and a shuffled replay, on a fresh
    table; then judges the calls it made, what it returned and the counters it left; then a missing table."""
    label = "Stretch 04.S"
    rng = fresh_random(label)
    real = client("dynamodb")
    table = lesson.name("check-count")
    delete_table(table)
    ensure_table(table)
    sensors = [f"s-{number}" for number in rng.sample(range(10, 99), 3)]
    shared = round(rng.uniform(-10, 35), 1)  # two readings of one sensor with the same temperature
    readings = [_normalised(_payload(rng, sensor=sensor)) for sensor in sensors for _ in range(rng.randint(2, 4))]
    readings += [_normalised(_payload(rng, sensor=sensors[0], temperature=shared)) for _ in range(2)]
    rng.shuffle(readings)
    replay = readings[:]
    rng.shuffle(replay)
    deliveries = readings + readings[: len(readings) // 2] + rng.sample(readings, 2) + replay
    seen: set[str] = set()
    answers: list[tuple[str, str, bool, object]] = []
    try:
        for number, reading in enumerate(deliveries, start=1):
            recorder = _RecordingClient(real)
            first = reading["reading_id"] not in seen
            seen.add(reading["reading_id"])
            what = "its first delivery" if first else "a duplicate delivery"
            try:
                returned = call_exercise(label, count_once, recorder, table, dict(reading))
            except ExerciseNotSolved:
                raise
            except Exception as error:
                code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
                hint = (
                    "a duplicate is not an error: when your condition refuses the update, DynamoDB raises "
                    "ConditionalCheckFailedException, which here means 'counted before': catch it and return "
                    "False."
                    if code == "ConditionalCheckFailed" or "ConditionalCheck" in type(error).__name__
                    else "read the error: the reading and the table are valid."
                )
                raise ExerciseCheckFailed(
                    f"{label}: count_once raised {type(error).__name__}: {error} on {what} of reading "
                    f"{reading['reading_id']} (call {number} of {len(deliveries)}).\nHint: {hint}"
                ) from error
            names = recorder.names()
            if names != ["update_item"]:
                raise ExerciseCheckFailed(
                    f"{label}: on {what} of {reading['reading_id']}: expected one call, ['update_item'], got "
                    f"{names}.\nHint: one update_item per reading, no transaction (transact_write_items costs "
                    "twice the write capacity), no read before the write (a read and a write are a race, section 6). "
                    "The counter item itself can remember which readings it counted."
                )
            answers.append((what, reading["reading_id"], first, returned))
        _check_counters(label, real, table, readings)  # first: a wrong counter says more than a wrong answer
        for what, reading_id, first, returned in answers:
            expect(
                f"{label}: count_once on {what} of {reading_id}",
                returned is first,
                expected=first,
                got=returned,
                hint="return True when this call counted the reading and False when it had been counted before "
                "(a bool, like write_reading).",
            )
    finally:
        delete_table(table)
    _check_stretch_other_errors(label, count_once, real, lesson.name("check-no-such-table"), rng)
    passed(
        label,
        "fresh readings of 3 sensors, delivered again by a retry, producer copies and a shuffled replay: "
        "each counted once, with one update_item each; other errors propagate",
    )


def _check_counters(label: str, real, table: str, readings: list[dict]) -> None:
    truth: dict[str, tuple[int, Decimal]] = {}
    for reading in readings:
        count, total = truth.get(reading["sensor"], (0, Decimal(0)))
        truth[reading["sensor"]] = (count + 1, total + Decimal(str(reading["temperature"])))
    for sensor, (count, total) in sorted(truth.items()):
        item = real.get_item(TableName=table, Key={"pk": {"S": f"sensor#{sensor}"}}, ConsistentRead=True).get("Item")
        got = None if item is None else (_number(item, "readings"), _number(item, "temperature_sum"))
        if got == (count, total):
            continue
        if got is None or got[0] is None:
            hint = (
                f"keep the counter on the item with pk 'sensor#{sensor}', in the number attributes readings and "
                "temperature_sum (ADD creates them)."
            )
        elif got[0] > count:
            hint = (
                "a duplicate was counted again: ADD adds on every call, so the update must be conditional on "
                "this reading not being counted yet, e.g. a string set of the counted reading_ids on the counter "
                "item, grown with ADD and tested with NOT contains(...)."
            )
        else:
            hint = (
                "readings were missed: your condition refused readings never counted before. "
                "attribute_not_exists(pk) is false as soon as the sensor's counter exists, and a set of "
                "temperatures (or anything two readings can share) mistakes a new reading for a duplicate: "
                "test the reading's own reading_id."
            )
        raise ExerciseCheckFailed(
            f"{label}: the counter of {sensor}: expected readings {count} and temperature_sum {total}, got "
            f"{'no counter item' if got is None else f'readings {got[0]} and temperature_sum {got[1]}'}.\nHint: {hint}"
        )


def _check_stretch_other_errors(label: str, count_once, real, missing: str, rng: random.Random) -> None:
    reading = _normalised(_payload(rng))
    try:
        returned = call_exercise(label, count_once, real, missing, reading)
    except ExerciseNotSolved:
        raise
    except ClientError:
        return
    except Exception as error:
        raise ExerciseCheckFailed(
            f"{label}: for a table that does not exist expected DynamoDB's ResourceNotFoundException, got "
            f"{type(error).__name__}: {error}.\nHint: let DynamoDB's own error propagate."
        ) from None
    raise ExerciseCheckFailed(
        f"{label}: counting into a table that does not exist (a missing table) returned {returned!r} instead of "
        "raising.\nHint: catch ConditionalCheckFailedException only; any other error must propagate, so that the "
        "batch fails and is retried."
    )
