"""The proof of the fault run, computed from the producer's ground truth, never from what the handler says.

It reads what the handler does not control: the table (a scan), the counter table (a scan), the OnFailure queue
(what the mapping gave up), and the stream (what was put where). It computes what the table must hold with its own
°F conversion, and what each sensor's count must be from the readings the producer meant to store.
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
        and int(f["KinesisBatchInfo"]["startSequenceNumber"])
        <= int(sequence_number)
        <= int(f["KinesisBatchInfo"]["endSequenceNumber"])
        for f in failures
    )


def in_outage(reading_id: str, outage: tuple[str, str] | None) -> bool:
    """Whether the outage (first, last reading id, both included, as the fault wrapper compares them) hits it."""
    return bool(outage) and outage[0] <= reading_id <= outage[1]


def outage_records(truth: GroundTruth, outage: tuple[str, str] | None) -> list[tuple[str, str]]:
    """(sequence number, shard) of every record (copies included) of a reading the outage hits."""
    return [
        (number, truth.shard_of[number])
        for rid, numbers in truth.sequence_numbers.items()
        if rid in truth.readings and in_outage(rid, outage)
        for number in numbers
    ]


def counts_per_sensor(truth: GroundTruth) -> Counter:
    """What each sensor's count must be: the valid readings the producer meant to store, once each."""
    return Counter(reading["sensor"] for reading in truth.readings.values())


def counted(counter_items: list[dict]) -> dict[str, int]:
    """{sensor: count} of a scan of the counter table (pk = the sensor, number attribute ``readings``)."""
    return {item["pk"]["S"]: int(item["readings"]["N"]) for item in counter_items if "readings" in item}


def prove(
    truth: GroundTruth,
    items: list[dict],
    failures: list[dict],
    delivered: set[str],
    counter_items: list[dict] | None = None,
    outage: tuple[str, str] | None = None,
) -> dict:
    """The figures of the proof table. ``items``: the table's scan; ``delivered``: sequence numbers the mapping
    invoked the function with (the INVOKE lines); ``counter_items``: the counter table's scan (None: no counter);
    ``outage``: the span of reading ids the table refused on every delivery."""
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
    past = {
        shard: str(last) in delivered and all(int(n) < last for n, s in poison if s == shard)
        for shard, last in last_by_shard.items()
    }
    hit = {rid for rid in truth.readings if in_outage(rid, outage)}
    hit_given_up = {
        rid
        for rid in hit
        for number in truth.sequence_numbers[rid]
        if in_ranges(number, truth.shard_of[number], failures)
    }
    figures = {}
    if counter_items is not None:
        figures["per-sensor counters equal"] = counted(counter_items) == dict(counts_per_sensor(truth))
        figures["_counted"] = counted(counter_items)
    if outage:
        figures["readings the outage hit"] = len(hit)
        figures["of them given up"] = len(hit_given_up)
        figures["of them stored"] = len(hit & set(stored))
    return figures | {
        "readings meant to be stored": len(expected),
        "items stored": len(stored),
        "lost": len(lost),
        "duplicated or changed": len(extra) + len(changed),
        "per-sensor counts equal": dict(counts_stored) == dict(counts_expected),
        "per-sensor totals equal": dict(totals_stored) == dict(totals_expected),
        "poison records sent": len(poison),
        "poison records in the OnFailure queue": len(poison) - len(unaccounted),
        "each shard past its poison records": all(past.values()),
        "_lost": lost,
        "_extra": extra,
        "_changed": changed,
        "_unaccounted": unaccounted,
    }


def run_table(
    truth: GroundTruth,
    faults: Counter,
    proof: dict,
    failures: list[dict],
    replayed: dict[str, str],
    outage: tuple[str, str] | None = None,
) -> str:
    """The fault run in one table: what was sent, what went wrong on purpose, what the tables hold."""
    given_up = records_given_up(truth, failures, outage)
    rows = [
        ("records sent", truth.records_sent),
        ("  duplicates sent by the producer's retries", truth.duplicates_sent),
        ("  bad records (catalog), of which poison", f"{len(truth.bad)}, {len(truth.poison())}"),
        (
            "faults injected (error, throttle, crash, timeout)",
            f"{sum(faults.values())} ({faults['error']}, {faults['throttle']}, {faults['crash']}, {faults['timeout']})",
        ),
        ("writes the outage refused (on every delivery)", faults["outage"]),
        (
            "readings the outage hit, given up to the queue",
            f"{proof['of them given up']} of {proof['readings the outage hit']}",
        ),
        ("on-failure records in the queue", len(failures)),
        ("  records in their ranges", given_up["records given up"]),
        ("  of which in ranges of a poison record", given_up["  in ranges of a poison record"]),
        ("  of which in ranges of the outage", given_up["  in ranges of the outage"]),
        ("records re-read by the replay", len(replayed)),
        ("  of which stored by the replay", sum(1 for v in replayed.values() if v == "stored")),
        ("readings meant to be stored", proof["readings meant to be stored"]),
        ("items stored", proof["items stored"]),
        ("lost", proof["lost"]),
        ("duplicated or changed", proof["duplicated or changed"]),
        ("per-sensor counts and totals equal", proof["per-sensor counts equal"] and proof["per-sensor totals equal"]),
        ("per-sensor counters equal the readings per sensor", proof["per-sensor counters equal"]),
        (
            "poison records accounted for in the OnFailure queue",
            f"{proof['poison records in the OnFailure queue']} of {proof['poison records sent']}",
        ),
        ("each shard's position past its poison records", proof["each shard past its poison records"]),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def verdict(proof: dict) -> str:
    """The lines of the proof that must read the same on every run."""
    counters = (
        ["per-sensor counters equal the readings per sensor: " + str(proof["per-sensor counters equal"])]
        if "per-sensor counters equal" in proof
        else ["per-sensor counters: none kept"]
    )
    outage = (
        [
            f"readings the outage hit: {proof['readings the outage hit']}; given up: "
            f"{proof['of them given up']}; stored: {proof['of them stored']}"
        ]
        if "readings the outage hit" in proof
        else []
    )
    return "\n".join(
        [
            *outage,
            *counters,
            f"readings meant to be stored: {proof['readings meant to be stored']:,}; items stored: {proof['items stored']:,}",
            f"lost: {proof['lost']}; duplicated or changed: {proof['duplicated or changed']}",
            f"per-sensor counts equal: {proof['per-sensor counts equal']}; totals equal: {proof['per-sensor totals equal']}",
            f"poison records in the OnFailure queue's ranges: {proof['poison records in the OnFailure queue']} of "
            f"{proof['poison records sent']}",
            f"each shard's position past its poison records: {proof['each shard past its poison records']}",
        ]
    )


def same_items(items: list[dict], other: list[dict]) -> bool:
    """Whether two tables of readings hold the same readings with the same values (all attributes)."""
    return sorted(map(_plain, items), key=str) == sorted(map(_plain, other), key=str)


def _plain(item: dict) -> dict:
    return {key: next(iter(value.values())) for key, value in item.items()}


def records_given_up(truth: GroundTruth, failures: list[dict], outage: tuple[str, str] | None = None) -> dict:
    """The records inside the OnFailure queue's ranges, all and by cause: a range that holds a poison record, a range
    that holds a reading the outage hit (both, in a range that holds both)."""
    ranges = [[failure] for failure in failures]
    poison = [(number, truth.shard_of[number]) for record in truth.poison() for number in record["sequenceNumbers"]]
    hit = outage_records(truth, outage)

    def covered(single, records):
        return any(in_ranges(number, shard, single) for number, shard in records)

    def inside(chosen):
        return [n for n, shard in truth.shard_of.items() if any(in_ranges(n, shard, r) for r in chosen)]

    return {
        "records given up": len(inside(ranges)),
        "  in ranges of a poison record": len(inside([r for r in ranges if covered(r, poison)])),
        "  in ranges of the outage": len(inside([r for r in ranges if covered(r, hit)])),
    }


def cost_of_giving_up(
    truth: GroundTruth, failures: list[dict], items: list[dict], outage: tuple[str, str] | None = None
) -> dict:
    """What the mapping's giving up cost, from the ground truth and a scan of the table taken before the replay:
    the records in the OnFailure queue's ranges (by cause), the valid readings among them, and how many of those
    readings the table did not hold yet (they wait for the replay)."""
    reading_of = {
        number: rid for rid, numbers in truth.sequence_numbers.items() if rid in truth.readings for number in numbers
    }
    in_a_range = [number for number, shard in truth.shard_of.items() if in_ranges(number, shard, failures)]
    stored = {item["pk"]["S"] for item in items}
    readings = {reading_of[number] for number in in_a_range if number in reading_of}
    poison = {number for record in truth.poison() for number in record["sequenceNumbers"]}
    hit = {number for number, _ in outage_records(truth, outage)}
    return {
        "poison records": len(poison & set(in_a_range)),
        "records of readings the outage hit": len(hit & set(in_a_range)),
        **records_given_up(truth, failures, outage),
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
