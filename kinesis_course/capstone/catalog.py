"""The catalog of bad input the fault run sends, and what the course's handler must do with each kind.

Each kind is a record's data as a producer would put it (bytes: Kinesis stores bytes, and the event source
mapping base64-encodes them into the event, so a record that is "not base64" in the event cannot come from a
real stream; the kind that gets closest is a producer that base64-encoded its data itself).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

POISON = "poison: fails its batch, given up to the OnFailure queue"
SKIPPED = "skipped and reported (a SKIPPED line)"
NO_EFFECT = "no effect: the first version stays stored"


@dataclass(frozen=True)
class Kind:
    name: str
    what: str
    fate: str

    def data(self, reading_id: str, sensor: str) -> bytes:
        return BUILDERS[self.name](reading_id, sensor)


def _reading(reading_id: str, sensor: str, **changes) -> dict:
    reading = {"reading_id": reading_id, "sensor": sensor, "temperature": 21.5, "unit": "C", "humidity": 40}
    reading.update(changes)
    return {key: value for key, value in reading.items() if value is not None}


BUILDERS = {
    "base64 twice": lambda rid, sensor: base64.b64encode(json.dumps(_reading(rid, sensor)).encode()),
    "not UTF-8": lambda rid, sensor: b"\xff\xfe" + json.dumps(_reading(rid, sensor)).encode("utf-16-le"),
    "not JSON": lambda rid, sensor: f"reading_id={rid};sensor={sensor};temperature=21.5C".encode(),
    "JSON, not an object": lambda rid, sensor: json.dumps([rid, sensor, 21.5, "C"]).encode(),
    "oversized": lambda rid, sensor: json.dumps(_reading(rid, sensor + "/" + "x" * 420_000)).encode(),
    "missing field": lambda rid, sensor: json.dumps(_reading(rid, sensor, temperature=None)).encode(),
    "wrong type": lambda rid, sensor: json.dumps(_reading(rid, sensor, temperature="21.5")).encode(),
    "unknown unit": lambda rid, sensor: json.dumps(_reading(rid, sensor, unit="K")).encode(),
}

KINDS = [
    Kind(
        "base64 twice", "the producer base64-encoded the JSON itself; the handler finds base64 text, not JSON", POISON
    ),
    Kind("not UTF-8", "UTF-16 bytes with a byte-order mark", POISON),
    Kind("not JSON", "key=value text", POISON),
    Kind("JSON, not an object", "a JSON array", POISON),
    Kind(
        "oversized",
        "a 420 KB sensor name (a device dumping its buffer): the item exceeds DynamoDB's 400 KB "
        "item limit, so the write fails on every attempt",
        POISON,
    ),
    Kind("missing field", "no temperature", SKIPPED),
    Kind("wrong type", 'temperature "21.5", a string', SKIPPED),
    Kind("unknown unit", 'unit "K"', SKIPPED),
]
# Sent separately by the producer, after the original is stored: same reading_id, different content.
CONFLICT = Kind(
    "duplicate id, other content", "a second reading under an id already stored, 3 degrees warmer", NO_EFFECT
)


def conflicting(reading: dict) -> dict:
    return {**reading, "temperature": reading["temperature"] + 3}


def table() -> str:
    """The catalog as text: kind, what it is, what the handler must do."""
    rows = [(kind.name, kind.what, kind.fate) for kind in [*KINDS, CONFLICT]]
    width = max(len(name) for name, _, _ in rows)
    lines = [f"{'kind':<{width}}  what the handler must do"]
    for name, what, fate in rows:
        lines.append(f"{name:<{width}}  {fate}\n{'':<{width}}    ({what})")
    return "\n".join(lines)


def through_triage(build_dir, stream_arn: str = "arn:aws:kinesis:us-east-1:000000000000:stream/catalog") -> str:
    """Each kind of bad input through the handler's own triage(), in-process: what it decides, before any write.

    One more row, "not base64", can only be built by hand: Kinesis stores bytes and the mapping base64-encodes them,
    so a real event always carries valid base64.
    """
    import contextlib
    import io
    from datetime import datetime, timezone

    from ..events import kinesis_event
    from .replay import load_handler_module

    triage = load_handler_module(build_dir, "triage")
    now = datetime.now(timezone.utc)
    records = [
        {
            "PartitionKey": "sensor-01",
            "SequenceNumber": str(49_000 + n),
            "Data": kind.data(f"cat-{n}", "sensor-01"),
            "ApproximateArrivalTimestamp": now,
        }
        for n, kind in enumerate(KINDS)
    ]
    event = kinesis_event(records, stream_arn, "shardId-000000000000")
    rows = [(kind.name, record) for kind, record in zip(KINDS, event["Records"])]
    hand_built = {**event["Records"][0], "kinesis": {**event["Records"][0]["kinesis"], "data": "not base64!"}}
    rows.insert(0, ("not base64 (hand-built event)", hand_built))
    lines = [f"{'kind':<30} what triage() decides"]
    for name, record in rows:
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                reading = triage.triage(record)
            except triage.PoisonRecord:
                outcome = "raises PoisonRecord: the batch fails"
            else:
                outcome = (
                    "returns None: skipped and reported"
                    if reading is None
                    else f"returns a reading of {len(json.dumps(reading)):,} bytes: it fails later, at the write"
                )
        lines.append(f"{name:<30} {outcome}")
    return "\n".join(lines)
