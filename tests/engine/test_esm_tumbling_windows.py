"""Tumbling windows (TumblingWindowInSeconds) on Kinesis mappings (esm/window_rules.py, esm/windows.py), against
AWS's rules (the pure rules alone: tests/unit/engine/test_esm_window_rules.py).

AWS: Lambda developer guide, "Implementing stateful Kinesis Data Streams processing in Lambda" (the windows page,
https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html); API reference, CreateEventSourceMapping.
The mappings run on the course clock (esm/clock.py, a teaching device) at factor 20: a window of 60 s lasts 3 s. No
assertion is timed: every wait is for an event (a log line, a failure record), bounded by a timeout.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from kinesis_course import client, json_lines, put_records, receive_json, wait_until
from kinesis_course.clock import set_clock
from kinesis_course_localstack.esm.window_rules import MAX_STATE_BYTES

pytestmark = pytest.mark.localstack

WINDOW_S = 60
FACTOR = 20
REAL_WINDOW_S = WINDOW_S / FACTOR

LOGGED = """
    import base64
    import hashlib
    import json
    import os


    def log(event):
        items = [json.loads(base64.b64decode(record["kinesis"]["data"]))["i"] for record in event["Records"]]
        state = event.get("state")
        size = len(json.dumps(state, separators=(",", ":"))) if state is not None else 0
        print("INVOKE " + json.dumps({
            "keys": sorted(event), "items": items,
            "arrivals": [record["kinesis"]["approximateArrivalTimestamp"] for record in event["Records"]],
            "window": event.get("window"), "state": state if size < 10000 else {"bytes": size},
            "final": event.get("isFinalInvokeForWindow"), "early": event.get("isWindowTerminatedEarly"),
            "shardId": event.get("shardId"), "arn": event.get("eventSourceARN"),
        }))
        return items, dict(state or {})
"""

SUMS = (
    LOGGED
    + """
    def handler(event, context):
        items, state = log(event)
        state["items"] = state.get("items", []) + items
        return {"state": state}
"""
)

NO_STATE = (
    LOGGED
    + """
    def handler(event, context):
        items, state = log(event)
        if event["isFinalInvokeForWindow"]:
            return {"state": state}
        return {"batchItemFailures": []}  # no state: a failed invocation
"""
)

FINAL_FAILS_TWICE = (
    LOGGED
    + """
    def handler(event, context):
        items, state = log(event)
        if event["isFinalInvokeForWindow"]:
            key = hashlib.md5((event["eventSourceARN"] + event["window"]["start"]).encode()).hexdigest()
            path = os.path.join("/tmp", "kct-final-" + key)
            failures = int(open(path).read()) if os.path.exists(path) else 0
            if failures < 2:
                with open(path, "w") as file:
                    file.write(str(failures + 1))
                raise RuntimeError("the final invocation fails")
            os.remove(path)  # leaves nothing behind in /tmp
        state["items"] = state.get("items", []) + items
        return {"state": state}
"""
)

REPORTS_2_ONCE = (
    LOGGED
    + """
    def handler(event, context):
        items, state = log(event)
        seen = state.get("items", [])
        failures = [{"itemIdentifier": record["kinesis"]["sequenceNumber"]}
                    for record, item in zip(event["Records"], items) if item == 2 and 2 not in seen]
        state["items"] = seen + items
        return {"state": state, "batchItemFailures": failures}
"""
)

BIG_STATE = (
    LOGGED
    + """
    def handler(event, context):
        items, state = log(event)
        if event["isFinalInvokeForWindow"]:
            return {"state": {}}
        return {"state": {"items": state.get("items", []) + items, "pad": "x" * (1024 * 1024 + 10)}}
"""
)


def stream_arn(name: str) -> str:
    return client("kinesis").describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def put(stream: str, items: list[int]) -> None:
    put_records(stream, [{"i": i} for i in items], partition_key=lambda i, _: "sensor-1", progress=False)


def invocations(function: str) -> list[dict]:
    return json_lines(function, "INVOKE ")


def until(function: str, condition, what: str, timeout: float = 60) -> list[dict]:
    """Waits until ``condition(invocations)`` holds; returns the invocations."""
    return wait_until(
        lambda: seen if condition(seen := invocations(function)) else None, timeout=timeout, what=what, interval=0.3
    )


def finals(seen: list[dict]) -> list[dict]:
    return [invocation for invocation in seen if invocation["final"]]


def windowed(resources, suffix: str, code: str, **parameters) -> tuple[str, str, str]:
    stream = resources.stream(suffix)
    function = resources.function(suffix, code)
    arn = stream_arn(stream)
    parameters.setdefault("TumblingWindowInSeconds", WINDOW_S)
    uuid = resources.mapping(function, arn, **parameters)
    set_clock(uuid, FACTOR)
    return stream, function, arn


def seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# Against LocalStack ---------------------------------------------------------------------------------------------
def test_state_is_carried_within_a_window_and_reset_at_the_next(resources):
    # AWS: "You can receive these records in multiple batches, each as a separate invocation. Each invocation
    # receives a state." At the window's end, isFinalInvokeForWindow is true and "then the state is dropped".
    stream, function, arn = windowed(resources, "carry", SUMS, BatchSize=2)
    put(stream, [1, 2, 3, 4])  # one PutRecords: one arrival time, one window, two batches of 2
    seen = until(function, lambda seen: finals(seen), "the first window's final invocation")
    first_window = seen[0]["window"]
    assert [(i["items"], i["state"], i["final"]) for i in seen if i["window"] == first_window] == [
        ([1, 2], {}, False),
        ([3, 4], {"items": [1, 2]}, False),
        # The final invocation comes though no new record arrived; it carries the window's state, no records.
        ([], {"items": [1, 2, 3, 4]}, True),
    ]

    put(stream, [5, 6])
    seen = until(function, lambda seen: len(finals(seen)) >= 2, "the second window's final invocation")
    later = [i for i in seen if i["window"] != first_window]
    assert seconds(later[0]["window"]["start"]) >= seconds(first_window["end"])
    # The next window starts with a fresh state.
    assert [(i["items"], i["state"], i["final"]) for i in later] == [
        ([5, 6], {}, False),
        ([], {"items": [5, 6]}, True),
    ]
    for invocation in seen:
        assert invocation["keys"] == [
            "Records",
            "eventSourceARN",
            "isFinalInvokeForWindow",
            "isWindowTerminatedEarly",
            "shardId",
            "state",
            "window",
        ]
        assert (invocation["shardId"], invocation["arn"], invocation["early"]) == ("shardId-000000000000", arn, False)


def test_window_start_and_end_are_aligned_and_cover_each_records_arrival(resources):
    # AWS: "Each record of a stream belongs to a specific window"; windows "open and close at regular intervals".
    # The kit aligns them to multiples of their length since the epoch (60 s at clock factor 20: 3 s).
    stream, function, _ = windowed(resources, "align", SUMS, BatchSize=1)
    put(stream, [1])
    until(function, lambda seen: finals(seen), "the first window's final invocation")
    put(stream, [2])
    seen = until(function, lambda seen: len(finals(seen)) >= 2, "the second window's final invocation")
    with_records = [i for i in seen if i["items"]]
    assert [i["items"] for i in with_records] == [[1], [2]]
    for invocation in seen:
        start, end = seconds(invocation["window"]["start"]), seconds(invocation["window"]["end"])
        assert end - start == pytest.approx(REAL_WINDOW_S)
        assert start / REAL_WINDOW_S == pytest.approx(round(start / REAL_WINDOW_S), abs=1e-6)
        for arrival in invocation["arrivals"]:
            assert start <= arrival < end
    # Each window's final invocation comes after its records, and has the window of its records.
    assert [i["window"] for i in finals(seen)] == [i["window"] for i in with_records]


def test_a_response_without_state_is_a_failed_invocation(resources):
    # AWS: "If the response does not contain a state property, Lambda considers this a failed invocation": retried,
    # then described in the on-failure destination once MaximumRetryAttempts are used up.
    queue_url, queue_arn = resources.queue("nostate-failures")
    stream, function, _ = windowed(
        resources,
        "nostate",
        NO_STATE,
        BatchSize=10,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    put(stream, [1, 2])
    failures = receive_json(queue_url, expected=1, timeout=60)
    assert len(failures) == 1, "no failure record arrived"
    context, info = failures[0]["requestContext"], failures[0]["KinesisBatchInfo"]
    assert (context["condition"], context["approximateInvokeCount"], info["batchSize"]) == (
        "RetryAttemptsExhausted",
        2,
        2,
    )
    seen = until(function, lambda seen: finals(seen), "the window's final invocation")
    # The first try and one retry, each with the window's first state (a failed invocation's state is not kept);
    # then the window ends as any window does.
    assert [(i["items"], i["state"], i["final"]) for i in seen] == [
        ([1, 2], {}, False),
        ([1, 2], {}, False),
        ([], {}, True),
    ]


def test_a_failing_final_invocation_holds_the_shard_until_it_succeeds(resources):
    # AWS: "If invocation is unsuccessful, your Lambda function suspends further processing until a successful
    # invocation." The handler fails each window's final invocation twice.
    stream, function, _ = windowed(resources, "hold", FINAL_FAILS_TWICE, BatchSize=10, MaximumRetryAttempts=0)
    put(stream, [1])
    until(function, lambda seen: finals(seen), "the first try of the final invocation")
    put(stream, [2])  # a later window: invoked only once the first window's final invocation succeeded
    seen = until(function, lambda seen: [2] in [i["items"] for i in seen], "the record of the next window")
    first_window = seen[0]["window"]
    assert [(i["window"] == first_window, i["items"], i["state"], i["final"]) for i in seen] == [
        (True, [1], {}, False),
        # Retried with the same state, past MaximumRetryAttempts 0, until it succeeds.
        (True, [], {"items": [1]}, True),
        (True, [], {"items": [1]}, True),
        (True, [], {"items": [1]}, True),
        (False, [2], {}, False),
    ]


def test_a_state_over_1_mb_ends_the_window_early(resources):
    # AWS: "Your state can be a maximum of 1 MB per shard. If it exceeds that size, Lambda terminates the window
    # early"; isWindowTerminatedEarly: "Subsequent invoke will continue the same window with a fresh state".
    stream, function, _ = windowed(resources, "big", BIG_STATE, BatchSize=10)
    put(stream, [1])
    seen = until(function, lambda seen: len(finals(seen)) >= 2, "the early and the regular final invocations")
    assert len({json.dumps(i["window"]) for i in seen}) == 1  # one window
    summary = [(i["items"], i["final"], i["early"]) for i in seen]
    assert summary == [([1], False, False), ([], True, True), ([], True, False)]
    assert seen[1]["state"]["bytes"] > MAX_STATE_BYTES  # the oversized state reaches the early final invocation
    assert seen[2]["state"] == {}  # then the same window goes on with a fresh state


def test_a_partial_batch_response_retries_from_the_reported_record_with_the_returned_state(resources):
    # AWS: partial batch responses apply ("batchItemFailures" in TimeWindowEventResponse) and "Lambda will process
    # each record at least once"; keeping the state of a response that reports failures is the kit's choice.
    stream, function, _ = windowed(
        resources, "partial", REPORTS_2_ONCE, BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    put(stream, [1, 2, 3])
    seen = until(function, lambda seen: finals(seen), "the window's final invocation")
    assert [(i["items"], i["state"], i["final"]) for i in seen] == [
        ([1, 2, 3], {}, False),
        ([2, 3], {"items": [1, 2, 3]}, False),  # from the reported record on, with the state returned
        ([], {"items": [1, 2, 3, 2, 3]}, True),  # at least once: 2 and 3 were processed twice
    ]


def test_with_windows_a_shard_invokes_one_batch_at_a_time_whatever_the_parallelization_factor(resources):
    # AWS is silent on ParallelizationFactor with windows; the kit's choice: one lane per shard, so that each
    # invocation gets the state the previous one returned.
    stream, function, _ = windowed(resources, "lanes", SUMS, BatchSize=1, ParallelizationFactor=3)
    put_records(stream, [{"i": i} for i in (1, 2, 3)], partition_key=lambda index, _: f"key-{index}", progress=False)
    seen = until(function, lambda seen: finals(seen), "the window's final invocation")
    assert [(i["items"], i["state"], i["final"]) for i in seen] == [
        ([1], {}, False),
        ([2], {"items": [1]}, False),
        ([3], {"items": [1, 2]}, False),
        ([], {"items": [1, 2, 3]}, True),
    ]


def test_without_windows_the_event_has_no_window_fields(resources):
    # API reference: "A value of 0 seconds indicates no tumbling window."
    stream = resources.stream("off")
    function = resources.function("off", SUMS)
    resources.mapping(function, stream_arn(stream), BatchSize=10, TumblingWindowInSeconds=0)
    put(stream, [1, 2])
    seen = until(function, lambda seen: seen, "the batch")
    assert [(i["keys"], i["items"]) for i in seen] == [(["Records"], [1, 2])]
