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
  setting (delivery.py, before each attempt);
- retry backoff: each wait between two attempts of a failing batch lasts 1/F of its usual length (delivery.py);
- batching window: MaximumBatchingWindowInSeconds lasts 1/F of its length (shard_reader.py);
- tumbling windows: TumblingWindowInSeconds lasts 1/F of its length, windows aligned to multiples of that shorter
  length, their start and end in the event real times (window_rules.py; a 60 s window is 3 s at factor 20);
- idle polling: a shard with nothing new is polled again after 1/F of the usual second (shard_reader.py).
Nothing else changes: the function's own run time and timeout, the records' timestamps, the failure records'
timestamps and every metric the course reports (IteratorAge, Duration...) stay in real seconds.
With COURSE_ESM_POLLER=localstack (LocalStack's own poller) only record age and retry backoff are scaled.

The factors live in state.py, in memory, for as long as LocalStack runs, and go with the mapping when it is deleted.
"""

from __future__ import annotations

import json
import logging

from . import state

LOG = logging.getLogger(__name__)

PATH = "/_kinesis_course/esm/<uuid>/clock"


def _mapping_exists(mapping_uuid: str) -> bool:
    from localstack.services.lambda_.invocation.models import lambda_stores

    return any(mapping_uuid in store.event_source_mappings for _, _, store in lambda_stores.iter_stores())


def serve_clock(request, uuid: str):
    from localstack.http import Response

    if not _mapping_exists(uuid):
        return Response.for_json({"message": f"no event source mapping {uuid}"}, status=404)
    if request.method == "PUT":
        try:
            body = json.loads(request.get_data() or b"{}")
            state.set_factor(uuid, body["factor"])
        except (ValueError, KeyError, TypeError) as error:
            return Response.for_json(
                {"message": f'expected {{"factor": <1..{state.MAX_FACTOR:g}>}}: {error}'}, status=400
            )
        LOG.info("kinesis-course: the course clock of mapping %s runs at factor %g", uuid, state.factor(uuid))
    return {"uuid": uuid, "factor": state.factor(uuid)}
