"""Wrong answers to lesson 05's exercises: each must be rejected with a hint that names the mistake."""

from __future__ import annotations

import math
import statistics
import uuid
from types import SimpleNamespace
from fractions import Fraction

import pytest
from wrong_answers import assert_rejected

from kinesis_course import client
from kinesis_course.checks import ExerciseNotSolved
from kinesis_course.checks import lesson05 as checks

# ---- Exercise 05.1: batch_stats ------------------------------------------------------------------------------


def stats_of(sizes, latencies, invocations=None):
    return {
        "invocations": len(sizes) if invocations is None else invocations,
        "records": sum(sizes),
        "mean_size": sum(sizes) / len(sizes),
        "max_size": max(sizes),
        "p50_latency_s": statistics.median(latencies),
        "max_latency_s": max(latencies),
    }


def batch_stats(batches):
    if not batches:
        raise ValueError("no batches")
    return stats_of([b["size"] for b in batches], [b["invoked_at"] - b["first_arrival"] for b in batches])


def latency_from_newest(batches):
    if not batches:
        raise ValueError("no batches")
    return stats_of([b["size"] for b in batches], [b["invoked_at"] - b["last_arrival"] for b in batches])


def middle_element_median(batches):
    if not batches:
        raise ValueError("no batches")
    result = batch_stats(batches)
    latencies = sorted(b["invoked_at"] - b["first_arrival"] for b in batches)
    result["p50_latency_s"] = latencies[len(latencies) // 2]
    return result


def zeros_when_empty(batches):
    if not batches:
        return {key: 0 for key in checks.STATS_KEYS}
    return batch_stats(batches)


def invocations_are_records(batches):
    if not batches:
        raise ValueError("no batches")
    sizes = [b["size"] for b in batches]
    return stats_of(sizes, [b["invoked_at"] - b["first_arrival"] for b in batches], invocations=sum(sizes))


def last_is_latest(batches):
    """Takes the last batch of the list as the one that waited longest (the list is in no particular order)."""
    if not batches:
        raise ValueError("no batches")
    result = batch_stats(batches)
    result["max_latency_s"] = batches[-1]["invoked_at"] - batches[-1]["first_arrival"]
    return result


def test_batch_stats_reference_passes():
    checks.check_batch_stats(batch_stats)


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (latency_from_newest, ["latency_s", "first_arrival"]),
        (middle_element_median, ["p50_latency_s", "median"]),
        (zeros_when_empty, ["ValueError", "nothing was measured"]),
        (invocations_are_records, ["invocations", "number of batches"]),
        (last_is_latest, ["max_latency_s", "largest"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_batch_stats_rejects(wrong, mentions):
    # The inputs are random: a wrong answer that matches by chance once would still fail on most runs.
    assert_rejected(lambda: checks.check_batch_stats(wrong), *mentions)


def latencies_in_milliseconds_rounded(batches):
    """Rounds every latency to the millisecond, as a log line would show it."""
    result = batch_stats(batches)
    latencies = [round(b["invoked_at"] - b["first_arrival"], 3) for b in batches]
    result.update(p50_latency_s=statistics.median(latencies), max_latency_s=max(latencies))
    return result


def mean_rounded(batches):
    result = batch_stats(batches)
    result["mean_size"] = round(result["mean_size"], 1)
    return result


def sorts_the_batches_in_place(batches):
    """Sorts the caller's list by latency to read the median and the maximum off it."""
    if not batches:
        raise ValueError("no batches")
    batches.sort(key=lambda b: b["invoked_at"] - b["first_arrival"])
    return batch_stats(batches)


def notes_each_latency_in_its_batch(batches):
    """Adds a latency_s key to every batch dict of the caller's."""
    if not batches:
        raise ValueError("no batches")
    for b in batches:
        b["latency_s"] = b["invoked_at"] - b["first_arrival"]
    return stats_of([b["size"] for b in batches], [b["latency_s"] for b in batches])


def median_low(batches):
    result = batch_stats(batches)
    result["p50_latency_s"] = statistics.median_low([b["invoked_at"] - b["first_arrival"] for b in batches])
    return result


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (latencies_in_milliseconds_rounded, ["rounded", "do not round"]),
        (mean_rounded, ["mean_size", "do not round"]),
        (sorts_the_batches_in_place, ["changed", "batches"]),
        (notes_each_latency_in_its_batch, ["changed", "batches"]),
        (median_low, ["p50_latency_s", "two middle values"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_batch_stats_rejects_more(wrong, mentions):
    assert_rejected(lambda: checks.check_batch_stats(wrong), *mentions)


# ---- Exercise 05.2: choose_settings --------------------------------------------------------------------------


def choose_settings(rate, shards, budget):
    """The solution's answer: the product rounded to 9 decimals before rounding up (0.3 * 10 is 3.0000000000000004)."""
    per_shard = rate / shards
    if per_shard > 1_000:
        raise ValueError("add shards")
    window = min(300, math.floor(budget))
    return {
        "BatchSize": min(10_000, max(1, math.ceil(round(per_shard * max(window, 1), 9)))),
        "MaximumBatchingWindowInSeconds": window,
    }


def choose_settings_exact(rate, shards, budget):
    """The reference, computed exactly: the rate as the decimal it is written as."""
    per_shard = Fraction(str(rate)) / shards
    if per_shard > 1_000:
        raise ValueError("add shards")
    window = min(300, math.floor(budget))
    return {
        "BatchSize": min(10_000, max(1, math.ceil(per_shard * max(window, 1)))),
        "MaximumBatchingWindowInSeconds": window,
    }


def stream_wide(rate, shards, budget):
    return choose_settings(rate, 1, budget) if rate <= 1_000 else choose_settings(rate, shards, budget)


def stream_wide_everywhere(rate, shards, budget):
    window = min(300, math.floor(budget))
    return {
        "BatchSize": min(10_000, max(1, math.ceil(round(rate * max(window, 1), 9)))),
        "MaximumBatchingWindowInSeconds": window,
    }


def no_batch_size_cap(rate, shards, budget):
    window = min(300, math.floor(budget))
    if rate / shards > 1_000:
        raise ValueError("add shards")
    # Rounded as the solution rounds, so that the missing cap is this answer's only mistake.
    batch = max(1, math.ceil(round(rate / shards * max(window, 1), 9)))
    return {"BatchSize": batch, "MaximumBatchingWindowInSeconds": window}


def no_window_cap(rate, shards, budget):
    settings = choose_settings(rate, shards, min(budget, 300))
    settings["MaximumBatchingWindowInSeconds"] = math.floor(budget)
    return settings


def always_window_zero(rate, shards, budget):
    if rate / shards > 1_000:
        raise ValueError("add shards")
    return {"BatchSize": max(1, math.ceil(round(rate / shards, 9))), "MaximumBatchingWindowInSeconds": 0}


def window_rounded_up(rate, shards, budget):
    if rate / shards > 1_000:
        raise ValueError("add shards")
    window = min(300, math.ceil(budget))
    return {
        "BatchSize": min(10_000, max(1, math.ceil(round(rate / shards * max(window, 1), 9)))),
        "MaximumBatchingWindowInSeconds": window,
    }


def no_shard_limit(rate, shards, budget):
    return (
        choose_settings(rate, shards, budget)
        if rate / shards <= 1_000
        else choose_settings(1_000 * shards, shards, budget)
    )


def zero_window_size_zero(rate, shards, budget):
    """rate x window with a window of 0 gives 0, floored to 1: not what one read finds."""
    settings = choose_settings(rate, shards, budget)
    window = settings["MaximumBatchingWindowInSeconds"]
    settings["BatchSize"] = min(10_000, max(1, math.ceil(round(rate / shards * window, 9))))
    return settings


def test_choose_settings_reference_passes():
    checks.check_choose_settings(choose_settings)
    checks.check_choose_settings(choose_settings_exact)


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (stream_wide_everywhere, ["one shard", "rate / shards"]),
        (stream_wide, ["one shard", "rate / shards"]),
        (no_batch_size_cap, ["10,000"]),
        (no_window_cap, ["300"]),
        (always_window_zero, ["window of 0", "fewest invocations"]),
        (window_rounded_up, ["round the budget down"]),
        (no_shard_limit, ["ValueError", "more shards"]),
        (zero_window_size_zero, ["window of 0", "1 s"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_choose_settings_rejects(wrong, mentions):
    assert_rejected(lambda: checks.check_choose_settings(wrong), *mentions)


def float_ceiling(rate, shards, budget):
    """Rounds up the floating-point product: 0.3 x 10 is 3.0000000000000004, which math.ceil makes 4."""
    per_shard = rate / shards
    if per_shard > 1_000:
        raise ValueError("add shards")
    window = min(300, math.floor(budget))
    return {
        "BatchSize": min(10_000, max(1, math.ceil(per_shard * max(window, 1)))),
        "MaximumBatchingWindowInSeconds": window,
    }


def refuses_exactly_the_limit(rate, shards, budget):
    if rate / shards >= 1_000:
        raise ValueError("add shards")
    return choose_settings_exact(rate, shards, budget)


def rate_rounded_up_first(rate, shards, budget):
    if rate / shards > 1_000:
        raise ValueError("add shards")
    window = min(300, math.floor(budget))
    return {
        "BatchSize": min(10_000, max(1, math.ceil(rate / shards) * max(window, 1))),
        "MaximumBatchingWindowInSeconds": window,
    }


def integer_division_of_the_rate(rate, shards, budget):
    if rate / shards > 1_000:
        raise ValueError("add shards")
    window = min(300, math.floor(budget))
    return {
        "BatchSize": min(10_000, max(1, math.ceil(rate // shards * max(window, 1)))),
        "MaximumBatchingWindowInSeconds": window,
    }


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (float_ceiling, ["floating point", "exact"]),
        (refuses_exactly_the_limit, ["exactly 1,000", "over"]),
        (rate_rounded_up_first, ["round up once", "rate / shards"]),
        (integer_division_of_the_rate, ["//", "rate / shards"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_choose_settings_rejects_more(wrong, mentions):
    assert_rejected(lambda: checks.check_choose_settings(wrong), *mentions)


# ---- Exercise 05.3: configure_for_target (real mappings on LocalStack) ------------------------------------------

HANDLER = "def handler(event, context):\n    return None\n"


@pytest.fixture(scope="module")
def fleet_mapping(module_resources):
    """A mapping of a fresh function on a fresh stream, created with the defaults; deleted afterwards."""
    arn = module_resources.stream("fleet", shards=2)
    function = module_resources.function("fn", HANDLER)
    return module_resources.mapping(function, arn, StartingPosition="LATEST")


def update(**settings):
    def configure(uuid):
        return client("lambda").update_event_source_mapping(UUID=uuid, **settings)

    return configure


@pytest.mark.localstack
def test_configure_reference_passes(fleet_mapping):
    checks.check_configure_for_target(update(BatchSize=200, MaximumBatchingWindowInSeconds=10), fleet_mapping)
    checks.check_configure_for_target(update(BatchSize=1_000, MaximumBatchingWindowInSeconds=5), fleet_mapping)


@pytest.mark.localstack
@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (
            update(BatchSize=10_000, MaximumBatchingWindowInSeconds=0),
            ["window of 0 with BatchSize 10,000", "every poll"],
        ),
        (update(BatchSize=200), ["left out", "MaximumBatchingWindowInSeconds"]),
        (update(BatchSize=500, MaximumBatchingWindowInSeconds=30), ["latency budget"]),
        (update(BatchSize=500, MaximumBatchingWindowInSeconds=3), ["more than one invocation per 5 s", "cost"]),
        (update(BatchSize=80, MaximumBatchingWindowInSeconds=10), ["fills in 4 s", "BatchSize ends a batch"]),
        (update(BatchSize=110, MaximumBatchingWindowInSeconds=10), ["too small for the burst", "600"]),
        (update(BatchSize=5_000, MaximumBatchingWindowInSeconds=10), ["retried whole"]),
        (lambda uuid: None, ["UUID", "return what"]),
        (update(BatchSize=200, MaximumBatchingWindowInSeconds=301), ["300"]),
    ],
    ids=[
        "window0-batch10000",
        "window-left-out",
        "window-over-budget",
        "window-under-cost",
        "batch-fills-early",
        "batch-too-small-for-burst",
        "batch-over-retry-limit",
        "returns-none",
        "window-out-of-range",
    ],
)
def test_configure_rejects(fleet_mapping, wrong, mentions):
    assert_rejected(lambda: checks.check_configure_for_target(wrong, fleet_mapping), *mentions)


def update_and_also(**settings):
    """Sets the two settings and changes another one the target did not ask about."""

    def configure(uuid):
        return client("lambda").update_event_source_mapping(
            UUID=uuid, BatchSize=120, MaximumBatchingWindowInSeconds=5, **settings
        )

    return configure


@pytest.mark.localstack
@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (update(MaximumBatchingWindowInSeconds=10), ["BatchSize", "left out", "100"]),
        (update(BatchSize=119, MaximumBatchingWindowInSeconds=10), ["too small for the burst"]),
        (update(BatchSize=200, MaximumBatchingWindowInSeconds=11), ["latency budget"]),
        (update(BatchSize=1_001, MaximumBatchingWindowInSeconds=5), ["retried whole"]),
        (update_and_also(ParallelizationFactor=2), ["ParallelizationFactor", "only the two settings"]),
        (update_and_also(MaximumRetryAttempts=0), ["MaximumRetryAttempts", "only the two settings"]),
    ],
    ids=[
        "batch-size-left-out",
        "batch-one-under-the-burst",
        "window-one-over-budget",
        "batch-one-over-retry-limit",
        "parallelization-factor-too",
        "retries-too",
    ],
)
def test_configure_rejects_more(fleet_mapping, wrong, mentions):
    assert_rejected(lambda: checks.check_configure_for_target(wrong, fleet_mapping), *mentions)


def stub(*args):
    raise NotImplementedError("Exercise 05.M: replace this line with your solution")


def test_the_stubs_are_not_solved():
    with pytest.raises(ExerciseNotSolved):
        checks.check_batch_stats(stub)
    with pytest.raises(ExerciseNotSolved):
        checks.check_choose_settings(stub)


@pytest.mark.localstack
def test_the_configure_stub_is_not_solved(fleet_mapping):
    with pytest.raises(ExerciseNotSolved):
        checks.check_configure_for_target(stub, fleet_mapping)


# ---- Stretch 05.S: the 6 MB payload limit -------------------------------------------------------------------------


def batch_sizes(data_sizes, batch_size):
    """A learner's answer: oldest first, at most BatchSize, stop before 6 MiB would be passed."""
    sizes, batch, total = [], 0, 0
    for size in data_sizes:
        payload = 4 * math.ceil(size / 3) + 600
        if batch and (batch == batch_size or total + payload > 6 * 1024 * 1024):
            sizes.append(batch)
            batch, total = 0, 0
        batch += 1
        total += payload
    return sizes + [batch] if batch else sizes


def _variant(**mistake):
    def wrong(data_sizes, batch_size):
        return checks.reference_batch_sizes(data_sizes, batch_size, **mistake)

    return wrong


@pytest.fixture
def payload_lesson():
    prefix = f"kcm05s-{uuid.uuid4().hex[:8]}-"
    return SimpleNamespace(name=lambda suffix: prefix + suffix)


@pytest.mark.localstack
def test_05_s_reference_passes(payload_lesson, capsys):
    checks.check_stretch_payload_cut(batch_sizes, payload_lesson)
    assert "✔ Stretch 05.S passed" in capsys.readouterr().out


def test_05_s_stub_is_not_solved(payload_lesson):
    with pytest.raises(ExerciseNotSolved):
        checks.check_stretch_payload_cut(stub, payload_lesson)


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (_variant(base64=False), ["base64", "a third more"]),
        (_variant(capped=False), ["BatchSize still caps"]),
        (_variant(limit=6_000_000), ["6 MiB", "6,291,456"]),
        (_variant(fits=lambda total, cap: total < cap), ["exactly 6 MiB", "<="]),
        (_variant(metadata=0), ["600 bytes of metadata"]),
        (lambda data_sizes, batch_size: [len(data_sizes)], ["at most BatchSize"]),
    ],
    ids=["raw bytes", "no BatchSize cap", "6,000,000", "< not <=", "no metadata", "one batch"],
)
def test_05_s_rejects(wrong, mentions, payload_lesson):
    for _ in range(3):  # fresh backlogs every time: the mistake must be named every time
        assert_rejected(lambda: checks.check_stretch_payload_cut(wrong, payload_lesson), *mentions)
