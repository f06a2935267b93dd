"""The extension's switches: environment variables of LocalStack's process, read when LocalStack starts.

Each switches one part off; everything is on by default. The patch table (patches.py) names the switch of each patch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

_OFF = ("off", "0", "false")


@dataclass(frozen=True)
class Switch:
    variable: str
    off_values: tuple[str, ...]
    what: str

    def on(self) -> bool:
        return os.environ.get(self.variable, "on").strip().lower() not in self.off_values


# COURSE_ESM_POLLER=localstack: Kinesis mappings use LocalStack 4.14's own poller (reading.py's patches are left out).
POLLER = Switch("COURSE_ESM_POLLER", ("localstack", *_OFF), "Kinesis mappings read like AWS (one reader per shard)")
# COURSE_ESM_METRICS=off: no Duration, IteratorAge or EventCount metrics in CloudWatch (metrics.py, event_counts.py).
METRICS = Switch("COURSE_ESM_METRICS", _OFF, "Lambda's Duration, IteratorAge and the ESM's EventCount in CloudWatch")
# COURSE_ESM_POSITION=off: no position view (position.py): its endpoint is not served, its observer not added.
POSITION = Switch("COURSE_ESM_POSITION", _OFF, "the position view, GET /_kinesis_course/esm/<UUID>/position")


def aws_reading() -> bool:
    return POLLER.on()
