"""Wrong answers to lesson 08's exercises: each must be rejected with a hint that names the mistake."""

from __future__ import annotations

from datetime import timedelta

import pytest
from wrong_answers import assert_rejected

from kinesis_course import client, create_mapping, delete_mappings_of
from kinesis_course.checks import lesson08 as checks

# ---- Exercise 08.1: diagnose -------------------------------------------------------------------------------------

diagnose = checks.reference_diagnose


def _per_record(summary):
    records = sum(summary["records_by_shard"].values())
    return summary["duration_ms"] / max(records / max(summary["invocations"], 1), 1)


def _hot(summary):
    records = summary["records_by_shard"]
    total = sum(records.values())
    return len(records) > 1 and total and max(records.values()) >= checks.HOT_SHARE * total


def _failing(summary):
    return summary["errors"] > 0 or summary["failed_lines"] > 0 or summary["failure_records"] > 0


def errors_only(summary):
    """Looks for a poison record in Errors only: misses a partial batch response's FAILED lines and the destination."""
    return diagnose(dict(summary, failed_lines=0, failure_records=0))


def no_destination(summary):
    """Reads Errors and the FAILED lines, never the on-failure destination's failure records."""
    return diagnose(dict(summary, failure_records=0))


def kit_position_view(summary):
    """Reads the kit's position view ('max_attempt', 'behind'), which AWS does not give, as the lesson once did."""
    if any(shard["max_attempt"] >= 2 for shard in summary["shards"].values()):
        return "poison_record"
    return diagnose(summary)


def poison_first(summary):
    """Checks failing records before the age: calls a batch that was retried and is over a poison record."""
    if _failing(summary):
        return "poison_record"
    return diagnose(summary)


def duration_not_per_record(summary):
    """Compares Duration itself with the threshold, not the time per record."""
    result = diagnose(summary)
    if result in ("slow_handler", "batch_too_small"):
        return "slow_handler" if summary["duration_ms"] >= checks.SLOW_MS_PER_RECORD else "batch_too_small"
    return result


def per_record_by_batch_size(summary):
    """Divides Duration by BatchSize, as if every batch were full."""
    result = diagnose(summary)
    if result in ("slow_handler", "batch_too_small"):
        slow = summary["duration_ms"] / summary["batch_size"] >= checks.SLOW_MS_PER_RECORD
        return "slow_handler" if slow else "batch_too_small"
    return result


def age_rising_means_behind(summary):
    """Calls any rising curve behind, even when it stays low."""
    ages = summary["iterator_age_ms"]
    if ages and max(ages[-3:]) < checks.KEEPING_UP_MS and ages[-1] > ages[0]:
        return diagnose(dict(summary, iterator_age_ms=ages + [checks.KEEPING_UP_MS * 3]))
    return diagnose(summary)


def no_hot_key(summary):
    """Never looks at how the records are spread over the shards."""
    result = diagnose(summary)
    if result != "hot_partition_key":
        return result
    return "slow_handler" if _per_record(summary) >= checks.SLOW_MS_PER_RECORD else "batch_too_small"


def hot_on_one_shard(summary):
    """Calls a stream of one shard hot: its only shard delivers every record."""
    records = summary["records_by_shard"]
    ages = summary["iterator_age_ms"]
    if len(records) == 1 and ages and max(ages[-3:]) >= checks.KEEPING_UP_MS and not _failing(summary):
        return "hot_partition_key"
    return diagnose(summary)


def _keeping_up_by(judge):
    """diagnose, with "keeping up" judged by ``judge(iterator_age_ms)`` instead of the highest of the last three."""

    def wrong(summary):
        ages = summary["iterator_age_ms"]
        if not ages or judge(ages) < checks.KEEPING_UP_MS:
            return "keeping_up"
        return diagnose(dict(summary, iterator_age_ms=ages + [checks.KEEPING_UP_MS * 3]))

    wrong.__name__ = f"keeping_up_by_{judge.__name__}"
    return wrong


def last_value(ages):
    return ages[-1]


def lowest_of_last_three(ages):
    return min(ages[-3:])


def average_of_last_three(ages):
    return sum(ages[-3:]) / len(ages[-3:])


def average_of_all(ages):
    return sum(ages) / len(ages)


def highest_of_all(ages):
    return max(ages)


def hot_before_poison(summary):
    """Looks at how the records are spread before looking for a failing record."""
    ages = summary["iterator_age_ms"]
    if ages and max(ages[-3:]) >= checks.KEEPING_UP_MS and _hot(summary):
        return "hot_partition_key"
    return diagnose(summary)


def poison_last(summary):
    """Looks for a failing record last, after the spread of the records and the time per record."""
    result = diagnose(summary)
    if result != "poison_record":
        return result
    if _hot(summary):
        return "hot_partition_key"
    return "slow_handler" if _per_record(summary) >= checks.SLOW_MS_PER_RECORD else "batch_too_small"


def slow_before_hot(summary):
    """Calls any slow-looking handler slow, before looking at how the records are spread."""
    result = diagnose(summary)
    if result != "hot_partition_key":
        return result
    return "slow_handler" if _per_record(summary) >= checks.SLOW_MS_PER_RECORD else result


def keeping_up_at_threshold(summary):
    """Keeps up at KEEPING_UP_MS itself (<=), not only under it."""
    ages = summary["iterator_age_ms"]
    if ages and max(ages[-3:]) <= checks.KEEPING_UP_MS:
        return "keeping_up"
    return diagnose(summary)


def slow_above_threshold(summary):
    """Calls a handler slow only above SLOW_MS_PER_RECORD (>), not at it."""
    result = diagnose(summary)
    if result == "slow_handler" and _per_record(summary) <= checks.SLOW_MS_PER_RECORD:
        return "batch_too_small"
    return result


def hot_above_share(summary):
    """Calls a key hot only above HOT_SHARE (>), not at it."""
    result = diagnose(summary)
    records = summary["records_by_shard"]
    if result == "hot_partition_key" and max(records.values()) <= checks.HOT_SHARE * sum(records.values()):
        return "slow_handler" if _per_record(summary) >= checks.SLOW_MS_PER_RECORD else "batch_too_small"
    return result


def misspelt(summary):
    result = diagnose(summary)
    return "poison" if result == "poison_record" else result


def test_diagnose_reference_passes():
    for _ in range(20):
        checks.check_diagnose(diagnose)


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (errors_only, ("FAILED lines", "partial batch response")),
        (no_destination, ("failure records", "destination")),
        (kit_position_view, ("position view", "not in it")),
        (poison_first, ("keeping_up", "iterator_age_ms[-3:]")),
        (duration_not_per_record, ("per record",)),
        (per_record_by_batch_size, ("batch_size is the most",)),
        (age_rising_means_behind, ("keeping_up", "however the curve")),
        (no_hot_key, ("hot_partition_key", "one shard of several")),
        (hot_on_one_shard, ("one shard", "says nothing")),
        (misspelt, ("one of the five",)),
        (keeping_up_at_threshold, ("exactly 2,000 ms", "UNDER")),
        (slow_above_threshold, ("exactly 100 ms per record", "or more")),
        (hot_above_share, ("Exactly 80%", "or more")),
        (_keeping_up_by(last_value), ("highest", "not the last value")),
        (_keeping_up_by(lowest_of_last_three), ("highest", "not the lowest")),
        (_keeping_up_by(average_of_last_three), ("highest", "not an average")),
        (_keeping_up_by(average_of_all), ("highest", "average")),
        (_keeping_up_by(highest_of_all), ("last three", "not the whole curve")),
        (hot_before_poison, ("failing record first", "again and again")),
        (poison_last, ("failing record first", "look long")),
        (slow_before_hot, ("hot_partition_key", "still a hot key")),
    ],
)
def test_diagnose_wrong_answers(wrong, mentions):
    # The made-up summaries are random: the check runs a few times, so that each mistake surely meets its trap.
    assert_rejected(lambda: [checks.check_diagnose(wrong) for _ in range(5)], *mentions)


# ---- Stretch 08.S: per_minute ------------------------------------------------------------------------------------

per_minute = checks.reference_per_minute


def average_of_minute(points):
    minutes = {}
    for moment, value in points:
        minutes.setdefault(moment.replace(second=0, microsecond=0), []).append(value)
    return sorted((minute, sum(values) / len(values)) for minute, values in minutes.items())


def from_first_point(points):
    """Counts one-minute periods from the first point instead of from whole minutes."""
    first = points[0][0]
    minutes = {}
    for moment, value in points:
        minute = first + timedelta(seconds=60 * ((moment - first).total_seconds() // 60))
        minutes[minute] = max(value, minutes.get(minute, value))
    return sorted(minutes.items())


def start_in_minute_before(points):
    """Puts a point on hh:mm:00 into the minute before (a period that ends with its start)."""
    minutes = {}
    for moment, value in points:
        minute = (moment - timedelta(microseconds=1)).replace(second=0, microsecond=0)
        minutes[minute] = max(value, minutes.get(minute, value))
    return sorted(minutes.items())


def zero_for_empty_minutes(points):
    """Fills a minute without points with 0."""
    got = dict(per_minute(points))
    minute = min(got)
    while minute < max(got):
        got.setdefault(minute, 0.0)
        minute += timedelta(minutes=1)
    return sorted(got.items())


def newest_first(points):
    return sorted(per_minute(points), reverse=True)


def test_per_minute_reference_passes():
    for _ in range(10):
        checks.check_per_minute(per_minute)


@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (average_of_minute, ("Maximum", "not the average")),
        (from_first_point, ("whole minute", "first point")),
        (start_in_minute_before, ("includes its first second",)),
        (zero_for_empty_minutes, ("no data point", "keeping up")),
        (newest_first, ("oldest first",)),
    ],
)
def test_per_minute_wrong_answers(wrong, mentions):
    assert_rejected(lambda: checks.check_per_minute(wrong), *mentions)


# ---- Exercise 08.2: fix (real mappings on LocalStack) -----------------------------------------------------------

OTHER_QUEUE = {}  # a second queue, not the one the check gives (set by the scratch fixture)
HANDLER = "def handler(event, context):\n    return {'batchItemFailures': []}\n"


@pytest.fixture(scope="module")
def scratch(module_resources):
    function = module_resources.function("fn", HANDLER)
    stream_arn = module_resources.stream("stream")
    _, queue_arn = module_resources.queue("failed")
    _, OTHER_QUEUE["arn"] = module_resources.queue("elsewhere")
    return {"function": function, "stream_arn": stream_arn, "queue_arn": queue_arn, "prefix": module_resources.prefix}


@pytest.fixture
def mapping(scratch):
    """A new mapping for each test: an on-failure destination, once set, stays."""
    delete_mappings_of(scratch["function"])
    uuid_ = create_mapping(
        scratch["function"], scratch["stream_arn"], BatchSize=100, FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    return uuid_, scratch["queue_arn"]


def lam():
    return client("lambda")


def reference(uuid_, cause, queue_arn):
    return checks.reference_fix(uuid_, cause, queue_arn)


def bigger_batch_for_slow(uuid_, cause, queue_arn):
    if cause == "slow_handler":
        return lam().update_event_source_mapping(UUID=uuid_, BatchSize=500)
    return reference(uuid_, cause, queue_arn)


def window_for_slow(uuid_, cause, queue_arn):
    if cause == "slow_handler":
        return lam().update_event_source_mapping(UUID=uuid_, ParallelizationFactor=4, MaximumBatchingWindowInSeconds=5)
    return reference(uuid_, cause, queue_arn)


def parallel_for_small(uuid_, cause, queue_arn):
    if cause == "batch_too_small":
        return lam().update_event_source_mapping(UUID=uuid_, ParallelizationFactor=10)
    return reference(uuid_, cause, queue_arn)


def batch_of_ten(uuid_, cause, queue_arn):
    if cause == "batch_too_small":
        return lam().update_event_source_mapping(UUID=uuid_, BatchSize=10)
    return reference(uuid_, cause, queue_arn)


def parallel_for_hot(uuid_, cause, queue_arn):
    if cause == "hot_partition_key":
        return lam().update_event_source_mapping(UUID=uuid_, ParallelizationFactor=10)
    return reference(uuid_, cause, queue_arn)


def tune_when_keeping_up(uuid_, cause, queue_arn):
    if cause == "keeping_up":
        return lam().update_event_source_mapping(UUID=uuid_, BatchSize=200)
    return reference(uuid_, cause, queue_arn)


def age_only_for_poison(uuid_, cause, queue_arn):
    if cause == "poison_record":
        return lam().update_event_source_mapping(
            UUID=uuid_, MaximumRecordAgeInSeconds=60, DestinationConfig={"OnFailure": {"Destination": queue_arn}}
        )
    return reference(uuid_, cause, queue_arn)


def retries_without_destination(uuid_, cause, queue_arn):
    if cause == "poison_record":
        return lam().update_event_source_mapping(UUID=uuid_, MaximumRetryAttempts=2)
    return reference(uuid_, cause, queue_arn)


def bisect_only(uuid_, cause, queue_arn):
    if cause == "poison_record":
        return lam().update_event_source_mapping(
            UUID=uuid_, BisectBatchOnFunctionError=True, DestinationConfig={"OnFailure": {"Destination": queue_arn}}
        )
    return reference(uuid_, cause, queue_arn)


def drops_partial_responses(uuid_, cause, queue_arn):
    if cause == "poison_record":
        return lam().update_event_source_mapping(
            UUID=uuid_,
            MaximumRetryAttempts=2,
            FunctionResponseTypes=[],
            DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        )
    return reference(uuid_, cause, queue_arn)


def smaller_batches_for_slow(uuid_, cause, queue_arn):
    if cause == "slow_handler":
        return lam().update_event_source_mapping(UUID=uuid_, ParallelizationFactor=4, BatchSize=10)
    return reference(uuid_, cause, queue_arn)


def partial_responses_off_for_slow(uuid_, cause, queue_arn):
    if cause == "slow_handler":
        return lam().update_event_source_mapping(UUID=uuid_, ParallelizationFactor=4, FunctionResponseTypes=[])
    return reference(uuid_, cause, queue_arn)


def another_queue_for_poison(uuid_, cause, queue_arn):
    if cause == "poison_record":
        other = OTHER_QUEUE["arn"]
        return lam().update_event_source_mapping(
            UUID=uuid_, MaximumRetryAttempts=2, DestinationConfig={"OnFailure": {"Destination": other}}
        )
    return reference(uuid_, cause, queue_arn)


def nothing_for_slow(uuid_, cause, queue_arn):
    if cause == "slow_handler":
        return None
    return reference(uuid_, cause, queue_arn)


@pytest.mark.localstack
def test_fix_reference_passes(mapping):
    checks.check_fix(reference, *mapping)


@pytest.mark.localstack
@pytest.mark.parametrize(
    "wrong, mentions",
    [
        (bigger_batch_for_slow, ("ParallelizationFactor", "bigger batch")),
        (window_for_slow, ("window",)),
        (nothing_for_slow, ("update_event_source_mapping",)),
        (parallel_for_small, ("BatchSize", "one invocation per record")),
        (batch_of_ten, ("BatchSize 10",)),
        (parallel_for_hot, ("partition key", "ParallelizationFactor")),
        (tune_when_keeping_up, ("keeps up",)),
        (age_only_for_poison, ("MaximumRetryAttempts", "MaximumRecordAgeInSeconds")),
        (retries_without_destination, ("destination",)),
        (bisect_only, ("MaximumRetryAttempts", "Bisection")),
        (drops_partial_responses, ("ReportBatchItemFailures",)),
        (smaller_batches_for_slow, ("BatchSize kept at 100", "fewer records")),
        (partial_responses_off_for_slow, ("ReportBatchItemFailures", "partial batch response")),
        (another_queue_for_poison, ("queue_arn", "nobody reads")),
    ],
)
def test_fix_wrong_answers(mapping, wrong, mentions):
    assert_rejected(lambda: checks.check_fix(wrong, *mapping), *mentions)
