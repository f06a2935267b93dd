"""DynamoDB tables, the sink of the idempotency lessons."""

from __future__ import annotations

from .endpoint import client
from .waiting import wait_until


def table_exists(name: str) -> bool:
    try:
        client("dynamodb").describe_table(TableName=name)
        return True
    except client("dynamodb").exceptions.ResourceNotFoundException:
        return False


def ensure_table(name: str, key: str = "pk", sort_key: str | None = None) -> str:
    """Creates an on-demand table with string keys unless it exists; returns its ARN."""
    dynamodb = client("dynamodb")
    if not table_exists(name):
        schema = [{"AttributeName": key, "KeyType": "HASH"}]
        attributes = [{"AttributeName": key, "AttributeType": "S"}]
        if sort_key:
            schema.append({"AttributeName": sort_key, "KeyType": "RANGE"})
            attributes.append({"AttributeName": sort_key, "AttributeType": "S"})
        dynamodb.create_table(
            TableName=name, KeySchema=schema, AttributeDefinitions=attributes, BillingMode="PAY_PER_REQUEST"
        )
    return wait_until(lambda: _arn_if_active(name), timeout=60, what=f"table {name} to become ACTIVE")


def _arn_if_active(name: str) -> str | None:
    table = client("dynamodb").describe_table(TableName=name)["Table"]
    return table["TableArn"] if table["TableStatus"] == "ACTIVE" else None


def delete_table(name: str) -> None:
    if table_exists(name):
        client("dynamodb").delete_table(TableName=name)
        wait_until(lambda: not table_exists(name), timeout=60, what=f"table {name} to be deleted")


def scan_all(name: str) -> list[dict]:
    """Every item, in the low-level attribute-value form, following pagination."""
    paginator = client("dynamodb").get_paginator("scan")
    return [item for page in paginator.paginate(TableName=name) for item in page["Items"]]
