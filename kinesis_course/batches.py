"""What each invocation received: one ``BATCH {json}`` log line per batch, read back from CloudWatch Logs.

A handler cannot import this package (it runs in Lambda's environment, not the notebook's), so it prints
the line itself. The line is ``BATCH `` followed by a JSON object with at least these keys:

    size           number of records in event["Records"]
    first_arrival  lowest  record["kinesis"]["approximateArrivalTimestamp"] of the batch (epoch seconds)
    last_arrival   highest record["kinesis"]["approximateArrivalTimestamp"] of the batch (epoch seconds)
    invoked_at     time.time() when the handler started (epoch seconds)

Extra keys (shardId, attempt, ...) are kept as they are. ``batch_summary`` builds exactly that object, and
a handler can carry a copy of it:

    def handler(event, context):
        invoked_at = time.time()
        arrivals = [record["kinesis"]["approximateArrivalTimestamp"] for record in event["Records"]]
        print("BATCH " + json.dumps({"size": len(arrivals), "first_arrival": min(arrivals),
                                     "last_arrival": max(arrivals), "invoked_at": invoked_at}))

In the notebook:

    batches = wait_for_batches(function_name, records=120, timeout=30)   # until 120 records were seen
    batches = read_batches(function_name)                                # what has been logged so far
    [b["invoked_at"] - b["first_arrival"] for b in batches]              # how long the oldest record waited

Both return the batches oldest first (by ``invoked_at``). Every attempt logs its own line, so a retried
batch appears once per attempt: that is what the function saw, which is the point.
"""

from __future__ import annotations

from .logs import json_lines
from .waiting import wait_until

PREFIX = "BATCH "
REQUIRED_KEYS = ("size", "first_arrival", "last_arrival", "invoked_at")


def batch_summary(event: dict, invoked_at: float) -> dict:
    """The object a handler prints after ``BATCH `` for ``event`` (a Lambda Kinesis event)."""
    arrivals = [record["kinesis"]["approximateArrivalTimestamp"] for record in event["Records"]]
    return {
        "size": len(arrivals),
        "first_arrival": min(arrivals),
        "last_arrival": max(arrivals),
        "invoked_at": invoked_at,
    }


def read_batches(function_name: str, prefix: str = PREFIX) -> list[dict]:
    """Every batch the function logged so far, oldest invocation first."""
    batches = json_lines(function_name, prefix)
    for batch in batches:
        missing = [key for key in REQUIRED_KEYS if key not in batch]
        if missing:
            raise ValueError(
                f"{function_name} logged a {prefix.strip()} line without {', '.join(missing)}: {batch}. "
                f"Print {', '.join(REQUIRED_KEYS)} (see kinesis_course.batches)."
            )
    return sorted(batches, key=lambda batch: batch["invoked_at"])


def wait_for_batches(function_name: str, records: int, timeout: float = 30, prefix: str = PREFIX) -> list[dict]:
    """Waits until the logged batches hold ``records`` records or more in total; returns them oldest first."""

    def enough():
        batches = read_batches(function_name, prefix)
        return batches if sum(batch["size"] for batch in batches) >= records else None

    return wait_until(enough, timeout=timeout, what=f"{records} records in {prefix.strip()} lines of {function_name}")
