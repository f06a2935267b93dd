"""What each invocation received, read back from the function's ``BATCH {json}`` log lines.

A handler cannot import this package (it runs in Lambda's environment, not the notebook's), so it prints one
line per invocation itself. The course's handler (lesson 03 on) prints::

    BATCH {"shardId": "shardId-000000000000", "sequenceNumbers": ["4968...", ...]}

``read_batches`` turns those lines into one dict per invocation, oldest first, with the line's own keys and:

    size           len(sequenceNumbers)
    invoked_at     when the function logged the line (the CloudWatch Logs event's timestamp, epoch seconds):
                   the invocation's time, give or take the function's own run time
    first_arrival  lowest  ApproximateArrivalTimestamp of the batch's records (epoch seconds), when
    last_arrival   highest ApproximateArrivalTimestamp                          the stream is given

The arrival times come from the stream itself (GetRecords on each shard): Kinesis stamps every record when it
stores it, and the sequence numbers in the line say which records the batch held. So ``invoked_at -
first_arrival`` is how long a batch's oldest record waited before the function saw it. Kinesis and the function
run on the same machine here, so their clocks agree.

    batches = wait_for_batches(function_name, stream_name, records=120, timeout=60)
    [b["invoked_at"] - b["first_arrival"] for b in batches]

Every attempt logs its own line, so a retried batch appears once per attempt: that is what the function saw.
A line may also carry ``size``, ``first_arrival``, ``last_arrival`` or ``invoked_at`` itself; those win.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

from .logs import log_events
from .streams import put_records, read_records, shard_ids
from .waiting import wait_until

PREFIX = "BATCH "


def batch_lines(function_name: str, prefix: str = PREFIX) -> list[dict]:
    """The function's BATCH lines as dicts, oldest first, with ``size`` and ``invoked_at`` added."""
    batches = []
    for event in log_events(function_name):
        message = event["message"].rstrip("\n")
        if not message.startswith(prefix):
            continue
        batch = json.loads(message[len(prefix) :])
        if "size" not in batch:
            if "sequenceNumbers" not in batch:
                raise ValueError(
                    f"{function_name} logged a {prefix.strip()} line without sequenceNumbers: {batch}. "
                    "Print the batch's sequence numbers (see kinesis_course.batches)."
                )
            batch["size"] = len(batch["sequenceNumbers"])
        batch.setdefault("invoked_at", event["timestamp"] / 1000)
        batches.append(batch)
    return sorted(batches, key=lambda batch: batch["invoked_at"])


def arrival_times(stream_name: str) -> dict[str, float]:
    """{sequence number: ApproximateArrivalTimestamp in epoch seconds} of every record of the stream."""
    return {
        record["SequenceNumber"]: record["ApproximateArrivalTimestamp"].timestamp()
        for shard_id in shard_ids(stream_name)
        for record in read_records(stream_name, shard_id)
    }


def with_arrivals(batches: list[dict], arrivals: dict[str, float]) -> list[dict]:
    """The batches with ``first_arrival`` and ``last_arrival`` looked up in ``arrivals`` (see arrival_times)."""
    joined = []
    for batch in batches:
        times = [arrivals[sequence] for sequence in batch.get("sequenceNumbers", []) if sequence in arrivals]
        if times:
            batch = {"first_arrival": min(times), "last_arrival": max(times), **batch}
        joined.append(batch)
    return joined


def read_batches(function_name: str, stream_name: str | None = None, prefix: str = PREFIX) -> list[dict]:
    """Every batch the function logged so far, oldest first; with ``stream_name``, with arrival times too."""
    batches = batch_lines(function_name, prefix)
    return with_arrivals(batches, arrival_times(stream_name)) if stream_name else batches


def wait_for_batches(
    function_name: str,
    stream_name: str | None = None,
    records: int = 1,
    timeout: float = 60,
    prefix: str = PREFIX,
    since: float | None = None,
) -> list[dict]:
    """Waits until the logged batches hold ``records`` records or more in total; returns them as read_batches does.

    With ``since`` (epoch seconds), only the batches logged from then on count, e.g. after first_delivery.
    """

    def enough():
        batches = [
            batch for batch in batch_lines(function_name, prefix) if since is None or batch["invoked_at"] >= since
        ]
        return batches if sum(batch["size"] for batch in batches) >= records else None

    batches = wait_until(
        enough, timeout=timeout, what=f"{records} records in {prefix.strip()} lines of {function_name}", interval=0.5
    )
    return with_arrivals(batches, arrival_times(stream_name)) if stream_name else batches


def first_delivery(records: dict[str, dict], timeout: float = 60) -> None:
    """Puts one record on each stream and waits until its function has logged a batch.

    ``records`` maps a name to the record (a JSON document) for the stream of that name, read by the function of the
    same name through its mapping. Once every function has logged a batch, every mapping is reading its shards and
    every function has had its cold start (lesson 02's ``Init Duration``): a measurement started afterwards measures
    batching, not a poller's first read or a process starting. Give wait_for_batches a ``since`` taken afterwards,
    so that these first batches are left out.
    """

    def deliver(name: str) -> None:
        put_at = time.time()
        put_records(name, [records[name]], progress=False)
        wait_for_batches(name, records=1, timeout=timeout, since=put_at)

    with ThreadPoolExecutor(max(1, len(records))) as pool:
        list(pool.map(deliver, records))
