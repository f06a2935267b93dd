"""The course's Lambda handler, step 3: one BATCH line per invocation; poison records fail the batch."""
import json

from decoding import shard_of
from triage import triage


def handler(event, context):
    records = event["Records"]
    # One line per invocation: Lambda retries by invoking again, so BATCH lines count the attempts.
    print("BATCH " + json.dumps({
        "shardId": shard_of(records[0]),
        "sequenceNumbers": [record["kinesis"]["sequenceNumber"] for record in records],
    }))
    processed, skipped = 0, []
    for record in records:
        reading = triage(record)  # PoisonRecord propagates: the whole batch fails
        if reading is None:
            skipped.append(record["kinesis"]["sequenceNumber"])
            continue
        print("READING " + json.dumps(reading))
        processed += 1
    return {"processed": processed, "skipped": skipped}
