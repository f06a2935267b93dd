"""The event source mapping's EventCount metrics, for a mapping that opts in (issue 27).

AWS (Lambda developer guide, "Types of metrics for Lambda functions", section "Event source mapping metrics"; since
November 2024): a mapping created or updated with ``MetricsConfig={"Metrics": ["EventCount"]}`` publishes, for a
Kinesis or DynamoDB stream, six counts in namespace AWS/Lambda, which can be viewed per mapping
(dimension EventSourceMappingUUID) or per function (FunctionName). LocalStack 4.14 stores and echoes MetricsConfig
and publishes none of them. The kit publishes each with both dimensions, unit Count, where AWS says it happens:

- ``PolledEventCount``: the records the mapping read from the stream; "an empty poll" publishes 0 (the kit's
  reader, shard_reader.py: once per GetRecords).
- ``FilteredOutEventCount``: for a mapping with FilterCriteria, the records the filters dropped; 0 when every
  record matched (delivery.py, before the batch is invoked).
- ``InvokedEventCount``: the records each invocation sends; a retried record is counted again ("may count a record
  more than once because of retries").
- ``FailedInvokeEventCount``: the records of an invocation that failed (a function error, or an invoke that did not
  complete), and of one whose response had a non-empty ``batchItemFailures`` (all the records it was sent: AWS's
  sentence is "includes any event with a non-empty BatchItemFailures in the response"); stamped when the
  invocation ends.
- ``DroppedEventCount``: the records given up (MaximumRecordAgeInSeconds or MaximumRetryAttempts) and sent to no
  on-failure destination; records expired by the stream's retention are not counted (the reader never sees them).
- ``OnFailureDestinationDeliveredEventCount``: the records an on-failure record described, once it was sent.
- When the destination refuses the record, AWS publishes no OnFailureDestinationDeliveredEventCount, a
  ``DestinationDeliveryFailures`` of 1, and counts the records in DroppedEventCount. The kit publishes the 1 and no
  delivered count, but, unlike AWS, tries the batch again later (shard_reader.py) rather than dropping it: its
  records are counted when that try ends.
A disabled or deleted mapping polls nothing, so publishes nothing. Lambda sends its metrics at 1-minute resolution,
minutes late; the kit sends each data point within a second (metrics.Publisher), with its own timestamp.
"""

from __future__ import annotations

from . import state
from .delivery import Delivery, DeliveryObserver
from .metrics import PUBLISHER

METRIC_GROUP = "EventCount"


def opted_in(poller) -> bool:
    return state.settings(poller).event_counts


def _put(poller, name: str, value: float) -> None:
    # arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    parts = poller.processor.sender.target_arn.split(":")
    region, account, function = parts[3], parts[4], parts[6]
    PUBLISHER.put(account, region, name, value, "Count", {"EventSourceMappingUUID": poller.esm_uuid})
    PUBLISHER.put(account, region, name, value, "Count", {"FunctionName": function})


class EventCountObserver(DeliveryObserver):
    """Publishes the EventCount metrics of the mappings that opted in, as an observer of the reader and the delivery
    loop (delivery.OBSERVERS)."""

    def polled(self, poller, count: int) -> None:
        if opted_in(poller):
            _put(poller, "PolledEventCount", count)

    def filtered(self, delivery: Delivery, read: int, kept: int) -> None:
        poller = delivery.poller
        # LocalStack's poller keeps the mapping's FilterCriteria as its parsed patterns.
        if opted_in(poller) and getattr(poller, "filter_patterns", None):
            _put(poller, "FilteredOutEventCount", read - kept)

    def sending(self, delivery: Delivery, events: list[dict], attempt: int) -> None:
        if opted_in(delivery.poller):
            _put(delivery.poller, "InvokedEventCount", len(events))

    def invocation_ended(self, delivery: Delivery, events: list[dict], outcome: str) -> None:
        if opted_in(delivery.poller) and outcome != "ok":
            _put(delivery.poller, "FailedInvokeEventCount", len(events))

    def given_up(self, delivery: Delivery, events: list[dict], destination: str | None) -> None:
        poller = delivery.poller
        if not opted_in(poller):
            return
        if destination == "delivered":
            _put(poller, "OnFailureDestinationDeliveredEventCount", len(events))
        elif destination == "refused":
            _put(poller, "DestinationDeliveryFailures", 1)
        else:
            _put(poller, "DroppedEventCount", len(events))
