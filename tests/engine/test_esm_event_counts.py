"""The event source mapping's EventCount metrics (extension module esm/event_counts.py): a mapping created with
MetricsConfig={"Metrics": ["EventCount"]} publishes AWS's six counts (Lambda developer guide, "Types of metrics for
Lambda functions", section "Event source mapping metrics"); one without it publishes none.

Each figure is checked against what the producer put and the handler logged, never against the machine's speed.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from kinesis_course import client, put_records, wait_until
from kinesis_course.mappings import wait_for_state

pytestmark = pytest.mark.localstack

EVENT_COUNT = {"Metrics": ["EventCount"]}
PUBLISHED_WITHIN_S = 2.5  # the kit sends its data points every 0.5 s: an absence is judged after five of those

HANDLER = """
    import base64
    import json

    def handler(event, context):
        items = [json.loads(base64.b64decode(record["kinesis"]["data"])) for record in event["Records"]]
        print("INVOKE " + json.dumps([item["i"] for item in items]))
        if any(item.get("poison") for item in items):
            raise RuntimeError("a poison record")
        numbers = [item["i"] for item in items]
        # Item 1 is reported failed while item 0 is in the batch: one partial response, then the rest succeeds.
        failed = [r for r, item in zip(event["Records"], items) if item.get("report") and 0 in numbers]
        return {"batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in failed]}
"""


def stream_arn(name: str) -> str:
    return client("kinesis").describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


class Counts:
    """A mapping's EventCount metrics since the test began (dimension EventSourceMappingUUID)."""

    def __init__(self, uuid: str, since: datetime) -> None:
        self.uuid, self.since = uuid, since

    def of(self, name: str) -> dict:
        points = client("cloudwatch").get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName=name,
            Dimensions=[{"Name": "EventSourceMappingUUID", "Value": self.uuid}],
            StartTime=self.since - timedelta(minutes=1),
            EndTime=datetime.now(timezone.utc) + timedelta(minutes=1),
            Period=60,
            Statistics=["SampleCount", "Sum", "Minimum"],
        )["Datapoints"]
        # LocalStack 4.14 queries each statistic on its own: a minute whose first data point lands between two of
        # those queries comes back with some statistics and no SampleCount (seen once in CI). It is left out here;
        # the next poll reads it whole.
        points = [point for point in points if "SampleCount" in point]
        return {
            "samples": sum(point["SampleCount"] for point in points),
            "sum": sum(point["Sum"] for point in points),
            "minimum": min((point["Minimum"] for point in points), default=None),
        }

    def wait_for(self, name: str, total: float) -> dict:
        return wait_until(
            lambda: found if (found := self.of(name))["sum"] >= total else None,
            timeout=30,
            what=f"{name} to add up to {total} for mapping {self.uuid}",
            interval=0.5,
        )


def mapping(resources, suffix: str, items: list[dict], **parameters) -> Counts:
    since = datetime.now(timezone.utc)
    stream = resources.stream(suffix)
    function = resources.function(suffix, HANDLER)
    put_records(stream, items, progress=False)
    uuid = resources.mapping(function, stream_arn(stream), BatchSize=10, **parameters)
    return Counts(uuid, since)


def test_a_clean_run_counts_each_record_polled_and_invoked_once_and_empty_polls_as_0(resources):
    counts = mapping(resources, "clean", [{"i": i} for i in range(5)], MetricsConfig=EVENT_COUNT)
    assert counts.wait_for("InvokedEventCount", 5)["sum"] == 5
    polled = wait_until(
        lambda: found if (found := counts.of("PolledEventCount"))["samples"] >= 2 else None,
        timeout=10,
        what="an empty poll after the records",
    )
    assert polled["sum"] == 5  # every record read once
    assert polled["minimum"] == 0  # AWS: an empty poll emits a PolledEventCount of 0
    for name in ("FailedInvokeEventCount", "DroppedEventCount", "FilteredOutEventCount"):
        assert counts.of(name)["samples"] == 0, name

    # A disabled mapping polls nothing, so publishes nothing.
    client("lambda").update_event_source_mapping(UUID=counts.uuid, Enabled=False)
    wait_for_state(counts.uuid, "Disabled")
    time.sleep(1.5)  # a poll already under way may still report
    before = counts.of("PolledEventCount")["samples"]
    time.sleep(PUBLISHED_WITHIN_S)
    assert counts.of("PolledEventCount")["samples"] == before


def test_a_mapping_without_metrics_config_publishes_none(resources):
    counts = mapping(resources, "quiet", [{"i": i} for i in range(3)])
    with_metrics = mapping(resources, "loud", [{"i": i} for i in range(3)], MetricsConfig=EVENT_COUNT)
    with_metrics.wait_for("InvokedEventCount", 3)
    time.sleep(PUBLISHED_WITHIN_S)
    for name in ("PolledEventCount", "InvokedEventCount"):
        assert counts.of(name)["samples"] == 0, name


def test_retries_count_each_invocation_s_records_again_and_given_up_records_are_dropped(resources):
    items = [{"i": 0}, {"i": 1, "poison": True}, {"i": 2}]
    counts = mapping(resources, "drop", items, MetricsConfig=EVENT_COUNT, MaximumRetryAttempts=2)
    dropped = counts.wait_for("DroppedEventCount", 3)
    assert dropped["sum"] == 3
    # One invocation and two retries, each of the whole batch: AWS "may count a record more than once".
    assert counts.of("InvokedEventCount")["sum"] == 9
    assert counts.of("FailedInvokeEventCount")["sum"] == 9
    assert counts.of("OnFailureDestinationDeliveredEventCount")["samples"] == 0


def test_records_described_in_the_on_failure_destination_are_not_dropped(resources):
    _, queue_arn = resources.queue("sent-failures")
    items = [{"i": 0, "poison": True}, {"i": 1}]
    counts = mapping(
        resources,
        "sent",
        items,
        MetricsConfig=EVENT_COUNT,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    assert counts.wait_for("OnFailureDestinationDeliveredEventCount", 2)["sum"] == 2
    assert counts.of("FailedInvokeEventCount")["sum"] == 4  # two invocations of two records
    time.sleep(PUBLISHED_WITHIN_S)
    assert counts.of("DroppedEventCount")["samples"] == 0


def test_a_response_with_batch_item_failures_counts_all_its_records_as_failed(resources):
    items = [{"i": 0}, {"i": 1, "report": True}, {"i": 2}]
    counts = mapping(
        resources, "partial", items, MetricsConfig=EVENT_COUNT, FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    # [0, 1, 2] reports item 1; the checkpoint moves to it; [1, 2] succeeds.
    assert counts.wait_for("InvokedEventCount", 5)["sum"] == 5
    assert counts.wait_for("FailedInvokeEventCount", 3)["sum"] == 3
    time.sleep(PUBLISHED_WITHIN_S)
    assert counts.of("FailedInvokeEventCount")["sum"] == 3
    assert counts.of("DroppedEventCount")["samples"] == 0


def test_records_no_filter_matches_are_counted_as_filtered_out(resources):
    items = [{"i": 0, "kind": "reading"}, {"i": 1, "kind": "heartbeat"}, {"i": 2, "kind": "heartbeat"}]
    counts = mapping(
        resources,
        "filter",
        items,
        MetricsConfig=EVENT_COUNT,
        FilterCriteria={"Filters": [{"Pattern": '{"data": {"kind": ["reading"]}}'}]},
    )
    assert counts.wait_for("FilteredOutEventCount", 2)["sum"] == 2
    assert counts.wait_for("InvokedEventCount", 1)["sum"] == 1
    assert counts.of("PolledEventCount")["sum"] == 3


@pytest.mark.parametrize("group", ["ErrorCount", "KafkaMetrics", "EventCounts"])
def test_a_metric_group_a_stream_mapping_does_not_have_is_refused(resources, group):
    stream = resources.stream(f"refused-{group.lower()}")
    function = resources.function(f"refused-{group.lower()}", HANDLER)
    with pytest.raises(ClientError) as refused:
        client("lambda").create_event_source_mapping(
            FunctionName=function,
            EventSourceArn=stream_arn(stream),
            StartingPosition="TRIM_HORIZON",
            MetricsConfig={"Metrics": [group]},
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert group in refused.value.response["Error"]["Message"]
