"""Event source mapping patches that make LocalStack 4.14's stream poller behave as AWS documents.

Applied once when LocalStack starts (hook ``localstack.hooks.on_infra_start``), with LocalStack's patch utility.

1. BisectBatchOnFunctionError. LocalStack stores the flag and ignores it ("not implemented" in its stream
   poller). AWS: "If the function returns an error, split the batch into two and retry", and splitting
   "doesn't count towards the retry quota" (Lambda developer guide, Kinesis on-failure destinations).
2. A retry loop ends with its mapping. LocalStack's worker sets its own shutdown event on disable or delete,
   but the poller's retry loop waits on the poller's event, so a failing batch kept being retried (forever with
   MaximumRetryAttempts -1) after the mapping was gone. AWS stops invoking once a mapping is disabled or deleted.
   Every batch goes through the retry loop below (bisecting only when the flag is set), because LocalStack's
   own loop invokes once more when its backoff wait is cut short by the shutdown.
3. A disabled mapping can be deleted. LocalStack removes a deleted mapping from its store when the mapping's
   poller loop ends; a disabled mapping has no loop, so it stayed listed as "Deleting" forever, and a lesson run
   again found the previous run's mapping in ListEventSourceMappings. AWS deletes disabled mappings too.
4. RecordAgeExceeded failure records carry AWS's requestContext (with the AWS-like reading of esm_aws_reading).
5. Attempts are counted as AWS's recordings show (esm_attempts; inferred, AWS does not document it): a partial batch
   response that moves the checkpoint starts a new batch, with one invocation plus MaximumRetryAttempts retries of
   its own; a RecordAgeExceeded record counts the attempt that found its records too old. LocalStack 4.14 counts
   on across a partial batch response (one delivery fewer than AWS) and leaves that attempt out (one less).

Then esm_aws_reading applies the patches that make Kinesis mappings read like AWS (on unless
COURSE_ESM_POLLER=localstack).
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from localstack.runtime import hooks

from . import esm_clock as clock
from .esm_attempts import attempts_after_partial_failure, record_age_exceeded_count

LOG = logging.getLogger(__name__)
_current = threading.local()  # the attempt the calling thread is invoking (for the position view)


@hooks.on_infra_start()
def apply_esm_parity_patches():
    from localstack.services.lambda_.event_source_mapping.esm_worker import EsmWorker
    from localstack.services.lambda_.event_source_mapping.esm_worker_factory import EsmWorkerFactory
    from localstack.services.lambda_.event_source_mapping.pollers.stream_poller import StreamPoller
    from localstack.utils.patch import Patch

    Patch.function(EsmWorkerFactory.get_esm_worker, _pass_bisect_setting_to_poller).apply()
    Patch.function(StreamPoller.forward_events_to_target, _forward_with_aws_retry_rules, pass_target=False).apply()
    for method in (EsmWorker.stop, EsmWorker.stop_for_shutdown):
        Patch.function(method, _also_end_poller_retries).apply()
    Patch.function(EsmWorker.delete, _delete_even_without_poller_loop).apply()
    LOG.info("kinesis-course: event source mapping parity patches applied")
    # Issue 11: Lambda's metrics in CloudWatch (esm_metrics) and the position view endpoint (esm_position).
    from .esm_metrics import apply_metrics
    from .esm_position import apply_position_view

    apply_position_view()
    apply_metrics()
    # Issue 10: Kinesis mappings read like AWS's (shard readers, checkpoints, ParallelizationFactor, validation).
    # After the patches above, which it builds on; COURSE_ESM_POLLER=localstack leaves it out.
    from .esm_aws_reading import apply_aws_reading_patches

    apply_aws_reading_patches()
    # Issue 11: the course clock (off unless a lesson or test sets it per mapping), a teaching device.
    from .esm_clock import apply_clock

    apply_clock()


def _pass_bisect_setting_to_poller(get_esm_worker, self):
    # The factory builds the poller from Pipes parameters, which have no BisectBatchOnFunctionError.
    worker = get_esm_worker(self)
    worker.poller.bisect_batch_on_function_error = bool(self.esm_config.get("BisectBatchOnFunctionError"))
    return worker


def _also_end_poller_retries(method, self, *args, **kwargs):
    # AWS: disabling or deleting a mapping stops its invocations, including the retries of a failing batch.
    result = method(self, *args, **kwargs)
    self.poller.close()
    return result


def _delete_even_without_poller_loop(delete, self):
    _also_end_poller_retries(delete, self)
    loop = self._poller_thread
    # An enabled worker's running loop removes the mapping when it ends. A disabled worker never had a loop
    # (or its loop is ending as a stopped one, which does not remove it): remove the mapping here.
    if not self.enabled or loop is None or not loop.is_alive():
        self.delete_esm_in_store()


def _forward_with_aws_retry_rules(self, shard_id, records) -> bool:
    """Delivers records as one batch with AWS's retry rules; returns False when the mapping stopped before the
    batch was done (then its records must be read again by the mapping's next poller: they are not checkpointed)."""
    bisect = getattr(self, "bisect_batch_on_function_error", False)
    events = self.post_filter(self.filter_events(self.pre_filter(self.transform_into_events(records, shard_id))))
    if not events:
        # AWS: records that match no filter are discarded and the checkpoint moves past them.
        return True
    events = self.add_source_metadata(events)
    # Halves wait their turn in order, so the shard stays ordered: the left half is delivered before the right.
    pending = deque([events])
    while pending:
        if self._is_shutdown.is_set():
            return False
        halves = _deliver_segment(self, shard_id, pending.popleft(), bisect)
        if halves is None:
            return False
        pending.extendleft(reversed(halves))
    return True


def _deliver_segment(self, shard_id, events, bisect):
    """Delivers one batch with AWS's retry rules. Returns the two halves when it must be bisected, [] when the
    batch is done (processed, or described in the on-failure destination), None when the mapping stopped first."""
    from localstack.services.lambda_.event_source_mapping.event_processor import (
        BatchFailureError,
        PartialBatchFailureError,
    )
    from localstack.services.lambda_.event_source_mapping.pollers.poller import get_batch_item_failures

    max_record_age = max(self.stream_parameters.get("MaximumRecordAgeInSeconds", -1), 0)
    backoff = _new_backoff()
    # The attempts at the batch that starts at the checkpoint (AWS's approximateInvokeCount; esm_attempts).
    attempts = 0
    retrying = False  # the next invocation is a retry: it waits its backoff first
    abort_condition = None
    error_payload = {}
    expired_events = []
    expired_after = 0  # the attempts that carried the expired records (the last expired, when several expire)
    done = False

    while events and not self._is_shutdown.is_set():
        if self.max_retries_exceeded(attempts):
            abort_condition = "RetryAttemptsExhausted"
            break
        if max_record_age:
            # The course clock (esm_clock, factor 1 unless set) ages records F times faster: a teaching device.
            events, expired = self.bisect_events_by_record_age(max_record_age / clock.factor(self.esm_uuid), events)
            if expired:
                expired_events.extend(expired)
                expired_after = attempts
                continue
        try:
            if retrying:
                # The wait ends early when the mapping is disabled or deleted; then nothing more is invoked,
                # and nothing goes to the on-failure destination (the batch did not run out of retries).
                # The course clock (esm_clock) shortens the backoff F times; factor 1 (AWS's timing) by default.
                if self._is_shutdown.wait(backoff.next_backoff() / clock.factor(self.esm_uuid)):
                    return None
            retrying = True
            attempts += 1
            _current.attempt = attempts  # for the position view (esm_position)
            self.processor.process_events_batch(events)
            done = True
            break
        except PartialBatchFailureError as error:
            # As on AWS (and as LocalStack does without bisection): resume from the lowest failed sequence number.
            error_payload = error.error
            sequence_numbers = {self.get_sequence_number(event) for event in events}
            failed = get_batch_item_failures(error.partial_failure_payload, sequence_numbers)
            if failed:
                delivered = len(events)
                _, events = self.bisect_events(min(failed, key=int), events)
                # AWS's recordings: when the checkpoint moved, the records from it on are a new batch with attempts
                # and retries of their own (esm_attempts, rule 1); its backoff starts again too.
                attempts = attempts_after_partial_failure(attempts, delivered, len(events))
                if attempts == 0:
                    backoff = _new_backoff()
        except BatchFailureError as error:
            error_payload = error.error
            if bisect and len(events) > 1:
                # AWS: split the failed batch in two and retry each half; the split uses no retry attempt.
                middle = (len(events) + 1) // 2
                LOG.debug("Bisecting a failed batch of %d records from %s", len(events), shard_id)
                return [events[:middle], events[middle:]]
        except Exception:
            LOG.error("Attempt %d failed with an unexpected error for %s", attempts, self.source_arn, exc_info=True)
        finally:
            _current.attempt = None

    if expired_events:
        abort_condition, events = "RecordAgeExceeded", expired_events
    if abort_condition:
        if abort_condition == "RecordAgeExceeded" and getattr(self, "aws_failure_records", False):
            # AWS's recordings: the attempt that found the records too old counts (esm_attempts, rule 2).
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
        self.send_events_to_dlq(shard_id, events, context=context)
        return []
    if done or not events:
        return []
    # The loop ended on the shutdown with records left: not done.
    return None


def _new_backoff():
    from localstack.utils.backoff import ExponentialBackoff

    # LocalStack's schedule (AWS does not document its own): about 0.5 s, growing 1.5 times a retry, jittered.
    # Unlimited here: MaximumRetryAttempts is checked by the loop, which may start a new batch's count (its
    # max_retries would make the last retries of such a batch wait 0 s).
    return ExponentialBackoff(max_retries=-1)


def attempt_number() -> int | None:
    """The attempt the calling thread is invoking now (1 = first try of the batch at the checkpoint), or None."""
    return getattr(_current, "attempt", None)


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
