"""A check's fresh cases (new on every run) come back when the seed its failure names is set in KC_CHECK_SEED."""

from __future__ import annotations

import ast
import re
import statistics
from pathlib import Path

import pytest

import kinesis_course.checks
from kinesis_course.checks import ExerciseCheckFailed
from kinesis_course.checks import lesson05 as checks


def latency_from_the_newest_record(batches):
    """A plausible wrong batch_stats: a batch's latency measured from its newest record, not its oldest."""
    if not batches:
        raise ValueError("no batches")
    sizes, latencies = [b["size"] for b in batches], [b["invoked_at"] - b["last_arrival"] for b in batches]
    return {
        "invocations": len(sizes),
        "records": sum(sizes),
        "mean_size": sum(sizes) / len(sizes),
        "max_size": max(sizes),
        "p50_latency_s": statistics.median(latencies),
        "max_latency_s": max(latencies),
    }


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


def _unseeded_draws(path: Path) -> list[str]:
    """Calls of the random or secrets modules themselves (random.randint(...), random.Random(...)): a draw there
    would not come from the seed a failure names."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("random", "secrets")
        ):
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node.func)}(...)")
    return found


def test_every_check_draws_its_cases_from_the_seeded_source():
    folder = Path(kinesis_course.checks.__file__).parent
    lessons = sorted(folder.glob("lesson*.py"))
    assert len(lessons) >= 10
    unseeded = [draw for path in lessons for draw in _unseeded_draws(path)]
    assert not unseeded, f"draw these from checks.fresh_random(label), whose seed a failure names: {unseeded}"
    # The one place that seeds: fresh_random, from KC_CHECK_SEED or a new seed.
    seeding = sorted(draw.split(" ", 1)[1] for draw in _unseeded_draws(folder / "__init__.py"))
    assert seeding == ["random.Random(...)", "secrets.randbits(...)"]
