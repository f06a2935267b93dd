"""The course clock: a teaching device that runs one event source mapping's time-based behaviour faster.

This is NOT AWS behaviour. AWS has no such setting; it exists so that a lesson can show, within its time budget,
what AWS does over minutes (a record reaching MaximumRecordAgeInSeconds, which is at least 60 s; retries whose
backoff grows; a batching window of up to 300 s; a tumbling window of up to 900 s), and so that tests can exercise
those paths without waiting.

Off by default: every mapping runs at factor 1, i.e. with AWS's timing (as the kit reproduces it). A factor is set
per mapping, at run time, through an internal endpoint of the extension on LocalStack's gateway:

    PUT /_kinesis_course/esm/<UUID>/clock   {"factor": 20}   -> {"uuid": ..., "factor": 20.0}
    GET /_kinesis_course/esm/<UUID>/clock                     -> {"uuid": ..., "factor": 1.0}
    PUT ... {"factor": 1} turns it off again; an unknown mapping answers 404.

With factor F the mapping's clock runs F times faster than the wall clock, for these behaviours only:
- record age: a record counts as expired (MaximumRecordAgeInSeconds) when its real age times F reaches the
  setting (esm_parity, before each attempt);
- retry backoff: each wait between two attempts of a failing batch lasts 1/F of its usual length (esm_parity);
- batching window: MaximumBatchingWindowInSeconds lasts 1/F of its length (esm_shard_reader);
- tumbling windows: TumblingWindowInSeconds lasts 1/F of its length, windows aligned to multiples of that shorter
  length, their start and end in the event real times (esm_windows; a 60 s window is 3 s at factor 20);
- idle polling: a shard with nothing new is polled again after 1/F of the usual second (esm_shard_reader).
Nothing else changes: the function's own run time and timeout, the records' timestamps, the failure records'
timestamps and every metric the course reports (IteratorAge, Duration...) stay in real seconds.
With COURSE_ESM_POLLER=localstack (LocalStack's own poller) only record age and retry backoff are scaled.

The factors live in memory, for as long as LocalStack runs, and go with the mapping when it is deleted.
"""

from __future__ import annotations

import json
import logging
import threading

LOG = logging.getLogger(__name__)

PATH = "/_kinesis_course/esm/<uuid>/clock"
MAX_FACTOR = 1000.0

_lock = threading.Lock()
_factors: dict[str, float] = {}


def factor(mapping_uuid: str | None) -> float:
    """How many times faster than real time the mapping's clock runs (1.0 unless a lesson or a test set it)."""
    return _factors.get(mapping_uuid, 1.0) if mapping_uuid else 1.0


def set_factor(mapping_uuid: str, value: float) -> float:
    value = float(value)
    if not 1.0 <= value <= MAX_FACTOR:
        raise ValueError(f"the clock's factor must be between 1 and {MAX_FACTOR:g}, got {value:g}")
    with _lock:
        if value == 1.0:
            _factors.pop(mapping_uuid, None)
        else:
            _factors[mapping_uuid] = value
    return value


def forget(mapping_uuid: str) -> None:
    with _lock:
        _factors.pop(mapping_uuid, None)


def apply_clock() -> None:
    """Adds the endpoint to LocalStack's gateway and forgets a mapping's factor when the mapping is deleted."""
    from localstack.services.edge import ROUTER
    from localstack.services.lambda_.event_source_mapping.esm_worker import EsmWorker
    from localstack.utils.patch import Patch

    ROUTER.add(PATH, _endpoint, methods=["GET", "PUT"])
    Patch.function(EsmWorker.delete_esm_in_store, _forget_on_delete).apply()
    LOG.info("kinesis-course: course clock endpoint at %s (off unless set)", PATH)


def _forget_on_delete(delete_esm_in_store, self):
    forget(self.uuid)
    return delete_esm_in_store(self)


def _mapping_exists(mapping_uuid: str) -> bool:
    from localstack.services.lambda_.invocation.models import lambda_stores

    return any(mapping_uuid in store.event_source_mappings for _, _, store in lambda_stores.iter_stores())


def _endpoint(request, uuid: str):
    from localstack.http import Response

    if not _mapping_exists(uuid):
        return Response.for_json({"message": f"no event source mapping {uuid}"}, status=404)
    if request.method == "PUT":
        try:
            body = json.loads(request.get_data() or b"{}")
            set_factor(uuid, body["factor"])
        except (ValueError, KeyError, TypeError) as error:
            return Response.for_json({"message": f"expected {{\"factor\": <1..{MAX_FACTOR:g}>}}: {error}"},
                                     status=400)
        LOG.info("kinesis-course: the course clock of mapping %s runs at factor %g", uuid, factor(uuid))
    return {"uuid": uuid, "factor": factor(uuid)}
