"""Tumbling windows (TumblingWindowInSeconds) for Kinesis event source mappings, as AWS documents them.

LocalStack 4.14 stores TumblingWindowInSeconds and ignores it. With the kit's AWS-like reading (reading.py; not with
COURSE_ESM_POLLER=localstack) the shard reader (shard_reader.py) runs the windows; this module holds the rules, as
pure functions (no LocalStack import): where a record's window lies, the event, the state in the response. Each
shard's open window lives in state.py; windows.py makes the window invocations.

AWS's rules, from the Lambda developer guide, "Implementing stateful Kinesis Data Streams processing in Lambda"
(https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html, "the windows page" below), and the
API reference, CreateEventSourceMapping (TumblingWindowInSeconds: "The duration in seconds of a processing window
for DynamoDB and Kinesis Streams event sources. A value of 0 seconds indicates no tumbling window."):

1. TumblingWindowInSeconds 1-900 turns windows on; 0 (or absent) leaves them off (API reference; the range 0-900
   is checked in validation.py).
2. "Tumbling windows are distinct time windows that open and close at regular intervals", and "each record of a
   stream belongs to a specific window" (the windows page). A record's window is found from its
   approximateArrivalTimestamp (the event's only time; AWS's example event shows a window of whole minutes,
   2020-12-09T07:04:00Z to 07:06:00Z, around records that arrived within it). AWS does not say where the
   intervals begin: the kit's choice is windows aligned to multiples of the window's length since the Unix epoch
   (UTC), per shard (every shard has the same boundaries, and its own state).
3. Every invocation of a window gets the Records, ``window`` {start, end} (ISO-8601, UTC), ``state`` (what the
   previous invocation of the window returned; {} at first), ``shardId``, ``eventSourceARN``,
   ``isFinalInvokeForWindow`` and ``isWindowTerminatedEarly`` (the windows page, example KinesisTimeWindowEvent).
   "When using tumbling windows, the Lambda function response must contain a state property. If the response does
   not contain a state property, Lambda considers this a failed invocation" (the windows page, "Aggregation and
   processing"): it is retried as a function error is (delivery.py), and ends in the on-failure destination with
   RetryAttemptsExhausted when the retries run out. The kit's choice: ``state`` must be a JSON object (null or a
   list counts as missing); the failure record's responseContext has no functionError (the function did not fail).
4. "At the end of your window, the flag isFinalInvokeForWindow is set to true to indicate that this is the final
   state and that it's ready for processing. After processing, the window completes and your final invocation
   completes, and then the state is dropped." "Your final processing is synchronously invoked. After successful
   invocation, your function checkpoints the sequence number and stream processing continues. If invocation is
   unsuccessful, your Lambda function suspends further processing until a successful invocation." (the windows
   page). So the final invocation is retried (with the usual backoff, on the course clock) until it succeeds,
   regardless of MaximumRetryAttempts and MaximumRecordAgeInSeconds, and nothing else of the shard is invoked
   meanwhile; a disable or delete of the mapping ends the retries.
   The kit's choices where AWS is silent: the final invocation carries no records (``Records: []``: every record
   is delivered in the window's ordinary invocations, the final one delivers the state); a window ends when the
   course clock has passed its end and the reader has read the shard since (a GetRecords started after the end,
   so no record of the window can still come), or when a record of a later window is read, or when the shard is
   closed (resharding: AWS says windows do not carry over); a window whose records were all filtered out still
   gets its final invocation (state {}).
5. "Your state can be a maximum of 1 MB per shard. If it exceeds that size, Lambda terminates the window early"
   (the windows page); isWindowTerminatedEarly: "Set to true if window is terminated prematurely. Subsequent
   invoke will continue the same window with a fresh state" (AWS's event types, aws-lambda-go/events
   TimeWindowProperties, also in aws_lambda_events). The kit's choices: 1 MB = 1,048,576 bytes of the state as
   compact JSON; when a response's state is larger, the window's next invocation is a final one with
   isFinalInvokeForWindow and isWindowTerminatedEarly true, carrying that (oversized) state so that no aggregate is
   lost, and after it the same window continues with {}.
6. Retries, MaximumRecordAgeInSeconds, bisection and partial batch responses apply to a window's ordinary
   invocations as to any batch (delivery.py's loop). "Lambda will process each record at least once, but doesn't
   guarantee that each record will be processed only once" (the windows page). The kit's choice: the state of a
   response that also reports batchItemFailures is kept (the retried records come again with it: at least once).
7. ParallelizationFactor with windows: AWS says nothing. The kit's choice: one window at a time per shard, its
   batches one after the other (one lane, whatever the ParallelizationFactor), so that each invocation gets the
   state the previous one returned.
8. The course clock (clock.py, a teaching device, off by default) shortens windows F times, as it does the
   batching window: with factor F a window lasts TumblingWindowInSeconds / F real seconds (aligned to multiples of
   that length), and its start and end in the event are real times.
State lives in memory per mapping and shard, as long as LocalStack runs; it outlives the poller that LocalStack
rebuilds on an update and goes with the mapping when the mapping is deleted.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

from .state import Window

__all__ = ["MAX_STATE_BYTES", "Window", "iso", "state_bytes", "state_of", "window_event", "window_length", "window_of"]

# AWS: "Your state can be a maximum of 1 MB per shard" (the windows page); the kit counts 1 MB as 1,048,576 bytes.
MAX_STATE_BYTES = 1024 * 1024


# Rules -------------------------------------------------------------------------------------------------
def window_length(seconds: int | float, clock_factor: float = 1.0) -> float:
    """A window's length in real seconds: TumblingWindowInSeconds, shortened F times by the course clock."""
    return float(seconds) / float(clock_factor or 1.0)


def window_of(arrival: float, length: float) -> tuple[float, float]:
    """The window (start, end) holding a record that arrived at ``arrival`` (Unix seconds): windows are aligned to
    multiples of ``length`` since the epoch (the kit's choice), start included, end excluded."""
    start = math.floor(arrival / length) * length
    # Floating point: keep the arrival inside [start, start + length).
    if arrival < start:
        start -= length
    elif arrival >= start + length:
        start += length
    return start, start + length


def iso(instant: float) -> str:
    """ISO-8601 in UTC, as AWS's example ("2020-12-09T07:04:00Z"); milliseconds when the instant has a fraction
    (a window shortened by the course clock)."""
    moment = datetime.fromtimestamp(instant, timezone.utc)
    if abs(instant - round(instant)) < 1e-6:
        return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def state_bytes(state: dict) -> int:
    return len(json.dumps(state, separators=(",", ":")).encode("utf-8"))


def state_of(response) -> dict | None:
    """The state a function returned, or None when the response has none (a failed invocation, rule 3)."""
    if isinstance(response, dict) and isinstance(response.get("state"), dict):
        return response["state"]
    return None


def window_event(records: list[dict], window: Window, shard_id: str, source_arn: str, final: bool, early: bool) -> dict:
    """The event of one invocation of a window, with the fields in the order of AWS's example event."""
    return {
        "Records": records,
        "window": {"start": iso(window.start), "end": iso(window.end)},
        "state": window.state,
        "shardId": shard_id,
        "eventSourceARN": source_arn,
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": early,
    }
