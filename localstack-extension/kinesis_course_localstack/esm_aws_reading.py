"""Kinesis event source mappings read like AWS's: the patches that put the shard readers in LocalStack's poller.

On by default; ``COURSE_ESM_POLLER=localstack`` in LocalStack's environment (e.g. ``COURSE_ESM_POLLER=localstack
make up``) turns all of this off and leaves LocalStack 4.14's own poller (with the kit's bisection and retry
patches of esm_parity), in case the course must fall back.

- LocalStack's worker keeps calling ``poll_events`` about once a second; for a Kinesis mapping it now only keeps one
  ShardReader (esm_shard_reader) running per shard, and the readers do the reading and invoking, concurrently.
  AWS: "Lambda polls each shard in your Kinesis stream ... at a base rate of once per second", shards processed
  concurrently (Lambda developer guide, Using Lambda with Kinesis).
- The mapping's ParallelizationFactor and StartingPositionTimestamp reach the poller (LocalStack stores and echoes
  them, and passes neither to its poller).
- Positions per shard (esm_checkpoints) outlive the poller that LocalStack rebuilds on every update, and go with the
  mapping when it is deleted.
- Parameters are checked as AWS checks them (esm_validation); RecordAgeExceeded failure records get AWS's
  requestContext (esm_parity).
- TumblingWindowInSeconds reaches the poller (LocalStack stores it and ignores it): the shard readers run tumbling
  windows (esm_windows).
"""

from __future__ import annotations

import logging
import os
import time

from . import esm_checkpoints as checkpoints
from . import esm_windows as windows

LOG = logging.getLogger(__name__)

SWITCH = "COURSE_ESM_POLLER"
SHARD_LIST_REFRESH_S = 10.0


def enabled() -> bool:
    return os.environ.get(SWITCH, "aws").strip().lower() not in ("localstack", "off", "0", "false")


def apply_aws_reading_patches() -> bool:
    if not enabled():
        LOG.info("kinesis-course: %s=%s, Kinesis mappings use LocalStack's own poller", SWITCH, os.environ[SWITCH])
        return False
    from localstack.services.lambda_.event_source_mapping.esm_worker import EsmWorker
    from localstack.services.lambda_.event_source_mapping.esm_worker_factory import EsmWorkerFactory
    from localstack.services.lambda_.event_source_mapping.pollers.stream_poller import StreamPoller
    from localstack.services.lambda_.provider import LambdaProvider
    from localstack.utils.patch import Patch

    from .esm_validation import validate_like_aws

    Patch.function(EsmWorkerFactory.get_esm_worker, _configure_kinesis_poller).apply()
    Patch.function(StreamPoller.poll_events, _keep_one_reader_per_shard).apply()
    Patch.function(EsmWorker.delete_esm_in_store, _forget_positions).apply()
    Patch.function(LambdaProvider.validate_event_source_mapping, validate_like_aws).apply()
    windows.apply_windows()
    LOG.info("kinesis-course: Kinesis mappings read like AWS (one reader per shard, checkpoints, validation)")
    return True


def _configure_kinesis_poller(get_esm_worker, self):
    from localstack.services.lambda_.event_source_mapping.pollers.kinesis_poller import KinesisPoller

    worker = get_esm_worker(self)
    poller = worker.poller
    if isinstance(poller, KinesisPoller):
        poller.aws_reading = True
        poller.aws_failure_records = True
        poller.parallelization_factor = int(self.esm_config.get("ParallelizationFactor") or 1)
        # API reference, CreateEventSourceMapping: "A value of 0 seconds indicates no tumbling window."
        poller.tumbling_window = int(self.esm_config.get("TumblingWindowInSeconds") or 0)
        if (timestamp := self.esm_config.get("StartingPositionTimestamp")) is not None:
            poller.stream_parameters["StartingPositionTimestamp"] = timestamp
    return worker


def _keep_one_reader_per_shard(poll_events, self):
    if not getattr(self, "aws_reading", False):
        return poll_events(self)
    from localstack.services.lambda_.event_source_mapping.pollers.poller import EmptyPollResultsException

    from .esm_shard_reader import ShardReader

    readers: dict = self.__dict__.setdefault("_course_readers", {})
    now = time.monotonic()
    if not readers or now - self.__dict__.get("_course_listed_at", 0.0) >= SHARD_LIST_REFRESH_S:
        description = self.source_client.describe_stream(StreamARN=self.source_arn)["StreamDescription"]
        self._course_listed_at = now
        if description["StreamStatus"] not in ("ACTIVE", "UPDATING"):
            raise EmptyPollResultsException(service=self.event_source(), source_arn=self.source_arn)
        self._course_shards = [shard["ShardId"] for shard in description["Shards"]]
    for shard_id in getattr(self, "_course_shards", []):
        reader = readers.get(shard_id)
        if self._is_shutdown.is_set():
            return
        if reader is None or (not reader.is_alive() and not reader.finished):
            readers[shard_id] = ShardReader(self, shard_id)
            readers[shard_id].start()


def _forget_positions(delete_esm_in_store, self):
    checkpoints.forget(self.uuid)
    windows.forget(self.uuid)
    return delete_esm_in_store(self)
