"""Lesson 08 runs a case again when the machine slowed down during it (iterator_age.RERUN_SLOWDOWN): the rule,
on the summaries of the two soak runs (make soak NB=08 LOAD=1) whose story did not hold."""

from __future__ import annotations

import pytest

from kinesis_course import iterator_age
from kinesis_course.checks.lesson08 import reference_diagnose

# (cause, the handler's time per record measured at the start in ms, the fixed copy's summary), as the soaks printed.
FAILED_SOAKS = [
    (  # LocalStack paused: 7 s per invocation of 34 records
        "batch_too_small",
        20.576,
        {
            "iterator_age_ms": [328, 7239],
            "invocations": 2,
            "errors": 0,
            "duration_ms": 7322.2,
            "batch_size": 100,
            "records_by_shard": {"shardId-000000000000": 41, "shardId-000000000001": 27},
            "failed_lines": 0,
            "failure_records": 0,
        },
    ),
    (  # an IteratorAge of 2.2 s at the very end
        "poison_record",
        16.9645,
        {
            "iterator_age_ms": [451, 383, 561, 124, 333, 422, 268, 438, 2203],
            "invocations": 23,
            "errors": 0,
            "duration_ms": 512.4,
            "batch_size": 100,
            "records_by_shard": {"shardId-000000000000": 158, "shardId-000000000001": 121},
            "failed_lines": 3,
            "failure_records": 1,
        },
    ),
]


@pytest.mark.parametrize("cause, record_ms, fixed", FAILED_SOAKS, ids=[cause for cause, _, _ in FAILED_SOAKS])
def test_a_failed_soak_run_would_have_run_again(cause, record_ms, fixed):
    assert reference_diagnose(fixed) != "keeping_up"  # the story did not hold
    assert iterator_age.slowdown(fixed, record_ms) >= iterator_age.RERUN_SLOWDOWN


def test_time_per_record_counts_the_records_each_invocation_got():
    summary = dict(FAILED_SOAKS[0][2], duration_ms=300.0, invocations=3, records_by_shard={"a": 20, "b": 10})
    assert iterator_age.ms_per_record(summary) == 30.0
    assert iterator_age.ms_per_record(dict(summary, invocations=0)) is None
    assert iterator_age.slowdown(summary, 15.0) == 2.0
