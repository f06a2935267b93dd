"""The course's Lambda handler, step 4: every usable reading written once to the table named by TABLE."""
import json
import os

import boto3

from decoding import shard_of
from store import idempotency_key, write_reading
from triage import triage

dynamodb = boto3.client("dynamodb")  # created once per execution environment, reused by warm invocations


def handler(event, context):
    records = event["Records"]
    print("BATCH " + json.dumps({"shardId": shard_of(records[0]),
                                 "sequenceNumbers": [r["kinesis"]["sequenceNumber"] for r in records]}))
    outcome = {"stored": 0, "duplicates": 0, "skipped": 0}
    for record in records:
        reading = triage(record)  # PoisonRecord propagates: the whole batch fails
        if reading is None:
            outcome["skipped"] += 1
        elif write_reading(dynamodb, os.environ["TABLE"], idempotency_key(record, reading), reading):
            outcome["stored"] += 1
        else:
            outcome["duplicates"] += 1
    print("DONE " + json.dumps(outcome))
    return outcome
