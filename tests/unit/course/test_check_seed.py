"""A check's fresh cases (new on every run) come back when the seed its failure names is set in KC_CHECK_SEED."""

from __future__ import annotations

import re
import statistics

import pytest

from kinesis_course.checks import ExerciseCheckFailed
from kinesis_course.checks import lesson05 as checks


def latency_from_the_newest_record(batches):
    """A plausible wrong batch_stats: a batch's latency measured from its newest record, not its oldest."""
    if not batches:
        raise ValueError("no batches")
    sizes, latencies = [b["size"] for b in batches], [b["invoked_at"] - b["last_arrival"] for b in batches]
    return {"invocations": len(sizes), "records": sum(sizes), "mean_size": sum(sizes) / len(sizes),
            "max_size": max(sizes), "p50_latency_s": statistics.median(latencies), "max_latency_s": max(latencies)}


def failure(monkeypatch, seed: str | None) -> str:
    if seed is None:
        monkeypatch.delenv("KC_CHECK_SEED", raising=False)
    else:
        monkeypatch.setenv("KC_CHECK_SEED", seed)
    with pytest.raises(ExerciseCheckFailed) as failed:
        checks.check_batch_stats(latency_from_the_newest_record)
    return str(failed.value)


def test_a_failure_names_its_seed_and_the_seed_draws_the_same_cases(monkeypatch):
    first = failure(monkeypatch, None)
    seeds = re.findall(r"drawn with seed (\d+): run `%env KC_CHECK_SEED=\1`", first)
    assert len(seeds) == 1, f"the failure does not name the seed of its fresh cases:\n{first}"
    assert first.index("KC_CHECK_SEED") < first.index("\nHint:"), "the seed must come before the hint"
    assert failure(monkeypatch, seeds[0]) == first, "the same seed drew other cases"
