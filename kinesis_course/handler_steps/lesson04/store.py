"""Step 4 of the course's handler: each reading takes effect once, however often its record is delivered."""


def idempotency_key(record: dict, reading: dict) -> str:
    """The key under which a reading is stored: the same for every copy of that reading."""
    return reading["reading_id"]


def write_reading(dynamodb, table_name: str, key: str, reading: dict) -> bool:
    """Stores the reading under key once: True if this call stored it, False if it was already there."""
    item = {
        "pk": {"S": key},
        "reading_id": {"S": reading["reading_id"]},
        "sensor": {"S": reading["sensor"]},
        "temperature": {"N": str(reading["temperature"])},
        "unit": {"S": reading["unit"]},
    }
    if reading.get("humidity") is not None:
        item["humidity"] = {"N": str(reading["humidity"])}
    try:
        dynamodb.put_item(TableName=table_name, Item=item, ConditionExpression="attribute_not_exists(pk)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True
