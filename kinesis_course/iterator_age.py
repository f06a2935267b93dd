"""Lesson 08's harness: a steady producer, a slow-handler wrapper, and IteratorAge read from CloudWatch.

The notebook keeps its cells short: the loops that put records at a steady rate, read the metrics and the
position view, and draw the curves live here. Every figure is in real seconds and milliseconds, also when a
mapping's course clock runs faster (the clock scales the mapping's record age, backoff, window and polling only).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .endpoint import client

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
    return {"reading_id": f"r-{index:06d}", "sensor": sensor, "temperature": 20 + index % 10, "unit": "C",
            "humidity": 50}


class Producer(threading.Thread):
    """Puts ``per_second`` readings a second on ``stream`` for ``seconds``, in ticks of a quarter of a second.

    ``sensors`` is the list of partition keys used in turn. ``poison_at`` (indexes) puts a record that is not JSON
    there instead of a reading.
    """

    TICK_S = 0.25

    def __init__(self, stream: str, per_second: int, seconds: float, sensors: list[str], start_index: int = 0,
                 poison_at: tuple[int, ...] = ()) -> None:
        super().__init__(daemon=True)
        self.stream, self.per_second, self.seconds, self.sensors = stream, per_second, seconds, sensors
        self.index, self.poison_at, self.put = start_index, set(poison_at), 0

    def run(self) -> None:
        kinesis = client("kinesis")
        per_tick = max(1, round(self.per_second * self.TICK_S))
        begin = time.monotonic()
        ticks = round(self.seconds / self.TICK_S)
        for tick in range(ticks):
            entries = []
            for _ in range(per_tick):
                sensor = self.sensors[self.index % len(self.sensors)]
                data = b"{not json" if self.index in self.poison_at else json.dumps(reading(self.index, sensor)).encode()
                entries.append({"Data": data, "PartitionKey": sensor})
                self.index += 1
            kinesis.put_records(StreamName=self.stream, Records=entries)
            self.put += len(entries)
            pause = begin + (tick + 1) * self.TICK_S - time.monotonic()
            if pause > 0:
                time.sleep(pause)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def metric_total(function: str, metric: str, start: datetime, end: datetime, statistic: str) -> float:
    """The metric over the whole span: Sum of the sums, or the count-weighted Average."""
    answer = client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda", MetricName=metric, Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=start, EndTime=end, Period=1, Statistics=["Sum", "SampleCount"],
    )
    points = answer["Datapoints"]
    total = sum(point["Sum"] for point in points)
    if statistic == "Sum":
        return total
    count = sum(point["SampleCount"] for point in points)
    return total / count if count else 0.0


class Phase:
    """What one stretch of load showed: the IteratorAge curve and the summary a diagnosis reads."""

    def __init__(self, label: str, start: datetime, end: datetime, summary: dict, ages: list[tuple[datetime, float]],
                 position: dict) -> None:
        self.label, self.start, self.end, self.summary, self.ages = label, start, end, summary, ages
        self.position = position  # the position view when the load ended

    def __repr__(self) -> str:
        ages = self.summary["iterator_age_ms"]
        if not ages:
            return f"{self.label}: no IteratorAge published"
        return f"{self.label}: IteratorAge {ages[0]:,} ms at first, {ages[-1]:,} ms at the end, at most {max(ages):,} ms"


def iterator_ages(uuid: str, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """The mapping's IteratorAge (the maximum of each second), dimension EventSourceMappingUUID, oldest first."""
    answer = client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda", MetricName="IteratorAge", Dimensions=[{"Name": "EventSourceMappingUUID", "Value": uuid}],
        StartTime=start, EndTime=end, Period=1, Statistics=["Maximum"],
    )
    return sorted((point["Timestamp"], point["Maximum"]) for point in answer["Datapoints"])


def summarize(function: str, uuid: str, start: datetime, end: datetime, put: int, attempts: dict) -> dict:
    """The metrics of ``function`` between start and end, the mapping's BatchSize, and its position per shard.

    ``attempts``: the highest attempt seen per shard while the load ran (the position view, read twice a second).
    """
    from .position import mapping_position

    ages = iterator_ages(uuid, start, end)
    shards = {}
    for shard, place in sorted(mapping_position(uuid)["shards"].items()):
        flight = place.get("in_flight") or {}
        shards[shard] = {"behind": place.get("behind") or 0,
                         "max_attempt": max(attempts.get(shard, 0), flight.get("attempt") or 0)}
    return {
        "iterator_age_ms": [round(value) for _, value in ages],
        "invocations": int(metric_total(function, "Invocations", start, end, "Sum")),
        "errors": int(metric_total(function, "Errors", start, end, "Sum")),
        "duration_ms": round(metric_total(function, "Duration", start, end, "Average"), 1),
        "records_done": put - sum(shard["behind"] for shard in shards.values()),
        "batch_size": client("lambda").get_event_source_mapping(UUID=uuid)["BatchSize"],
        "shards": shards,
    }, ages


def _highest_attempts(uuid: str, into: dict) -> None:
    from .position import mapping_position

    for shard, place in mapping_position(uuid).get("shards", {}).items():
        attempt = (place.get("in_flight") or {}).get("attempt") or 0
        into[shard] = max(into.get(shard, 0), attempt)


def run_phase(label: str, function: str, uuid: str, stream: str, per_second: int, seconds: float,
              sensors: list[str], poison_at: tuple[int, ...] = ()) -> Phase:
    """Puts the load on a stream the mapping has just started reading, then summarizes the stretch."""
    from .position import mapping_position

    start = _now()
    producer = Producer(stream, per_second, seconds, sensors, 0, poison_at)
    producer.start()
    attempts: dict = {}
    while producer.is_alive():
        _highest_attempts(uuid, attempts)
        producer.join(0.5)
    end = _now()
    time.sleep(1.0)  # the data points of the last invocations are sent a moment after them
    position = mapping_position(uuid)
    summary, ages = summarize(function, uuid, start, end + timedelta(seconds=1), producer.put, attempts)
    return Phase(label, start, end, summary, ages, position)


class Case:
    """One cause of a growing IteratorAge: two copies of a stream and mapping, fed the same load at the same time.

    The first copy runs as set up (``settings``); the second was changed by the fix before the load began. Each copy
    has its own stream, mapping and function, so their metrics stay apart; the mappings are deleted at the end.
    """

    def __init__(self, lesson, key: str, functions: tuple[str, str], settings: dict, per_second: int,
                 seconds: float, sensors: list[str], shards: int = 2, poison_at: tuple[int, ...] = (),
                 clock: float | None = None) -> None:
        self.lesson, self.key, self.functions, self.settings = lesson, key, functions, settings
        self.per_second, self.seconds, self.sensors, self.shards = per_second, seconds, sensors, shards
        self.poison_at, self.clock = poison_at, clock

    def _start(self, copy: int, fix=None) -> tuple[str, str]:
        from .clock import set_clock
        from .mappings import create_mapping, wait_for_state
        from .streams import ensure_stream

        stream = self.lesson.name(f"{self.key}-{copy}")
        uuid = create_mapping(self.functions[copy - 1], ensure_stream(stream, shards=self.shards), **self.settings)
        if fix is not None:
            fix(uuid)
            wait_for_state(uuid, "Enabled")
        if self.clock:
            set_clock(uuid, self.clock)
        return stream, uuid

    def run(self, fix, fixed_sensors: list[str] | None = None) -> tuple[Phase, Phase]:
        """Runs the load on both copies at once; returns (as set up, fixed)."""
        copies = [self._start(1), self._start(2, fix)]
        self.uuids = [uuid for _, uuid in copies]
        for function, (_, uuid) in zip(self.functions, copies):
            factor = client("lambda").get_event_source_mapping(UUID=uuid).get("ParallelizationFactor") or 1
            warm_up(function, self.shards * factor)
        results: dict = {}

        def run(index, label, sensors):
            stream, uuid = copies[index]
            results[index] = run_phase(label, self.functions[index], uuid, stream, self.per_second, self.seconds,
                                       sensors, self.poison_at)

        threads = [threading.Thread(target=run, args=(0, "as set up", self.sensors)),
                   threading.Thread(target=run, args=(1, "fixed", fixed_sensors or self.sensors))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for uuid in self.uuids:
            client("lambda").delete_event_source_mapping(UUID=uuid)  # lesson.reset() waits for them to go
        return results[0], results[1]


def warm_up(function: str, environments: int) -> None:
    """Starts ``environments`` execution environments of the function (concurrent calls with no records), so that
    cold starts do not blur a measurement."""
    from concurrent.futures import ThreadPoolExecutor

    def call(_):
        client("lambda").invoke(FunctionName=function, Payload=b'{"Records": []}')

    with ThreadPoolExecutor(environments) as pool:
        list(pool.map(call, range(environments)))


def scratch_mapping(lesson, function: str) -> str:
    """A mapping on a stream of its own that no record reaches: for checks that change settings and read them back."""
    from .mappings import create_mapping
    from .streams import ensure_stream

    return create_mapping(function, ensure_stream(lesson.name("scratch")), BatchSize=100,
                          FunctionResponseTypes=["ReportBatchItemFailures"])


TITLES = {"slow_handler": "a slow handler", "batch_too_small": "batches too small", "poison_record": "a poison record",
          "hot_partition_key": "a hot partition key"}


def plot_runs(runs: dict):
    """One panel per cause: the IteratorAge of the copy as set up and of the fixed copy, seconds since the load began."""
    import matplotlib.pyplot as plt

    figure, panels = plt.subplots(1, len(runs), figsize=(3.2 * len(runs), 3), sharey=True, squeeze=False)
    for axes, (cause, phases) in zip(panels[0], runs.items()):
        for phase, style in zip(phases, ("-o", "-s")):
            xs = [(moment - phase.start).total_seconds() for moment, _ in phase.ages]
            axes.plot(xs, [value / 1000 for _, value in phase.ages], style, markersize=3, label=phase.label)
        axes.set_title(TITLES.get(cause, cause), fontsize=10)
        axes.set_xlabel("seconds since the load began")
    panels[0][0].set_ylabel("IteratorAge (s)")
    panels[0][0].legend(fontsize=8)
    figure.tight_layout()
    return figure
