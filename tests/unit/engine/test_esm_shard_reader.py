"""The shard reader's rules on a fake stream and a fake function (no LocalStack): when it invokes, where its
checkpoint is. Events, not clocks, decide the assertions: a batch is held until the test releases it."""

from __future__ import annotations

import threading
import time

from kinesis_course_localstack.esm import state as checkpoints
from kinesis_course_localstack.esm.batches import lane_of
from kinesis_course_localstack.esm.shard_reader import ShardReader

SHARD = "shardId-000000000000"


class FakeKinesis:
    """A one-shard stream: records are appended by the test; GetRecords returns what follows the iterator."""

    def __init__(self) -> None:
        self.records: list[dict] = []
        self.reads: list[int] = []  # the Limit of each GetRecords
        self.lock = threading.Lock()

    def put(self, key: str = "k", count: int = 1) -> None:
        with self.lock:
            for _ in range(count):
                self.records.append(
                    {"SequenceNumber": str(1000 + len(self.records)), "PartitionKey": key, "Data": b"{}"}
                )

    def get_shard_iterator(self, ShardIteratorType, StartingSequenceNumber=None, **_):
        if ShardIteratorType == "AFTER_SEQUENCE_NUMBER":
            return {"ShardIterator": str(int(StartingSequenceNumber) - 1000 + 1)}
        return {"ShardIterator": "0" if ShardIteratorType == "TRIM_HORIZON" else str(len(self.records))}

    def get_records(self, ShardIterator, Limit, **_):
        with self.lock:
            self.reads.append(Limit)
            start = int(ShardIterator)
            records = self.records[start : start + Limit]
            return {"Records": records, "NextShardIterator": str(start + len(records))}


class FakePoller:
    def __init__(self, uuid: str, batch_size: int = 100, window: int = 0, parallelization: int = 1) -> None:
        self.esm_uuid = uuid
        self.source_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/fake"
        self.source_client = FakeKinesis()
        self.stream_parameters = {
            "BatchSize": batch_size,
            "MaximumBatchingWindowInSeconds": window,
            "StartingPosition": "TRIM_HORIZON",
        }
        checkpoints.settings(self).parallelization_factor = parallelization
        self._is_shutdown = threading.Event()
        self.batches: list[list[str]] = []
        self.hold: dict[str, threading.Event] = {}  # a batch starting with this sequence number waits for the event
        self.lock = threading.Lock()

    def transform_into_events(self, records, shard_id):
        return [{"kinesis": {"sequenceNumber": r["SequenceNumber"]}} for r in records]

    def add_source_metadata(self, events):
        return events

    def forward_events_to_target(self, shard_id, records):
        numbers = [r["SequenceNumber"] for r in records]
        with self.lock:
            self.batches.append(numbers)
        if numbers[0] in self.hold:
            self.hold[numbers[0]].wait(10)
        return True


def start(poller: FakePoller) -> ShardReader:
    reader = ShardReader(poller, SHARD)
    reader.start()
    return reader


def wait_for(condition, what: str, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def stop(poller: FakePoller, reader: ShardReader) -> None:
    for event in poller.hold.values():
        event.set()
    poller._is_shutdown.set()
    reader.join(10)
    assert not reader.is_alive()


def test_each_read_asks_for_10000_records_and_a_backlog_goes_out_in_full_batches(request):
    poller = FakePoller(request.node.name, batch_size=100)
    poller.source_client.put(count=250)
    reader = start(poller)
    wait_for(lambda: sum(map(len, poller.batches)) == 250, "250 records")
    stop(poller, reader)

    assert set(poller.source_client.reads) == {10_000}
    assert [len(batch) for batch in poller.batches] == [100, 100, 50]
    assert checkpoints.position(request.node.name, SHARD).after == "1249"


def test_the_window_waits_unless_the_batch_is_full(request):
    poller = FakePoller(request.node.name, batch_size=3, window=300)
    poller.source_client.put(count=7)
    reader = start(poller)
    wait_for(lambda: len(poller.batches) == 2, "the two full batches")
    time.sleep(0.5)
    stop(poller, reader)

    # 6 records make two full batches at once; the 7th waits for a window of 300 s.
    assert [len(batch) for batch in poller.batches] == [3, 3]
    assert checkpoints.position(request.node.name, SHARD).after == "1005"


def test_records_put_during_an_invocation_wait_for_the_next_window_which_begins_when_it_completes(request):
    poller = FakePoller(request.node.name, batch_size=100, window=1)
    poller.source_client.put()
    release = poller.hold["1000"] = threading.Event()
    reader = start(poller)
    wait_for(lambda: poller.batches == [["1000"]], "the first window's batch")
    poller.source_client.put(count=2)
    time.sleep(1.5)  # longer than the window, but the invocation has not completed: no second batch yet
    assert poller.batches == [["1000"]]
    release.set()
    wait_for(lambda: len(poller.batches) == 2, "the second window's batch")
    stop(poller, reader)
    assert poller.batches == [["1000"], ["1001", "1002"]]


def test_the_checkpoint_never_passes_a_batch_still_in_flight(request):
    poller = FakePoller(request.node.name, batch_size=2, parallelization=2)
    other = next(key for key in "bcdefgh" if lane_of(key, 2) != lane_of("a", 2))  # "a" and "other": two lanes
    for key in ["a", other] * 3:  # a, other, a, other...: sequence numbers 1000 (a), 1001 (other), ...
        poller.source_client.put(key)
    release = poller.hold["1000"] = threading.Event()  # lane "a"'s first batch (1000, 1002) is slow
    reader = start(poller)
    # The other lane goes on meanwhile: its batches (1001, 1003) and (1005) are done while "a" is held.
    wait_for(lambda: ["1005"] in poller.batches, "the other lane's second batch")
    assert checkpoints.position(request.node.name, SHARD) is None, "1000 is not done: no checkpoint yet"
    release.set()
    wait_for(lambda: sum(map(len, poller.batches)) == 6, "all six records")
    wait_for(
        lambda: (checkpoints.position(request.node.name, SHARD) or checkpoints.Position()).after == "1005",
        "the checkpoint past every record",
    )
    stop(poller, reader)

    a_batches = [b for b in poller.batches if int(b[0]) % 2 == 0]
    assert a_batches == [["1000", "1002"], ["1004"]], "one key's records in order, one batch at a time"


def test_a_new_reader_resumes_after_the_checkpoint(request):
    poller = FakePoller(request.node.name, batch_size=10)
    poller.source_client.put(count=5)
    reader = start(poller)
    wait_for(lambda: sum(map(len, poller.batches)) == 5, "5 records")
    stop(poller, reader)

    again = FakePoller(request.node.name, batch_size=10)
    again.source_client = poller.source_client
    poller.source_client.put(count=2)
    reader = start(again)
    wait_for(lambda: sum(map(len, again.batches)) == 2, "the 2 new records")
    time.sleep(0.3)
    stop(again, reader)
    assert again.batches == [["1005", "1006"]]
