"""Kinesis event source mappings read like AWS's: the patch functions that put the shard readers in LocalStack's
poller, pass it the settings LocalStack leaves out, and check parameters as AWS does.

On by default; ``COURSE_ESM_POLLER=localstack`` in LocalStack's environment (e.g. ``COURSE_ESM_POLLER=localstack
make up``) turns the reading off and leaves LocalStack 4.14's own poller (with the kit's delivery loop of
delivery.py, bisection included), in case the course must fall back.

- LocalStack's worker keeps calling ``poll_events`` about once a second; for a Kinesis mapping it now only keeps one
  ShardReader (shard_reader.py) running per shard, and the readers do the reading and invoking, concurrently.
  AWS: "Lambda polls each shard in your Kinesis stream ... at a base rate of once per second", shards processed
  concurrently (Lambda developer guide, Using Lambda with Kinesis).
- BisectBatchOnFunctionError, ParallelizationFactor, TumblingWindowInSeconds and StartingPositionTimestamp reach the
  poller (LocalStack stores and echoes them, and passes none of them to its poller): into state.PollerSettings.
- Positions per shard (state.py) outlive the poller that LocalStack rebuilds on every update.
- Parameters are checked as AWS checks them (validation.py).
"""

from __future__ import annotations

import time

from . import state, switches
from .validation import validation_errors

SHARD_LIST_REFRESH_S = 10.0


def configure_poller(get_esm_worker, self):
    """Patch of EsmWorkerFactory.get_esm_worker: the settings LocalStack does not pass to its poller."""
    from localstack.services.lambda_.event_source_mapping.pollers.kinesis_poller import KinesisPoller

    worker = get_esm_worker(self)
    poller = worker.poller
    settings = state.settings(poller)
    # The factory builds the poller from Pipes parameters, which have no BisectBatchOnFunctionError.
    settings.bisect = bool(self.esm_config.get("BisectBatchOnFunctionError"))
    # MetricsConfig (API reference, EventSourceMappingMetricsConfig): the EventCount metrics (event_counts.py).
    settings.event_counts = "EventCount" in ((self.esm_config.get("MetricsConfig") or {}).get("Metrics") or [])
    if switches.aws_reading() and isinstance(poller, KinesisPoller):
        settings.aws_reading = True
        settings.aws_failure_records = True
        settings.parallelization_factor = int(self.esm_config.get("ParallelizationFactor") or 1)
        # API reference, CreateEventSourceMapping: "A value of 0 seconds indicates no tumbling window."
        settings.tumbling_window = int(self.esm_config.get("TumblingWindowInSeconds") or 0)
        if (timestamp := self.esm_config.get("StartingPositionTimestamp")) is not None:
            poller.stream_parameters["StartingPositionTimestamp"] = timestamp
    return worker


def keep_one_reader_per_shard(poll_events, self):
    """Patch of StreamPoller.poll_events."""
    settings = state.settings(self)
    if not settings.aws_reading:
        return poll_events(self)
    from localstack.services.lambda_.event_source_mapping.pollers.poller import EmptyPollResultsException

    from .shard_reader import ShardReader

    now = time.monotonic()
    if not settings.readers or now - settings.shards_listed_at >= SHARD_LIST_REFRESH_S:
        description = self.source_client.describe_stream(StreamARN=self.source_arn)["StreamDescription"]
        settings.shards_listed_at = now
        if description["StreamStatus"] not in ("ACTIVE", "UPDATING"):
            raise EmptyPollResultsException(service=self.event_source(), source_arn=self.source_arn)
        settings.shards = [shard["ShardId"] for shard in description["Shards"]]
    for shard_id in settings.shards:
        reader = settings.readers.get(shard_id)
        if self._is_shutdown.is_set():
            return
        if reader is None or (not reader.is_alive() and not reader.finished):
            settings.readers[shard_id] = ShardReader(self, shard_id)
            settings.readers[shard_id].start()


def validate_like_aws(validate, self, context, request):
    """Patch of LambdaProvider.validate_event_source_mapping (called for creates and for updates, with the mapping as
    it would be after the update): the rules of validation.py, with the exceptions AWS answers."""
    from localstack.aws.api.lambda_ import InvalidParameterValueException
    from localstack.services.lambda_.api_utils import construct_validation_exception_message
    from localstack.services.lambda_.invocation.lambda_models import ValidationException

    constraint_errors, parameter_error = validation_errors(request)
    if constraint_errors:
        raise ValidationException(construct_validation_exception_message(constraint_errors))
    if parameter_error:
        raise InvalidParameterValueException(parameter_error, Type="User")
    return validate(self, context, request)
