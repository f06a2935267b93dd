"""The proof of the fault run, computed from the producer's ground truth, never from what the handler says.

It reads three things the handler does not control: the table (a scan), the OnFailure queue (what the mapping
gave up), and the stream (what was put where). It computes what the table must hold with its own °F conversion.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

from .producer import GroundTruth


def fahrenheit(reading: dict) -> Decimal:
    value = Decimal(str(reading["temperature"]))
    if reading["unit"] == "C":
        value = value * 9 / 5 + 32
    return value.quantize(Decimal("0.01"))


def in_ranges(sequence_number: str, shard_id: str, failures: list[dict]) -> bool:
    """Whether an on-failure record's range covers this record."""
    return any(
        f["KinesisBatchInfo"]["shardId"] == shard_id
        and int(f["KinesisBatchInfo"]["startSequenceNumber"]) <= int(sequence_number) <= int(f["KinesisBatchInfo"]["endSequenceNumber"])
        for f in failures
    )


def prove(truth: GroundTruth, items: list[dict], failures: list[dict], delivered: set[str]) -> dict:
    """The figures of the proof table. ``items``: the table's scan; ``delivered``: sequence numbers the mapping
    invoked the function with (the INVOKE lines)."""
    expected = {rid: fahrenheit(reading) for rid, reading in truth.readings.items()}
    stored = {item["pk"]["S"]: Decimal(item["temperature"]["N"]) for item in items}
    sensors = {item["pk"]["S"]: item["sensor"]["S"] for item in items}
    lost = sorted(set(expected) - set(stored))
    extra = sorted(set(stored) - set(expected))
    changed = sorted(rid for rid in set(expected) & set(stored) if stored[rid] != expected[rid])
    totals_expected, totals_stored = defaultdict(Decimal), defaultdict(Decimal)
    counts_expected, counts_stored = Counter(), Counter()
    for rid, reading in truth.readings.items():
        totals_expected[reading["sensor"]] += expected[rid]
        counts_expected[reading["sensor"]] += 1
    for rid, value in stored.items():
        totals_stored[sensors[rid]] += value
        counts_stored[sensors[rid]] += 1

    poison = [(number, truth.shard_of[number]) for record in truth.poison() for number in record["sequenceNumbers"]]
    unaccounted = [number for number, shard in poison if not in_ranges(number, shard, failures)]
    # Past every poison record: the last record put on each shard was delivered after them.
    last_by_shard: dict[str, int] = {}
    for number, shard in truth.shard_of.items():
        last_by_shard[shard] = max(last_by_shard.get(shard, 0), int(number))
    past = {shard: str(last) in delivered and all(int(n) < last for n, s in poison if s == shard)
            for shard, last in last_by_shard.items()}
    return {
        "readings meant to be stored": len(expected),
        "items stored": len(stored),
        "lost": len(lost),
        "duplicated or changed": len(extra) + len(changed),
        "per-sensor counts equal": dict(counts_stored) == dict(counts_expected),
        "per-sensor totals equal": dict(totals_stored) == dict(totals_expected),
        "poison records sent": len(poison),
        "poison records in the OnFailure queue": len(poison) - len(unaccounted),
        "each shard past its poison records": all(past.values()),
        "_lost": lost, "_extra": extra, "_changed": changed, "_unaccounted": unaccounted,
    }


def run_table(truth: GroundTruth, faults: Counter, proof: dict, failures: list[dict], replayed: dict[str, str]) -> str:
    """The fault run in one table: what was sent, what went wrong on purpose, what the table holds."""
    rows = [
        ("records sent", truth.records_sent),
        ("  duplicates sent by the producer's retries", truth.duplicates_sent),
        ("  bad records (catalog), of which poison", f"{len(truth.bad)}, {len(truth.poison())}"),
        ("faults injected (error, throttle, crash, timeout)",
         f"{sum(faults.values())} ({faults['error']}, {faults['throttle']}, {faults['crash']}, {faults['timeout']})"),
        ("on-failure records in the queue", len(failures)),
        ("records re-read by the replay", len(replayed)),
        ("  of which stored by the replay", sum(1 for v in replayed.values() if v == "stored")),
        ("readings meant to be stored", proof["readings meant to be stored"]),
        ("items stored", proof["items stored"]),
        ("lost", proof["lost"]),
        ("duplicated or changed", proof["duplicated or changed"]),
        ("per-sensor counts and totals equal", proof["per-sensor counts equal"] and proof["per-sensor totals equal"]),
        ("poison records accounted for in the OnFailure queue",
         f"{proof['poison records in the OnFailure queue']} of {proof['poison records sent']}"),
        ("each shard's position past its poison records", proof["each shard past its poison records"]),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def verdict(proof: dict) -> str:
    """The lines of the proof that must read the same on every run."""
    return "\n".join([
        f"readings meant to be stored: {proof['readings meant to be stored']:,}; items stored: {proof['items stored']:,}",
        f"lost: {proof['lost']}; duplicated or changed: {proof['duplicated or changed']}",
        f"per-sensor counts equal: {proof['per-sensor counts equal']}; totals equal: {proof['per-sensor totals equal']}",
        f"poison records in the OnFailure queue's ranges: {proof['poison records in the OnFailure queue']} of "
        f"{proof['poison records sent']}",
        f"each shard's position past its poison records: {proof['each shard past its poison records']}",
    ])


def same_items(items: list[dict], other: list[dict]) -> bool:
    """Whether two tables of readings hold the same readings with the same values (all attributes)."""
    return sorted(map(_plain, items), key=str) == sorted(map(_plain, other), key=str)


def _plain(item: dict) -> dict:
    return {key: next(iter(value.values())) for key, value in item.items()}


def cost_of_giving_up(truth: GroundTruth, failures: list[dict], items: list[dict]) -> dict:
    """What the mapping's giving up cost, from the ground truth and a scan of the table taken before the replay:
    the records in the OnFailure queue's ranges, the valid readings among them, and how many of those readings the
    table did not hold yet (they wait for the replay)."""
    reading_of = {number: rid for rid, numbers in truth.sequence_numbers.items() if rid in truth.readings
                  for number in numbers}
    in_a_range = [number for number, shard in truth.shard_of.items() if in_ranges(number, shard, failures)]
    stored = {item["pk"]["S"] for item in items}
    readings = {reading_of[number] for number in in_a_range if number in reading_of}
    poison = {number for record in truth.poison() for number in record["sequenceNumbers"]}
    return {
        "poison records": len(poison & set(in_a_range)),
        "records given up": len(in_a_range),
        "valid readings among them": len(readings),
        "  not stored yet (they wait for the replay)": len(readings - stored),
    }


def cost_table(costs: dict[str, dict]) -> str:
    """``costs``: {handler: cost_of_giving_up(...)}, as one table with a column per handler."""
    labels = list(next(iter(costs.values())))
    width = max(map(len, labels))
    lines = [f"{'':<{width}}" + "".join(f"  {name:>12}" for name in costs)]
    lines += [f"{label:<{width}}" + "".join(f"  {cost[label]:>12,}" for cost in costs.values()) for label in labels]
    return "\n".join(lines)
