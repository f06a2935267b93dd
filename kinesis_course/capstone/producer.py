"""The fault run's producer: sensor readings, bad input from the catalog, and retries that send duplicates.

A real producer retries a PutRecords call whose answer it did not get (a timeout, a dropped connection), although
Kinesis may have stored the records already: those readings are then in the stream twice, under new sequence
numbers. This producer does that on purpose for a seeded share of its calls, and keeps the ground truth the
proof is computed from: what it meant to send, and how many copies of each reading it actually sent.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field

from ..endpoint import client
from . import catalog

SENSORS = [f"sensor-{n:02d}" for n in range(1, 9)]


@dataclass
class GroundTruth:
    """What the producer sent. ``readings``: reading_id -> the reading it meant to be stored (first version)."""

    readings: dict[str, dict] = field(default_factory=dict)
    copies: Counter = field(default_factory=Counter)  # reading_id -> copies put in the stream
    bad: list[dict] = field(default_factory=list)  # {"kind", "fate", "reading_id", "sequenceNumber", "shardId"}
    calls: int = 0
    lost_answers: int = 0  # calls the producer retried although Kinesis had stored them
    failed_entries_retried: int = 0  # entries Kinesis refused (throttled) and the producer re-sent
    sequence_numbers: dict[str, list[str]] = field(default_factory=dict)  # reading_id -> every sequence number
    shard_of: dict[str, str] = field(default_factory=dict)  # sequence number -> shard id

    @property
    def duplicates_sent(self) -> int:
        return sum(count - 1 for count in self.copies.values())

    @property
    def records_sent(self) -> int:
        return sum(len(numbers) for numbers in self.sequence_numbers.values())

    def last_per_shard(self) -> set[str]:
        """The sequence number of the last record put on each shard: when it is delivered, the run is through."""
        last: dict[str, str] = {}
        for number, shard in self.shard_of.items():
            if shard not in last or int(number) > int(last[shard]):
                last[shard] = number
        return set(last.values())

    def summary(self) -> str:
        return (
            f"{self.records_sent:,} records sent in {self.calls} PutRecords calls: {len(self.readings):,} readings, "
            f"{self.duplicates_sent} duplicates (answers lost: {self.lost_answers}), {len(self.bad)} bad records"
        )

    def poison(self) -> list[dict]:
        return [record for record in self.bad if record["fate"] == catalog.POISON]


def make_readings(count: int, seed: int = 7) -> list[dict]:
    """``count`` valid readings, Celsius or Fahrenheit, spread over eight sensors."""
    rng = random.Random(seed)
    readings = []
    for number in range(1, count + 1):
        unit = rng.choice("CF")
        temperature = round(rng.uniform(-5, 35), 1) if unit == "C" else round(rng.uniform(23, 95), 1)
        readings.append(
            {
                "reading_id": f"rd-{number:05d}",
                "sensor": rng.choice(SENSORS),
                "temperature": temperature,
                "unit": unit,
                "humidity": rng.randint(20, 90),
            }
        )
    return readings


class Producer:
    """Puts entries with PutRecords, ``chunk`` at a time, retrying like a careful client (see the module's doc)."""

    def __init__(self, stream_name: str, truth: GroundTruth, lost_answer_rate: float, seed: int = 11, chunk: int = 100):
        self.stream_name, self.truth, self.rate, self.chunk = stream_name, truth, lost_answer_rate, chunk
        self.rng = random.Random(seed)
        self.kinesis = client("kinesis")

    def send(self, entries: list[tuple[str, bytes, str]]) -> list[dict]:
        """entries: (reading_id, data, partition key). Returns PutRecords' result entries, one per entry, in order."""
        results = []
        for start in range(0, len(entries), self.chunk):
            part = entries[start : start + self.chunk]
            answer = self._put(part)
            if self.rng.random() < self.rate:
                # The answer never reached us: a careful producer sends the same records again.
                self.truth.lost_answers += 1
                answer = self._put(part)
            results.extend(answer)
        return results

    def _put(self, part):
        pending = list(range(len(part)))
        results: list[dict | None] = [None] * len(part)
        while pending:
            self.truth.calls += 1
            response = self.kinesis.put_records(
                StreamName=self.stream_name, Records=[{"Data": part[i][1], "PartitionKey": part[i][2]} for i in pending]
            )
            retry = []
            for i, entry in zip(pending, response["Records"]):
                if "SequenceNumber" in entry:
                    results[i] = entry
                    reading_id = part[i][0]
                    self.truth.copies[reading_id] += 1
                    self.truth.sequence_numbers.setdefault(reading_id, []).append(entry["SequenceNumber"])
                    self.truth.shard_of[entry["SequenceNumber"]] = entry["ShardId"]
                else:
                    retry.append(i)
            self.truth.failed_entries_retried += len(retry)
            pending = retry
        return results


def produce(stream_name: str, count: int = 1200, lost_answer_rate: float = 0.15, seed: int = 7) -> GroundTruth:
    """Sends ``count`` readings with the catalog's bad records among them, then the conflicting duplicate.

    Bad records go in the first half, so good readings of every shard follow them: when those are stored, the
    mapping has moved past the bad ones.
    """
    truth = GroundTruth()
    readings = make_readings(count, seed)
    entries: list[tuple[str, bytes, str]] = []
    positions = {
        int(count * (0.1 + 0.4 * index / len(catalog.KINDS))): kind for index, kind in enumerate(catalog.KINDS)
    }
    bad_ids = {}
    for index, reading in enumerate(readings):
        if index in positions:
            kind = positions[index]
            bad_id = f"bad-{len(bad_ids) + 1:02d}"
            bad_ids[bad_id] = kind
            entries.append((bad_id, kind.data(bad_id, reading["sensor"]), reading["sensor"]))
        truth.readings[reading["reading_id"]] = reading
        entries.append((reading["reading_id"], json.dumps(reading).encode(), reading["sensor"]))
    producer = Producer(stream_name, truth, lost_answer_rate, seed=seed + 4)
    producer.send(entries)
    # Later, another device reuses an id that is already stored, with other content.
    original = readings[count // 20]  # before every bad record: nothing can delay it past the clash
    clash = catalog.conflicting(original)
    producer.send([("conflict", json.dumps(clash).encode(), clash["sensor"])])
    for bad_id, kind in bad_ids.items():
        truth.bad.append(
            {
                "kind": kind.name,
                "fate": kind.fate,
                "reading_id": bad_id,
                "sequenceNumbers": truth.sequence_numbers[bad_id],
            }
        )
    truth.bad.append(
        {
            "kind": catalog.CONFLICT.name,
            "fate": catalog.CONFLICT.fate,
            "reading_id": original["reading_id"],
            "sequenceNumbers": truth.sequence_numbers["conflict"],
            "content": clash,
        }
    )
    for bad_id in [*bad_ids, "conflict"]:
        truth.copies.pop(bad_id)
    return truth
