"""The course clock (esm/clock.py): a teaching device, not AWS behaviour, that runs one mapping's time-based behaviour
(record age, retry backoff, batching window, idle polling) F times faster.

The same failing scenario at factor 1 (AWS's timing, the default) and at factor 20 must give the same sequence of
events: the same batches in the same order, the same attempts, the same failure record. No assertion is timed;
each run prints how long it took, to show what the clock saves.
"""

from __future__ import annotations

import time
import urllib.error
from concurrent.futures import ThreadPoolExecutor
import urllib.request

import pytest

from kinesis_course import client, json_lines, put_records, receive_json, wait_until
from kinesis_course.clock import clock_of, set_clock
from kinesis_course.endpoint import endpoint_url

pytestmark = pytest.mark.localstack

FAILS_ON_POISON = """
    import base64
    import json

    def handler(event, context):
        items = [json.loads(base64.b64decode(record["kinesis"]["data"]))["i"] for record in event["Records"]]
        print("INVOKE " + json.dumps({"items": items}))
        if 0 in items:
            raise ValueError("record 0 is poison")
"""


def stream_arn(name: str) -> str:
    return client("kinesis").describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def invoked(function: str) -> list[list[int]]:
    return [line["items"] for line in json_lines(function, "INVOKE ")]


def put(stream: str, items: list[int]) -> None:
    put_records(stream, [{"i": i} for i in items], partition_key=lambda i, _: "sensor-1", progress=False)


def failure_summary(failure: dict) -> tuple:
    context = failure["requestContext"]
    return context["condition"], failure["KinesisBatchInfo"]["batchSize"], context["approximateInvokeCount"]


def collapse(batches: list[list[int]]) -> list[tuple[list[int], int]]:
    """Consecutive deliveries of the same batch as (batch, how many times)."""
    runs: list[tuple[list[int], int]] = []
    for batch in batches:
        if runs and runs[-1][0] == batch:
            runs[-1] = (batch, runs[-1][1] + 1)
        else:
            runs.append((batch, 1))
    return runs


def poison_until_expiry(resources, factor: float) -> tuple[list, float]:
    """A poison record with MaximumRecordAgeInSeconds 60 and unlimited retries: retried until it is 60 s old (in
    the mapping's clock), then described in the on-failure destination; records put afterwards flow again."""
    suffix = f"age{int(factor)}"
    stream = resources.stream(suffix)
    queue_url, queue_arn = resources.queue(f"{suffix}-failures")
    function = resources.function(suffix, FAILS_ON_POISON)
    uuid = resources.mapping(
        function,
        stream_arn(stream),
        BatchSize=10,
        MaximumRecordAgeInSeconds=60,
        MaximumRetryAttempts=-1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    set_clock(uuid, factor)
    started = time.monotonic()
    put(stream, [0])
    failures = receive_json(queue_url, expected=1, timeout=120)
    expired_after = time.monotonic() - started
    assert len(failures) == 1, "no failure record arrived"
    attempts = len(invoked(function))
    put(stream, [1, 2])
    batches = wait_until(
        lambda: seen if [1, 2] in (seen := invoked(function)) else None,
        timeout=30,
        what="the records after the poison one",
        interval=0.3,
    )
    return [collapse(batches), failure_summary(failures[0]), attempts], expired_after


def retry_schedule(resources, factor: float) -> tuple[list, float]:
    """Bisection and MaximumRetryAttempts 3 on a batch with a poison record: a fixed schedule of deliveries."""
    suffix = f"retry{int(factor)}"
    stream = resources.stream(suffix)
    queue_url, queue_arn = resources.queue(f"{suffix}-failures")
    function = resources.function(suffix, FAILS_ON_POISON)
    uuid = resources.mapping(
        function,
        stream_arn(stream),
        BatchSize=4,
        MaximumRetryAttempts=3,
        BisectBatchOnFunctionError=True,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    set_clock(uuid, factor)
    started = time.monotonic()
    put(stream, [3, 0, 1, 2])
    failures = receive_json(queue_url, expected=1, timeout=60)
    batches = wait_until(
        lambda: seen if [1, 2] in (seen := invoked(function)) else None,
        timeout=30,
        what="the half after the poison record",
        interval=0.3,
    )
    took = time.monotonic() - started
    assert len(failures) == 1, "no failure record arrived"
    return [batches, failure_summary(failures[0])], took


def side_by_side(resources, factors: tuple[float, ...]) -> dict[tuple[str, float], tuple[list, float]]:
    """Both scenarios at each factor, all at once, each on its own stream, function and mapping: side by side they
    cost the longest run, not the sum."""
    scenarios = [(scenario, factor) for scenario in (retry_schedule, poison_until_expiry) for factor in factors]
    with ThreadPoolExecutor(len(scenarios)) as pool:
        started = {(s.__name__, f): pool.submit(s, resources, f) for s, f in scenarios}
        return {key: future.result() for key, future in started.items()}


@pytest.fixture(scope="module")
def runs(request, module_resources) -> dict[tuple[str, float], tuple[list, float]]:
    """The scenarios on the course clock (factor 20: seconds each, in `make test`) and, when a test of the slow tier
    is selected (`make test-all`, CI), at AWS's timing too (factor 1: the reference the course clock must match, a
    minute of real record age), side by side with the factor-20 runs."""
    slow = any(item.get_closest_marker("slow") and item.module is request.module for item in request.session.items)
    return side_by_side(module_resources, (1, 20) if slow else (20,))


# 4 records fail -> halves [3, 0] (fails) -> [3] (ok), [0] (first try + 3 retries) -> [1, 2] (ok).
RETRY_SCHEDULE = [[3, 0, 1, 2], [3, 0], [3], [0], [0], [0], [0], [1, 2]]


def assert_poison_expires(runs_of_batches, condition, size, count, attempts) -> None:
    # The poison batch again and again, then the RecordAgeExceeded record, then the next records flow.
    assert [batch for batch, _ in runs_of_batches] == [[0], [1, 2]]
    assert runs_of_batches[1][1] == 1
    assert (condition, size) == ("RecordAgeExceeded", 1)
    # AWS's recordings (esm/attempts.py, rule 2): the attempt that found the record too old is counted too.
    assert runs_of_batches[0][1] == attempts == count - 1
    assert attempts >= 2


def test_at_factor_20_a_retry_schedule_follows_bisection_and_the_retry_limit(runs):
    schedule, took = runs["retry_schedule", 20]
    print(f"\nretry schedule: {took:.1f} s at factor 20")
    assert schedule == [RETRY_SCHEDULE, ("RetryAttemptsExhausted", 1, 4)]


def test_at_factor_20_a_poison_record_expires_after_its_maximum_age(runs):
    (runs_of_batches, (condition, size, count), attempts), took = runs["poison_until_expiry", 20]
    print(f"\npoison record until MaximumRecordAgeInSeconds 60: failure record after {took:.1f} s at factor 20")
    assert_poison_expires(runs_of_batches, condition, size, count, attempts)


@pytest.mark.slow
def test_a_retry_schedule_is_the_same_at_factor_1_and_20(runs):
    (schedule_1, took_1), (schedule_20, took_20) = runs["retry_schedule", 1], runs["retry_schedule", 20]
    print(f"\nretry schedule: {took_1:.1f} s at factor 1, {took_20:.1f} s at factor 20")
    assert schedule_1 == [RETRY_SCHEDULE, ("RetryAttemptsExhausted", 1, 4)]
    assert schedule_20 == schedule_1


@pytest.mark.slow
def test_a_poison_record_expires_in_the_same_sequence_at_factor_1_and_20(runs):
    (run_1, took_1), (run_20, took_20) = runs["poison_until_expiry", 1], runs["poison_until_expiry", 20]
    print(
        f"\npoison record until MaximumRecordAgeInSeconds 60: failure record after {took_1:.1f} s at factor 1,"
        f" {took_20:.1f} s at factor 20"
    )
    runs_of_batches, (condition, size, count), attempts = run_1
    assert_poison_expires(runs_of_batches, condition, size, count, attempts)
    # The retries' backoff is jittered (LocalStack's ExponentialBackoff, as AWS's is not documented), so how many
    # attempts fit in 60 s varies from run to run at any factor: the sequences agree with the runs collapsed.
    assert [batch for batch, _ in run_1[0]] == [batch for batch, _ in run_20[0]]


def raw(method: str, path: str, body: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"{endpoint_url()}{path}", data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_clock_is_off_by_default_and_set_per_mapping(resources):
    stream = resources.stream("clock")
    function = resources.function("clock", FAILS_ON_POISON)
    uuid = resources.mapping(function, stream_arn(stream), BatchSize=10)

    assert clock_of(uuid) == 1.0
    assert set_clock(uuid, 20) == 20.0
    assert clock_of(uuid) == 20.0
    assert set_clock(uuid, 1) == 1.0
    assert clock_of(uuid) == 1.0

    assert raw("GET", "/_kinesis_course/esm/no-such-mapping/clock")[0] == 404
    assert raw("PUT", f"/_kinesis_course/esm/{uuid}/clock", b'{"factor": 0.5}')[0] == 400
    assert raw("PUT", f"/_kinesis_course/esm/{uuid}/clock", b'{"speed": 2}')[0] == 400
    assert clock_of(uuid) == 1.0


RECORDS_BATCHES = """
    import base64
    import json

    def handler(event, context):
        items = [json.loads(base64.b64decode(record["kinesis"]["data"]))["i"] for record in event["Records"]]
        print("INVOKE " + json.dumps({"items": items}))
"""


def test_at_factor_20_a_batching_window_of_60_s_gathers_records_in_3_s(resources):
    stream = resources.stream("window")
    function = resources.function("window", RECORDS_BATCHES)
    uuid = resources.mapping(function, stream_arn(stream), BatchSize=100, MaximumBatchingWindowInSeconds=60)
    set_clock(uuid, 20)
    put(stream, [0, 1])
    time.sleep(0.5)
    put(stream, [2])

    # The window (60 s of the mapping's clock, 3 s of real time) gathers all three records in one batch; without
    # the clock nothing would come before a minute had passed.
    batches = wait_until(lambda: invoked(function) or None, timeout=30, what="the window's batch", interval=0.3)
    assert batches == [[0, 1, 2]]
