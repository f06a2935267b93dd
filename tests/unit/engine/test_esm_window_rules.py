"""Tumbling windows' pure rules (esm/window_rules.py; AWS's rules and the kit's choices are listed there), without
LocalStack. The windows on LocalStack's poller: tests/engine/test_esm_tumbling_windows.py."""

from __future__ import annotations

from kinesis_course_localstack.esm.window_rules import (
    MAX_STATE_BYTES,
    Window,
    iso,
    state_of,
    window_event,
    window_length,
    window_of,
)


# Pure rules -----------------------------------------------------------------------------------------------------
def test_windows_are_aligned_to_multiples_of_their_length_since_the_epoch():
    # AWS: windows "open and close at regular intervals"; the alignment is the kit's choice (window_rules, rule 2).
    assert window_of(1_700_000_061.5, 60.0) == (1_700_000_040.0, 1_700_000_100.0)
    assert window_of(1_700_000_040.0, 60.0) == (1_700_000_040.0, 1_700_000_100.0)  # start included
    assert window_of(1_700_000_099.999, 60.0)[1] == 1_700_000_100.0  # end excluded
    # The course clock shortens a window F times (rule 8): 60 s at factor 20 is 3 s of real time.
    assert window_length(60, 20) == 3.0
    start, end = window_of(1_700_000_001.2, window_length(60, 20))
    assert (start, end) == (1_700_000_001.0, 1_700_000_004.0)
    # AWS's example event: "2020-12-09T07:04:00Z".
    assert iso(1607497440.0) == "2020-12-09T07:04:00Z"
    assert iso(1607497440.25) == "2020-12-09T07:04:00.250Z"


def test_a_response_must_carry_a_state_object():
    # AWS: "If the response does not contain a state property, Lambda considers this a failed invocation."
    assert state_of({"state": {"a": 1}, "batchItemFailures": []}) == {"a": 1}
    assert state_of({"state": {}}) == {}
    for response in (None, {}, {"batchItemFailures": []}, {"state": None}, {"state": [1]}, "state", []):
        assert state_of(response) is None


def test_the_event_has_the_fields_of_aws_example_window_event():
    window = Window(1607497440.0, 1607497560.0, state={"1": 282})
    event = window_event([], window, "shardId-000000000006", "arn:aws:kinesis:us-east-1:1:stream/s", True, False)
    assert list(event) == [
        "Records",
        "window",
        "state",
        "shardId",
        "eventSourceARN",
        "isFinalInvokeForWindow",
        "isWindowTerminatedEarly",
    ]
    assert event["window"] == {"start": "2020-12-09T07:04:00Z", "end": "2020-12-09T07:06:00Z"}
    assert event["state"] == {"1": 282}
    assert MAX_STATE_BYTES == 1024 * 1024  # AWS: "Your state can be a maximum of 1 MB per shard"
