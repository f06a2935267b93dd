"""The course's Lambda handler, step 2: every record of a Kinesis batch decoded, normalised and accounted for."""
import json

from decoding import decode_record
from readings import InvalidReading, normalise


def handler(event, context):
    processed, skipped = 0, []
    for record in event["Records"]:
        reading = decode_record(record)  # a MalformedRecord is not caught: it fails the batch (lesson 03)
        try:
            normalised = normalise(reading)
        except InvalidReading as error:
            sequence_number = record["kinesis"]["sequenceNumber"]
            print("SKIPPED " + json.dumps({"sequenceNumber": sequence_number, "reason": str(error)}))
            skipped.append(sequence_number)
            continue
        print("READING " + json.dumps(normalised))
        processed += 1
    return {"processed": processed, "skipped": skipped}
