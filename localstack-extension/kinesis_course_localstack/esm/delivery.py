"""Delivering a stream batch to the function with AWS's retry rules: the kit's replacement of LocalStack 4.14's
StreamPoller.forward_events_to_target, and the observers it tells what it does.

AWS behaviours (the patch table, patches.py, lists where each is applied):
1. BisectBatchOnFunctionError. LocalStack stores the flag and ignores it ("not implemented" in its stream poller).
   AWS: "If the function returns an error, split the batch into two and retry", and splitting "doesn't count towards
   the retry quota" (Lambda developer guide, Kinesis on-failure destinations).
2. A retry loop ends with its mapping. LocalStack's own loop invokes once more when its backoff wait is cut short by
   the mapping's shutdown; AWS stops invoking once a mapping is disabled or deleted (lifecycle.py ends the wait).
3. RecordAgeExceeded failure records carry AWS's requestContext (with the AWS-like reading of reading.py).
4. Attempts are counted as AWS's recordings show (attempts.py; inferred, AWS does not document it): a partial batch
   response that moves the checkpoint starts a new batch, with one invocation plus MaximumRetryAttempts retries of
   its own; a RecordAgeExceeded record counts the attempt that found its records too old. LocalStack 4.14 counts
   on across a partial batch response (one delivery fewer than AWS) and leaves that attempt out (one less).

``forward_with_aws_retry_rules`` is LocalStack 4.14's forward_events_to_target with its retry loop rewritten; the
filtering steps before the loop are LocalStack's, called in the same order. The upgrade test pins its source.

Observers. The position view (position.py) and Lambda's IteratorAge metric (metrics.py) need to know what the loop
is delivering; each is an object in ``OBSERVERS`` (patches.py adds them, each behind its own switch) with the methods
of ``DeliveryObserver`` it needs. The loop calls them; an observer's error is logged and does not stop the delivery.

LocalStack's names are imported where they are used, so that the loop also runs on a stand-in poller without
LocalStack (tests/unit/engine/test_esm_attempts.py).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

from . import state
from .attempts import attempts_after_partial_failure, record_age_exceeded_count

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One batch a thread of a mapping's poller is delivering."""

    poller: object
    shard_id: str

    @property
    def mapping(self) -> str | None:
        return getattr(self.poller, "esm_uuid", None)

    @property
    def key(self) -> int:
        return id(self)


class DeliveryObserver:
    """What the delivery loop tells an observer; each method does nothing unless an observer overrides it."""

    def batch_started(self, delivery: Delivery, records: list[dict]) -> None:
        """The batch as read (before filtering), before anything is invoked."""

    def segment_started(self, delivery: Delivery, events: list[dict]) -> None:
        """A part of the batch starts its attempts: the whole batch, or a half after a bisection."""

    def sending(self, delivery: Delivery, events: list[dict], attempt: int) -> None:
        """Just before an invocation: the events it sends and its attempt number (approximateInvokeCount)."""

    def segment_bisected(self, delivery: Delivery) -> None:
        """The part failed and is split in two (BisectBatchOnFunctionError)."""

    def batch_ended(self, delivery: Delivery) -> None:
        """The batch is done, or the mapping stopped."""

    def polled(self, poller, count: int) -> None:
        """A reader's GetRecords answered with ``count`` records (0: an empty poll). Told by shard_reader.py."""

    def filtered(self, delivery: Delivery, read: int, kept: int) -> None:
        """The mapping's filters kept ``kept`` of the ``read`` records of the batch (all, without FilterCriteria)."""

    def invocation_ended(self, delivery: Delivery, events: list[dict], outcome: str) -> None:
        """An invocation ended: "ok", "partial" (a response with batchItemFailures), or "failed"."""

    def given_up(self, delivery: Delivery, events: list[dict], destination: str | None) -> None:
        """Records given up (retries or record age): ``destination`` "delivered" or "refused" (the on-failure
        record), None without an on-failure destination."""


OBSERVERS: list[DeliveryObserver] = []


def notify(method: str, *args) -> None:
    """Tells every observer (see DeliveryObserver) what happened: the loop below, and the reader (``polled``)."""
    for observer in OBSERVERS:
        try:
            getattr(observer, method)(*args)
        except Exception as error:
            LOG.debug("An observer of the delivery (%s) failed: %s", type(observer).__name__, error)


def forward_with_aws_retry_rules(self, shard_id, records) -> bool:
    """Patch of StreamPoller.forward_events_to_target: delivers records as one batch with AWS's retry rules; returns
    False when the mapping stopped before the batch was done (then its records must be read again by the mapping's
    next poller: they are not checkpointed)."""
    delivery = Delivery(self, shard_id)
    observed = bool(OBSERVERS) and bool(delivery.mapping) and bool(records)
    if observed:
        notify("batch_started", delivery, records)
    try:
        return _forward(delivery, records)
    finally:
        if observed:
            notify("batch_ended", delivery)


def _forward(delivery: Delivery, records) -> bool:
    self, shard_id = delivery.poller, delivery.shard_id
    bisect = state.settings(self).bisect
    transformed = self.pre_filter(self.transform_into_events(records, shard_id))
    events = self.post_filter(self.filter_events(transformed))
    if OBSERVERS and delivery.mapping:
        notify("filtered", delivery, len(transformed), len(events))
    if not events:
        # AWS: records that match no filter are discarded and the checkpoint moves past them.
        return True
    events = self.add_source_metadata(events)
    # Halves wait their turn in order, so the shard stays ordered: the left half is delivered before the right.
    pending = deque([events])
    while pending:
        if self._is_shutdown.is_set():
            return False
        halves = deliver_segment(delivery, pending.popleft(), bisect)
        if halves is None:
            return False
        pending.extendleft(reversed(halves))
    return True


def deliver_segment(delivery: Delivery, events: list[dict], bisect: bool) -> list[list[dict]] | None:
    """Delivers one batch with AWS's retry rules. Returns the two halves when it must be bisected, [] when the
    batch is done (processed, or described in the on-failure destination), None when the mapping stopped first."""
    from localstack.services.lambda_.event_source_mapping.event_processor import (
        BatchFailureError,
        PartialBatchFailureError,
    )
    from localstack.services.lambda_.event_source_mapping.pollers.poller import get_batch_item_failures

    self, shard_id = delivery.poller, delivery.shard_id
    notify("segment_started", delivery, events)
    max_record_age = max(self.stream_parameters.get("MaximumRecordAgeInSeconds", -1), 0)
    backoff = new_backoff()
    # The attempts at the batch that starts at the checkpoint (AWS's approximateInvokeCount; attempts.py).
    attempts = 0
    retrying = False  # the next invocation is a retry: it waits its backoff first
    abort_condition = None
    error_payload = {}
    expired_events = []
    expired_after = 0  # the attempts that carried the expired records (the last expired, when several expire)
    done = False
    sent = None  # the events of the invocation in progress

    while events and not self._is_shutdown.is_set():
        sent = None
        if self.max_retries_exceeded(attempts):
            abort_condition = "RetryAttemptsExhausted"
            break
        if max_record_age:
            # The course clock (clock.py, factor 1 unless set) ages records F times faster: a teaching device.
            events, expired = self.bisect_events_by_record_age(max_record_age / state.factor(self.esm_uuid), events)
            if expired:
                expired_events.extend(expired)
                expired_after = attempts
                continue
        try:
            if retrying:
                # The wait ends early when the mapping is disabled or deleted; then nothing more is invoked,
                # and nothing goes to the on-failure destination (the batch did not run out of retries).
                # The course clock (clock.py) shortens the backoff F times; factor 1 (AWS's timing) by default.
                if self._is_shutdown.wait(backoff.next_backoff() / state.factor(self.esm_uuid)):
                    return None
            retrying = True
            attempts += 1
            notify("sending", delivery, events, attempts)
            sent = events
            self.processor.process_events_batch(events)
            notify("invocation_ended", delivery, sent, "ok")
            done = True
            break
        except PartialBatchFailureError as error:
            notify("invocation_ended", delivery, sent, "partial")
            # As on AWS (and as LocalStack does without bisection): resume from the lowest failed sequence number.
            error_payload = error.error
            sequence_numbers = {self.get_sequence_number(event) for event in events}
            failed = get_batch_item_failures(error.partial_failure_payload, sequence_numbers)
            if failed:
                delivered = len(events)
                _, events = self.bisect_events(min(failed, key=int), events)
                # AWS's recordings: when the checkpoint moved, the records from it on are a new batch with attempts
                # and retries of their own (attempts.py, rule 1); its backoff starts again too.
                attempts = attempts_after_partial_failure(attempts, delivered, len(events))
                if attempts == 0:
                    backoff = new_backoff()
        except BatchFailureError as error:
            notify("invocation_ended", delivery, sent, "failed")
            error_payload = error.error
            if bisect and len(events) > 1:
                # AWS: split the failed batch in two and retry each half; the split uses no retry attempt.
                middle = (len(events) + 1) // 2
                LOG.debug("Bisecting a failed batch of %d records from %s", len(events), shard_id)
                notify("segment_bisected", delivery)
                return [events[:middle], events[middle:]]
        except Exception:
            if sent is not None:
                notify("invocation_ended", delivery, sent, "failed")
            LOG.error("Attempt %d failed with an unexpected error for %s", attempts, self.source_arn, exc_info=True)

    if expired_events:
        abort_condition, events = "RecordAgeExceeded", expired_events
    if abort_condition:
        if abort_condition == "RecordAgeExceeded" and state.settings(self).aws_failure_records:
            # AWS's recordings: the attempt that found the records too old counts (attempts.py, rule 2).
            context = _record_age_exceeded_context(self, error_payload, record_age_exceeded_count(expired_after))
        else:
            if abort_condition == "RecordAgeExceeded":
                error_payload = {}
            context = self.processor.generate_event_failure_context(
                abort_condition=abort_condition,
                error=error_payload,
                attempts_count=attempts,
                partner_resource_arn=self.partner_resource_arn,
            )
        destination = self.stream_parameters.get("DeadLetterConfig", {}).get("Arn")
        try:
            self.send_events_to_dlq(shard_id, events, context=context)
        except Exception:
            notify("given_up", delivery, events, "refused")
            raise
        notify("given_up", delivery, events, "delivered" if destination else None)
        return []
    if done or not events:
        return []
    # The loop ended on the shutdown with records left: not done.
    return None


def new_backoff():
    from localstack.utils.backoff import ExponentialBackoff

    # LocalStack's schedule (AWS does not document its own): about 0.5 s, growing 1.5 times a retry, jittered.
    # Unlimited here: MaximumRetryAttempts is checked by the loop, which may start a new batch's count (its
    # max_retries would make the last retries of such a batch wait 0 s).
    return ExponentialBackoff(max_retries=-1)


def _record_age_exceeded_context(self, error_payload: dict, invoke_count: int) -> dict:
    # AWS's RecordAgeExceeded record has a requestContext (requestId, functionArn, condition,
    # approximateInvokeCount) and no responseContext (records LocalStack's own tests recorded against AWS, the
    # snapshot of test_lambda_integration_kinesis; Lambda developer guide, Kinesis on-failure destinations).
    # LocalStack 4.14 sends neither context. The request id is the last attempt's, or a new one when the records
    # aged out before any invocation.
    import uuid

    return {
        "requestContext": {
            "requestId": (error_payload or {}).get("requestId") or str(uuid.uuid4()),
            "functionArn": self.processor.sender.target_arn,
            "condition": "RecordAgeExceeded",
            "approximateInvokeCount": invoke_count,
        }
    }
