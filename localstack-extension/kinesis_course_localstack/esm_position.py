"""Where a stream event source mapping stands on each shard, served on LocalStack's gateway (issue 11).

    GET /_kinesis_course/esm/<UUID>/position
    -> {"uuid": ..., "shards": {"shardId-...": {"checkpoint": "<seq>" | null,
                                               "in_flight": null | {"first", "last", "size", "attempt", "bisecting",
                                                                    "batch": {"first", "last", "size"}},
                                               "batches_in_flight": n,
                                               "behind": <records after the checkpoint> | null}}}

AWS shows none of this (a mapping's position per shard is internal to Lambda; IteratorAge is the only outside
sign of it): the view is the kit's teaching device, and it describes the kit's poller, not AWS's internals.

- ``checkpoint``: the last sequence number the mapping is done with (esm_checkpoints), null before any.
- ``in_flight``: the part of a batch being delivered now: the records of the current attempt (first, last, size),
  the attempt number of that part (1 = first try; as approximateInvokeCount counts it, so a partial batch response
  that moves the checkpoint starts the records retried at 1 again), and whether the batch was split by
  BisectBatchOnFunctionError; ``batch`` is the whole batch as read. With ParallelizationFactor > 1, the oldest of
  the shard's batches in flight (``batches_in_flight`` counts them).
- ``behind``: records in the shard after the checkpoint (read and not done, plus not yet read), counted when the
  view is asked for (a few GetRecords from the last record read); null when the mapping has no reader on the
  shard (disabled, or LocalStack's own poller with COURSE_ESM_POLLER=localstack).

Cost when unused: the delivery path updates a small dict per batch and per attempt; nothing is read or computed
until the endpoint is called.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass

from . import esm_checkpoints as checkpoints

LOG = logging.getLogger(__name__)

PATH = "/_kinesis_course/esm/<uuid>/position"
COUNT_READS = 5  # GetRecords calls (10,000 records each) at most when counting the records not yet read


@dataclass
class Flight:
    """One batch being delivered by one thread of a mapping's poller."""

    batch_first: str | None
    batch_last: str | None
    batch_size: int
    first: str | None = None
    last: str | None = None
    size: int = 0
    attempt: int = 0
    bisecting: bool = False


_lock = threading.Lock()
_flights: dict[tuple[str, str], dict[int, Flight]] = {}  # (mapping, shard) -> {id(flight): flight}
_local = threading.local()  # the poller, shard and flight of the batch this thread is delivering


@dataclass(frozen=True)
class Delivery:
    poller: object
    mapping: str
    shard_id: str
    flight: Flight


# Called with (processor, delivery, events) just before each attempt sends a stream batch (esm_metrics adds one).
ON_SEND: list = []


def current() -> Delivery | None:
    """The batch the calling thread is delivering (for esm_metrics), or None outside a stream mapping's delivery."""
    return getattr(_local, "delivery", None)


def apply_position_view() -> None:
    from .esm_metrics import enabled

    if not enabled():
        return
    from localstack.services.edge import ROUTER
    from localstack.services.lambda_.event_source_mapping.esm_event_processor import EsmEventProcessor
    from localstack.services.lambda_.event_source_mapping.pollers.stream_poller import StreamPoller
    from localstack.utils.patch import Patch

    from . import esm_parity

    # Wraps what is there now (esm_parity's delivery with AWS's retry rules). Patch(...) by name: Patch.function
    # would find the already patched function's own module and name, and patch that instead.
    forward = StreamPoller.forward_events_to_target
    process_events_batch = EsmEventProcessor.process_events_batch
    Patch(StreamPoller, "forward_events_to_target",
          lambda self, *args, **kwargs: _track_batch(forward, self, *args, **kwargs)).apply()
    Patch(EsmEventProcessor, "process_events_batch",
          lambda self, *args, **kwargs: _count_attempt(process_events_batch, self, *args, **kwargs)).apply()
    deliver_segment = esm_parity._deliver_segment
    if not getattr(deliver_segment, "_course_position", False):
        esm_parity._deliver_segment = _tracking_segments(deliver_segment)
    ROUTER.add(PATH, _serve_position, methods=["GET"])
    LOG.info("kinesis-course: position view on GET %s", PATH)


# Tracking (the delivery path) ---------------------------------------------------------------------------------
def _record_sequence(record: dict) -> str | None:
    if "SequenceNumber" in record:
        return record["SequenceNumber"]
    return (record.get("dynamodb") or {}).get("SequenceNumber")


def _track_batch(forward, self, shard_id, records, *args, **kwargs):
    mapping = getattr(self, "esm_uuid", None)
    if not mapping or not records:
        return forward(self, shard_id, records, *args, **kwargs)
    flight = Flight(_record_sequence(records[0]), _record_sequence(records[-1]), len(records))
    key = (mapping, shard_id)
    with _lock:
        _flights.setdefault(key, {})[id(flight)] = flight
    _local.delivery = Delivery(self, mapping, shard_id, flight)
    try:
        return forward(self, shard_id, records, *args, **kwargs)
    finally:
        _local.delivery = None
        with _lock:
            batches = _flights.get(key, {})
            batches.pop(id(flight), None)
            if not batches:
                _flights.pop(key, None)


def _tracking_segments(deliver_segment):
    def deliver(self, shard_id, events, bisect):
        delivery = current()
        if delivery is not None and events:
            flight = delivery.flight
            flight.first, flight.last = self.get_sequence_number(events[0]), self.get_sequence_number(events[-1])
            flight.size, flight.attempt = len(events), 0
        halves = deliver_segment(self, shard_id, events, bisect)
        if delivery is not None and halves:
            delivery.flight.bisecting = True
        return halves

    deliver._course_position = True
    return deliver


def _count_attempt(process_events_batch, self, input_events, *args, **kwargs):
    delivery = current()
    if delivery is not None and isinstance(input_events, list) and input_events:
        flight, poller = delivery.flight, delivery.poller
        try:
            # After a partial batch response the retry starts at the first failed record: the part shrinks.
            flight.first = poller.get_sequence_number(input_events[0])
            flight.last = poller.get_sequence_number(input_events[-1])
            flight.size = len(input_events)
        except Exception:
            pass
        from .esm_parity import attempt_number

        # esm_parity numbers the attempts as AWS counts them (approximateInvokeCount): after a partial batch
        # response that moved the checkpoint, the records retried are a new batch, at attempt 1 again (esm_attempts).
        number = attempt_number()
        flight.attempt = number if number is not None else flight.attempt + 1
        for hook in ON_SEND:
            try:
                hook(self, delivery, input_events)
            except Exception as error:
                LOG.debug("A hook on sending a batch failed: %s", error)
    return process_events_batch(self, input_events, *args, **kwargs)


# The view -----------------------------------------------------------------------------------------------------
def position(mapping: str) -> dict:
    with checkpoints._lock:
        saved = dict(checkpoints._positions.get(mapping, {}))
        readers = {shard: reader for (uuid, shard), reader in checkpoints._readers.items() if uuid == mapping}
    with _lock:
        flights = {shard: list(batches.values()) for (uuid, shard), batches in _flights.items() if uuid == mapping}
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
    iterator = client.get_shard_iterator(StreamARN=poller.source_arn, ShardId=shard_id,
                                         ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                         StartingSequenceNumber=sequence_number)["ShardIterator"]
    count = 0
    for _ in range(COUNT_READS):
        response = client.get_records(StreamARN=poller.source_arn, ShardIterator=iterator, Limit=10_000)
        count += len(response.get("Records", []))
        iterator = response.get("NextShardIterator")
        if not iterator or (not response.get("Records") and not response.get("MillisBehindLatest")):
            break
    return count


def _serve_position(request, uuid: str):
    from localstack.http import Response

    return Response(json.dumps(position(uuid)), status=200, mimetype="application/json")
