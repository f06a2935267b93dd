"""Checks of lesson 08 · Diagnosing a growing IteratorAge.

``diagnose`` is given summaries made up here, at random, in the shape kinesis_course.iterator_age.summarize
builds from what AWS gives too (CloudWatch's metrics, the mapping's BatchSize, the stream's shards, the handler's
log lines, the on-failure destination), never from the kit's position view. They carry the traps a first attempt
falls into (a poison record that raises no Errors, a long Duration that is only a big batch, a short one that is a
slow handler on small batches, a rising curve that is still low, a stream of one shard). ``fix`` is judged on the
mapping LocalStack stored, read back after each call. ``per_minute`` (Stretch 08.S) on made-up one-second points.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from ..endpoint import client
from ..mappings import wait_for_state
from . import ExerciseCheckFailed, call_checked, expect, fresh_random, passed
from .mapping import mapping_of, on_failure_destination, setting

CAUSES = ("keeping_up", "slow_handler", "batch_too_small", "poison_record", "hot_partition_key")

# The kit's heuristics, not AWS's: AWS documents no threshold for any of these signs. Each value and why.
KEEPING_UP_MS = 2_000
HOT_SHARE = 0.8
SLOW_MS_PER_RECORD = 100
HEURISTICS = {
    "KEEPING_UP_MS": (
        f"{KEEPING_UP_MS:,} ms",
        "Lambda polls a shard at a base rate of once a second (Lambda "
        'developer guide, "Using Lambda with Kinesis"): an age of about a second is normal, 2 s '
        "leaves room for one late poll. On AWS, alarm at what your use can bear.",
    ),
    "HOT_SHARE": (
        f"{HOT_SHARE:.0%}",
        "with many partition keys, each shard gets about its share of the records "
        "(half of them with 2 shards); 80 % of them on one shard of several is far from that.",
    ),
    "SLOW_MS_PER_RECORD": (
        f"{SLOW_MS_PER_RECORD} ms",
        "the course's handler needs tens of milliseconds per "
        "record on the kit's LocalStack (this lesson measures it), the slow API adds 250 ms: "
        "100 ms lies between. On AWS, compare with your handler's usual time per record.",
    ),
}


def print_heuristics() -> None:
    """The thresholds this lesson's diagnosis uses, each labelled as the kit's heuristic, with why that value."""
    print("The kit's heuristics (not AWS's: AWS documents no threshold for these signs):")
    for name, (value, why) in HEURISTICS.items():
        print(f"  {name} = {value}: {why}")


# ---- Exercise 08.1: diagnose ------------------------------------------------------------------------------------


def reference_diagnose(summary: dict) -> str:
    ages = summary["iterator_age_ms"]
    if not ages or max(ages[-3:]) < KEEPING_UP_MS:
        return "keeping_up"
    if summary["errors"] > 0 or summary["failed_lines"] > 0 or summary["failure_records"] > 0:
        return "poison_record"
    records = summary["records_by_shard"]
    total = sum(records.values())
    if len(records) > 1 and total and max(records.values()) >= HOT_SHARE * total:
        return "hot_partition_key"
    per_invocation = total / max(summary["invocations"], 1)
    if summary["duration_ms"] / max(per_invocation, 1) >= SLOW_MS_PER_RECORD:
        return "slow_handler"
    return "batch_too_small"


def _names(count: int) -> list[str]:
    return [f"shardId-{index:012d}" for index in range(count)]


def _spread(rng: random.Random, count: int, total: int) -> dict:
    """``total`` records over ``count`` shards, about evenly (never 70 % on one shard of several)."""
    weights = [rng.uniform(0.85, 1.15) for _ in range(count)]
    counts = [round(total * weight / sum(weights)) for weight in weights]
    return dict(zip(_names(count), counts))


def _even(rng: random.Random, count: int, total: int) -> dict:
    """Exactly ``total`` records over ``count`` shards, as evenly as they divide."""
    counts = [total // count] * count
    for index in rng.sample(range(count), total % count):
        counts[index] += 1
    return dict(zip(_names(count), counts))


def _on_one(rng: random.Random, count: int, total: int, index: int | None = None, share: float | None = None) -> dict:
    """``total`` records, ``share`` (85 to 100 %) of them on one shard, the rest on the others."""
    index = rng.randrange(count) if index is None else index
    hot = round(total * (share or rng.uniform(0.85, 1.0)))
    counts = [0] * count
    for _ in range(total - hot):
        counts[rng.choice([i for i in range(count) if i != index])] += 1
    counts[index] = hot
    return dict(zip(_names(count), counts))


def _rising(rng: random.Random, top: int, length: int | None = None) -> list[int]:
    length = length or rng.randint(4, 9)
    start = rng.randint(200, 900)
    return [round(start + (top - start) * step / (length - 1)) + rng.randint(-50, 50) for step in range(length)]


def _summary(
    ages, invocations, errors, duration_ms, records_by_shard, batch_size, failed_lines=0, failure_records=0
) -> dict:
    return {
        "iterator_age_ms": ages,
        "invocations": invocations,
        "errors": errors,
        "duration_ms": duration_ms,
        "batch_size": batch_size,
        "records_by_shard": records_by_shard,
        "failed_lines": failed_lines,
        "failure_records": failure_records,
    }


LATEST_NOT_LAST = (
    "Judge the latest IteratorAge by the HIGHEST of the last three points, max(iterator_age_ms[-3:]), "
    "not the last value alone, not the lowest, not an average: a shard waiting between retries "
    "publishes no IteratorAge, so the last points may show only a healthy shard's low age."
)
ONE_SHARD = (
    "A stream of one shard: that shard delivers every record, so '80 % on one shard' says nothing there. "
    "A hot key is one shard of SEVERAL holding the records while the others idle "
    "(len(records_by_shard) > 1)."
)
NO_FAILED_LINES = (
    "This handler logs no FAILED line: its given-up batches show as failure records on the on-failure "
    "destination (failure_records > 0). Read every sign of a failing record AWS gives: Errors, the "
    "handler's FAILED lines, the destination's failure records."
)


AT_KEEPING_UP = (
    f"At exactly {KEEPING_UP_MS:,} ms the mapping does not keep up: keeping up is an age UNDER "
    "KEEPING_UP_MS (<), not at it."
)
AT_SLOW = (
    f"At exactly {SLOW_MS_PER_RECORD} ms per record the handler is slow: SLOW_MS_PER_RECORD 'or more' (>=), "
    "not only above it."
)
AT_HOT = (
    f"Exactly {HOT_SHARE:.0%} of the records on one shard is a hot key: HOT_SHARE 'or more' (>=), not only above it."
)


def _cases(rng: random.Random) -> list[tuple[str, str, dict, str | None]]:
    """(what the case shows, the cause, the summary, the hint naming its trap or None), the traps included."""
    count = rng.choice([2, 3, 4])
    cases = []
    stuck = rng.randrange(count)
    # A poison record behind a partial batch response: no Errors, FAILED lines, its retries all on one shard.
    invocations = rng.randint(5, 20)
    cases.append(
        (
            "a shard retrying one batch, no Errors (partial batch response)",
            "poison_record",
            _summary(
                _rising(rng, rng.randint(4_000, 20_000)),
                invocations,
                0,
                round(rng.uniform(3, 30), 1),
                _on_one(rng, count, invocations * 60, stuck),
                100,
                failed_lines=rng.randint(2, 12),
            ),
            None,
        )
    )
    # A poison record that raises: Errors (a handler without a partial batch response logs no FAILED line).
    cases.append(
        (
            "Errors counted, no FAILED line",
            "poison_record",
            _summary(
                _rising(rng, rng.randint(4_000, 9_000)),
                rng.randint(5, 20),
                rng.randint(1, 4),
                12.0,
                _spread(rng, count, rng.randint(50, 300)),
                100,
            ),
            None,
        )
    )
    # A poison record given up by bounded retries, in a handler that logs nothing: the destination's records only.
    cases.append(
        (
            "failure records on the destination, no Errors, no FAILED line",
            "poison_record",
            _summary(
                _rising(rng, rng.randint(4_000, 9_000)),
                rng.randint(5, 20),
                0,
                round(rng.uniform(5, 40), 1),
                _on_one(rng, count, rng.randint(100, 300), stuck),
                100,
                failure_records=rng.randint(1, 3),
            ),
            NO_FAILED_LINES,
        )
    )
    # Keeping up: the curve rises a little but stays under the threshold.
    cases.append(
        (
            "a low age that rises a little",
            "keeping_up",
            _summary(
                sorted(rng.randint(100, KEEPING_UP_MS - 200) for _ in range(6)),
                rng.randint(10, 40),
                0,
                round(rng.uniform(100, 900), 1),
                _spread(rng, count, rng.randint(100, 400)),
                100,
            ),
            None,
        )
    )
    # A poison record that was dealt with (retried, sent to the destination): the age is low again.
    cases.append(
        (
            "a batch retried and given up, the age low again",
            "keeping_up",
            _summary(
                [rng.randint(300, 1_500) for _ in range(5)],
                20,
                rng.randint(0, 2),
                40.0,
                _on_one(rng, count, 300, stuck),
                100,
                failed_lines=3,
                failure_records=1,
            ),
            None,
        )
    )
    # Keeping up after a backlog: a high start, a low end.
    cases.append(
        (
            "a high age that fell",
            "keeping_up",
            _summary(
                [rng.randint(8_000, 12_000), rng.randint(3_000, 6_000)] + [rng.randint(200, 1_500) for _ in range(3)],
                30,
                0,
                400.0,
                _spread(rng, count, 600),
                100,
            ),
            None,
        )
    )
    # A hot partition key: one shard delivers nearly every record; the handler may look slow too.
    invocations = rng.randint(5, 30)
    cases.append(
        (
            "one shard delivering nearly every record",
            "hot_partition_key",
            _summary(
                _rising(rng, rng.randint(4_000, 12_000)),
                invocations,
                0,
                round(rng.uniform(400, 3_000), 1),
                _on_one(rng, count, invocations * rng.randint(5, 10)),
                100,
            ),
            None,
        )
    )
    # A slow handler on small batches: a short Duration that is long per record.
    per_invocation = rng.randint(2, 5)
    invocations = rng.randint(20, 60)
    cases.append(
        (
            "a short Duration over few records per invocation (BatchSize 100)",
            "slow_handler",
            _summary(
                _rising(rng, rng.randint(4_000, 12_000)),
                invocations,
                0,
                round(per_invocation * rng.uniform(120, 400), 1),
                _spread(rng, count, per_invocation * invocations),
                100,
            ),
            None,
        )
    )
    # A slow handler on full batches.
    invocations = rng.randint(5, 15)
    cases.append(
        (
            "full batches, long per record",
            "slow_handler",
            _summary(
                _rising(rng, rng.randint(4_000, 12_000)),
                invocations,
                0,
                round(100 * rng.uniform(150, 300), 1),
                _spread(rng, count, 100 * invocations),
                100,
            ),
            None,
        )
    )
    # A slow handler on a stream of one shard: every record on that shard, and no hot key.
    invocations = rng.randint(5, 15)
    size = rng.choice([5, 10])
    cases.append(
        (
            "a slow handler on a stream of one shard",
            "slow_handler",
            _summary(
                _rising(rng, rng.randint(4_000, 12_000)),
                invocations,
                0,
                round(size * rng.uniform(150, 400), 1),
                _spread(rng, 1, size * invocations),
                size,
            ),
            ONE_SHARD,
        )
    )
    # Batches too small: one record per invocation, a fast handler.
    invocations = rng.randint(100, 300)
    cases.append(
        (
            "one record per invocation, each fast",
            "batch_too_small",
            _summary(
                _rising(rng, rng.randint(4_000, 12_000)),
                invocations,
                0,
                round(rng.uniform(4, 60), 1),
                _spread(rng, count, invocations),
                1,
            ),
            None,
        )
    )
    # Batches too small, but a long Duration (big batches of a fast handler): per record it is fast.
    invocations = rng.randint(20, 60)
    size = rng.choice([5, 10])
    cases.append(
        (
            "a longish Duration over many records",
            "batch_too_small",
            _summary(
                _rising(rng, rng.randint(4_000, 12_000)),
                invocations,
                0,
                # 125 ms or more: over SLOW_MS_PER_RECORD as a whole, under it per record.
                round(size * rng.uniform(25, 60), 1),
                _spread(rng, count, size * invocations),
                size,
            ),
            None,
        )
    )
    # A poison record on a shard that publishes only when it retries: the last point shows the healthy shard.
    ages = _rising(rng, rng.randint(5_000, 9_000))
    cases.append(
        (
            "a stuck shard between its retries, the last point a healthy shard's",
            "poison_record",
            _summary(
                ages + [rng.randint(150, 400), ages[-1] + rng.randint(500, 1_500), rng.randint(150, 400)],
                rng.randint(10, 30),
                0,
                round(rng.uniform(5, 40), 1),
                _on_one(rng, count, rng.randint(100, 300), stuck),
                100,
                failed_lines=rng.randint(3, 12),
            ),
            LATEST_NOT_LAST,
        )
    )
    # The same, with the one high point first: its average and its last values are low.
    cases.append(
        (
            "one high point among the last three, the others low",
            "poison_record",
            _summary(
                [rng.randint(200, 600) for _ in range(3)]
                + [rng.randint(2_500, 4_000)]
                + [rng.randint(150, 500) for _ in range(2)],
                rng.randint(10, 30),
                0,
                round(rng.uniform(5, 40), 1),
                _on_one(rng, count, rng.randint(100, 300), stuck),
                100,
                failed_lines=rng.randint(2, 5),
            ),
            LATEST_NOT_LAST,
        )
    )
    # A poison record in a slow handler: long per record, and every record delivered on the stuck shard.
    invocations = rng.randint(5, 15)
    cases.append(
        (
            "a slow handler stuck on a poison record",
            "poison_record",
            _summary(
                _rising(rng, rng.randint(5_000, 15_000)),
                invocations,
                0,
                round(5 * rng.uniform(150, 400), 1),
                _on_one(rng, count, 5 * invocations, stuck, share=1.0),
                5,
                failed_lines=invocations,
            ),
            None,
        )
    )
    # A hot key on a slow handler: long per record too, but one shard delivers the records.
    invocations = rng.randint(4, 12)
    cases.append(
        (
            "a hot key on a slow handler",
            "hot_partition_key",
            _summary(
                _rising(rng, rng.randint(4_000, 9_000)),
                invocations,
                0,
                round(5 * rng.uniform(150, 400), 1),
                _on_one(rng, count, 5 * invocations, share=1.0),
                5,
            ),
            None,
        )
    )
    # The spec's boundaries: each threshold reached exactly ("under" keeps up; "or more" is slow, is hot).
    invocations = rng.randint(10, 30)
    cases.append(
        (
            "IteratorAge exactly at KEEPING_UP_MS",
            "slow_handler",
            _summary(
                [KEEPING_UP_MS] * rng.randint(4, 8),
                invocations,
                0,
                round(5 * rng.uniform(150, 400), 1),
                _spread(rng, count, 5 * invocations),
                5,
            ),
            AT_KEEPING_UP,
        )
    )
    per_invocation = rng.randint(2, 5)
    cases.append(
        (
            "exactly SLOW_MS_PER_RECORD per record",
            "slow_handler",
            _summary(
                _rising(rng, rng.randint(4_000, 9_000)),
                invocations,
                0,
                float(SLOW_MS_PER_RECORD * per_invocation),
                _even(rng, count, per_invocation * invocations),
                5,
            ),
            AT_SLOW,
        )
    )
    share = [8, 2] if count == 2 else [8, 1, 1] if count == 3 else [8, 1, 1, 0]
    scale = rng.choice([1, 2, 5, 10])
    cases.append(
        (
            "one shard delivering exactly HOT_SHARE of the records",
            "hot_partition_key",
            _summary(
                _rising(rng, rng.randint(4_000, 9_000)),
                rng.randint(5, 20),
                0,
                round(rng.uniform(400, 2_000), 1),
                dict(zip(_names(count), [part * scale for part in share])),
                5,
            ),
            AT_HOT,
        )
    )
    rng.shuffle(cases)
    return cases


DIAGNOSIS_HINTS = {
    "poison_record": "Once the age is too high, look for a failing record first, in every sign AWS gives of one: "
    "Errors > 0 (the handler raised), FAILED lines in the handler's log (it reported the record in a partial batch "
    "response, which is a successful invocation: 0 Errors), failure records on the on-failure destination (retries "
    "given up). A failing record comes before the other signs: it holds its shard, so that shard may deliver most "
    "of the records, again and again (as for a hot key), and its batches look long (as for a slow handler).",
    "keeping_up": f"Judge the latest IteratorAge, the highest of the last three points, max(iterator_age_ms[-3:]), "
    f"not the whole curve nor its average: under {KEEPING_UP_MS:,} ms (the kit's heuristic) the mapping keeps "
    "up (an idle shard is polled about once a second), however the curve got there, and whatever else the "
    "summary shows: a retried batch that is over does not hold the shard any more.",
    "hot_partition_key": f"When one shard of several delivered {HOT_SHARE:.0%} (the kit's heuristic) or more of the "
    "records (records_by_shard, from the handler's BATCH lines), one partition key (or a few) sends more than a shard's batches can take "
    "while the other shards idle. That comes before the time per record: a hot key on a slow handler is still a "
    "hot key, and no mapping setting fixes it.",
    "slow_handler": f"Compare the time per record: duration_ms / (records delivered / invocations), the records "
    f"delivered being the sum of records_by_shard. {SLOW_MS_PER_RECORD} ms (the kit's heuristic) or more per record "
    "is the handler's own work; a short Duration can still be slow per record. batch_size is the most a batch holds, not what "
    "each invocation got.",
    "batch_too_small": f"Under {SLOW_MS_PER_RECORD} ms per record (duration_ms / (records delivered / invocations)) "
    "the handler is fast: the time goes to one invocation per few records, so the batches are too small. A long "
    "Duration over a big batch is not a slow handler.",
}


def _hint(cause: str, got: str, trap: str | None) -> str:
    """The case's own trap first; a mapping called keeping up while its latest age is high is about the age."""
    if got == "keeping_up" and trap is not AT_KEEPING_UP:
        trap = LATEST_NOT_LAST
    return (f"{trap}\n" if trap else "") + DIAGNOSIS_HINTS[cause]


def check_diagnose(diagnose, observed: list[tuple[str, dict]] = ()) -> None:
    """``observed``: (the cause the lesson set up, the summary it measured), judged like the made-up ones."""
    label = "Exercise 08.1"
    rng = fresh_random(label)
    cases = _cases(rng) + [(f"the lesson's own run ({cause})", cause, summary, None) for cause, summary in observed]
    for description, cause, summary, trap in cases:
        got = call_checked(
            label,
            diagnose,
            summary,
            shown_args="summary",
            hint="diagnose must read only the summary's keys shown above (what AWS gives: the kit's "
            "position view, such as 'behind' or 'max_attempt', is not in it) and return one of "
            f"{', '.join(CAUSES)}.",
        )
        expect(
            f"{label}, {description}",
            got in CAUSES,
            expected=f"one of {CAUSES}",
            got=got,
            hint="Return one of the five names, spelt as in CAUSES.",
        )
        expect(
            f"{label}, {description}",
            got == cause,
            expected=cause,
            got=got,
            hint=_hint(cause, got, trap) + f"\nThe summary was: {summary}",
        )
    passed(label, f"{len(cases)} summaries diagnosed, {len(observed)} of them measured in this lesson")


# ---- Exercise 08.2: fix ------------------------------------------------------------------------------------------

BASELINE = {
    "BatchSize": 100,
    "ParallelizationFactor": 1,
    "MaximumBatchingWindowInSeconds": 0,
    "MaximumRetryAttempts": -1,
    "MaximumRecordAgeInSeconds": -1,
    "BisectBatchOnFunctionError": False,
    "FunctionResponseTypes": ["ReportBatchItemFailures"],
}
MAX_RETRIES = 3


def _baseline(cause: str) -> dict:
    return dict(BASELINE, BatchSize=1) if cause == "batch_too_small" else dict(BASELINE)


def _settings(mapping: dict) -> dict:
    return {key: setting(mapping, key) for key in BASELINE}


def judge_fix(label: str, cause: str, before: dict, mapping: dict | None, queue_arn: str | None = None) -> None:
    """Raises ExerciseCheckFailed unless ``mapping`` (read back after the fix; None: no call made) fixes ``cause``.

    ``queue_arn``: the queue the poison's failure records must go to (None: any destination)."""
    got = _settings(mapping) if mapping else None
    changed = {key: value for key, value in (got or {}).items() if value != before[key]}
    destination = on_failure_destination(mapping) if mapping else None

    def fail(expected, hint):
        raise ExerciseCheckFailed(
            f"{label} ({cause}): expected {expected}; the mapping holds {got or before}.\nHint: {hint}"
        )

    if cause in ("keeping_up", "hot_partition_key"):
        if changed or destination:
            if cause == "keeping_up":
                fail(
                    "no update (return None)",
                    "The mapping keeps up: nothing to fix, and every change has a cost "
                    f"(you changed {sorted(changed) or ['DestinationConfig']}).",
                )
            fail(
                "no update of the mapping (return None): the fix is the producer's partition keys",
                (
                    "Records of one partition key stay in order: the mapping delivers them one batch at a time, on one "
                    "shard (and one ParallelizationFactor lane), so neither ParallelizationFactor nor BatchSize nor "
                    f"retries spread a hot key (you changed {sorted(changed) or ['DestinationConfig']}). Spread the "
                    "key in the producer (e.g. sensor id plus a suffix) and leave the mapping as it is."
                ),
            )
        return
    if got is None:
        fail(
            "an update_event_source_mapping call, its response returned",
            "Only a hot key or a mapping that keeps up needs no update.",
        )
    if got["FunctionResponseTypes"] != ["ReportBatchItemFailures"]:
        fail(
            "FunctionResponseTypes kept as ['ReportBatchItemFailures']",
            "Without it Lambda ignores the "
            "handler's partial batch response: a record the handler reports as failed would count as processed, "
            "and be lost. Change only what the cause needs.",
        )
    if cause == "slow_handler":
        if got["BatchSize"] < before["BatchSize"]:
            fail(
                f"BatchSize kept at {before['BatchSize']} or more",
                f"BatchSize {got['BatchSize']} gives each "
                "invocation fewer records: a slow handler is no faster per record, and each record then pays more "
                "of an invocation's own cost. Keep the batches; add ParallelizationFactor.",
            )
        if got["ParallelizationFactor"] < 2:
            hint = (
                "A bigger batch of a slow handler takes longer, record for record: it moves no more records a second. "
                if got["BatchSize"] > before["BatchSize"]
                else ""
            )
            fail(
                "ParallelizationFactor of 2 to 10",
                hint + "A slow handler needs more batches of each shard at "
                "once: ParallelizationFactor (up to 10) runs that many, records of a partition key still in order.",
            )
        if got["MaximumBatchingWindowInSeconds"] > before["MaximumBatchingWindowInSeconds"]:
            fail(
                "no batching window",
                "A batching window makes records wait longer before the function sees them: "
                "IteratorAge grows by the window.",
            )
    elif cause == "batch_too_small":
        if got["BatchSize"] < 100:
            hint = (
                "More lanes of 1-record batches still pay one invocation per record; "
                if got["ParallelizationFactor"] > 1
                else ""
            )
            fail(
                "BatchSize of at least 100",
                hint + f"BatchSize {got['BatchSize']} makes one invocation per "
                f"{got['BatchSize']} record(s): the invocations' own cost caps the shard. Raise BatchSize (e.g. "
                "100, AWS's default for Kinesis).",
            )
        if got["MaximumBatchingWindowInSeconds"] > 1:
            fail(
                "a batching window of at most 1 s",
                "Under a backlog the batches fill at once; a window only adds "
                f"waiting ({got['MaximumBatchingWindowInSeconds']} s more IteratorAge at quiet times).",
            )
    elif cause == "poison_record":
        if got["MaximumRetryAttempts"] == -1 or got["MaximumRetryAttempts"] > MAX_RETRIES:
            extra = ""
            if got["MaximumRecordAgeInSeconds"] != -1:
                extra = (
                    f" MaximumRecordAgeInSeconds {got['MaximumRecordAgeInSeconds']} still lets the poison hold "
                    "the shard that long, each time, and discards every record behind it that gets as old."
                )
            elif got["BisectBatchOnFunctionError"]:
                extra = " Bisection splits a batch that raised; it does not stop the retries of the last record."
            fail(
                f"MaximumRetryAttempts of 0 to {MAX_RETRIES}",
                "With -1 (the default) Lambda retries the "
                "failing record until it expires from the stream, and the shard waits." + extra,
            )
        if not destination:
            fail(
                "an OnFailure destination (the queue given)",
                "After the last retry Lambda drops the record: "
                "send its failure record to the queue (DestinationConfig={'OnFailure': {'Destination': arn}}) so "
                "that nothing is lost without a trace.",
            )
        if queue_arn and destination != queue_arn:
            fail(
                f"the OnFailure destination {queue_arn} (the queue_arn given)",
                f"The failure records would go to "
                f"{destination}, where nobody reads them: use the queue_arn your function is given.",
            )


def _reset(uuid: str, cause: str) -> dict:
    lam = client("lambda")
    wait_for_state(uuid, "Enabled")
    lam.update_event_source_mapping(UUID=uuid, **_baseline(cause))
    wait_for_state(uuid, "Enabled")
    return _settings(lam.get_event_source_mapping(UUID=uuid))


ORDER = ("keeping_up", "hot_partition_key", "batch_too_small", "slow_handler", "poison_record")


def check_fix(fix, uuid: str, queue_arn: str) -> None:
    """Sets the mapping ``uuid`` to each case's starting settings, calls ``fix``, and judges the mapping read back.

    The poison case comes last: it adds an on-failure destination, which an update cannot simply remove.
    """
    label = "Exercise 08.2"
    for cause in ORDER:
        before = _reset(uuid, cause)
        if on_failure_destination(client("lambda").get_event_source_mapping(UUID=uuid)):
            raise RuntimeError(f"mapping {uuid} already has an on-failure destination: run the cell creating it again")
        answer = call_checked(
            label,
            fix,
            uuid,
            cause,
            queue_arn,
            shown_args=f"uuid, {cause!r}, queue_arn",
            hint="update_event_source_mapping refused the call: pass UUID=uuid and values in range "
            "(ParallelizationFactor 1 to 10, BatchSize 1 to 10,000, MaximumRetryAttempts -1 to 10,000).",
        )
        if answer is None:
            mapping = client("lambda").get_event_source_mapping(UUID=uuid)
            judge_fix(label, cause, before, mapping if _settings(mapping) != before else None, queue_arn)
            continue
        mapping = mapping_of(label, answer)
        expect(
            f"{label} ({cause}), the mapping",
            mapping["UUID"] == uuid,
            expected=uuid,
            got=mapping["UUID"],
            hint="Update the mapping whose UUID you are given; do not create another one.",
        )
        wait_for_state(uuid, "Enabled")
        judge_fix(label, cause, before, client("lambda").get_event_source_mapping(UUID=uuid), queue_arn)
    passed(label, f"{len(ORDER)} cases, each judged on the mapping LocalStack stored")


def reference_fix(uuid: str, cause: str, queue_arn: str):
    lam = client("lambda")
    if cause == "slow_handler":
        return lam.update_event_source_mapping(UUID=uuid, ParallelizationFactor=4)
    if cause == "batch_too_small":
        return lam.update_event_source_mapping(UUID=uuid, BatchSize=100)
    if cause == "poison_record":
        return lam.update_event_source_mapping(
            UUID=uuid, MaximumRetryAttempts=2, DestinationConfig={"OnFailure": {"Destination": queue_arn}}
        )
    return None


# ---- Stretch 08.S: IteratorAge at AWS's one-minute resolution ---------------------------------------------------


def reference_per_minute(points: list) -> list:
    minutes: dict = {}
    for moment, value in points:
        minute = moment.replace(second=0, microsecond=0)
        minutes[minute] = max(value, minutes.get(minute, value))
    return sorted(minutes.items())


def _points(rng: random.Random) -> list:
    """One-second Maximum points over four minutes, oldest first as CloudWatch returns them: none in the third
    minute, one on the last second of the first minute and a high one on the first second of the second."""
    begin = datetime(2026, 1, rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 55), tzinfo=timezone.utc)
    seconds = (set(rng.sample(range(1, 240), rng.randint(15, 40))) - set(range(120, 180))) | {59, 60}
    return [
        (begin + timedelta(seconds=second), 9_500.0 if second == 60 else float(rng.randint(100, 9_000)))
        for second in sorted(seconds)
    ]


def _per_minute_by(points: list, minute_of, statistic) -> list:
    minutes: dict = {}
    for moment, value in points:
        minutes.setdefault(minute_of(moment), []).append(value)
    return sorted((minute, float(statistic(values))) for minute, values in minutes.items())


PER_MINUTE_HINTS = {
    "average": "Take the Maximum of each minute, not the average: the lesson reads IteratorAge's Maximum, the age of "
    "the oldest batch; an average of a minute hides a shard that is stuck.",
    "start": "A one-minute period starts on a whole minute (hh:mm:00): CloudWatch rounds the StartTime of "
    "get_metric_statistics down to the whole minute (CloudWatch API reference, GetMetricStatistics). Do not count "
    "periods from the first point.",
    "boundary": "A period includes its first second: a point at hh:mm:00 belongs to the minute it starts, not to "
    "the one before (moment.replace(second=0, microsecond=0)).",
    "empty": "A minute without points gets no data point: CloudWatch returns none for a period without samples, "
    "and a 0 there would read as 'keeping up'.",
    "order": "Return the points oldest first, as get_metric_statistics' points sorted by time.",
}


def check_per_minute(per_minute, observed: dict | None = None) -> None:
    """``observed``: {cause: [(moment, value), ...]} of the lesson's own runs, shown at one-minute resolution once the
    made-up points pass: what a one-minute metric keeps of each curve."""
    label = "Stretch 08.S"
    observed = observed or {}
    rng = fresh_random(label)
    for _ in range(8):
        points = _points(rng)
        expected = reference_per_minute(points)
        got = call_checked(
            label,
            per_minute,
            list(points),
            shown_args="points",
            hint="per_minute gets a list of (datetime, value) pairs and returns a list of "
            "(datetime of the minute's start, value) pairs.",
        )
        try:
            got = [(moment, float(value)) for moment, value in got]
        except (TypeError, ValueError):
            raise ExerciseCheckFailed(
                f"{label}: expected a list of (datetime, value) pairs, got {got!r}.\nHint: {PER_MINUTE_HINTS['order']}"
            ) from None
        if got == expected:
            continue
        whole = lambda moment: moment.replace(second=0, microsecond=0)  # noqa: E731
        before = lambda moment: whole(moment - timedelta(microseconds=1))  # noqa: E731
        if sorted(got) == expected:
            mistake = "order"
        elif got == _per_minute_by(points, before, max):
            mistake = "boundary"
        elif [moment for moment, _ in got] == [moment for moment, _ in expected]:
            mistake = "average"
        elif len(got) > len(expected) and {moment for moment, _ in expected} <= {moment for moment, _ in got}:
            mistake = "empty"
        elif any(moment.second or moment.microsecond for moment, _ in got):
            mistake = "start"
        else:
            mistake = "boundary"
        raise ExerciseCheckFailed(
            f"{label}: for the one-second points {[(m.strftime('%H:%M:%S'), v) for m, v in points]}"
            f"\nexpected {[(m.strftime('%H:%M'), v) for m, v in expected]},\n"
            f"got      {[(m.strftime('%H:%M:%S'), v) for m, v in got]}.\n"
            f"Hint: {PER_MINUTE_HINTS[mistake]}"
        )
    passed(label, "8 series of one-second points, each read as CloudWatch's one-minute Maximum")
    if observed:
        print("This lesson's curves as set up, read at one-minute resolution:")
    for cause, points in observed.items():
        minutes = per_minute(list(points))
        # A load of at most 30 s spans one or two whole minutes: the counts vary by run, what is left does not.
        count = "one or two points" if len(minutes) <= 2 else f"{len(minutes)} points"
        peak = (
            "their highest is the curve's peak"
            if max(value for _, value in minutes) == max(value for _, value in points)
            else "their highest is NOT the curve's peak"
        )
        print(f"  {cause}: {count}, {peak}; how it grew within the load is not in them")
