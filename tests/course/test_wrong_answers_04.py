"""Lesson 04's checks reject the plausible wrong answers, each with a hint that names the mistake.

04.1 (idempotency_key) runs without LocalStack. 04.2 (write_reading) writes to real tables on the shared LocalStack:
each test gets its own table prefix (kcm04-<uuid8>-), and the check deletes its tables itself.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import uuid
from pathlib import Path
from types import SimpleNamespace

from botocore.exceptions import ClientError

import pytest
from wrong_answers import assert_rejected

from kinesis_course.checks import ExerciseNotSolved
from kinesis_course.checks import lesson04 as checks

STEPS = Path(__file__).resolve().parents[2] / "kinesis_course" / "handler_steps" / "lesson04"


def reference():
    spec = importlib.util.spec_from_file_location("kc_test_store_04", STEPS / "store.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stub(*args):
    raise NotImplementedError("Exercise 04.M: replace this line with your solution")


# --- Exercise 04.1 · idempotency_key ------------------------------------------------------------------------


def test_04_1_reference_passes(capsys):
    checks.check_idempotency_key(reference().idempotency_key)
    assert "✔ Exercise 04.1 passed" in capsys.readouterr().out


def test_04_1_stub_is_not_solved():
    with pytest.raises(ExerciseNotSolved):
        checks.check_idempotency_key(stub)


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        pytest.param(
            lambda record, reading: record["eventID"], ("eventID", "producer", "new sequence number"), id="eventID"
        ),
        pytest.param(
            lambda record, reading: record["kinesis"]["sequenceNumber"],
            ("sequenceNumber", "producer", "new sequence number"),
            id="sequenceNumber",
        ),
        pytest.param(
            lambda record, reading: hashlib.sha256(base64.b64decode(record["kinesis"]["data"])).hexdigest(),
            ("raw data bytes", "re-serialises", "LocalStack"),
            id="hash-of-data-bytes",
        ),
        pytest.param(
            lambda record, reading: hashlib.md5(record["kinesis"]["data"].encode()).hexdigest(),
            ("raw data bytes", "re-serialises"),
            id="hash-of-base64-data",
        ),
        pytest.param(
            lambda record, reading: f"{reading['sensor']}#{reading['temperature']}",
            ("share values", "reading_id"),
            id="sensor-and-temperature",
        ),
        pytest.param(
            lambda record, reading: record["kinesis"]["partitionKey"],
            ("partition key", "sensor", "reading_id"),
            id="partition-key",
        ),
        pytest.param(lambda record, reading: f"reading#{uuid.uuid4()}", ("uuid4", "every delivery"), id="fresh-uuid"),
        pytest.param(
            lambda record, reading: f"{reading['reading_id']}#{record['kinesis']['sequenceNumber']}",
            ("sequenceNumber", "producer"),
            id="reading-id-plus-sequence-number",
        ),
        pytest.param(lambda record, reading: None, ("non-empty str",), id="returns-none"),
    ],
)
def test_04_1_rejects(wrong, mentions):
    assert_rejected(lambda: checks.check_idempotency_key(wrong), *mentions)


# --- Exercise 04.2 · write_reading ---------------------------------------------------------------------------


def item_of(key, reading, temperature_type="N"):
    item = {
        "pk": {"S": key},
        "reading_id": {"S": reading["reading_id"]},
        "sensor": {"S": reading["sensor"]},
        "temperature": {temperature_type: str(reading["temperature"])},
        "unit": {"S": reading["unit"]},
    }
    if reading["humidity"] is not None:
        item["humidity"] = {"N": str(reading["humidity"])}
    return item


def unconditional_put(dynamodb, table_name, key, reading):
    dynamodb.put_item(TableName=table_name, Item=item_of(key, reading))
    return True


def catches_every_exception(dynamodb, table_name, key, reading):
    try:
        dynamodb.put_item(
            TableName=table_name, Item=item_of(key, reading), ConditionExpression="attribute_not_exists(pk)"
        )
    except Exception:
        return False
    return True


def read_then_write(dynamodb, table_name, key, reading):
    if "Item" in dynamodb.get_item(TableName=table_name, Key={"pk": {"S": key}}, ConsistentRead=True):
        return False
    dynamodb.put_item(TableName=table_name, Item=item_of(key, reading))
    return True


def condition_on_an_attribute_no_item_has(dynamodb, table_name, key, reading):
    try:
        dynamodb.put_item(
            TableName=table_name, Item=item_of(key, reading), ConditionExpression="attribute_not_exists(id)"
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def condition_through_a_name_placeholder_on_the_wrong_attribute(dynamodb, table_name, key, reading):
    try:
        dynamodb.put_item(
            TableName=table_name,
            Item=item_of(key, reading),
            ConditionExpression="attribute_not_exists(#k)",
            ExpressionAttributeNames={"#k": "key"},
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def temperature_as_a_string(dynamodb, table_name, key, reading):
    try:
        dynamodb.put_item(
            TableName=table_name,
            Item=item_of(key, reading, temperature_type="S"),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def inverted_condition(dynamodb, table_name, key, reading):
    try:
        dynamodb.put_item(TableName=table_name, Item=item_of(key, reading), ConditionExpression="attribute_exists(pk)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def upsert_with_set(dynamodb, table_name, key, reading):
    dynamodb.update_item(
        TableName=table_name,
        Key={"pk": {"S": key}},
        UpdateExpression="SET reading_id = :r, sensor = :s, temperature = :t, #u = :u, humidity = :h",
        ExpressionAttributeNames={"#u": "unit"},  # unit is one of DynamoDB's reserved words
        ExpressionAttributeValues={
            ":r": {"S": reading["reading_id"]},
            ":s": {"S": reading["sensor"]},
            ":t": {"N": str(reading["temperature"])},
            ":u": {"S": reading["unit"]},
            ":h": {"N": str(reading["humidity"])},
        },
    )
    return True


def conditional_put_without_catching(dynamodb, table_name, key, reading):
    dynamodb.put_item(TableName=table_name, Item=item_of(key, reading), ConditionExpression="attribute_not_exists(pk)")
    return True


def humidity_even_when_none(dynamodb, table_name, key, reading):
    item = item_of(key, reading)
    item["humidity"] = {"N": str(reading["humidity"])}  # "None" when the sensor sent no humidity
    try:
        dynamodb.put_item(TableName=table_name, Item=item, ConditionExpression="attribute_not_exists(pk)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def humidity_as_a_string_when_none(dynamodb, table_name, key, reading):
    item = item_of(key, reading)
    if reading["humidity"] is None:
        item["humidity"] = {"S": "none"}
    try:
        dynamodb.put_item(TableName=table_name, Item=item, ConditionExpression="attribute_not_exists(pk)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def forgets_the_sensor(dynamodb, table_name, key, reading):
    item = item_of(key, reading)
    del item["sensor"]
    try:
        dynamodb.put_item(TableName=table_name, Item=item, ConditionExpression="attribute_not_exists(pk)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


@pytest.fixture
def lesson():
    """Stands for the notebook's Lesson: only name() is used, with a prefix of its own."""
    prefix = f"kcm04-{uuid.uuid4().hex[:8]}-"
    return SimpleNamespace(name=lambda suffix: prefix + suffix)


@pytest.mark.localstack
def test_04_2_reference_passes(lesson, capsys):
    checks.check_write_reading(reference().write_reading, lesson)
    assert "✔ Exercise 04.2 passed" in capsys.readouterr().out


@pytest.mark.localstack
def test_04_2_stub_is_not_solved(lesson):
    with pytest.raises(ExerciseNotSolved):
        checks.check_write_reading(stub, lesson)


@pytest.mark.localstack
@pytest.mark.parametrize(
    "wrong, mentions",
    [
        pytest.param(
            unconditional_put, ("no ConditionExpression", "last write wins", "True twice"), id="unconditional-put"
        ),
        pytest.param(catches_every_exception, ("missing table", "ESM retries"), id="catches-every-exception"),
        pytest.param(read_then_write, ("race", "get_item", "atomically"), id="read-then-write"),
        pytest.param(
            condition_on_an_attribute_no_item_has, ("attribute id", "never matches", "pk"), id="condition-on-id"
        ),
        pytest.param(
            condition_through_a_name_placeholder_on_the_wrong_attribute,
            ("attribute key", "never matches"),
            id="condition-on-key-via-placeholder",
        ),
        pytest.param(temperature_as_a_string, ("type N", "string type (S)"), id="temperature-as-string"),
        pytest.param(inverted_condition, ("attribute_exists(pk)", "opposite"), id="attribute-exists"),
        pytest.param(
            upsert_with_set, ("update_item has no ConditionExpression", "last write wins"), id="update-item-set"
        ),
        pytest.param(
            conditional_put_without_catching,
            ("ConditionalCheckFailedException", "return False"),
            id="does-not-catch-condition-failure",
        ),
        pytest.param(forgets_the_sensor, ("sensor",), id="item-without-sensor"),
        pytest.param(humidity_even_when_none, ("no humidity", "leave the attribute out"), id="humidity-N-None"),
        pytest.param(humidity_as_a_string_when_none, ("humidity is None", "leave humidity out"), id="humidity-S-none"),
    ],
)
def test_04_2_rejects(wrong, mentions, lesson):
    assert_rejected(lambda: checks.check_write_reading(wrong, lesson), *mentions)


# --- 04.1: keys that change in another process, on another day, on another shard, or that collide --------------
# Written to a module file, as the learner's store.py is, so that the check can import it in a second interpreter.

WRONG_KEY_MODULES = {
    "salted-hash": (
        """
def idempotency_key(record, reading):
    return str(hash(reading["reading_id"]))
""",
        ("hash()", "PYTHONHASHSEED"),
    ),
    "date-in-key": (
        """
import datetime

def idempotency_key(record, reading):
    return f"{datetime.date.today().isoformat()}#{reading['reading_id']}"
""",
        ("another day", "date"),
    ),
    "shard-in-key": (
        """
def idempotency_key(record, reading):
    return record["eventID"].split(":")[0] + "#" + reading["reading_id"]
""",
        ("shard", "reshard"),
    ),
    "pops-the-reading-id": (
        """
def idempotency_key(record, reading):
    return reading.pop("reading_id")
""",
        ("changed", "reading"),
    ),
    "short-hash-collides": (
        """
import hashlib

def idempotency_key(record, reading):
    return hashlib.sha256(reading["reading_id"].encode()).hexdigest()[:2]
""",
        ("same key", "reading_id"),
    ),
    "lowercased-id": (
        """
def idempotency_key(record, reading):
    return reading["reading_id"].lower()
""",
        ("same key", "reading_id"),
    ),
}


def key_module(tmp_path, source):
    path = tmp_path / "store.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("kc_test_wrong_store_04", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", list(WRONG_KEY_MODULES))
def test_04_1_rejects_keys_that_change_elsewhere_or_collide(tmp_path, name):
    source, mentions = WRONG_KEY_MODULES[name]
    assert_rejected(lambda: checks.check_idempotency_key(key_module(tmp_path, source).idempotency_key), *mentions)


# --- 04.2: more wrong writes --------------------------------------------------------------------------------------


def condition_on_humidity(dynamodb, table_name, key, reading):
    """attribute_not_exists on an attribute that only some items have: a reading without humidity is stored twice."""
    try:
        dynamodb.put_item(
            TableName=table_name, Item=item_of(key, reading), ConditionExpression="attribute_not_exists(humidity)"
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def keyed_on_reading_id(dynamodb, table_name, key, reading):
    """Ignores the key it is given and stores the item under the reading's own id."""
    try:
        dynamodb.put_item(
            TableName=table_name,
            Item=item_of(reading["reading_id"], reading),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def drops_humidity_from_the_reading(dynamodb, table_name, key, reading):
    """Deletes a None humidity from the caller's reading to build the item from what is left (mutates its input)."""
    if reading.get("humidity") is None:
        reading.pop("humidity", None)
    item = {"pk": {"S": key}}
    for name, value in reading.items():
        item[name] = {"N": str(value)} if isinstance(value, (int, float)) else {"S": value}
    try:
        dynamodb.put_item(TableName=table_name, Item=item, ConditionExpression="attribute_not_exists(pk)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def swallows_every_client_error(dynamodb, table_name, key, reading):
    try:
        dynamodb.put_item(
            TableName=table_name, Item=item_of(key, reading), ConditionExpression="attribute_not_exists(pk)"
        )
    except ClientError:
        return False
    return True


@pytest.mark.localstack
@pytest.mark.parametrize(
    "wrong, mentions",
    [
        pytest.param(condition_on_humidity, ("attribute humidity", "pk"), id="condition-on-humidity"),
        pytest.param(keyed_on_reading_id, ("key argument",), id="ignores-the-key"),
        pytest.param(drops_humidity_from_the_reading, ("changed", "reading"), id="mutates-the-reading"),
        pytest.param(
            swallows_every_client_error,
            ("missing table", "ConditionalCheckFailedException only"),
            id="swallows-every-ClientError",
        ),
    ],
)
def test_04_2_rejects_more(wrong, mentions, lesson):
    assert_rejected(lambda: checks.check_write_reading(wrong, lesson), *mentions)


# ---- Stretch 04.S: a counter that counts each reading once, in one update_item -------------------------------------


def _counter_update(reading, condition=None, ids=None):
    values = {":one": {"N": "1"}, ":t": {"N": str(reading["temperature"])}}
    update = "ADD readings :one, temperature_sum :t"
    if ids is not None:
        update += ", counted :ids"
        values[":ids"] = {"SS": [ids]}
    if condition and ":id" in condition:
        values[":id"] = {"S": ids}
    arguments = dict(
        Key={"pk": {"S": f"sensor#{reading['sensor']}"}}, UpdateExpression=update, ExpressionAttributeValues=values
    )
    if condition:
        arguments["ConditionExpression"] = condition
    return arguments


def count_once(dynamodb, table_name, reading):
    """The reference: the counter item remembers the reading_ids it counted."""
    try:
        dynamodb.update_item(
            TableName=table_name, **_counter_update(reading, "NOT contains(counted, :id)", reading["reading_id"])
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def add_without_condition(dynamodb, table_name, reading):
    dynamodb.update_item(TableName=table_name, **_counter_update(reading))
    return True


def condition_on_the_counter_item(dynamodb, table_name, reading):
    try:
        dynamodb.update_item(TableName=table_name, **_counter_update(reading, "attribute_not_exists(pk)"))
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def set_of_temperatures(dynamodb, table_name, reading):
    try:
        dynamodb.update_item(
            TableName=table_name, **_counter_update(reading, "NOT contains(counted, :id)", str(reading["temperature"]))
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def does_not_catch_the_refusal(dynamodb, table_name, reading):
    dynamodb.update_item(
        TableName=table_name, **_counter_update(reading, "NOT contains(counted, :id)", reading["reading_id"])
    )
    return True


def catches_everything(dynamodb, table_name, reading):
    try:
        dynamodb.update_item(
            TableName=table_name, **_counter_update(reading, "NOT contains(counted, :id)", reading["reading_id"])
        )
    except Exception:
        return False
    return True


def transaction_as_in_section_8(dynamodb, table_name, reading):
    try:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table_name,
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "Item": {"pk": {"S": reading["reading_id"]}},
                    }
                },
                {"Update": {"TableName": table_name, **_counter_update(reading)}},
            ]
        )
    except dynamodb.exceptions.TransactionCanceledException:
        return False
    return True


def read_then_update(dynamodb, table_name, reading):
    item = dynamodb.get_item(TableName=table_name, Key={"pk": {"S": f"sensor#{reading['sensor']}"}}).get("Item", {})
    if reading["reading_id"] in item.get("counted", {}).get("SS", []):
        return False
    dynamodb.update_item(TableName=table_name, **_counter_update(reading, None, reading["reading_id"]))
    return True


def returns_nothing(dynamodb, table_name, reading):
    count_once(dynamodb, table_name, reading)


@pytest.mark.localstack
def test_04_s_reference_passes(lesson, capsys):
    checks.check_stretch_count_once(count_once, lesson)
    assert "✔ Stretch 04.S passed" in capsys.readouterr().out


@pytest.mark.localstack
def test_04_s_stub_is_not_solved(lesson):
    with pytest.raises(checks.ExerciseNotSolved):
        checks.check_stretch_count_once(stub, lesson)


@pytest.mark.localstack
@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (add_without_condition, ["counted again", "conditional"]),
        (condition_on_the_counter_item, ["readings were missed", "attribute_not_exists(pk)"]),
        (set_of_temperatures, ["readings were missed", "temperatures"]),
        (does_not_catch_the_refusal, ["a duplicate is not an error", "ConditionalCheckFailedException"]),
        (catches_everything, ["missing table", "propagate"]),
        (transaction_as_in_section_8, ["one update_item", "no transaction"]),
        (read_then_update, ["one update_item", "no read before the write"]),
        (returns_nothing, ["True", "False"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_04_s_rejects(wrong, mentions, lesson):
    assert_rejected(lambda: checks.check_stretch_count_once(wrong, lesson), *mentions)
