"""Checks of lesson 05 · Batch size and batching window.

The batches given to ``batch_stats`` are made up here, at random, in the shape kinesis_course.batches reads
from the logs; the streams given to ``choose_settings`` have several shards (so a stream-wide rate shows), and
cover the limits of both parameters and of a shard; ``configure_for_target`` is judged on the mapping LocalStack
stored, read back after the learner's call.
"""

from __future__ import annotations

import math
import random
import statistics
from fractions import Fraction

from ..endpoint import client
from ..mappings import wait_for_state
from . import ExerciseCheckFailed, call_checked, call_exercise, expect, expect_raises, fresh_random, passed
from .cases import property_cases, unchanged
from .mapping import calls_to, left_out, mapping_of, setting

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
        batches.append(
            {
                "size": size,
                "first_arrival": first,
                "last_arrival": last,
                "invoked_at": moment,
                "shardId": "shardId-000000000000",
            }
        )
    rng.shuffle(batches)
    return batches


def _expected_stats(batches: list[dict]) -> dict:
    sizes = [batch["size"] for batch in batches]
    latencies = [batch["invoked_at"] - batch["first_arrival"] for batch in batches]
    return {
        "invocations": len(batches),
        "records": sum(sizes),
        "mean_size": sum(sizes) / len(sizes),
        "max_size": max(sizes),
        "p50_latency_s": statistics.median(latencies),
        "max_latency_s": max(latencies),
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
    "max_latency_s": "The largest latency, invoked_at - first_arrival: a batch's oldest record (first_arrival, not "
    "last_arrival) is the one that waited longest. The batches come in no particular order.",
}


STATS_MUTATION_HINT = (
    "batch_stats changed the batches it was given (sorted the list, or added or removed keys of a batch). The caller "
    "plots and prints those same batches after your function: work on a sorted copy (sorted(...)) and keep the "
    "latencies in a list of your own."
)


def _rounded_to(got, expected) -> int | None:
    """The number of decimals ``got`` is ``expected`` rounded to, if it is that (and not simply equal)."""
    if not isinstance(got, (int, float)) or isinstance(got, bool) or _close(got, expected):
        return None
    return next((digits for digits in range(4, -1, -1) if _close(got, round(expected, digits))), None)


def _judge_stats(label: str, batch_stats, batches: list[dict]) -> None:
    count = len(batches)
    given = [dict(batch) for batch in batches]
    got = unchanged(label, batch_stats, given, hint=STATS_MUTATION_HINT)
    expect(
        f"{label}, the keys for {count} batches",
        isinstance(got, dict) and set(got) == STATS_KEYS,
        expected=sorted(STATS_KEYS),
        got=sorted(got) if isinstance(got, dict) else got,
        hint="Return a dict with exactly these keys.",
    )
    expected = _expected_stats(batches)
    for key in sorted(STATS_KEYS):
        digits = _rounded_to(got[key], expected[key])
        hint = (
            HINTS[key]
            if digits is None
            else (
                f"{key} is rounded to {digits} decimal{'s' if digits != 1 else ''}: do not round the statistics. They are "
                "compared (and plotted) as measured, to a millionth; round only where you print them (f'{value:.3f}')."
            )
        )
        expect(
            f"{label}, {key} of {count} batches",
            _close(got[key], expected[key]),
            expected=expected[key],
            got=got[key],
            hint=hint,
        )


def _batches_of(spec: tuple[list[int], list[float], list[float]]) -> list[dict]:
    """Batches from (sizes, waits of the oldest record, gaps between invocations)."""
    sizes, waits, gaps = spec
    moment, batches = 1_700_000_000.0, []
    for size, wait, gap in zip(sizes, waits, gaps, strict=False):
        moment += gap
        batches.append(
            {
                "size": size,
                "first_arrival": moment - wait,
                "last_arrival": moment - wait / 3,
                "invoked_at": moment,
                "shardId": "shardId-000000000000",
            }
        )
    return batches[::-1]  # newest first: not in the order they were invoked


def _batch_lists():
    """(sizes, waits, gaps) of 1 to 12 batches, as Hypothesis draws them."""
    from hypothesis import strategies as st

    return st.integers(1, 12).flatmap(
        lambda count: st.tuples(
            st.lists(st.integers(1, 10_000), min_size=count, max_size=count),
            st.lists(st.floats(0.0005, 300, allow_nan=False), min_size=count, max_size=count),
            st.lists(st.floats(0.2, 60, allow_nan=False), min_size=count, max_size=count),
        )
    )


BATCH_EDGES = [
    ([7], [1.23456], [1.0]),  # a single batch
    ([1, 2], [0.5004, 2.2506], [1.0, 1.0]),  # the smallest even count: the median averages
    ([1, 1, 2], [0.0004, 0.0016, 0.0021], [1.0, 1.0, 1.0]),  # sub-millisecond latencies, a mean of 1.333...
    ([10_000, 10_000], [3.0, 3.0], [5.0, 5.0]),  # the largest batches, equal latencies
]


def check_batch_stats(batch_stats) -> None:
    label = "Exercise 05.1"
    rng = fresh_random(label)
    # An odd and an even count (the median differs), and a single batch.
    counts = [rng.randrange(5, 30, 2), rng.randrange(6, 30, 2), 1]
    for count in counts:
        _judge_stats(label, batch_stats, _synthetic_batches(rng, count))
    property_cases(
        f"{label}, batches drawn from the statement",
        _batch_lists(),
        lambda spec: _judge_stats(label, batch_stats, _batches_of(spec)),
        examples=BATCH_EDGES,
        max_examples=40,
    )
    expect_raises(
        f"{label}, no batches at all",
        ValueError,
        batch_stats,
        [],
        hint="With no batches nothing was measured: raise ValueError rather than return made-up zeros.",
    )
    passed(label, "an odd and an even number of batches, a single batch, and a ValueError for none")


SHARD_RECORDS_PER_SECOND = 1_000  # what one shard accepts (Kinesis developer guide, "Quotas and limits")
MAX_BATCH_SIZE = 10_000
MAX_WINDOW_S = 300


def _exact_rate(records_per_second: float, shards: int) -> Fraction:
    """The shard's rate exactly, reading the stream's rate as the decimal it is written as (0.3, not 0.2999...)."""
    return Fraction(repr(records_per_second)) / shards


def _per_shard_settings(records_per_second: float, shards: int, max_latency_s: float) -> tuple[int, set[int]]:
    """The window, and the BatchSize values accepted for it, for ``records_per_second`` spread over ``shards``.

    BatchSize is the exact product rate x window rounded up: in floating point 0.3 * 10 is 3.0000000000000004,
    which math.ceil makes 4. Rounding the float product to 9 decimals first gives the exact answer too.
    """
    window = min(MAX_WINDOW_S, math.floor(max_latency_s))
    exact = _exact_rate(records_per_second, shards) * max(window, 1)
    product = records_per_second / shards * max(window, 1)
    sizes = {min(MAX_BATCH_SIZE, max(1, math.ceil(value))) for value in (exact, round(product, 9))}
    return window, sizes


def _float_error_cases(rng: random.Random, wanted: int = 2) -> list[tuple[float, int, int]]:
    """(rate, shards, budget) whose floating-point rate / shards x window lands a hair above the exact whole number."""
    found = []
    for _ in range(5_000):
        shards, window = rng.randint(2, 8), rng.randint(2, 30)
        rate = round(rng.randint(1, 400) * shards / 10 / window * rng.choice([1, 3, 7]), 1)
        if rate <= 0 or rate / shards > SHARD_RECORDS_PER_SECOND:
            continue
        exact = _exact_rate(rate, shards) * window
        if math.ceil(rate / shards * window) != math.ceil(exact):
            found.append((rate, shards, window))
            if len(found) == wanted:
                break
    return found or [(0.9, 3, 10)]  # 0.9 / 3 * 10 = 3.0000000000000004


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


WINDOW_ZERO_HINT = (
    "A window of 0 invokes as soon as a poll finds a record, even one: on a quiet shard that is an invocation for "
    "(almost) every record, about one a second, the most invocations you can get. The goal is the fewest "
    "invocations within the budget: use a window as long as the budget allows."
)
PER_SHARD_HINT = (
    "A batch comes from one shard, and each shard has its own poller and its own batches. A shard receives "
    "stream rate / shards records a second (with keys spread evenly), so size the batch for that: "
    "rate / shards x window, not the whole stream's rate x window."
)


def _judge_settings(where: str, got, rate: float, shards: int, budget: float) -> None:
    expect(
        f"{where}, the shape",
        isinstance(got, dict)
        and set(got) == {"BatchSize", "MaximumBatchingWindowInSeconds"}
        and all(_is_int(value) for value in got.values()),
        expected="{'BatchSize': int, 'MaximumBatchingWindowInSeconds': int}",
        got=got,
        hint="Return both parameters, under their AWS names, as whole numbers (the API takes integers).",
    )
    window, size = got["MaximumBatchingWindowInSeconds"], got["BatchSize"]
    expected_window, expected_sizes = _per_shard_settings(rate, shards, budget)
    expect(
        f"{where}, the window's range",
        0 <= window <= MAX_WINDOW_S,
        expected=f"0 to {MAX_WINDOW_S}",
        got=window,
        hint=f"MaximumBatchingWindowInSeconds is at most {MAX_WINDOW_S} s (5 minutes), whatever the budget: "
        "AWS refuses a longer window.",
    )
    expect(
        f"{where}, BatchSize's range",
        1 <= size <= MAX_BATCH_SIZE,
        expected=f"1 to {MAX_BATCH_SIZE:,}",
        got=size,
        hint=f"BatchSize is at most {MAX_BATCH_SIZE:,} for Kinesis: cap it there, even when rate x window is more.",
    )
    expect(
        f"{where}, the window",
        not (window == 0 and expected_window > 0),
        expected=expected_window,
        got=window,
        hint=WINDOW_ZERO_HINT,
    )
    expect(
        f"{where}, the window",
        window == expected_window,
        expected=expected_window,
        got=window,
        hint="The longest whole number of seconds within the budget: round the budget down, never up (a window "
        f"longer than the budget breaks it), at most {MAX_WINDOW_S}.",
    )
    if size not in expected_sizes:
        _name_the_rounding(where, size, rate, shards, window, expected_sizes)
    stream_wide = {
        min(MAX_BATCH_SIZE, max(1, math.ceil(v))) for v in (rate * max(window, 1), round(rate * max(window, 1), 9))
    }
    expect(
        f"{where}, BatchSize",
        size in expected_sizes or size not in stream_wide,
        expected=min(expected_sizes),
        got=size,
        hint=PER_SHARD_HINT,
    )
    expect(
        f"{where}, BatchSize",
        size in expected_sizes,
        expected=min(expected_sizes),
        got=size,
        hint="Just enough records that the window, not the count, ends a batch: the shard's rate (rate / shards) "
        "x window, rounded up; with a window of 0, the shard's rate x 1 s (about one poll). At least 1, at most "
        f"{MAX_BATCH_SIZE:,}.",
    )


def _name_the_rounding(where: str, size: int, rate: float, shards: int, window: int, expected: set[int]) -> None:
    """Fails with a hint naming the rounding mistake that gives ``size``, if one does."""
    seconds = max(window, 1)
    per_shard = rate / shards

    def capped(value) -> int:
        return min(MAX_BATCH_SIZE, max(1, math.ceil(value)))

    mistakes = [
        (
            capped(per_shard * seconds),
            "the floating-point product was rounded up: rate / shards x window is "
            f"{per_shard * seconds!r} in floating point but exactly {_exact_rate(rate, shards) * seconds}, so math.ceil "
            "adds a whole record that is not needed. Round the product to a few decimals first (round(x, 9)), or compute "
            "it exactly (fractions.Fraction, decimal.Decimal of str(rate)).",
        ),
        (
            capped(math.ceil(per_shard) * seconds),
            "round up once, at the end: rounding the shard's rate up first "
            "(math.ceil(rate / shards) x window) multiplies that rounding by the window. Use rate / shards x window, "
            "then round up.",
        ),
        (
            capped(rate // shards * seconds),
            "rate // shards is a floor division: it drops the fraction of the shard's rate. Use rate / shards.",
        ),
    ]
    for wrong, hint in mistakes:
        if size == wrong and size not in expected:
            raise ExerciseCheckFailed(f"{where}, BatchSize: expected {min(expected)}, got {size}.\nHint: {hint}")


def check_choose_settings(choose_settings) -> None:
    label = "Exercise 05.2"
    rng = fresh_random(label)
    # (what, stream rate, shards, budget): several shards each, so that a stream-wide answer differs.
    cases = [
        ("a quiet stream, a relaxed budget", round(rng.uniform(2, 8), 1), rng.randint(2, 4), rng.randint(5, 20)),
        ("a budget with a fraction", round(rng.uniform(50, 400), 1), rng.randint(2, 8), rng.randint(2, 9) + 0.5),
        (
            "a budget under one second",
            round(rng.uniform(100, 900), 1),
            rng.randint(2, 3),
            round(rng.uniform(0.1, 0.9), 2),
        ),
        ("a budget over the window's maximum", round(rng.uniform(2, 10), 2), rng.randint(2, 4), rng.randint(301, 3600)),
        ("a busy stream", rng.randint(4_000, 7_000), 8, rng.randint(20, 60)),
        ("almost no traffic", round(rng.uniform(0.01, 0.2), 3), rng.randint(2, 4), rng.randint(2, 10)),
        ("a single shard", round(rng.uniform(1, 20), 1), 1, rng.randint(3, 30)),
    ]
    cases += [
        ("a product that floating point rounds up", rate, shards, budget)
        for rate, shards, budget in _float_error_cases(rng)
    ]
    limit_shards = rng.randint(2, 6)
    cases += [
        (
            "exactly 1,000 records/s per shard, a batch of exactly 10,000",
            SHARD_RECORDS_PER_SECOND * limit_shards,
            limit_shards,
            10,
        ),
        ("a budget of exactly 300 s", round(rng.uniform(0.5, 3), 1), rng.randint(2, 4), 300),
        ("a budget of exactly 1 s", round(rng.uniform(10, 500), 1), rng.randint(2, 4), 1),
    ]
    for what, rate, shards, budget in cases:
        where = f"{label}, {what}: choose_settings({rate}, {shards}, {budget})"
        if rate / shards == SHARD_RECORDS_PER_SECOND:
            got = call_checked(
                label,
                choose_settings,
                rate,
                shards,
                budget,
                hint=f"exactly {SHARD_RECORDS_PER_SECOND:,} records/s per shard is what a shard accepts, not more: "
                "raise ValueError only when the shard's rate is over the limit (>, not >=).",
            )
        else:
            got = call_exercise(label, choose_settings, rate, shards, budget)
        _judge_settings(where, got, rate, shards, budget)

    def one_stream(case):
        rate, shards, budget = case
        got = call_exercise(label, choose_settings, rate, shards, budget)
        _judge_settings(f"{label}: choose_settings({rate}, {shards}, {budget})", got, rate, shards, budget)

    property_cases(f"{label}, streams drawn from the statement", _streams(), one_stream, max_examples=40)
    shards = rng.randint(2, 6)
    rate = shards * rng.randint(1_200, 3_000)
    expect_raises(
        f"{label}, {rate:,} records/s on {shards} shards",
        ValueError,
        choose_settings,
        rate,
        shards,
        10,
        hint=f"{rate:,} / {shards} is over {SHARD_RECORDS_PER_SECOND:,} records/s per shard, more than a shard "
        "accepts (Kinesis refuses the excess with ProvisionedThroughputExceededException): no batch setting fixes "
        "that. Raise ValueError saying the stream needs more shards.",
    )
    passed(
        label,
        f"{len(cases)} streams, from almost no traffic to a busy one and exactly at a shard's limit, more "
        "drawn at random, and a ValueError for a shard over its limit",
    )


def _streams():
    """(stream rate written with up to 2 decimals, shards, budget) within a shard's limit, as Hypothesis draws them."""
    from hypothesis import strategies as st

    budgets = st.one_of(st.integers(0, 400), st.floats(0, 400, allow_nan=False).map(lambda b: round(b, 2)))
    return st.integers(1, 16).flatmap(
        lambda shards: st.tuples(
            st.integers(1, SHARD_RECORDS_PER_SECOND * 100 * shards).map(lambda hundredths: hundredths / 100),
            st.just(shards),
            budgets,
        )
    )


# Exercise 05.3: the target the lesson states for the "fleet" stream. Keep in step with the notebook's text.
FLEET = {
    "shards": 4,
    "quiet_records_per_second": 80,  # the whole stream, at night: 20 a shard
    "burst_records_per_second": 2_400,  # the whole stream, in a burst: 600 a shard
    "min_seconds_between": 5,  # cost: at most one invocation per 5 s per shard at night
    "max_wait_s": 10,  # latency: no record waits in the window longer than this
    "invocations_per_second": 5,  # an invocation takes about 0.2 s; one batch per shard in flight
    "max_batch": 1_000,  # a failed batch is retried whole (lesson 03)
}


def fleet_limits(target: dict = FLEET) -> dict:
    """The ranges of the two settings that meet the target: {name: (lowest, highest)}."""
    quiet = target["quiet_records_per_second"] / target["shards"]
    burst = target["burst_records_per_second"] / target["shards"]
    lowest = max(math.ceil(quiet * target["min_seconds_between"]), math.ceil(burst / target["invocations_per_second"]))
    return {
        "MaximumBatchingWindowInSeconds": (target["min_seconds_between"], target["max_wait_s"]),
        "BatchSize": (lowest, target["max_batch"]),
    }


def _judge_fleet_mapping(label: str, mapping: dict, target: dict = FLEET) -> None:
    window, size = mapping.get("MaximumBatchingWindowInSeconds", 0), mapping["BatchSize"]
    got = {"BatchSize": size, "MaximumBatchingWindowInSeconds": window}
    quiet = target["quiet_records_per_second"] / target["shards"]
    burst = target["burst_records_per_second"] / target["shards"]
    between, budget = target["min_seconds_between"], target["max_wait_s"]

    def fail(expected, hint):
        raise ExerciseCheckFailed(f"{label}: expected {expected}, the mapping holds {got}.\nHint: {hint}")

    if window == 0:
        fail(
            f"a window of {between} to {budget} s",
            (
                f"A window of 0 with BatchSize {size:,} invokes on every poll that finds records: at night each shard "
                f"gets {quiet:g} records/s, so about one invocation a second per shard, {between} times the target. "
                "Set MaximumBatchingWindowInSeconds (did your call leave it out?)."
            ),
        )
    if window > MAX_WINDOW_S:
        fail(
            f"a window of {between} to {budget} s",
            (
                f"MaximumBatchingWindowInSeconds is at most {MAX_WINDOW_S} s; AWS refuses {window} (LocalStack 4.14 "
                f"stores it). The target asks for at most {budget} s anyway."
            ),
        )
    if window > budget:
        fail(
            f"a window of at most {budget} s",
            (
                f"A window of {window} s lets a record wait up to {window} s before the function sees it: longer than the "
                f"latency budget of {budget} s."
            ),
        )
    if window < between:
        fail(
            f"a window of at least {between} s",
            (
                f"A window of {window} s ends a quiet batch every {window} s: more than one invocation per {between} s "
                "per shard, the cost target."
            ),
        )
    if size < quiet * between:
        fail(
            f"BatchSize of at least {math.ceil(quiet * between)}",
            (
                f"At night a shard gets {quiet:g} records/s ({target['quiet_records_per_second']} over "
                f"{target['shards']} shards), so a batch of {size} fills in {size / quiet:g} s, before the window ends: "
                f"more than one invocation per {between} s. BatchSize ends a batch before the window does."
            ),
        )
    if size * target["invocations_per_second"] < burst:
        fail(
            f"BatchSize of at least {math.ceil(burst / target['invocations_per_second'])}",
            (
                f"BatchSize {size} is too small for the burst: a shard runs one batch at a time, at most "
                f"{target['invocations_per_second']} invocations a second, so it moves at most "
                f"{size * target['invocations_per_second']:,} records/s while a burst brings {burst:g} per shard "
                f"({target['burst_records_per_second']:,} over {target['shards']} shards): the shard falls behind."
            ),
        )
    if size > target["max_batch"]:
        fail(
            f"BatchSize of at most {target['max_batch']:,}",
            (
                f"BatchSize {size:,} is more than the target's {target['max_batch']:,}: a failed batch is retried whole "
                "(lesson 03), so every record of it runs again."
            ),
        )


OTHER_SETTINGS = (
    "ParallelizationFactor",
    "MaximumRetryAttempts",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "FunctionResponseTypes",
    "DestinationConfig",
    "TumblingWindowInSeconds",
    "FilterCriteria",
)


def _judge_other_settings(label: str, uuid: str, before: dict, after: dict) -> None:
    """Fails if the learner's call changed a setting the target does not ask about, after setting it back."""
    changed = [name for name in OTHER_SETTINGS if setting(before, name) != setting(after, name)]
    if not changed:
        return
    restore = {name: before[name] for name in changed if name in before and name != "FilterCriteria"}
    if restore:
        client("lambda").update_event_source_mapping(UUID=uuid, **restore)
        wait_for_state(uuid, "Enabled")
    shown = {name: (setting(before, name), setting(after, name)) for name in changed}
    raise ExerciseCheckFailed(
        f"{label}: your call also changed {', '.join(changed)} (before, after: {shown}).\nHint: change only the two "
        "settings the target is about, BatchSize and MaximumBatchingWindowInSeconds: the target says a shard runs "
        "one batch at a time and asks nothing about "
        + " or ".join(changed)
        + ". The check has set "
        + ("it" if len(changed) == 1 else "them")
        + " back."
    )


def check_configure_for_target(configure_for_target, uuid: str) -> None:
    """Resets the mapping ``uuid`` to the defaults, calls the learner's function, and judges what LocalStack stored."""
    label = "Exercise 05.3"
    lam = client("lambda")
    before = lam.get_event_source_mapping(UUID=uuid)
    wait_for_state(uuid, "Enabled")
    # The defaults, so that a call that sets only one parameter shows it.
    lam.update_event_source_mapping(UUID=uuid, BatchSize=100, MaximumBatchingWindowInSeconds=0)
    wait_for_state(uuid, "Enabled")
    reset = lam.get_event_source_mapping(UUID=uuid)
    with calls_to("UpdateEventSourceMapping") as calls:
        answer = call_checked(
            label,
            configure_for_target,
            uuid,
            shown_args="uuid",
            hint="update_event_source_mapping refused the call: pass UUID=uuid, and values in range (BatchSize 1 to "
            f"10,000, MaximumBatchingWindowInSeconds 0 to {MAX_WINDOW_S}).",
        )
    mapping = mapping_of(label, answer)
    expect(
        f"{label}, the mapping",
        mapping["UUID"] == uuid,
        expected=uuid,
        got=mapping["UUID"],
        hint="Update the mapping whose UUID you are given (update_event_source_mapping(UUID=uuid, ...)); do not "
        "create another one, and return what update_event_source_mapping answered.",
    )
    expect(
        f"{label}, the stream",
        mapping["EventSourceArn"] == before["EventSourceArn"],
        expected=before["EventSourceArn"],
        got=mapping["EventSourceArn"],
        hint="Change only the two settings.",
    )
    _judge_other_settings(label, uuid, reset, mapping)
    for name in left_out(calls, ("BatchSize", "MaximumBatchingWindowInSeconds")):
        raise ExerciseCheckFailed(
            f"{label}: your update_event_source_mapping call left out {name}, so the mapping keeps {mapping.get(name)} "
            f"(the check set it back to the default, {reset.get(name)}, first).\nHint: set both settings in the one "
            "call, each worked out per shard from the target."
        )
    _judge_fleet_mapping(label, mapping)
    # The ranges are shown only once the exercise is solved: next to the exercise they would give it away.
    limits = fleet_limits()
    windows, sizes = limits["MaximumBatchingWindowInSeconds"], limits["BatchSize"]
    passed(
        label,
        f"BatchSize {mapping['BatchSize']}, window {mapping['MaximumBatchingWindowInSeconds']} s, as "
        f"LocalStack stored them. Any window from {windows[0]} to {windows[1]} s with any BatchSize from "
        f"{sizes[0]:,} to {sizes[1]:,} meets the target: {windows[1]} s and a small batch give the fewest quiet "
        f"invocations, {windows[0]} s and {sizes[1]:,} the shortest wait with the most headroom in a burst",
    )


# Stretch 05.S: the third trigger, the 6 MB payload limit ------------------------------------------------------------

PAYLOAD_LIMIT = 6 * 1024 * 1024  # the kit's poller takes AWS's "6 MB" as 6 MiB (localstack-extension esm_batches)
METADATA_BYTES = 600  # the statement's round figure for a record's eventID, ARNs, sequence number... in the event


def reference_batch_sizes(
    data_sizes: list[int],
    batch_size: int,
    *,
    limit: int = PAYLOAD_LIMIT,
    metadata: int = METADATA_BYTES,
    base64: bool = True,
    fits=lambda total, cap: total <= cap,
    capped: bool = True,
) -> list[int]:
    """The batch sizes the statement's model gives; the keyword arguments describe the mistakes the check names."""
    sizes, start = [], 0
    while start < len(data_sizes):
        total = count = 0
        while start + count < len(data_sizes) and (count < batch_size or not capped):
            size = data_sizes[start + count]
            size = (4 * math.ceil(size / 3) if base64 else size) + metadata
            if count and not fits(total + size, limit):
                break
            total += size
            count += 1
        sizes.append(count)
        start += count
    return sizes


EXACT_FIT = 785_982  # 6 of them take exactly 6 MiB: 6 x (4 x 261,994 + 600) = 6,291,456 bytes

PAYLOAD_MISTAKES = [
    (
        {"base64": False},
        "the event carries each record's data base64-encoded: 4 bytes for every 3 (rounded up), a "
        "third more than the data itself.",
    ),
    (
        {"capped": False},
        "BatchSize still caps a batch: the payload limit only cuts a batch earlier, never makes it "
        "larger than BatchSize.",
    ),
    (
        {"limit": 6_000_000},
        "the kit's poller takes the 6 MB limit as 6 MiB, 6 x 1024 x 1024 = 6,291,456 bytes, as the statement says.",
    ),
    (
        {"fits": lambda total, cap: total < cap},
        "a batch may take exactly 6 MiB: a record goes in while the total stays at or below the limit (<=, not <).",
    ),
    (
        {"metadata": 0},
        "each record also takes 600 bytes of metadata in the event (its eventID, ARNs, sequence "
        "number): with many small records, that is what fills 6 MiB.",
    ),
]


def _payload_cases(rng: random.Random) -> list[tuple[list[int], int]]:
    large = rng.randint(600_000, 1_000_000)
    cases = [
        ([], 100),
        ([large] * rng.randint(8, 20), 100),  # cut by the payload
        ([rng.randint(1_000, 50_000) for _ in range(rng.randint(25, 60))], 10),  # cut by BatchSize
        ([EXACT_FIT] * 7, 100),  # a batch of exactly 6 MiB
        ([rng.randint(50, 150) for _ in range(10_000)], 10_000),  # metadata fills it
        ([rng.randint(100_000, 1_048_000) for _ in range(rng.randint(10, 30))], rng.randint(3, 12)),
    ]
    return cases


def check_stretch_payload_cut(batch_sizes, lesson) -> None:
    """Fresh backlogs against the statement's model, each mistake named; then a real run: 8 records of 700,000
    bytes put on a stream of the check's own before a mapping with BatchSize 100 exists, read by a function that
    logs each batch's sequence numbers. The kit's poller cuts at 6 MiB as AWS documents (LocalStack's own does not)."""
    label = "Stretch 05.S"
    rng = fresh_random(label)
    for data_sizes, batch_size in _payload_cases(rng):
        shown = f"<{len(data_sizes)} records of {min(data_sizes, default=0):,} to {max(data_sizes, default=0):,} bytes>"
        got = call_checked(
            label,
            batch_sizes,
            list(data_sizes),
            batch_size,
            shown_args=f"{shown}, {batch_size}",
            hint="batch_sizes gets the data sizes (ints, in bytes) and BatchSize.",
        )
        expected = reference_batch_sizes(data_sizes, batch_size)
        if got != expected:
            named = _payload_mistakes(batch_sizes, got, data_sizes, batch_size)
            raise ExerciseCheckFailed(
                f"{label}: batch_sizes({shown}, {batch_size}): expected {_brief(expected)}, got {_brief(got)}.\n"
                "Hint: "
                + (
                    named[0]
                    if named
                    else "a batch takes the oldest waiting records, at most BatchSize, and "
                    "stops before the record that would take its payload over 6 MiB."
                )
            )
    observed = _real_payload_run(lesson, [700_000] * 8)
    predicted = call_exercise(label, batch_sizes, [700_000] * 8, 100)
    if observed != reference_batch_sizes([700_000] * 8, 100):
        raise ExerciseCheckFailed(
            f"{label}: the run on LocalStack gave batches {observed}, not the model's "
            f"{reference_batch_sizes([700_000] * 8, 100)}.\nHint: that is not your code's fault: run this cell "
            "again (another notebook's load, or a leftover record, can change what one read finds)."
        )
    expect(
        f"{label}: batch_sizes([700,000] * 8, 100) against the real run",
        predicted == observed,
        expected=observed,
        got=predicted,
        hint="your function should give what LocalStack's poller did.",
    )
    passed(
        label,
        f"fresh backlogs cut by BatchSize, by 6 MiB, exactly at 6 MiB and by metadata; and on LocalStack "
        f"8 records of 700,000 bytes came in batches of {observed}, as your function predicts",
    )


# Backlogs that tell the mistakes apart when one case fits several: over 6,000,000 bytes but under 6 MiB; exactly
# 6 MiB; many small records; large ones; small ones under a small BatchSize.
PAYLOAD_PROBES = [
    ([770_000] * 7, 100),
    ([EXACT_FIT] * 7, 100),
    ([100] * 10_000, 10_000),
    ([700_000] * 8, 100),
    ([1_000] * 30, 10),
]


def _payload_mistakes(batch_sizes, got, data_sizes: list[int], batch_size: int) -> list[str]:
    """The hints of the mistakes that give the learner's answer here, narrowed down with PAYLOAD_PROBES."""
    candidates = [
        (mistake, hint)
        for mistake, hint in PAYLOAD_MISTAKES
        if got == reference_batch_sizes(data_sizes, batch_size, **mistake)
    ]
    for probe in PAYLOAD_PROBES:
        if len(candidates) <= 1:
            break
        try:
            answer = batch_sizes(list(probe[0]), probe[1])
        except Exception:
            break
        candidates = [
            (mistake, hint) for mistake, hint in candidates if reference_batch_sizes(*probe, **mistake) == answer
        ] or candidates
    return [hint for _, hint in candidates]


def _brief(sizes) -> str:
    if isinstance(sizes, list) and len(sizes) > 12:
        return f"[{', '.join(map(str, sizes[:5]))}, ... {len(sizes)} batches]"
    return repr(sizes)


HANDLER = """import json


def handler(event, context):
    print("BATCH " + json.dumps({"sequenceNumbers": [r["kinesis"]["sequenceNumber"] for r in event["Records"]]}))
"""


def _real_payload_run(lesson, data_sizes: list[int]) -> list[int]:
    """Puts records of these sizes, then maps a function that logs its batches; returns the batch sizes."""
    import tempfile
    from pathlib import Path

    from ..batches import batch_lines
    from ..functions import delete_function, deploy_function
    from ..logs import delete_logs
    from ..mappings import create_mapping, delete_mapping
    from ..streams import delete_stream, ensure_stream, put_records
    from ..waiting import wait_until

    stream, function = lesson.name("check-payload"), lesson.name("check-payload")
    uuid = None
    delete_logs(function)  # a line of an earlier run must not count
    try:
        stream_arn = ensure_stream(stream)
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "handler.py").write_text(HANDLER, encoding="utf-8")
            deploy_function(function, folder)
        puts = put_records(stream, [b"x" * size for size in data_sizes], progress=False, chunk=6)
        ours = {put["SequenceNumber"] for put in puts}
        uuid = create_mapping(function, stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=100)

        def batches():
            return [batch for batch in batch_lines(function) if set(batch["sequenceNumbers"]) <= ours]

        wait_until(
            lambda: sum(batch["size"] for batch in batches()) >= len(data_sizes),
            timeout=90,
            what=f"batches holding the {len(data_sizes)} records",
        )
        return [batch["size"] for batch in batches()]
    finally:
        if uuid:
            delete_mapping(uuid)
        delete_function(function)
        delete_stream(stream)
