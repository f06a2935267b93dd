"""The course's Lambda handler, step 6: a partial batch response names the records Lambda must send again."""
import json
import os

import boto3

from decoding import shard_of
from store import idempotency_key, write_reading
from triage import triage

dynamodb = boto3.client("dynamodb")  # created once per execution environment, reused by warm invocations


def process(record: dict) -> str:
    """'stored', 'duplicate' or 'skipped'; raises for a poison record (PoisonRecord) or a failed write."""
    reading = triage(record)
    if reading is None:
        return "skipped"
    stored = write_reading(dynamodb, os.environ["TABLE"], idempotency_key(record, reading), reading)
    return "stored" if stored else "duplicate"


def handler(event, context):
    records = event["Records"]
    print("BATCH " + json.dumps({"shardId": shard_of(records[0]),
                                 "sequenceNumbers": [r["kinesis"]["sequenceNumber"] for r in records]}))
    for index, record in enumerate(records):
        try:
            process(record)
        except Exception as error:
            # Records of a shard take effect in order: report this one and every later one, write none of them.
            print("FAILED " + json.dumps({"sequenceNumber": record["kinesis"]["sequenceNumber"], "error": repr(error)}))
            return {"batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in records[index:]]}
    return {"batchItemFailures": []}
