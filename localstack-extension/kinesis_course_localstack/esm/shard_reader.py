"""One shard's reader for a Kinesis event source mapping: reads as AWS's poller does, and invokes batch after batch.

AWS behaviours it matches (Lambda developer guide, Using Lambda with Kinesis, "Polling and batching streams", and
Lambda event source mappings, "Batching behavior"; Kinesis developer guide, GetRecords):
- each shard has its own poller, running concurrently with the others; a slow or failing shard delays no other;
- each GetRecords asks for up to 10,000 records; the poller keeps reading while it gets records and polls a shard
  with nothing new again about once per second ("at a base rate of once per second");
- the records read are cut into batches of at most BatchSize records and 6 MB (batches.py) and invoked back to
  back; the function is invoked at the first of a full batch, 6 MB, or the end of the batching window
  (MaximumBatchingWindowInSeconds), and for streams the next window begins when the previous invocation completes.
  AWS does not say when a window opens after an idle spell: here it opens when records are waiting and the
  previous invocation has completed (so a window always gathers records for its full length, or until full);
- ParallelizationFactor N: up to N batches of the shard in flight, records of one partition key in order, and the
  checkpoint moves only past records whose batches are done (state.py);
- TumblingWindowInSeconds (window_rules.py): a batch never spans two windows, each invocation carries the window's
  state, and a final invocation (no records) ends each window; one lane per shard (the kit's choice).
LocalStack 4.14 polls one shard per second in turn, asks for BatchSize records, and times the window from its
last flush, checked only when it polls that shard.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import delivery, state, window_rules, windows
from .batches import MAX_PAYLOAD_BYTES, batch_is_full, cut_batch, lane_of, record_size
from .state import Position, Window

LOG = logging.getLogger(__name__)

READ_LIMIT = 10_000  # GetRecords' maximum, what AWS's poller asks for
IDLE_POLL_S = 1.0  # a shard with nothing new is polled again after about a second
ERROR_BACKOFF_S = 1.0
# Read ahead no further than this many records not yet done (one full read): a blocked shard stops reading.
MAX_UNFINISHED = READ_LIMIT


@dataclass
class Lane:
    """The records of some partition keys, delivered one batch at a time, in order."""

    records: deque = field(default_factory=deque)  # (record, size)
    busy: bool = False
    last_completed: float | None = None  # monotonic time the previous invocation of this lane completed
    waiting_since: float | None = None  # monotonic time records began waiting (with the lane idle)
    not_before: float = 0.0  # after an unexpected error, the batch is tried again from this monotonic time


class ShardReader(threading.Thread):
    def __init__(self, poller, shard_id: str) -> None:
        super().__init__(name=f"esm-{poller.esm_uuid}-{shard_id}", daemon=True)
        self.poller = poller
        self.shard_id = shard_id
        self.mapping = poller.esm_uuid
        parameters = poller.stream_parameters
        self.batch_size = parameters.get("BatchSize", 100)
        self.window = parameters.get("MaximumBatchingWindowInSeconds", 0) or 0
        # TumblingWindowInSeconds (window_rules.py): 0 = no windows (API reference, CreateEventSourceMapping).
        settings = state.settings(poller)
        self.tumbling = int(settings.tumbling_window or 0)
        lanes = max(1, int(settings.parallelization_factor or 1))
        # AWS is silent on ParallelizationFactor with windows; the kit's choice: one lane per shard, so that every
        # invocation of a window gets the state the previous one returned (window_rules, rule 7).
        self.lanes = [Lane() for _ in range(1 if self.tumbling else lanes)]
        self.read_through = 0.0  # wall time at which the last GetRecords that answered was sent
        self.stopped = poller._is_shutdown
        self.changed = threading.Condition()
        self.unfinished: deque[str] = deque()  # sequence numbers read, not yet checkpointed, in shard order
        self.done: set[str] = set()
        self.iterator: str | None = None
        self.last_read: str | None = None
        self.shard_closed = False
        self.finished = False
        self._metadata_bytes: int | None = None

    # The thread -----------------------------------------------------------------------------------------------
    def run(self) -> None:
        previous = state.take_over(self.mapping, self.shard_id, self)
        try:
            if previous is not None:
                # The mapping's previous poller (before an update or a disable) may still finish a batch: wait for
                # it, so that this reader starts from the checkpoint that batch leaves.
                while previous.is_alive() and not self.stopped.is_set():
                    previous.join(0.2)
            if self.stopped.is_set():
                return
            with ThreadPoolExecutor(len(self.lanes), thread_name_prefix=self.name) as invokers:
                self._loop(invokers)
            # The batches still in flight when the mapping stopped have ended: move the checkpoint past the done.
            with self.changed:
                self._advance_checkpoint()
        except Exception:
            LOG.exception("The reader of %s in %s stopped", self.shard_id, self.poller.source_arn)
        finally:
            state.release(self.mapping, self.shard_id, self)

    def _loop(self, invokers: ThreadPoolExecutor) -> None:
        next_read = 0.0
        while not self.stopped.is_set():
            now = time.monotonic()
            if now >= next_read and self._may_read():
                got = self._read()
                # Keep reading while records come; a shard with nothing new is polled again in about a second.
                # The course clock (clock.py, a teaching device; factor 1 by default) polls F times as often.
                next_read = (
                    now if got else now + (IDLE_POLL_S / state.factor(self.mapping) if got == 0 else ERROR_BACKOFF_S)
                )
            with self.changed:
                self._start_ready_batches(invokers)
                self._advance_checkpoint()
                if (
                    self.shard_closed
                    and not self.unfinished
                    and not any(lane.busy for lane in self.lanes)
                    and not (self.tumbling and state.current_window(self.mapping, self.shard_id))
                ):
                    state.save(self.mapping, self.shard_id, Position(after=self.last_read, closed=True))
                    self.finished = True
                    return
                # Sleep until the next read or window end (at most a second), or until an invocation completes.
                wake = self._next_deadline(next_read if self._may_read() else None)
                timeout = IDLE_POLL_S if wake is None else min(IDLE_POLL_S, wake - time.monotonic())
                if timeout > 0:
                    self.changed.wait(timeout)

    # Reading --------------------------------------------------------------------------------------------------
    def _may_read(self) -> bool:
        return not self.shard_closed and len(self.unfinished) < MAX_UNFINISHED

    def _open_iterator(self) -> str | None:
        client = self.poller.source_client
        arguments = {"StreamARN": self.poller.source_arn, "ShardId": self.shard_id}
        if self.last_read:
            arguments.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=self.last_read)
        else:
            saved = state.position(self.mapping, self.shard_id)
            if saved and saved.closed:
                self.shard_closed = True
                return None
            if saved and saved.after:
                arguments.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=saved.after)
            elif saved and saved.at is not None:
                arguments.update(
                    ShardIteratorType="AT_TIMESTAMP", Timestamp=datetime.fromtimestamp(saved.at, timezone.utc)
                )
            else:
                start = self.poller.stream_parameters.get("StartingPosition", "TRIM_HORIZON")
                arguments["ShardIteratorType"] = start
                if start == "AT_TIMESTAMP":
                    arguments["Timestamp"] = _as_datetime(self.poller.stream_parameters["StartingPositionTimestamp"])
                elif start == "LATEST":
                    # Remember where LATEST was, so that a restart before any record is done skips nothing.
                    state.save(self.mapping, self.shard_id, Position(at=time.time()))
        return client.get_shard_iterator(**arguments)["ShardIterator"]

    def _read(self) -> int | None:
        """One GetRecords of up to 10,000 records; returns how many came, or None after an error."""
        client = self.poller.source_client
        try:
            if self.iterator is None:
                self.iterator = self._open_iterator()
                if self.iterator is None:
                    return 0
            sent = time.time()
            response = client.get_records(
                StreamARN=self.poller.source_arn, ShardIterator=self.iterator, Limit=READ_LIMIT
            )
        except Exception as error:
            # An expired or refused iterator is opened again from the last record read (or the checkpoint).
            LOG.debug("GetRecords failed on %s of %s: %s", self.shard_id, self.poller.source_arn, error)
            self.iterator = None
            return None
        records = response.get("Records", [])
        # The EventCount metrics (event_counts.py): PolledEventCount, 0 for an empty poll.
        delivery.notify("polled", self.poller, len(records))
        if not response.get("MillisBehindLatest"):
            # Caught up: every record that arrived before ``sent`` has been read, so a tumbling window that ended
            # before it can close (window_rules, rule 4). A read behind the tip (a backlog) proves nothing.
            self.read_through = sent
        self.iterator = response.get("NextShardIterator")
        if self.iterator is None:
            self.shard_closed = True
        if records:
            with self.changed:
                for record in records:
                    lane = self.lanes[lane_of(record["PartitionKey"], len(self.lanes))]
                    if not lane.records and not lane.busy:
                        lane.waiting_since = time.monotonic()
                    lane.records.append((record, self._size(record)))
                    self.unfinished.append(record["SequenceNumber"])
                self.last_read = records[-1]["SequenceNumber"]
        return len(records)

    def _size(self, record: dict) -> int:
        if self._metadata_bytes is None:
            # The metadata every record carries in the event (ARNs, ids, names), measured on the first record.
            sample = self.poller.add_source_metadata(self.poller.transform_into_events([record], self.shard_id))[0]
            whole = len(json.dumps(sample))
            self._metadata_bytes = whole - record_size(record["Data"], record["PartitionKey"], 0) + 2
        return record_size(record["Data"], record["PartitionKey"], self._metadata_bytes)

    # Invoking -------------------------------------------------------------------------------------------------
    def _ready(self, lane: Lane, now: float) -> bool:
        if lane.busy or not lane.records or now < lane.not_before:
            return False
        if self.window <= 0 or batch_is_full([size for _, size in lane.records], self.batch_size):
            return True
        return now >= self._window_end(lane)

    def _window_end(self, lane: Lane) -> float:
        opened = max(lane.waiting_since or 0.0, lane.last_completed or 0.0)
        # The course clock (clock.py, a teaching device; factor 1 by default) shortens the window F times.
        return opened + self.window / state.factor(self.mapping)

    def _next_deadline(self, next_read: float | None) -> float | None:
        deadlines = [next_read] if next_read is not None else []
        deadlines += [
            max(self._window_end(lane), lane.not_before) for lane in self.lanes if lane.records and not lane.busy
        ]
        return min(deadlines) if deadlines else None

    def _start_ready_batches(self, invokers: ThreadPoolExecutor) -> None:
        now = time.monotonic()
        for lane in self.lanes:
            if self.tumbling:
                self._start_window_work(lane, now, invokers)
                continue
            if not self._ready(lane, now):
                continue
            count = cut_batch([size for _, size in lane.records], self.batch_size, MAX_PAYLOAD_BYTES)
            batch = [lane.records.popleft()[0] for _ in range(count)]
            lane.busy = True
            invokers.submit(self._invoke, lane, batch)

    # Tumbling windows (window_rules.py, windows.py) ---------------------------------------------------------------
    def _window_length(self) -> float:
        # The course clock (clock.py, a teaching device; factor 1 by default) shortens windows F times (rule 8).
        return window_rules.window_length(self.tumbling, state.factor(self.mapping))

    def _window_over(self, window: Window) -> bool:
        # The kit's choice (window_rules, rule 4): a window is over once the shard has been read since its end (no
        # record of it can still come), or when the shard is closed.
        return self.read_through >= window.end or self.shard_closed

    def _start_window_work(self, lane: Lane, now: float, invokers: ThreadPoolExecutor) -> None:
        """One lane per shard with windows: the next invocation is the open window's final one, or a batch of records
        of one window (never two), cut as any batch (BatchSize, 6 MB, batching window)."""
        if lane.busy or now < lane.not_before:
            return
        window = state.current_window(self.mapping, self.shard_id)
        if window is not None and window.terminated_early:
            # The state went over 1 MB: the window ends early, then goes on with a fresh state (rule 5).
            self._submit_final(lane, window, True, invokers)
            return
        if not lane.records:
            if window is not None and self._window_over(window):
                self._submit_final(lane, window, False, invokers)
            return
        start, end = window_rules.window_of(_arrival(lane.records[0][0]), self._window_length())
        if window is not None and (window.start, window.end) != (start, end):
            # A record of a later window was read: the open window is over (its final invocation comes first).
            self._submit_final(lane, window, False, invokers)
            return
        if window is None:
            window = state.open_window(self.mapping, self.shard_id, start, end)
        sizes = []
        for record, size in lane.records:
            if _arrival(record) >= window.end:
                break
            sizes.append(size)
        ready = (
            self.window <= 0
            or batch_is_full(sizes, self.batch_size)
            or len(sizes) < len(lane.records)
            or self._window_over(window)
            or now >= self._window_end(lane)
        )
        if not ready:
            return
        count = cut_batch(sizes, self.batch_size, MAX_PAYLOAD_BYTES)
        batch = [lane.records.popleft()[0] for _ in range(count)]
        lane.busy = True
        invokers.submit(self._invoke, lane, batch, window)

    def _submit_final(self, lane: Lane, window: Window, early: bool, invokers: ThreadPoolExecutor) -> None:
        lane.busy = True
        invokers.submit(self._invoke_final, lane, window, early)

    def _invoke_final(self, lane: Lane, window: Window, early: bool) -> None:
        done = False
        try:
            done = windows.invoke_final(self.poller, self.shard_id, window, early)
        except Exception:
            LOG.exception("The final invocation of a window of %s failed; it will be tried again", self.shard_id)
        with self.changed:
            if done:
                state.window_finished(self.mapping, self.shard_id, window, early)
            lane.busy = False
            lane.last_completed = time.monotonic()
            if not done:
                lane.not_before = lane.last_completed + ERROR_BACKOFF_S
            lane.waiting_since = lane.last_completed if lane.records else None
            self.changed.notify_all()

    def _invoke(self, lane: Lane, batch: list[dict], window: Window | None = None) -> None:
        finished = failed = False
        try:
            if window is None:
                finished = self.poller.forward_events_to_target(self.shard_id, batch) is not False
            else:
                with windows.calling(windows.Call(window, self.shard_id, self.poller.source_arn)):
                    finished = self.poller.forward_events_to_target(self.shard_id, batch) is not False
        except Exception:
            # Not a function error (those are retried inside): e.g. the on-failure destination refused the record.
            LOG.exception("Delivering a batch from %s failed; it will be tried again", self.shard_id)
            failed = True
        with self.changed:
            lane.busy = False
            lane.last_completed = time.monotonic()
            if finished:
                self.done.update(record["SequenceNumber"] for record in batch)
            elif failed:
                lane.records.extendleft(reversed([(record, self._size(record)) for record in batch]))
                lane.not_before = lane.last_completed + ERROR_BACKOFF_S
            # else: the mapping stopped during the batch; its records stay unfinished (the next poller reads them).
            lane.waiting_since = lane.last_completed if lane.records else None
            self.changed.notify_all()

    def _advance_checkpoint(self) -> None:
        last = None
        while self.unfinished and self.unfinished[0] in self.done:
            last = self.unfinished.popleft()
            self.done.discard(last)
        if last is not None:
            state.save(self.mapping, self.shard_id, Position(after=last))


def _arrival(record: dict) -> float:
    """A record's ApproximateArrivalTimestamp as Unix seconds (GetRecords gives a datetime)."""
    value = record.get("ApproximateArrivalTimestamp")
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    return float(value or 0.0)


def _as_datetime(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromtimestamp(float(value), timezone.utc)
