"""Lesson 08's harness: a steady producer, a slow-handler wrapper, and IteratorAge read from CloudWatch.

The notebook keeps its cells short: the loops that put records at a steady rate, read the metrics and the
position view, and draw the curves live here. Every figure is in real seconds and milliseconds, also when a
mapping's course clock runs faster (the clock scales the mapping's record age, backoff, window and polling only).

Whether a load makes a mapping fall behind depends on the machine: a slow or busy laptop moves fewer records a
second. So the lesson measures first what an invocation and a record cost on this machine (``measure_costs``) and
sizes each case's load from that, so that its story (this copy falls behind, the fixed one keeps up) holds on a
laptop twice as slow as the one the lesson was written on.
"""

from __future__ import annotations

import json
import math
import statistics
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .endpoint import client
from .waiting import wait_until

# A wrapper deployed next to handler.py (handler setting "slow.handler"): the course's handler, unchanged, made
# slower by SLOW_MS_PER_RECORD milliseconds per record, as a handler calling a slow API would be.
SLOW_WRAPPER = '''"""The course's handler, SLOW_MS_PER_RECORD milliseconds slower per record (lesson 08)."""
import os
import time

import handler as course_handler


def handler(event, context):
    if not event.get("Records"):
        return {"warmed": True}  # the harness starts the execution environments before a measurement
    delay = float(os.environ.get("SLOW_MS_PER_RECORD") or 0) / 1000
    time.sleep(delay * len(event["Records"]))
    return course_handler.handler(event, context)
'''


def add_slow_wrapper(build_dir: str | Path) -> Path:
    path = Path(build_dir) / "slow.py"
    path.write_text(SLOW_WRAPPER)
    return path


def reading(index: int, sensor: str) -> dict:
    return {
        "reading_id": f"r-{index:06d}",
        "sensor": sensor,
        "temperature": 20 + index % 10,
        "unit": "C",
        "humidity": 50,
    }


class Producer(threading.Thread):
    """Puts ``per_second`` readings a second on ``stream`` for ``seconds``, in ticks of a quarter of a second.

    ``sensors`` is the list of partition keys used in turn. ``poison_at`` (indexes) puts a record that is not JSON
    there instead of a reading. The rate is kept on average (5.5 a second: 1, 2, 1, 2... a tick).
    """

    TICK_S = 0.25

    def __init__(
        self,
        stream: str,
        per_second: float,
        seconds: float,
        sensors: list[str],
        start_index: int = 0,
        poison_at: tuple[int, ...] = (),
    ) -> None:
        super().__init__(daemon=True)
        self.stream, self.per_second, self.seconds, self.sensors = stream, per_second, seconds, sensors
        self.index, self.poison_at, self.put = start_index, set(poison_at), 0

    def run(self) -> None:
        kinesis = client("kinesis")
        begin = time.monotonic()
        while True:
            # What is due by the end of this tick, from the clock: when PutRecords is slow (a busy laptop), the next
            # call carries more records, so the rate and the length of the load stay as asked.
            elapsed = time.monotonic() - begin
            due = round(self.per_second * min(elapsed + self.TICK_S, self.seconds)) - self.put
            entries = []
            for _ in range(max(0, due)):
                sensor = self.sensors[self.index % len(self.sensors)]
                data = (
                    b"{not json" if self.index in self.poison_at else json.dumps(reading(self.index, sensor)).encode()
                )
                entries.append({"Data": data, "PartitionKey": sensor})
                self.index += 1
            for first in range(0, len(entries), 500):  # PutRecords takes up to 500 records
                kinesis.put_records(StreamName=self.stream, Records=entries[first : first + 500])
            self.put += len(entries)
            if elapsed + self.TICK_S >= self.seconds:
                return
            time.sleep(max(0.0, self.TICK_S - (time.monotonic() - begin - elapsed)))


@dataclass(frozen=True)
class Costs:
    """What this machine measured, in milliseconds: one invocation's own cost (Lambda's and LocalStack's, whatever
    the batch), and the course's handler per record (mostly its DynamoDB write)."""

    invocation_ms: float
    record_ms: float

    def shard_rate(self, batch_size: int, slower_by_ms: float = 0.0) -> float:
        """The most records a second one shard moves: full batches of ``batch_size``, one batch at a time."""
        return 1000 * batch_size / (self.invocation_ms + batch_size * (self.record_ms + slower_by_ms))

    def slow_api_ms(self) -> int:
        """The slow API's delay per record: 250 ms, or five times the handler's own cost when that is more (a very
        slow machine), so that the delay, not the machine, sets the slow handler's pace."""
        return max(250, 50 * math.ceil(5 * self.record_ms / 50))

    def __str__(self) -> str:
        return (
            f"On this machine, just now: an invocation costs {self.invocation_ms:.0f} ms of its own, and the "
            f"handler {self.record_ms:.0f} ms per record."
        )


def measure_costs(lesson, function: str, batch_size: int = 1, batches: int = 20, timeout: float = 300) -> Costs:
    """Times a mapping of ``function`` (the course's handler, not slowed) draining ``batches`` full batches of
    ``batch_size`` readings from a stream of one shard.

    The records are all on the stream before the mapping starts, so the batches run back to back. The handler's
    time per record is its Duration (Lambda's metric) over the batch size; the invocation's own cost is what each
    batch took beyond that, from the first batch done to the last (the mapping's start and first poll not counted).
    """
    from .mappings import create_mapping
    from .position import mapping_position
    from .streams import ensure_stream

    stream = lesson.name("cost")
    arn = ensure_stream(stream, shards=1)
    readings = [
        dict(reading(index, "sensor-cost"), reading_id=f"cost-{index:06d}") for index in range(batch_size * batches)
    ]
    for first in range(0, len(readings), 500):  # PutRecords takes up to 500 records
        client("kinesis").put_records(
            StreamName=stream,
            Records=[
                {"Data": json.dumps(item).encode(), "PartitionKey": "sensor-cost"}
                for item in readings[first : first + 500]
            ],
        )
    start = _now()
    uuid = create_mapping(function, arn, BatchSize=batch_size, FunctionResponseTypes=["ReportBatchItemFailures"])
    try:
        # When the checkpoint moves, and how many records it moved past: a moment of load elsewhere on the
        # machine slows a few batches only, so the median of the time per batch is not thrown by it.
        moves, seen, last, first = [], 0, None, None
        deadline = time.monotonic() + timeout
        while seen < len(readings):
            shard = next(iter(mapping_position(uuid)["shards"].values()), {})
            now = time.monotonic()
            if shard.get("checkpoint") and shard.get("behind") is not None:
                done = len(readings) - shard["behind"]
                if done > seen:
                    if last is not None:
                        moves.append((now - last) / ((done - seen) / batch_size))
                    seen, last = done, now
                    first = first or now
            if now > deadline:
                raise TimeoutError(
                    f"the mapping of {function} did not read its {len(readings)} records in "
                    f"{timeout:g} s: is the machine very busy? Run the cell again."
                )
            time.sleep(0.02)
    finally:
        client("lambda").delete_event_source_mapping(UUID=uuid)  # lesson.reset() waits for it to go
    # Each move is a batch or more; a machine too fast for the polls to see them apart: the whole drain's average.
    batch_ms = 1000 * (statistics.median(moves) if len(moves) >= 5 else (last - first) / max(1, batches - 1))
    end = _now() + timedelta(seconds=1)
    wait_until(
        lambda: _samples(function, "Duration", start, end) >= batches,
        timeout=60,
        what=f"the Duration of {batches} invocations of {function} in CloudWatch",
    )
    record_ms = metric_total(function, "Duration", start, end, "Average") / batch_size
    return Costs(invocation_ms=max(1.0, batch_ms - batch_size * record_ms), record_ms=record_ms)


# The kit's choice, not AWS's: a case whose story does not hold (the copy as set up falls behind for its cause, the
# fixed copy keeps up) runs once more when its handler took this many times longer per record than measure_costs
# found at the lesson's start. Soaked with every core busy (make soak NB=08 LOAD=1), the runs whose story held took
# up to 2 times longer; the two that failed, 2.5 times (the poison case's fixed copy, an IteratorAge of 2.2 s at
# its end) and 10 times (the fixed copy of "batches too small", 7 s per invocation: LocalStack paused).
RERUN_SLOWDOWN = 1.5


def ms_per_record(summary: dict) -> float | None:
    """The handler's time per record over a stretch: Duration / (records delivered / Invocations)."""
    delivered = sum(summary["records_by_shard"].values())
    if not delivered or not summary["invocations"]:
        return None
    return summary["duration_ms"] / (delivered / summary["invocations"])


def slowdown(summary: dict, expected_ms: float) -> float:
    """How many times ``expected_ms`` (what measure_costs found, plus any slow API) the handler took per record."""
    return (ms_per_record(summary) or 0.0) / expected_ms


def slowed_by_ms(function: str) -> float:
    """The slow API's delay per record that the slow wrapper adds to ``function`` (SLOW_MS_PER_RECORD, 0 if unset)."""
    variables = client("lambda").get_function_configuration(FunctionName=function).get("Environment", {})
    return float((variables.get("Variables") or {}).get("SLOW_MS_PER_RECORD") or 0)


def _samples(function: str, metric: str, start: datetime, end: datetime) -> int:
    answer = client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=start,
        EndTime=end,
        Period=1,
        Statistics=["SampleCount"],
    )
    return int(sum(point["SampleCount"] for point in answer["Datapoints"]))


def slow_down(functions: list[str], milliseconds: int) -> None:
    """Sets the slow wrapper's SLOW_MS_PER_RECORD of each function (their other settings kept), all at once."""
    from concurrent.futures import ThreadPoolExecutor

    lam = client("lambda")

    def update(function: str) -> None:
        variables = lam.get_function_configuration(FunctionName=function).get("Environment", {}).get("Variables", {})
        lam.update_function_configuration(
            FunctionName=function, Environment={"Variables": dict(variables, SLOW_MS_PER_RECORD=str(milliseconds))}
        )
        wait_until(
            lambda: lam.get_function_configuration(FunctionName=function).get("LastUpdateStatus") != "InProgress",
            timeout=120,
            what=f"the update of function {function}",
        )

    with ThreadPoolExecutor(len(functions) or 1) as pool:
        list(pool.map(update, functions))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def metric_total(function: str, metric: str, start: datetime, end: datetime, statistic: str) -> float:
    """The metric over the whole span: Sum of the sums, or the count-weighted Average."""
    answer = client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=start,
        EndTime=end,
        Period=1,
        Statistics=["Sum", "SampleCount"],
    )
    points = answer["Datapoints"]
    total = sum(point["Sum"] for point in points)
    if statistic == "Sum":
        return total
    count = sum(point["SampleCount"] for point in points)
    return total / count if count else 0.0


PERIOD_S = 1  # the kit's metric period: AWS publishes Lambda's metrics at one-minute resolution


def clock_label(clock: float | None) -> str:
    """How a printed summary or a plot title names the course clock, when it is on ('' when it is off)."""
    return f"course clock ×{clock:g}, the kit's, not AWS" if clock and clock != 1 else ""


class Phase:
    """What one stretch of load showed: the IteratorAge curve, the summary a diagnosis reads (AWS's signals only),
    and the kit's own view of the mapping (``kit``: not available on AWS)."""

    def __init__(
        self,
        label: str,
        start: datetime,
        end: datetime,
        summary: dict,
        ages: list[tuple[datetime, float]],
        position: dict,
        kit: dict | None = None,
        clock: float | None = None,
    ) -> None:
        self.label, self.start, self.end, self.summary, self.ages = label, start, end, summary, ages
        self.position = position  # the position view when the load ended
        self.kit = kit or {}  # per shard, records behind and the highest attempt seen; records_done
        self.clock = clock

    def __repr__(self) -> str:
        ages = self.summary["iterator_age_ms"]
        clock = f" [{clock_label(self.clock)}]" if clock_label(self.clock) else ""
        if not ages:
            return f"{self.label}{clock}: no IteratorAge published"
        return (
            f"{self.label}{clock}: IteratorAge {ages[0]:,} ms at first, {ages[-1]:,} ms at the end, at most "
            f"{max(ages):,} ms (Maximum of each {PERIOD_S}-s period: the kit's resolution, AWS's is one minute)"
        )


def iterator_ages(uuid: str, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """The mapping's IteratorAge (the maximum of each second), dimension EventSourceMappingUUID, oldest first."""
    answer = client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="IteratorAge",
        Dimensions=[{"Name": "EventSourceMappingUUID", "Value": uuid}],
        StartTime=start,
        EndTime=end,
        Period=1,
        Statistics=["Maximum"],
    )
    return sorted((point["Timestamp"], point["Maximum"]) for point in answer["Datapoints"])


def stream_shards(mapping: dict) -> list[str]:
    """The open shards of the stream the mapping (GetEventSourceMapping's answer) reads (Kinesis ListShards)."""
    arn = mapping["EventSourceArn"]
    answer = client("kinesis").list_shards(StreamName=arn.rsplit("/", 1)[-1])
    return sorted(
        shard["ShardId"]
        for shard in answer["Shards"]
        if "EndingSequenceNumber" not in shard.get("SequenceNumberRange", {})
    )


def function_log(function: str, start: datetime, end: datetime) -> tuple[dict, int]:
    """From the handler's log lines between start and end: the records of its BATCH lines per shard (a record sent
    again counted again), and how many FAILED lines it printed (a record reported in a partial batch response)."""
    from .logs import log_events

    first, last = start.timestamp() * 1000, end.timestamp() * 1000
    records: dict = {}
    failed = 0
    for event in log_events(function):
        if not first <= event["timestamp"] <= last:
            continue
        message = event["message"].strip()
        if message.startswith("BATCH "):
            batch = json.loads(message[len("BATCH ") :])
            records[batch["shardId"]] = records.get(batch["shardId"], 0) + len(batch["sequenceNumbers"])
        elif message.startswith("FAILED "):
            failed += 1
    return records, failed


def failure_records(mapping: dict) -> int:
    """How many failure records the mapping's on-failure destination (an SQS queue) holds; 0 without one."""
    config = mapping.get("DestinationConfig") or {}
    destination = (config.get("OnFailure") or {}).get("Destination") or ""
    if ":sqs:" not in destination:
        return 0
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=destination.rsplit(":", 1)[-1])["QueueUrl"]
    counts = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return sum(int(value) for value in counts.values())


def summarize(
    function: str,
    mapping: dict,
    start: datetime,
    end: datetime,
    ages: list[tuple[datetime, float]],
    log: tuple[dict, int],
    failures: int,
    put: int,
    attempts: dict,
    position: dict,
) -> tuple[dict, dict]:
    """The summary a diagnosis reads, from what AWS gives too: the IteratorAge points between start and end
    (``ages``, from ``iterator_ages``) and the metrics of ``function`` (CloudWatch), the mapping's BatchSize
    (``mapping``: GetEventSourceMapping's answer), the stream's shards, the handler's BATCH and FAILED log lines
    (``log``, from ``function_log``), the failure records on the on-failure destination (``failures``). Then the
    kit's own view (not available on AWS): per shard the records behind and the highest attempt, and the records done.

    ``position``: the position view read when the load ended. How far behind the mapping was is read there, not
    after the wait for the metrics: a copy that fell behind may have caught up by then, more so on a busy laptop
    where the metrics arrive late. ``attempts``: the highest attempt seen per shard while the load ran (the
    position view, read twice a second).
    """
    shards = {}
    for shard, place in sorted(position["shards"].items()):
        flight = place.get("in_flight") or {}
        shards[shard] = {
            "behind": place.get("behind") or 0,
            "max_attempt": max(attempts.get(shard, 0), flight.get("attempt") or 0),
        }
    records, failed = log
    kit = {"shards": shards, "records_done": put - sum(shard["behind"] for shard in shards.values())}
    return {
        "iterator_age_ms": [round(value) for _, value in ages],
        "invocations": int(metric_total(function, "Invocations", start, end, "Sum")),
        "errors": int(metric_total(function, "Errors", start, end, "Sum")),
        "duration_ms": round(metric_total(function, "Duration", start, end, "Average"), 1),
        "batch_size": mapping["BatchSize"],
        "records_by_shard": {shard: records.get(shard, 0) for shard in stream_shards(mapping)},
        "failed_lines": failed,
        "failure_records": failures,
    }, kit


def kit_view(phase: Phase) -> str:
    """What the kit's position view (not available on AWS) says of a copy that falls behind, with the cause it points
    to: a batch sent again (its attempt number), or where the records behind the checkpoints are."""
    from .checks.lesson08 import HOT_SHARE

    shards = phase.kit.get("shards", {})
    behind = [shard["behind"] for shard in shards.values()]
    if any(shard["max_attempt"] >= 2 for shard in shards.values()):
        return "a batch on its 2nd attempt or later -> poison_record"
    if len(behind) > 1 and sum(behind) and max(behind) >= HOT_SHARE * sum(behind):
        return f"one shard holds {HOT_SHARE:.0%} or more of the records behind the checkpoints -> hot_partition_key"
    return (
        "no batch sent again, the records behind spread over the shards -> slow_handler or batch_too_small "
        "(the view cannot tell those two apart)"
    )


def _highest_attempts(uuid: str, into: dict) -> None:
    from .position import mapping_position

    for shard, place in mapping_position(uuid).get("shards", {}).items():
        attempt = (place.get("in_flight") or {}).get("attempt") or 0
        into[shard] = max(into.get(shard, 0), attempt)


def _settled(read, end: datetime, timeout: float = 30):
    """What ``read()`` returns once the stretch's data has all arrived: the kit publishes IteratorAge in the
    background (every half second) and LocalStack ships a function's log lines after its invocation ends, both later
    on a busy machine. Settled means: ``end`` has passed, and two reads a second apart agree."""
    deadline = time.monotonic() + timeout
    time.sleep(max(0.0, (end - _now()).total_seconds()))
    previous = read()
    while time.monotonic() < deadline:
        time.sleep(1.0)
        current = read()
        if current == previous:
            break
        previous = current
    return previous


def run_phase(
    label: str,
    function: str,
    uuid: str,
    stream: str,
    per_second: float,
    seconds: float,
    sensors: list[str],
    poison_at: tuple[int, ...] = (),
    clock: float | None = None,
    when_window_ends=None,
) -> Phase:
    """Puts the load on a stream the mapping has just started reading, then summarizes the stretch: the load and
    one second after it. ``when_window_ends(uuid)`` is called then (e.g. to delete the mapping: nothing it does
    later is read), before the stretch's metrics and log lines have all arrived."""
    from .position import mapping_position

    start = _now()
    producer = Producer(stream, per_second, seconds, sensors, 0, poison_at)
    producer.start()
    attempts: dict = {}
    while producer.is_alive():
        _highest_attempts(uuid, attempts)
        producer.join(0.5)
    end = _now()
    position = mapping_position(uuid)
    until = end + timedelta(seconds=1)
    time.sleep(max(0.0, (until - _now()).total_seconds()))
    mapping = client("lambda").get_event_source_mapping(UUID=uuid)
    if when_window_ends is not None:
        when_window_ends(uuid)
    ages, log, failures = _settled(
        lambda: (iterator_ages(uuid, start, until), function_log(function, start, until), failure_records(mapping)),
        until,
    )
    summary, kit = summarize(function, mapping, start, until, ages, log, failures, producer.put, attempts, position)
    return Phase(label, start, end, summary, ages, position, kit, clock)


class Case:
    """One cause of a growing IteratorAge: two copies of a stream and mapping, fed the same load.

    The first copy runs as set up (``settings``); the second was changed by the fix before its load began. Each copy
    has its own stream, mapping and function, so their metrics stay apart. By default the two loads run side by
    side, at the same moment on the same machine, which makes the comparison fair and halves the wait.
    ``side_by_side=False`` runs them one after the other instead, each with the machine to itself: for a case whose
    first copy is a storm of invocations (batches too small), which would slow the second through the one LocalStack
    process that serves both. Each mapping is deleted once its stretch has ended, so that the backlog it leaves is
    never read while another copy runs.
    """

    LONGEST_S = 30

    def __init__(
        self,
        lesson,
        key: str,
        functions: tuple[str, str],
        settings: dict,
        per_second: float,
        seconds: float,
        sensors: list[str],
        shards: int = 2,
        poison_at: tuple[int, ...] = (),
        clock: float | None = None,
        at_least: int = 0,
        side_by_side: bool = True,
        costs: Costs | None = None,
    ) -> None:
        """``at_least``: records per copy; on a slow machine (a low rate) the load runs longer, up to 30 s, so that a
        few records landing unevenly on the shards do not decide the diagnosis. ``costs``: what measure_costs found
        at the start, against which ``run`` tells a machine that slowed down during the case (RERUN_SLOWDOWN)."""
        self.lesson, self.key, self.functions, self.settings = lesson, key, functions, settings
        seconds = max(seconds, min(self.LONGEST_S, at_least / per_second)) if at_least else seconds
        self.per_second, self.seconds, self.sensors, self.shards = per_second, seconds, sensors, shards
        self.poison_at, self.clock, self.side_by_side = poison_at, clock, side_by_side
        self.costs = costs
        self.attempt = 1

    def _start(self, copy: int, fix=None) -> tuple[str, str]:
        from .clock import set_clock
        from .mappings import create_mapping, wait_for_state
        from .streams import ensure_stream

        again = "" if self.attempt == 1 else f"-run{self.attempt}"  # a run again reads fresh streams
        stream = self.lesson.name(f"{self.key}-{copy}{again}")
        uuid = create_mapping(self.functions[copy - 1], ensure_stream(stream, shards=self.shards), **self.settings)
        self.uuids[copy - 1] = uuid
        if fix is not None:
            fix(uuid)
            wait_for_state(uuid, "Enabled")
        if self.clock:
            set_clock(uuid, self.clock)
        factor = client("lambda").get_event_source_mapping(UUID=uuid).get("ParallelizationFactor") or 1
        warm_up(self.functions[copy - 1], self.shards * factor)
        return stream, uuid

    def _measure(self, copy: int, sensors: list[str], started: tuple[str, str], then=None) -> Phase:
        """Loads and measures a started copy; deletes its mapping once its stretch has ended, then calls ``then``."""
        from .mappings import delete_mapping

        stream, uuid = started

        def stop(uuid: str) -> None:
            delete_mapping(uuid)
            if then is not None:
                then()

        try:
            return run_phase(
                ("as set up", "fixed")[copy - 1],
                self.functions[copy - 1],
                uuid,
                stream,
                self.per_second,
                self.seconds,
                sensors,
                self.poison_at,
                self.clock,
                stop,
            )
        finally:
            delete_mapping(uuid)  # gone already, unless the run failed

    def run(self, fix, cause: str | None = None, fixed_sensors: list[str] | None = None) -> tuple[Phase, Phase]:
        """Runs the load on the copy as set up and on the fixed copy; returns (as set up, fixed).

        With ``cause`` and the case's ``costs``: when the story does not hold (the copy as set up is not diagnosed
        as ``cause`` from AWS's signals, or the fixed copy does not keep up) and a copy's handler took RERUN_SLOWDOWN
        times longer per record than measured at the start, the machine slowed down during the case, which says
        nothing about the mapping: the case runs once more, on fresh streams, and says so."""
        phases = self._run_once(fix, fixed_sensors)
        if cause is None or self.costs is None or self._holds(cause, phases):
            return phases
        factor, phase, measured, expected = max((self._slowdown(phase) for phase in phases), key=lambda s: s[0])
        if factor < RERUN_SLOWDOWN:
            return phases
        print(
            f"The machine slowed down during this case: the handler of the copy {phase.label} took {measured:.0f} ms "
            f"per record, {factor:.1f} times the {expected:.0f} ms measured at the start, and the case did not "
            "show its cause. A busy machine, not the mapping: running the case again, on fresh streams.\n"
        )
        self.attempt += 1
        phases = self._run_once(fix, fixed_sensors)
        if not self._holds(cause, phases):
            print(
                "It did not show its cause again. If Exercise 08.2 passed, this machine is too busy for the "
                "measurement just now: close other programs and run this cell again.\n"
            )
        return phases

    @staticmethod
    def _holds(cause: str, phases: tuple[Phase, Phase]) -> bool:
        from .checks.lesson08 import reference_diagnose

        as_set_up, fixed = phases
        return reference_diagnose(as_set_up.summary) == cause and reference_diagnose(fixed.summary) == "keeping_up"

    def _slowdown(self, phase: Phase) -> tuple[float, Phase, float, float]:
        """How many times longer per record than measured at the start the copy's handler took, with the figures."""
        function = self.functions[("as set up", "fixed").index(phase.label)]
        expected = self.costs.record_ms + slowed_by_ms(function)
        return slowdown(phase.summary, expected), phase, ms_per_record(phase.summary) or 0.0, expected

    def _run_once(self, fix, fixed_sensors: list[str] | None) -> tuple[Phase, Phase]:
        from concurrent.futures import ThreadPoolExecutor

        self.uuids = [None, None]
        sensors = (self.sensors, fixed_sensors or self.sensors)
        with ThreadPoolExecutor(2) as pool:
            if self.side_by_side:  # both set up, execution environments started, before either load begins
                started = list(pool.map(self._start, (1, 2), (None, fix)))
                return tuple(pool.map(self._measure, (1, 2), sensors, started))
            second = []  # the fixed copy is set up while the first copy's metrics and log lines settle
            first = self._measure(
                1, sensors[0], self._start(1), then=lambda: second.append(pool.submit(self._start, 2, fix))
            )
            return first, self._measure(2, sensors[1], second[0].result())


def warm_up(function: str, environments: int, timeout: float = 300) -> None:
    """Starts ``environments`` execution environments of the function (concurrent calls with no records), so that
    cold starts do not blur a measurement. On a busy laptop several cold starts at once take seconds each, and one
    that fails (e.g. its init outlasts the function's timeout) is tried again, until every call has answered."""
    from concurrent.futures import ThreadPoolExecutor

    def call(_) -> bool:
        answer = client("lambda").invoke(FunctionName=function, Payload=b'{"Records": []}')
        answer["Payload"].read()
        return "FunctionError" not in answer

    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(environments) as pool:
        while not all(pool.map(call, range(environments))):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{environments} execution environments of {function} did not start in "
                    f"{timeout:g} s: is the machine very busy? Run the cell again."
                )


def scratch_mapping(lesson, function: str) -> str:
    """A mapping on a stream of its own that no record reaches: for checks that change settings and read them back."""
    from .mappings import create_mapping
    from .streams import ensure_stream

    return create_mapping(
        function,
        ensure_stream(lesson.name("scratch")),
        BatchSize=100,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )


TITLES = {
    "slow_handler": "a slow handler",
    "batch_too_small": "batches too small",
    "poison_record": "a poison record",
    "hot_partition_key": "a hot partition key",
}


def plot_runs(runs: dict):
    """One panel per cause: the IteratorAge of the copy as set up and of the fixed copy, seconds since the load began.
    A panel whose mappings ran on the course clock says so in its title."""
    import matplotlib.pyplot as plt

    figure, panels = plt.subplots(1, len(runs), figsize=(3.2 * len(runs), 3.3), sharey=True, squeeze=False)
    for axes, (cause, phases) in zip(panels[0], runs.items()):
        for phase, style in zip(phases, ("-o", "-s")):
            xs = [(moment - phase.start).total_seconds() for moment, _ in phase.ages]
            axes.plot(xs, [value / 1000 for _, value in phase.ages], style, markersize=3, label=phase.label)
        clock = clock_label(phases[0].clock)
        axes.set_title(TITLES.get(cause, cause) + (f"\n({clock})" if clock else ""), fontsize=9)
        axes.set_xlabel("real seconds since the load began")
    panels[0][0].set_ylabel(f"IteratorAge (s), Maximum per {PERIOD_S} s")
    panels[0][0].legend(fontsize=8)
    figure.suptitle(
        f"IteratorAge in {PERIOD_S}-s periods: the kit's resolution (AWS publishes one-minute points)", fontsize=9
    )
    figure.tight_layout()
    return figure
