"""DynamoDB served by moto inside LocalStack: the conditional writes and update expressions the course relies on."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from kinesis_course import client

pytestmark = pytest.mark.localstack


@pytest.fixture
def table(resources) -> str:
    return resources.table("readings", key="pk")


def error_code(raised: pytest.ExceptionInfo) -> str:
    return raised.value.response["Error"]["Code"]


def test_a_conditional_put_writes_once_then_fails_the_condition(table):
    dynamodb = client("dynamodb")
    item = {"pk": {"S": "shardId-000000000000:4959"}, "temperature": {"N": "21.5"}}

    dynamodb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError) as raised:
        dynamodb.put_item(
            TableName=table, Item={**item, "temperature": {"N": "99"}}, ConditionExpression="attribute_not_exists(pk)"
        )

    assert error_code(raised) == "ConditionalCheckFailedException"
    stored = dynamodb.get_item(TableName=table, Key={"pk": item["pk"]}, ConsistentRead=True)["Item"]
    assert stored["temperature"] == {"N": "21.5"}, "the failed put must not have overwritten the first one"


def test_update_item_with_set_if_not_exists_and_add(table):
    dynamodb = client("dynamodb")
    key = {"pk": {"S": "sensor-7"}}
    update = dict(
        TableName=table,
        Key=key,
        UpdateExpression="SET first_seen = if_not_exists(first_seen, :now), last_seen = :now ADD readings :one, celsius_sum :value",
        ReturnValues="ALL_NEW",
    )

    first = dynamodb.update_item(
        **update, ExpressionAttributeValues={":now": {"S": "t1"}, ":one": {"N": "1"}, ":value": {"N": "20.5"}}
    )["Attributes"]
    second = dynamodb.update_item(
        **update, ExpressionAttributeValues={":now": {"S": "t2"}, ":one": {"N": "1"}, ":value": {"N": "1.5"}}
    )["Attributes"]

    assert first == {
        "pk": key["pk"],
        "first_seen": {"S": "t1"},
        "last_seen": {"S": "t1"},
        "readings": {"N": "1"},
        "celsius_sum": {"N": "20.5"},
    }
    # if_not_exists keeps the first value; ADD accumulates numbers across updates.
    assert second["first_seen"] == {"S": "t1"}
    assert second["last_seen"] == {"S": "t2"}
    assert second["readings"] == {"N": "2"}
    assert float(second["celsius_sum"]["N"]) == pytest.approx(22.0)


def test_a_condition_expression_guards_an_update(table):
    dynamodb = client("dynamodb")
    key = {"pk": {"S": "shard-checkpoint"}}
    dynamodb.put_item(TableName=table, Item={**key, "sequence": {"N": "100"}})

    def advance_to(sequence: int) -> dict:
        return dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #s = :new",
            ConditionExpression="attribute_exists(pk) AND #s < :new",
            ExpressionAttributeNames={"#s": "sequence"},
            ExpressionAttributeValues={":new": {"N": str(sequence)}},
            ReturnValues="UPDATED_NEW",
        )["Attributes"]

    assert advance_to(150) == {"sequence": {"N": "150"}}
    with pytest.raises(ClientError) as raised:
        advance_to(120)  # an older record arriving late must not move the checkpoint back
    assert error_code(raised) == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as raised:
        dynamodb.update_item(
            TableName=table,
            Key={"pk": {"S": "never-written"}},
            UpdateExpression="SET #s = :new",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#s": "sequence"},
            ExpressionAttributeValues={":new": {"N": "1"}},
        )
    assert error_code(raised) == "ConditionalCheckFailedException"
    assert dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["sequence"] == {"N": "150"}
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": "never-written"}})
