"""Step 3 of the course's handler: a poison record fails the batch; a harmless bad reading is skipped and reported."""
import json

from decoding import MalformedRecord, decode_record
from readings import InvalidReading, normalise


class PoisonRecord(Exception):
    """A record no retry can fix. Raised so that the batch fails and the mapping's retry limit and
    on-failure destination deal with it (lesson 03), or so that it is reported as a batch item failure (lesson 06)."""


def triage(record: dict) -> dict | None:
    """The normalised reading of one record, or None for a harmless bad reading (after one SKIPPED line).

    Raises PoisonRecord, naming the record's eventID, when its data cannot be decoded.
    """
    try:
        reading = decode_record(record)
    except MalformedRecord as error:
        raise PoisonRecord(f"{record['eventID']}: {error}") from error
    try:
        return normalise(reading)
    except InvalidReading as error:
        sequence_number = record["kinesis"]["sequenceNumber"]
        print("SKIPPED " + json.dumps({"sequenceNumber": sequence_number, "reason": str(error)}))
        return None
