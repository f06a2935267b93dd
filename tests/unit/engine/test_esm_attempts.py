"""How the extension counts the attempts at a stream batch (esm.attempts; esm.delivery's retry loop), without LocalStack.

AWS's numbers come from AWS's recordings in LocalStack's AWS-validated tests at v4.14.0,
tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_kinesis.snapshot.json ("SNAP"); the rules
they imply are inferred (AWS documents neither), see esm/attempts.py.

The retry loop (esm.delivery.deliver_segment) runs here on a stand-in poller with a virtual clock: the function's
answers are scripted, the backoff waits advance the clock instead of sleeping. LocalStack's own exception classes,
partial-response parser and backoff are used when LocalStack's package is importable (LocalStack's environment);
otherwise (the course's environment) minimal stand-ins with the same names and the behaviour the loop relies on.
Nothing here talks to LocalStack.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections import Counter

import pytest

from kinesis_course_localstack.esm.attempts import attempts_after_partial_failure, record_age_exceeded_count

# The rules, as pure functions ----------------------------------------------------------------------------------


def test_a_partial_response_that_moves_the_checkpoint_starts_a_new_batch():
    # [3, 4, 5] reports 5: records 3 and 4 are done, [5] is retried as a batch of its own, at attempt 0.
    assert attempts_after_partial_failure(attempts=1, delivered=3, retried=1) == 0
    assert attempts_after_partial_failure(attempts=3, delivered=8, retried=3) == 0


def test_a_partial_response_that_names_the_first_record_counts_as_an_attempt():
    # [5] reports 5 (or [5, 6, 7] reports 5): the checkpoint did not move, the attempt counts.
    assert attempts_after_partial_failure(attempts=1, delivered=1, retried=1) == 1
    assert attempts_after_partial_failure(attempts=3, delivered=3, retried=3) == 3


def test_records_too_old_count_the_attempt_that_found_them_too_old():
    # SNAP expire-before-ingestion and discard_records: never invoked -> approximateInvokeCount 1.
    assert record_age_exceeded_count(0) == 1
    assert record_age_exceeded_count(7) == 8


# The retry loop on a stand-in poller -----------------------------------------------------------------------------

LOCALSTACK_MODULES = (
    "localstack.services.lambda_.event_source_mapping.event_processor",
    "localstack.services.lambda_.event_source_mapping.pollers.poller",
    "localstack.utils.backoff",
)


def _localstack_available() -> bool:
    try:
        return importlib.util.find_spec("localstack.services.lambda_.event_source_mapping.event_processor") is not None
    except ModuleNotFoundError:
        return False


def _stand_ins() -> dict[str, types.ModuleType]:
    """The few names esm.delivery takes from LocalStack 4.14, with the behaviour its retry loop relies on."""
    processor = types.ModuleType("localstack.services.lambda_.event_source_mapping.event_processor")

    class BatchFailureError(Exception):
        def __init__(self, error=None):
            self.error = error

    class PartialBatchFailureError(Exception):
        def __init__(self, partial_failure_payload=None, error=None):
            self.error = error
            self.partial_failure_payload = partial_failure_payload

    processor.BatchFailureError, processor.PartialBatchFailureError = BatchFailureError, PartialBatchFailureError

    poller = types.ModuleType("localstack.services.lambda_.event_source_mapping.pollers.poller")

    def get_batch_item_failures(result, valid_item_ids=None):
        # LocalStack 4.14 pollers/poller.py:131-143: the identifiers, or None (the whole batch failed) when one is
        # missing, empty or not in the batch.
        try:
            identifiers = [item["itemIdentifier"] for item in result["batchItemFailures"]]
        except (KeyError, TypeError):
            return None
        if any(not isinstance(i, str) or not i or (valid_item_ids and i not in valid_item_ids) for i in identifiers):
            return None
        return identifiers

    poller.get_batch_item_failures = get_batch_item_failures

    backoff = types.ModuleType("localstack.utils.backoff")

    class ExponentialBackoff:  # LocalStack 4.14's defaults, without the jitter
        def __init__(self, max_retries=-1):
            self.interval = 0.0

        def next_backoff(self):
            self.interval = 0.5 if not self.interval else min(self.interval * 1.5, 60.0)
            return self.interval

    backoff.ExponentialBackoff = ExponentialBackoff
    return {module.__name__: module for module in (processor, poller, backoff)}


@pytest.fixture
def delivery():
    """esm.delivery, imported with LocalStack's modules or the stand-ins (removed again afterwards)."""
    saved = {name: sys.modules.get(name) for name in (*LOCALSTACK_MODULES, "kinesis_course_localstack.esm.delivery")}
    try:
        if not _localstack_available():
            for name in (
                "localstack",
                "localstack.services",
                "localstack.services.lambda_",
                "localstack.services.lambda_.event_source_mapping",
                "localstack.services.lambda_.event_source_mapping.pollers",
                "localstack.utils",
            ):
                saved.setdefault(name, sys.modules.get(name))
                sys.modules[name] = types.ModuleType(name)
            sys.modules.update(_stand_ins())
        sys.modules.pop("kinesis_course_localstack.esm.delivery", None)
        yield importlib.import_module("kinesis_course_localstack.esm.delivery")
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


class VirtualClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0


class Shutdown:
    """The poller's shutdown event: never set; a wait advances the virtual clock instead of sleeping."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock

    def is_set(self) -> bool:
        return False

    def wait(self, seconds: float) -> bool:
        self.clock.now += seconds
        return False


class Processor:
    def __init__(self, poller, answer) -> None:
        self.poller, self.answer, self.deliveries = poller, answer, []
        self.sender = types.SimpleNamespace(target_arn="arn:aws:lambda:us-east-1:000000000000:function:f")

    def process_events_batch(self, events) -> None:
        items = [event["i"] for event in events]
        self.deliveries.append(items)
        self.poller.clock.now += self.poller.invocation_seconds
        self.answer(items, events)

    def generate_event_failure_context(self, abort_condition, error, attempts_count, partner_resource_arn):
        # LocalStack's shape (esm_event_processor.py), reduced to what the tests read.
        return {"requestContext": {"condition": abort_condition, "approximateInvokeCount": attempts_count}}


class Poller:
    """A Kinesis poller as esm.delivery sees it: LocalStack 4.14's StreamPoller rules (pollers/stream_poller.py:
    max_retries_exceeded 477-482, bisect_events 484-495, bisect_events_by_record_age 497-506), a virtual clock."""

    def __init__(self, answer, invocation_seconds: float = 0.0, **stream_parameters) -> None:
        self.clock = VirtualClock()
        self.invocation_seconds = invocation_seconds
        self.stream_parameters = stream_parameters
        self._is_shutdown = Shutdown(self.clock)
        self.esm_uuid = "test-mapping"
        self.source_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
        self.partner_resource_arn = None
        self.processor = Processor(self, answer)
        self.failures: list[tuple[list[int], dict]] = []

    def transform_into_events(self, records, shard_id):
        return records

    def pre_filter(self, events):
        return events

    filter_events = post_filter = add_source_metadata = pre_filter

    def events(self, items, ages=None) -> list[dict]:
        ages = ages or [0.0] * len(items)
        return [{"i": i, "seq": str(1000 + i), "arrival": self.clock.now - age} for i, age in zip(items, ages)]

    def max_retries_exceeded(self, attempts: int) -> bool:
        maximum = self.stream_parameters.get("MaximumRetryAttempts", -1)
        return maximum != -1 and attempts > maximum

    def get_sequence_number(self, event) -> str:
        return event["seq"]

    def bisect_events(self, sequence_number, events):
        for index, event in enumerate(events):
            if event["seq"] == sequence_number:
                return events[:index], events[index:]
        return events, []

    def bisect_events_by_record_age(self, maximum_record_age, events):
        cutoff = self.clock.now - maximum_record_age
        index = next((n for n, event in enumerate(events) if event["arrival"] >= cutoff), len(events))
        return events[index:], events[:index]

    def send_events_to_dlq(self, shard_id, events, context) -> None:
        self.failures.append(([event["i"] for event in events], context))


def deliver(delivery, poller, items, ages=None, bisect=False) -> None:
    # As the kit's reading configures a Kinesis poller (esm.reading): RecordAgeExceeded records as AWS's.
    delivery.state.settings(poller).aws_failure_records = True
    pending = [poller.events(items, ages)]
    while pending:
        halves = delivery.deliver_segment(delivery.Delivery(poller, "shardId-000000000000"), pending.pop(0), bisect)
        assert halves is not None
        pending[:0] = halves


def reports(*failing):
    """A function that reports the records ``failing`` in a partial batch response (as SNAP's function does)."""

    def answer(items, events):
        from localstack.services.lambda_.event_source_mapping.event_processor import PartialBatchFailureError

        failed = [event["seq"] for event in events if event["i"] in failing]
        if failed:
            raise PartialBatchFailureError(
                partial_failure_payload={"batchItemFailures": [{"itemIdentifier": seq} for seq in failed]},
                error={"requestId": "r"},
            )

    return answer


def always_fails(items, events):
    from localstack.services.lambda_.event_source_mapping.event_processor import BatchFailureError

    raise BatchFailureError(error={"requestId": "r"})


def test_aws_recording_a_partial_response_then_retries_of_the_failed_record(delivery):
    # SNAP test_kinesis_report_batch_item_failures: BatchSize 3, MaximumRetryAttempts 3, record 5 fails.
    poller = Poller(reports(5), MaximumRetryAttempts=3)
    deliver(delivery, poller, [0, 1, 2])
    deliver(delivery, poller, [3, 4, 5])

    assert poller.processor.deliveries == [[0, 1, 2], [3, 4, 5], [5], [5], [5], [5]]
    delivered = Counter(i for batch in poller.processor.deliveries for i in batch)
    assert sum(delivered.values()) == 10  # AWS: 10 records in the recorded invocations (LocalStack 4.14: 9)
    assert delivered == {0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 5}
    ((records, context),) = poller.failures
    assert records == [5]  # AWS: batchSize 1, startSequenceNumber = endSequenceNumber = record 5
    assert context["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert context["requestContext"]["approximateInvokeCount"] == 4  # AWS: 4


def test_a_record_that_reports_itself_uses_the_retry_quota(delivery):
    # The checkpoint does not move: one invocation plus MaximumRetryAttempts retries, as for a function error.
    poller = Poller(reports(0), MaximumRetryAttempts=2)
    deliver(delivery, poller, [0, 1, 2])

    assert poller.processor.deliveries == [[0, 1, 2]] * 3
    ((records, context),) = poller.failures
    assert records == [0, 1, 2] and context["requestContext"]["approximateInvokeCount"] == 3


def test_each_move_of_the_checkpoint_starts_a_new_count_and_the_retries_stay_bounded(delivery):
    # Record 1 fails on its first delivery only; record 3 always fails. MaximumRetryAttempts 1.
    seen = Counter()

    def answer(items, events):
        seen.update(items)
        reports(*[i for i in (1, 3) if i == 3 or seen[i] == 1])(items, events)

    poller = Poller(answer, MaximumRetryAttempts=1)
    deliver(delivery, poller, [0, 1, 2, 3, 4])

    # [0..4] reports 1 -> new batch [1..4] reports 3 -> new batch [3, 4]: 1 + 1 retry.
    assert poller.processor.deliveries == [[0, 1, 2, 3, 4], [1, 2, 3, 4], [3, 4], [3, 4]]
    ((records, context),) = poller.failures
    assert records == [3, 4] and context["requestContext"]["approximateInvokeCount"] == 2
    assert len(poller.processor.deliveries) <= 5 * (1 + 1)


def test_a_function_error_is_counted_as_before(delivery):
    # SNAP test_kinesis_report_batch_item_failure_scenarios: MaximumRetryAttempts 2 -> 3 invocations, count 3.
    poller = Poller(always_fails, MaximumRetryAttempts=2)
    deliver(delivery, poller, [0])

    assert poller.processor.deliveries == [[0], [0], [0]]
    assert poller.failures[0][1]["requestContext"]["approximateInvokeCount"] == 3


def test_bisection_still_gives_the_lone_poison_record_one_try_plus_its_retries(delivery):
    # The kit's bisection schedule (tests/engine/test_esm_clock.py): splits use no retry attempt.
    def answer(items, events):
        if 0 in items:
            always_fails(items, events)

    poller = Poller(answer, MaximumRetryAttempts=3)
    deliver(delivery, poller, [3, 0, 1, 2], bisect=True)

    assert poller.processor.deliveries == [[3, 0, 1, 2], [3, 0], [3], [0], [0], [0], [0], [1, 2]]
    assert poller.failures[0][1]["requestContext"]["approximateInvokeCount"] == 4


def test_aws_recording_a_record_too_old_before_any_invocation(delivery):
    # SNAP test_kinesis_maximum_record_age_exceeded[expire-before-ingestion]: approximateInvokeCount 1.
    poller = Poller(always_fails, MaximumRetryAttempts=0, MaximumRecordAgeInSeconds=60)
    deliver(delivery, poller, [0], ages=[61])

    assert poller.processor.deliveries == []
    ((records, context),) = poller.failures
    assert records == [0]
    assert context["requestContext"]["condition"] == "RecordAgeExceeded"
    assert context["requestContext"]["approximateInvokeCount"] == 1  # AWS: 1 (LocalStack 4.14 with the kit: 0)


def test_aws_recording_an_expired_record_is_discarded_and_its_neighbours_delivered(delivery):
    # SNAP test_kinesis_maximum_record_age_exceeded_discard_records: 1 old record + 5 young ones, BatchSize 10.
    poller = Poller(lambda items, events: None, MaximumRetryAttempts=0, MaximumRecordAgeInSeconds=60)
    deliver(delivery, poller, [0, 1, 2, 3, 4, 5], ages=[80, 1, 1, 1, 1, 1])

    assert poller.processor.deliveries == [[1, 2, 3, 4, 5]]
    ((records, context),) = poller.failures
    assert records == [0] and context["requestContext"]["approximateInvokeCount"] == 1  # AWS: 1


def test_a_record_that_expires_while_retrying_counts_its_invocations_plus_one(delivery):
    # SNAP test_kinesis_maximum_record_age_exceeded[expire-while-retrying]: AWS recorded 8 (2025-11-25) and 1
    # (2025-04-13) for this same test: the number depends on AWS's undocumented backoff and on when the mapping
    # started, so the rule is checked, not 8.
    poller = Poller(always_fails, invocation_seconds=0.2, MaximumRetryAttempts=-1, MaximumRecordAgeInSeconds=60)
    deliver(delivery, poller, [0])

    invocations = len(poller.processor.deliveries)
    ((records, context),) = poller.failures
    assert records == [0] and context["requestContext"]["condition"] == "RecordAgeExceeded"
    assert invocations >= 2
    assert context["requestContext"]["approximateInvokeCount"] == invocations + 1


# The observers the loop tells (esm.delivery.OBSERVERS): the position view's tracker and the metrics --------------


class Recorder:
    """Records what the loop tells it, and what the position view's tracker has put in the state by then."""

    def __init__(self, state) -> None:
        self.state, self.calls = state, []

    def batch_started(self, delivery, records):
        self.calls.append(("batch", [record["i"] for record in records]))

    def segment_started(self, delivery, events):
        self.calls.append(("segment", [event["i"] for event in events]))

    def sending(self, delivery, events, attempt):
        (flight,) = self.state.flights_of(delivery.mapping)[delivery.shard_id]
        self.calls.append(
            ("send", [event["i"] for event in events], attempt, flight.size, flight.attempt, flight.bisecting)
        )

    def segment_bisected(self, delivery):
        self.calls.append(("bisect",))

    def batch_ended(self, delivery):
        self.calls.append(("end",))


class Failing:
    def __getattr__(self, name):
        def fail(*args):
            raise RuntimeError(f"{name} failed")

        return fail


@pytest.fixture
def observers(delivery):
    from kinesis_course_localstack.esm.position import FlightTracker

    recorder = Recorder(delivery.state)
    delivery.OBSERVERS[:] = [FlightTracker(), Failing(), recorder]
    yield recorder
    delivery.OBSERVERS.clear()


def test_observers_see_the_batch_its_bisected_parts_and_each_attempt(delivery, observers):
    def answer(items, events):
        if 0 in items:
            always_fails(items, events)

    poller = Poller(answer, MaximumRetryAttempts=1)
    delivery.state.settings(poller).bisect = True
    assert delivery.forward_with_aws_retry_rules(poller, "shardId-000000000000", poller.events([3, 0, 1, 2]))

    assert observers.calls == [
        ("batch", [3, 0, 1, 2]),
        ("segment", [3, 0, 1, 2]),
        ("send", [3, 0, 1, 2], 1, 4, 1, False),
        ("bisect",),
        ("segment", [3, 0]),
        ("send", [3, 0], 1, 2, 1, True),
        ("bisect",),
        ("segment", [3]),
        ("send", [3], 1, 1, 1, True),
        ("segment", [0]),
        ("send", [0], 1, 1, 1, True),
        ("send", [0], 2, 1, 2, True),
        ("segment", [1, 2]),
        ("send", [1, 2], 1, 2, 1, True),
        ("end",),
    ]
    assert delivery.state.flights_of(poller.esm_uuid) == {}, "the batch left the batches in flight when it ended"


def test_after_a_partial_response_that_moves_the_checkpoint_the_attempt_starts_at_1_again(delivery, observers):
    poller = Poller(reports(5), MaximumRetryAttempts=1)
    delivery.forward_with_aws_retry_rules(poller, "shardId-000000000000", poller.events([3, 4, 5]))

    sends = [call[1:3] for call in observers.calls if call[0] == "send"]
    assert sends == [([3, 4, 5], 1), ([5], 1), ([5], 2)]
