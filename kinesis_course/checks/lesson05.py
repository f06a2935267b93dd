"""Checks of lesson 05 · Batch size and batching window.

The batches given to ``batch_stats`` are made up here, at random, in the shape kinesis_course.batches reads
from the logs; the settings asked of ``choose_settings`` cover the limits of both parameters.
"""

from __future__ import annotations

import math
import random
import statistics

from . import call_exercise, expect, expect_equal, expect_raises, passed

STATS_KEYS = {"invocations", "records", "mean_size", "max_size", "p50_latency_s", "max_latency_s"}
TOLERANCE = 1e-6


def _synthetic_batches(rng: random.Random, count: int) -> list[dict]:
    """Batches as a handler logs them, in the order the log returned them (not necessarily by time)."""
    moment = 1_700_000_000 + rng.uniform(0, 10**8)
    batches = []
    for _ in range(count):
        moment += rng.uniform(0.5, 4)
        size = rng.randint(1, 100)
        first = moment - rng.uniform(0.05, 8)
        last = rng.uniform(first, moment)  # the newest record waited less than the oldest
        batches.append({"size": size, "first_arrival": first, "last_arrival": last, "invoked_at": moment,
                        "shardId": "shardId-000000000000"})
    rng.shuffle(batches)
    return batches


def _expected_stats(batches: list[dict]) -> dict:
    sizes = [batch["size"] for batch in batches]
    latencies = [batch["invoked_at"] - batch["first_arrival"] for batch in batches]
    return {
        "invocations": len(batches), "records": sum(sizes), "mean_size": sum(sizes) / len(sizes),
        "max_size": max(sizes), "p50_latency_s": statistics.median(latencies), "max_latency_s": max(latencies),
    }


def _close(got, expected) -> bool:
    return isinstance(got, (int, float)) and not isinstance(got, bool) and abs(got - expected) <= TOLERANCE


HINTS = {
    "invocations": "One invocation per batch: the number of batches.",
    "records": "The sum of the batches' sizes.",
    "mean_size": "records / invocations.",
    "max_size": "The largest size.",
    "p50_latency_s": "A batch's latency is invoked_at - first_arrival (how long its oldest record waited). p50 is "
    "the median: statistics.median, which averages the two middle values when the count is even.",
    "max_latency_s": "The largest invoked_at - first_arrival.",
}


def check_batch_stats(batch_stats) -> None:
    label = "Exercise 05.1"
    rng = random.Random()
    # An odd and an even count (the median differs), and a single batch.
    counts = [rng.randrange(5, 30, 2), rng.randrange(6, 30, 2), 1]
    for count in counts:
        batches = _synthetic_batches(rng, count)
        got = call_exercise(label, batch_stats, [dict(batch) for batch in batches])
        expect(
            f"{label}, the keys for {count} batches", isinstance(got, dict) and set(got) == STATS_KEYS,
            expected=sorted(STATS_KEYS), got=sorted(got) if isinstance(got, dict) else got,
            hint="Return a dict with exactly these keys.",
        )
        expected = _expected_stats(batches)
        for key in sorted(STATS_KEYS):
            expect(
                f"{label}, {key} of {count} batches", _close(got[key], expected[key]), expected=expected[key],
                got=got[key], hint=HINTS[key],
            )
    expect_raises(
        f"{label}, no batches at all", ValueError, batch_stats, [],
        hint="With no batches nothing was measured: raise ValueError rather than return made-up zeros.",
    )
    passed(label, "an odd and an even number of batches, a single batch, and a ValueError for none")


def _expected_settings(records_per_second: float, max_latency_s: float) -> tuple[int, set[int]]:
    """The window, and the BatchSize values accepted for it.

    rate x window can land a hair above a whole number in floating point (0.3 * 10 = 3.0000000000000004);
    rounding up gives 4 from the float and 3 from the exact product, and both are accepted.
    """
    window = min(300, math.floor(max_latency_s))
    product = records_per_second * max(window, 1)
    sizes = {min(10_000, max(1, math.ceil(value))) for value in (product, round(product, 9))}
    return window, sizes


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_choose_settings(choose_settings) -> None:
    label = "Exercise 05.2"
    rng = random.Random()
    cases = [
        ("a quiet stream, a relaxed budget", round(rng.uniform(0.2, 3), 2), rng.randint(5, 20)),
        ("a budget with a fraction", round(rng.uniform(5, 50), 1), rng.randint(2, 9) + 0.5),
        ("a budget under one second", round(rng.uniform(20, 400), 1), round(rng.uniform(0.1, 0.9), 2)),
        ("a budget over the window's maximum", round(rng.uniform(0.5, 5), 2), rng.randint(301, 3600)),
        ("a busy stream", round(rng.uniform(2_000, 20_000)), rng.randint(5, 60)),
        ("almost no traffic", round(rng.uniform(0.001, 0.05), 3), rng.randint(2, 10)),
    ]
    for what, rate, budget in cases:
        got = call_exercise(label, choose_settings, rate, budget)
        expected_window, expected_sizes = _expected_settings(rate, budget)
        where = f"{label}, {what}: choose_settings({rate}, {budget})"
        expect(
            f"{where}, the shape", isinstance(got, dict)
            and set(got) == {"BatchSize", "MaximumBatchingWindowInSeconds"}
            and all(_is_int(value) for value in got.values()),
            expected="{'BatchSize': int, 'MaximumBatchingWindowInSeconds': int}", got=got,
            hint="Return both parameters, under their AWS names, as whole numbers (the API takes integers).",
        )
        window, size = got["MaximumBatchingWindowInSeconds"], got["BatchSize"]
        expect(
            f"{where}, the ranges", 0 <= window <= 300 and 1 <= size <= 10_000,
            expected="0 <= window <= 300 and 1 <= BatchSize <= 10000", got=got,
            hint="MaximumBatchingWindowInSeconds is 0 to 300; BatchSize is 1 to 10,000 for Kinesis.",
        )
        expect_equal(
            f"{where}, the window", window, expected_window,
            hint="The longest whole number of seconds that stays within the budget (round down, never up), at most "
            "300: the longer the window, the fewer the invocations.",
        )
        expect(
            f"{where}, BatchSize", size in expected_sizes, expected=min(expected_sizes), got=size,
            hint="Just enough records that the window, not the count, ends a batch at this rate: rate x window "
            "rounded up (with window 0, rate x 1 s, about one poll), at least 1 and at most 10,000.",
        )
    passed(label, f"{len(cases)} traffic patterns, from almost none to a busy stream")
