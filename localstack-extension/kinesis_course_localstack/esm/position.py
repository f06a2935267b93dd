"""Where a stream event source mapping stands on each shard, served on LocalStack's gateway (issue 11).

    GET /_kinesis_course/esm/<UUID>/position
    -> {"uuid": ..., "shards": {"shardId-...": {"checkpoint": "<seq>" | null,
                                               "in_flight": null | {"first", "last", "size", "attempt", "bisecting",
                                                                    "batch": {"first", "last", "size"}},
                                               "batches_in_flight": n,
                                               "behind": <records after the checkpoint> | null}}}

AWS shows none of this (a mapping's position per shard is internal to Lambda; IteratorAge is the only outside
sign of it): the view is the kit's teaching device, and it describes the kit's poller, not AWS's internals.

- ``checkpoint``: the last sequence number the mapping is done with (state.py), null before any.
- ``in_flight``: the part of a batch being delivered now: the records of the current attempt (first, last, size),
  the attempt number of that part (1 = first try; as approximateInvokeCount counts it, so a partial batch response
  that moves the checkpoint starts the records retried at 1 again), and whether the batch was split by
  BisectBatchOnFunctionError; ``batch`` is the whole batch as read. With ParallelizationFactor > 1, the oldest of
  the shard's batches in flight (``batches_in_flight`` counts them).
- ``behind``: records in the shard after the checkpoint (read and not done, plus not yet read), counted when the
  view is asked for (a few GetRecords from the last record read); null when the mapping has no reader on the
  shard (disabled, or LocalStack's own poller with COURSE_ESM_POLLER=localstack).

The batches in flight are kept in state.py by ``FlightTracker``, an observer of the delivery loop (delivery.py).
Cost when unused: the delivery path updates a small dict per batch and per attempt; nothing is read or computed
until the endpoint is called. ``COURSE_ESM_POSITION=off`` leaves the observer and the endpoint out (switches.py).
"""

from __future__ import annotations

import json
import logging

from . import state
from .delivery import Delivery, DeliveryObserver
from .state import Flight

LOG = logging.getLogger(__name__)

PATH = "/_kinesis_course/esm/<uuid>/position"
COUNT_READS = 5  # GetRecords calls (10,000 records each) at most when counting the records not yet read


# Tracking (an observer of the delivery loop) -------------------------------------------------------------------
def _record_sequence(record: dict) -> str | None:
    if "SequenceNumber" in record:
        return record["SequenceNumber"]
    return (record.get("dynamodb") or {}).get("SequenceNumber")


class FlightTracker(DeliveryObserver):
    """Keeps each delivery's batch in flight in state.py: the batch as read, the part being tried, its attempt."""

    def batch_started(self, delivery: Delivery, records: list[dict]) -> None:
        flight = Flight(_record_sequence(records[0]), _record_sequence(records[-1]), len(records))
        state.start_flight(delivery.mapping, delivery.shard_id, delivery.key, flight)

    def segment_started(self, delivery: Delivery, events: list[dict]) -> None:
        if (flight := self._flight(delivery)) is not None and events:
            poller = delivery.poller
            flight.first, flight.last = poller.get_sequence_number(events[0]), poller.get_sequence_number(events[-1])
            flight.size, flight.attempt = len(events), 0

    def sending(self, delivery: Delivery, events: list[dict], attempt: int) -> None:
        if (flight := self._flight(delivery)) is not None:
            # After a partial batch response the retry starts at the first failed record: the part shrinks.
            poller = delivery.poller
            flight.first, flight.last = poller.get_sequence_number(events[0]), poller.get_sequence_number(events[-1])
            flight.size = len(events)
            # The attempt as AWS counts it (approximateInvokeCount): after a partial batch response that moved the
            # checkpoint, the records retried are a new batch, at attempt 1 again (attempts.py).
            flight.attempt = attempt

    def segment_bisected(self, delivery: Delivery) -> None:
        if (flight := self._flight(delivery)) is not None:
            flight.bisecting = True

    def batch_ended(self, delivery: Delivery) -> None:
        state.end_flight(delivery.mapping, delivery.shard_id, delivery.key)

    @staticmethod
    def _flight(delivery: Delivery) -> Flight | None:
        return state.flight(delivery.mapping, delivery.shard_id, delivery.key)


# The view -----------------------------------------------------------------------------------------------------
def position(mapping: str) -> dict:
    saved = state.positions_of(mapping)
    readers = state.readers_of(mapping)
    flights = state.flights_of(mapping)
    shards = {}
    for shard_id in sorted(set(saved) | set(readers) | set(flights)):
        point = saved.get(shard_id)
        checkpoint = point.after if point else None
        in_flight = None
        batches = flights.get(shard_id, [])
        if batches:
            oldest = min(batches, key=lambda flight: int(flight.batch_first or 0))
            in_flight = {
                "first": oldest.first or oldest.batch_first,
                "last": oldest.last or oldest.batch_last,
                "size": oldest.size or oldest.batch_size,
                "attempt": oldest.attempt,
                "bisecting": oldest.bisecting,
                "batch": {"first": oldest.batch_first, "last": oldest.batch_last, "size": oldest.batch_size},
            }
        shards[shard_id] = {
            "checkpoint": checkpoint,
            "in_flight": in_flight,
            "batches_in_flight": len(batches),
            "behind": _behind(readers.get(shard_id), point),
        }
    return {"uuid": mapping, "shards": shards}


def _behind(reader, point) -> int | None:
    """Records after the checkpoint: those the reader holds (read, not done) plus those it has not read yet."""
    if reader is None or not reader.is_alive() or getattr(reader, "finished", False):
        if point is not None and point.closed:
            return 0
        return None
    held = len(reader.unfinished)
    last_read = reader.last_read or (point.after if point else None)
    if last_read is None:
        return held if held else None
    if reader.shard_closed:
        return held
    try:
        return held + _count_after(reader.poller, reader.shard_id, last_read)
    except Exception as error:
        LOG.debug("Counting the records after %s failed: %s", last_read, error)
        return None


def _count_after(poller, shard_id: str, sequence_number: str) -> int:
    client = poller.source_client
    iterator = client.get_shard_iterator(
        StreamARN=poller.source_arn,
        ShardId=shard_id,
        ShardIteratorType="AFTER_SEQUENCE_NUMBER",
        StartingSequenceNumber=sequence_number,
    )["ShardIterator"]
    count = 0
    for _ in range(COUNT_READS):
        response = client.get_records(StreamARN=poller.source_arn, ShardIterator=iterator, Limit=10_000)
        count += len(response.get("Records", []))
        iterator = response.get("NextShardIterator")
        if not iterator or (not response.get("Records") and not response.get("MillisBehindLatest")):
            break
    return count


def serve_position(request, uuid: str):
    from localstack.http import Response

    return Response(json.dumps(position(uuid)), status=200, mimetype="application/json")
