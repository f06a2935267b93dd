"""Checks of lesson 08 · Diagnosing a growing IteratorAge.

``diagnose`` is given summaries made up here, at random, in the shape kinesis_course.iterator_age.summarize
builds from CloudWatch and the position view, with the traps a first attempt falls into (a poison record that
raises no Errors, a long Duration that is only a big batch, a short one that is a slow handler on small batches,
a rising curve that is still low). ``fix`` is judged on the mapping LocalStack stored, read back after each call.
"""

from __future__ import annotations

import random

from ..endpoint import client
from ..mappings import wait_for_state
from . import ExerciseCheckFailed, call_checked, expect, fresh_random, passed
from .mapping import mapping_of, on_failure_destination, setting

CAUSES = ("keeping_up", "slow_handler", "batch_too_small", "poison_record", "hot_partition_key")
KEEPING_UP_MS = 2_000  # an idle shard is polled about once a second: an age up to about a second is normal
HOT_SHARE = 0.8  # one shard holds this share of the records behind, or more
SLOW_MS_PER_RECORD = 100  # the course's handler stores a reading in tens of milliseconds on the kit's LocalStack


# ---- Exercise 08.1: diagnose ------------------------------------------------------------------------------------


def reference_diagnose(summary: dict) -> str:
    ages = summary["iterator_age_ms"]
    if not ages or max(ages[-3:]) < KEEPING_UP_MS:
        return "keeping_up"
    if summary["errors"] > 0 or any(shard["max_attempt"] >= 2 for shard in summary["shards"].values()):
        return "poison_record"
    behind = [shard["behind"] for shard in summary["shards"].values()]
    if len(behind) > 1 and sum(behind) and max(behind) >= HOT_SHARE * sum(behind):
        return "hot_partition_key"
    per_invocation = summary["records_done"] / max(summary["invocations"], 1)
    if summary["duration_ms"] / max(per_invocation, 1) >= SLOW_MS_PER_RECORD:
        return "slow_handler"
    return "batch_too_small"


def _shards(rng: random.Random, count: int, behind: list[int] | None = None, attempt_on: int | None = None,
            attempt: int = 1) -> dict:
    behind = behind or [rng.randint(50, 100) for _ in range(count)]  # never 80 % on one shard
    return {f"shardId-{index:012d}": {"behind": behind[index],
                                      "max_attempt": attempt if index == attempt_on else rng.choice([0, 1])}
            for index in range(count)}


def _rising(rng: random.Random, top: int, length: int | None = None) -> list[int]:
    length = length or rng.randint(4, 9)
    start = rng.randint(200, 900)
    return [round(start + (top - start) * step / (length - 1)) + rng.randint(-50, 50) for step in range(length)]


def _plain(description: str, cause: str, summary: dict) -> tuple[str, str, dict, None]:
    return description, cause, summary, None


def _summary(rng, ages, invocations, errors, duration_ms, records_done, batch_size, shards) -> dict:
    return {"iterator_age_ms": ages, "invocations": invocations, "errors": errors, "duration_ms": duration_ms,
            "records_done": records_done, "batch_size": batch_size, "shards": shards}


LATEST_NOT_LAST = ("Judge the latest IteratorAge by the HIGHEST of the last three seconds, max(iterator_age_ms[-3:]), "
                   "not the last value alone, not the lowest, not an average: a shard waiting between retries "
                   "publishes no IteratorAge, so the last seconds may show only a healthy shard's low age.")
def _cases(rng: random.Random) -> list[tuple[str, str, dict, str | None]]:
    """(what the case shows, the cause, the summary, the hint naming its trap or None), the traps included."""
    count = rng.choice([2, 3, 4])
    cases = []
    # A poison record behind a partial batch response: no Errors, the batch on its 2nd+ attempt.
    cases.append(_plain("a shard retrying one batch, no Errors (partial batch response)", "poison_record", _summary(
        rng, _rising(rng, rng.randint(4_000, 20_000)), rng.randint(5, 20), 0, round(rng.uniform(3, 30), 1),
        rng.randint(50, 300), 100, _shards(rng, count, attempt_on=rng.randrange(count), attempt=rng.randint(2, 9)))))
    # A poison record that raises: Errors, and the attempt already back to 1 when the view was read.
    cases.append(_plain("Errors counted, the batch given up", "poison_record", _summary(
        rng, _rising(rng, rng.randint(4_000, 9_000)), rng.randint(5, 20), rng.randint(1, 4), 12.0,
        rng.randint(50, 300), 100, _shards(rng, count))))
    # Keeping up: the curve rises a little but stays under the threshold.
    cases.append(_plain("a low age that rises a little", "keeping_up", _summary(
        rng, sorted(rng.randint(100, KEEPING_UP_MS - 200) for _ in range(6)), rng.randint(10, 40), 0,
        round(rng.uniform(100, 900), 1), rng.randint(100, 400), 100, _shards(rng, count, behind=[0] * count))))
    # A poison record that was dealt with (retried, sent to the destination): the age is low again.
    cases.append(_plain("a batch retried, and the age low again", "keeping_up", _summary(
        rng, [rng.randint(300, 1_500) for _ in range(5)], 20, rng.randint(0, 2), 40.0, 300, 100,
        _shards(rng, count, behind=[0] * count, attempt_on=0, attempt=3))))
    # Keeping up after a backlog: a high start, a low end.
    cases.append(_plain("a high age that fell", "keeping_up", _summary(
        rng, [rng.randint(8_000, 12_000), rng.randint(3_000, 6_000)] + [rng.randint(200, 1_500) for _ in range(3)], 30,
        0, 400.0, 600, 100,
        _shards(rng, count, behind=[0] * count))))
    # A hot partition key: one shard holds nearly all the records behind; the handler may look slow too.
    hot = rng.randrange(count)
    behind = [rng.randint(0, 3) for _ in range(count)]
    behind[hot] = rng.randint(80, 400)
    cases.append(_plain("one shard far behind, the others idle", "hot_partition_key", _summary(
        rng, _rising(rng, rng.randint(4_000, 12_000)), rng.randint(5, 30), 0, round(rng.uniform(400, 3_000), 1),
        rng.randint(50, 300), 100, _shards(rng, count, behind=behind))))
    # A slow handler on small batches: a short Duration that is long per record.
    per_invocation = rng.randint(2, 5)
    invocations = rng.randint(20, 60)
    cases.append(_plain("a short Duration over few records per invocation", "slow_handler", _summary(
        rng, _rising(rng, rng.randint(4_000, 12_000)), invocations, 0,
        round(per_invocation * rng.uniform(120, 400), 1), per_invocation * invocations, 100, _shards(rng, count))))
    # A slow handler on full batches.
    invocations = rng.randint(5, 15)
    cases.append(_plain("full batches, long per record", "slow_handler", _summary(
        rng, _rising(rng, rng.randint(4_000, 12_000)), invocations, 0, round(100 * rng.uniform(150, 300), 1),
        100 * invocations, 100, _shards(rng, count))))
    # Batches too small: one record per invocation, a fast handler.
    invocations = rng.randint(100, 300)
    cases.append(_plain("one record per invocation, each fast", "batch_too_small", _summary(
        rng, _rising(rng, rng.randint(4_000, 12_000)), invocations, 0, round(rng.uniform(4, 60), 1), invocations, 1,
        _shards(rng, count))))
    # Batches too small, but a long Duration (big batches of a fast handler): per record it is fast.
    invocations = rng.randint(20, 60)
    size = rng.choice([5, 10])
    cases.append(_plain("a longish Duration over many records", "batch_too_small", _summary(
        rng, _rising(rng, rng.randint(4_000, 12_000)), invocations, 0, round(size * rng.uniform(10, 60), 1),
        size * invocations, size, _shards(rng, count))))
    # A poison record on a shard that publishes only when it retries: the last second shows the healthy shard.
    stuck = rng.randrange(count)
    behind = [0] * count
    behind[stuck] = rng.randint(60, 300)
    ages = _rising(rng, rng.randint(5_000, 9_000))
    cases.append(("a stuck shard between its retries, the last second a healthy shard's", "poison_record", _summary(
        rng, ages + [rng.randint(150, 400), ages[-1] + rng.randint(500, 1_500), rng.randint(150, 400)],
        rng.randint(10, 30), 0, round(rng.uniform(5, 40), 1), rng.randint(50, 300), 100,
        _shards(rng, count, behind=behind, attempt_on=stuck, attempt=rng.randint(3, 12))), LATEST_NOT_LAST))
    # The same, with the one high second first: its average and its last values are low.
    cases.append(("one high second among the last three, the others low", "poison_record", _summary(
        rng, [rng.randint(200, 600) for _ in range(3)] + [rng.randint(2_500, 4_000)] +
        [rng.randint(150, 500) for _ in range(2)], rng.randint(10, 30), 0, round(rng.uniform(5, 40), 1),
        rng.randint(50, 300), 100, _shards(rng, count, behind=behind, attempt_on=stuck, attempt=rng.randint(2, 5))),
        LATEST_NOT_LAST))
    # A poison record in a slow handler: long per record, and everything behind on the stuck shard.
    invocations = rng.randint(5, 15)
    cases.append(("a slow handler stuck on a poison record", "poison_record", _summary(
        rng, _rising(rng, rng.randint(5_000, 15_000)), invocations, 0, round(5 * rng.uniform(150, 400), 1),
        5 * invocations, 5, _shards(rng, count, attempt_on=stuck, attempt=rng.randint(2, 9))), None))
    # A hot key on a slow handler: long per record too, but one shard holds the backlog.
    hot_behind = [0] * count
    hot_behind[rng.randrange(count)] = rng.randint(40, 200)
    invocations = rng.randint(4, 12)
    cases.append(("a hot key on a slow handler", "hot_partition_key", _summary(
        rng, _rising(rng, rng.randint(4_000, 9_000)), invocations, 0, round(5 * rng.uniform(150, 400), 1),
        5 * invocations, 5, _shards(rng, count, behind=hot_behind)), None))
    rng.shuffle(cases)
    return cases


DIAGNOSIS_HINTS = {
    "poison_record": "Once the age is too high, look at the retries first: a shard whose batch reached attempt 2 or "
    "more (max_attempt in the position view) is stuck on a failing batch, even with 0 Errors (a partial batch response "
    "is a successful invocation, so it counts no Error); Errors > 0 means the same. Retries come before the other "
    "signs: a poison record holds its shard, so the records behind pile up there (as for a hot key) and its "
    "batches look long (as for a slow handler).",
    "keeping_up": f"Judge the latest IteratorAge, the highest of the last three seconds, max(iterator_age_ms[-3:]), "
    f"not the whole curve nor its average: under {KEEPING_UP_MS:,} ms the mapping keeps "
    "up (an idle shard is polled about once a second), however the curve got there, and whatever else the "
    "summary shows: a retried batch that is over does not hold the shard any more.",
    "hot_partition_key": f"When one shard holds {HOT_SHARE:.0%} or more of all the records behind, one partition "
    "key (or a few) sends more than a shard's batches can take while the other shards idle.",
    "slow_handler": f"Compare the time per record: duration_ms / (records_done / invocations). {SLOW_MS_PER_RECORD} ms "
    "or more per record is the handler's own work; a short Duration can still be slow per record.",
    "batch_too_small": f"Under {SLOW_MS_PER_RECORD} ms per record (duration_ms / (records_done / invocations)) the "
    "handler is fast: the time goes to one invocation per few records, so the batches are too small. A long "
    "Duration over a big batch is not a slow handler.",
}


def _hint(cause: str, got: str, trap: str | None) -> str:
    """The case's own trap first; a mapping called keeping up while its latest age is high is about the age."""
    if got == "keeping_up" and not trap:
        trap = LATEST_NOT_LAST
    return (f"{trap}\n" if trap else "") + DIAGNOSIS_HINTS[cause]


def check_diagnose(diagnose, observed: list[tuple[str, dict]] = ()) -> None:
    """``observed``: (the cause the lesson set up, the summary it measured), judged like the made-up ones."""
    label = "Exercise 08.1"
    rng = fresh_random(label)
    cases = _cases(rng) + [(f"the lesson's own run ({cause})", cause, summary, None) for cause, summary in observed]
    for description, cause, summary, trap in cases:
        got = call_checked(label, diagnose, summary, shown_args="summary",
                           hint="diagnose must read only the summary's keys shown above and return one of "
                           f"{', '.join(CAUSES)}.")
        expect(f"{label}, {description}", got in CAUSES, expected=f"one of {CAUSES}", got=got,
               hint="Return one of the five names, spelt as in CAUSES.")
        expect(f"{label}, {description}", got == cause, expected=cause, got=got,
               hint=_hint(cause, got, trap) + f"\nThe summary was: {summary}")
    passed(label, f"{len(cases)} summaries diagnosed, {len(observed)} of them measured in this lesson")


# ---- Exercise 08.2: fix ------------------------------------------------------------------------------------------

BASELINE = {"BatchSize": 100, "ParallelizationFactor": 1, "MaximumBatchingWindowInSeconds": 0,
            "MaximumRetryAttempts": -1, "MaximumRecordAgeInSeconds": -1, "BisectBatchOnFunctionError": False,
            "FunctionResponseTypes": ["ReportBatchItemFailures"]}
MAX_RETRIES = 3


def _baseline(cause: str) -> dict:
    return dict(BASELINE, BatchSize=1) if cause == "batch_too_small" else dict(BASELINE)


def _settings(mapping: dict) -> dict:
    return {key: setting(mapping, key) for key in BASELINE}


def judge_fix(label: str, cause: str, before: dict, mapping: dict | None, queue_arn: str | None = None) -> None:
    """Raises ExerciseCheckFailed unless ``mapping`` (read back after the fix; None: no call made) fixes ``cause``.

    ``queue_arn``: the queue the poison's failure records must go to (None: any destination)."""
    got = _settings(mapping) if mapping else None
    changed = {key: value for key, value in (got or {}).items() if value != before[key]}
    destination = on_failure_destination(mapping) if mapping else None

    def fail(expected, hint):
        raise ExerciseCheckFailed(f"{label} ({cause}): expected {expected}; the mapping holds {got or before}.\n"
                                  f"Hint: {hint}")

    if cause in ("keeping_up", "hot_partition_key"):
        if changed or destination:
            if cause == "keeping_up":
                fail("no update (return None)", "The mapping keeps up: nothing to fix, and every change has a cost "
                     f"(you changed {sorted(changed) or ['DestinationConfig']}).")
            fail("no update of the mapping (return None): the fix is the producer's partition keys", (
                "Records of one partition key stay in order: the mapping delivers them one batch at a time, on one "
                "shard (and one ParallelizationFactor lane), so neither ParallelizationFactor nor BatchSize nor "
                f"retries spread a hot key (you changed {sorted(changed) or ['DestinationConfig']}). Spread the "
                "key in the producer (e.g. sensor id plus a suffix) and leave the mapping as it is."))
        return
    if got is None:
        fail("an update_event_source_mapping call, its response returned", "Only a hot key or a mapping that keeps "
             "up needs no update.")
    if got["FunctionResponseTypes"] != ["ReportBatchItemFailures"]:
        fail("FunctionResponseTypes kept as ['ReportBatchItemFailures']", "Without it Lambda ignores the "
             "handler's partial batch response: a record the handler reports as failed would count as processed, "
             "and be lost. Change only what the cause needs.")
    if cause == "slow_handler":
        if got["BatchSize"] < before["BatchSize"]:
            fail(f"BatchSize kept at {before['BatchSize']} or more", f"BatchSize {got['BatchSize']} gives each "
                 "invocation fewer records: a slow handler is no faster per record, and each record then pays more "
                 "of an invocation's own cost. Keep the batches; add ParallelizationFactor.")
        if got["ParallelizationFactor"] < 2:
            hint = ("A bigger batch of a slow handler takes longer, record for record: it moves no more records a "
                    "second. " if got["BatchSize"] > before["BatchSize"] else "")
            fail("ParallelizationFactor of 2 to 10", hint + "A slow handler needs more batches of each shard at "
                 "once: ParallelizationFactor (up to 10) runs that many, records of a partition key still in order.")
        if got["MaximumBatchingWindowInSeconds"] > before["MaximumBatchingWindowInSeconds"]:
            fail("no batching window", "A batching window makes records wait longer before the function sees them: "
                 "IteratorAge grows by the window.")
    elif cause == "batch_too_small":
        if got["BatchSize"] < 100:
            hint = ("More lanes of 1-record batches still pay one invocation per record; " if
                    got["ParallelizationFactor"] > 1 else "")
            fail("BatchSize of at least 100", hint + f"BatchSize {got['BatchSize']} makes one invocation per "
                 f"{got['BatchSize']} record(s): the invocations' own cost caps the shard. Raise BatchSize (e.g. "
                 "100, AWS's default for Kinesis).")
        if got["MaximumBatchingWindowInSeconds"] > 1:
            fail("a batching window of at most 1 s", "Under a backlog the batches fill at once; a window only adds "
                 f"waiting ({got['MaximumBatchingWindowInSeconds']} s more IteratorAge at quiet times).")
    elif cause == "poison_record":
        if got["MaximumRetryAttempts"] == -1 or got["MaximumRetryAttempts"] > MAX_RETRIES:
            extra = ""
            if got["MaximumRecordAgeInSeconds"] != -1:
                extra = (f" MaximumRecordAgeInSeconds {got['MaximumRecordAgeInSeconds']} still lets the poison hold "
                         "the shard that long, each time, and discards every record behind it that gets as old.")
            elif got["BisectBatchOnFunctionError"]:
                extra = " Bisection splits a batch that raised; it does not stop the retries of the last record."
            fail(f"MaximumRetryAttempts of 0 to {MAX_RETRIES}", "With -1 (the default) Lambda retries the "
                 "failing record until it expires from the stream, and the shard waits." + extra)
        if not destination:
            fail("an OnFailure destination (the queue given)", "After the last retry Lambda drops the record: "
                 "send its failure record to the queue (DestinationConfig={'OnFailure': {'Destination': arn}}) so "
                 "that nothing is lost without a trace.")
        if queue_arn and destination != queue_arn:
            fail(f"the OnFailure destination {queue_arn} (the queue_arn given)", f"The failure records would go to "
                 f"{destination}, where nobody reads them: use the queue_arn your function is given.")


def _reset(uuid: str, cause: str) -> dict:
    lam = client("lambda")
    wait_for_state(uuid, "Enabled")
    lam.update_event_source_mapping(UUID=uuid, **_baseline(cause))
    wait_for_state(uuid, "Enabled")
    return _settings(lam.get_event_source_mapping(UUID=uuid))


ORDER = ("keeping_up", "hot_partition_key", "batch_too_small", "slow_handler", "poison_record")


def check_fix(fix, uuid: str, queue_arn: str) -> None:
    """Sets the mapping ``uuid`` to each case's starting settings, calls ``fix``, and judges the mapping read back.

    The poison case comes last: it adds an on-failure destination, which an update cannot simply remove.
    """
    label = "Exercise 08.2"
    for cause in ORDER:
        before = _reset(uuid, cause)
        if on_failure_destination(client("lambda").get_event_source_mapping(UUID=uuid)):
            raise RuntimeError(f"mapping {uuid} already has an on-failure destination: run the cell creating it again")
        answer = call_checked(
            label, fix, uuid, cause, queue_arn, shown_args=f"uuid, {cause!r}, queue_arn",
            hint="update_event_source_mapping refused the call: pass UUID=uuid and values in range "
            "(ParallelizationFactor 1 to 10, BatchSize 1 to 10,000, MaximumRetryAttempts -1 to 10,000).",
        )
        if answer is None:
            mapping = client("lambda").get_event_source_mapping(UUID=uuid)
            judge_fix(label, cause, before, mapping if _settings(mapping) != before else None, queue_arn)
            continue
        mapping = mapping_of(label, answer)
        expect(f"{label} ({cause}), the mapping", mapping["UUID"] == uuid, expected=uuid, got=mapping["UUID"],
               hint="Update the mapping whose UUID you are given; do not create another one.")
        wait_for_state(uuid, "Enabled")
        judge_fix(label, cause, before, client("lambda").get_event_source_mapping(UUID=uuid), queue_arn)
    passed(label, f"{len(ORDER)} cases, each judged on the mapping LocalStack stored")


def reference_fix(uuid: str, cause: str, queue_arn: str):
    lam = client("lambda")
    if cause == "slow_handler":
        return lam.update_event_source_mapping(UUID=uuid, ParallelizationFactor=4)
    if cause == "batch_too_small":
        return lam.update_event_source_mapping(UUID=uuid, BatchSize=100)
    if cause == "poison_record":
        return lam.update_event_source_mapping(UUID=uuid, MaximumRetryAttempts=2,
                                               DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    return None
