"""Lambda's metrics as AWS publishes them, put into LocalStack's CloudWatch (namespace AWS/Lambda) (issue 11).

AWS (Lambda developer guide, "Types of metrics for Lambda functions"):
- ``Invocations`` and ``Errors`` (Count), per invocation. LocalStack 4.14 already publishes both, dimension
  FunctionName, for every invocation; the kit leaves them to it.
- ``Duration`` (Milliseconds): the time the function's code spent on the invocation. LocalStack 4.14 publishes
  none; the kit takes the figure of the invocation's REPORT log line (the runtime's own measure), or the time
  the invocation took when there is no REPORT line. Dimension FunctionName.
- ``IteratorAge`` (Milliseconds), for event source mappings that read streams: "the age of the last record in the
  event", the time between the stream receiving that record and the mapping sending the event to the function.
  Published for every invocation of a stream mapping (retries included, as each sends the event again), just
  before it is sent, with dimension FunctionName, and also with dimension EventSourceMappingUUID (AWS documents
  EventSourceMappingUUID as a dimension of Lambda's metrics; the kit puts IteratorAge under it so that one
  mapping can be watched alone). LocalStack 4.14 publishes no IteratorAge.

Cheap on the poller's path: a data point is appended to a queue; one background thread sends the queue to
CloudWatch in batches (PutMetricData, up to 1,000 data points a call) every half second. CloudWatch keeps the
data points' own timestamps, so a batch sent later still lands in the right second and minute.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from datetime import datetime, timezone

from .delivery import Delivery, DeliveryObserver

LOG = logging.getLogger(__name__)

NAMESPACE = "AWS/Lambda"
FLUSH_EVERY_S = 0.5
MAX_PER_CALL = 1000  # PutMetricData's limit of data points (MetricData items) per request
MAX_QUEUED = 100_000  # beyond this (CloudWatch unreachable), the oldest points are dropped
_REPORT = re.compile(r"REPORT RequestId: \S+\s+Duration: ([0-9.]+) ms")


class Publisher:
    """Queues data points and sends them to CloudWatch from one daemon thread."""

    def __init__(self) -> None:
        self._queue: deque = deque(maxlen=MAX_QUEUED)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def put(self, account: str, region: str, name: str, value: float, unit: str, dimensions: dict[str, str]) -> None:
        datum = {
            "MetricName": name,
            "Dimensions": [{"Name": key, "Value": str(val)} for key, val in dimensions.items()],
            "Timestamp": datetime.now(timezone.utc),
            "Value": float(value),
            "Unit": unit,
        }
        self._queue.append((account, region, datum))
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kinesis-course-metrics", daemon=True)
                self._thread.start()

    def flush(self) -> None:
        """Sends everything queued now (the thread calls it; tests may too)."""
        groups: dict[tuple[str, str], list[dict]] = {}
        while self._queue:
            try:
                account, region, datum = self._queue.popleft()
            except IndexError:
                break
            groups.setdefault((account, region), []).append(datum)
        for (account, region), data in groups.items():
            try:
                from localstack.aws.connect import connect_to

                cloudwatch = connect_to(aws_access_key_id=account, region_name=region).cloudwatch
                for start in range(0, len(data), MAX_PER_CALL):
                    cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[start : start + MAX_PER_CALL])
            except Exception as error:
                LOG.info("kinesis-course: %d Lambda metric data points not published: %s", len(data), error)

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_EVERY_S)
            if self._queue:
                self.flush()


PUBLISHER = Publisher()


def publish_duration(invoke, self, *args, **kwargs):
    """Patch of LambdaVersionManager.invoke."""
    started = time.perf_counter()
    result = invoke(self, *args, **kwargs)
    elapsed_ms = (time.perf_counter() - started) * 1000
    try:
        match = _REPORT.search(result.logs or "") if result is not None else None
        duration = float(match.group(1)) if match else elapsed_ms
        function = self.function_version.id
        PUBLISHER.put(
            function.account,
            function.region,
            "Duration",
            duration,
            "Milliseconds",
            {"FunctionName": function.function_name},
        )
    except Exception as error:
        LOG.debug("No Duration metric for an invocation: %s", error)
    return result


class IteratorAgeObserver(DeliveryObserver):
    """Puts IteratorAge just before each invocation of a stream batch (retries included: each sends the event
    again), as an observer of the delivery loop (delivery.OBSERVERS)."""

    def sending(self, delivery: Delivery, events: list[dict], attempt: int) -> None:
        _put_iterator_age(delivery.poller.processor, delivery.mapping, events)


def _put_iterator_age(processor, mapping: str, events: list[dict]) -> None:
    last_event = events[-1]
    if "kinesis" in last_event:
        arrived = float(last_event["kinesis"]["approximateArrivalTimestamp"])
    elif "dynamodb" in last_event and last_event["dynamodb"].get("ApproximateCreationDateTime") is not None:
        arrived = float(last_event["dynamodb"]["ApproximateCreationDateTime"])
    else:
        return
    age_ms = max(0.0, time.time() - arrived) * 1000
    # arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    parts = processor.sender.target_arn.split(":")
    region, account, name = parts[3], parts[4], parts[6]
    PUBLISHER.put(account, region, "IteratorAge", age_ms, "Milliseconds", {"FunctionName": name})
    PUBLISHER.put(account, region, "IteratorAge", age_ms, "Milliseconds", {"EventSourceMappingUUID": mapping})
