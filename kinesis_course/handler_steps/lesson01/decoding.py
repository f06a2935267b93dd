"""Step 1 of the course's handler: from one record of a Lambda Kinesis event to the JSON object it carries."""
import base64
import binascii
import json


class MalformedRecord(ValueError):
    """A record whose data is not a JSON object: not base64, not UTF-8, not JSON, or JSON but not an object."""


def decode_record(record: dict) -> dict:
    """The JSON object in one record's data; MalformedRecord, naming the record and what is wrong, otherwise."""
    kinesis = record["kinesis"]
    where = f"record {kinesis['sequenceNumber']} (partition key {kinesis['partitionKey']!r})"
    try:
        raw = base64.b64decode(kinesis["data"], validate=True)
    except binascii.Error as error:
        raise MalformedRecord(f"{where}: data is not base64 ({error})") from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedRecord(f"{where}: data is not UTF-8 ({error})") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise MalformedRecord(f"{where}: data is not JSON ({error})") from error
    if not isinstance(document, dict):
        raise MalformedRecord(f"{where}: data is JSON but not an object: {text[:40]!r}")
    return document


def shard_of(record: dict) -> str:
    """The id of the shard a record was read from (only its eventID says)."""
    return record["eventID"].split(":", 1)[0]
