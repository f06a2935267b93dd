"""Checks of lesson 06 · Bisection and partial batch responses."""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone

from ..events import kinesis_event
from . import ExerciseCheckFailed, ExerciseNotSolved, call_exercise, expect, expect_equal, passed

STREAM_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/kc06-check"
SHARD_ID = "shardId-000000000000"


# Exercise 06.1 ---------------------------------------------------------------------------------------------------

def reference_bisection(batch_size: int, poison_index: int, max_retries: int) -> list[int]:
    """The batch sizes an ESM with BisectBatchOnFunctionError invokes with, for one record that always fails.

    A failed batch of two or more records is split in two (the first half takes the odd record) and each half
    is delivered in turn, first half first; the split uses no retry. A failed batch of one record is retried
    ``max_retries`` times, then given up (sent to the OnFailure destination).
    """
    sizes: list[int] = []
    pending = [(0, batch_size)]
    while pending:
        start, end = pending.pop(0)
        sizes.append(end - start)
        if not start <= poison_index < end:
            continue
        if end - start == 1:
            sizes.extend([1] * max_retries)
            continue
        middle = start + (end - start + 1) // 2
        pending[:0] = [(start, middle), (middle, end)]
    return sizes


def check_predict_bisection(predict_bisection, observed: list[int], case: tuple[int, int, int]) -> None:
    label = "Exercise 06.1"
    rng = random.Random()
    # Fresh cases on every run, plus the edges: a lone record, the poison first or last, no retries.
    cases = [(1, 0, rng.randint(0, 3)), (2, 0, 0), (2, 1, 1), (3, 2, 2)]
    for _ in range(6):
        size = rng.randint(4, 40)
        cases.append((size, rng.randrange(size), rng.randint(0, 3)))
    size = rng.choice([64, 100, 128, 500])
    cases += [(size, 0, 2), (size, size - 1, 1), (size, rng.randrange(size), rng.randint(0, 2))]

    for batch_size, poison_index, max_retries in cases:
        got = call_exercise(label, predict_bisection, batch_size, poison_index, max_retries)
        expected = reference_bisection(batch_size, poison_index, max_retries)
        expect(
            f"{label}: predict_bisection({batch_size}, {poison_index}, {max_retries})",
            isinstance(got, list) and all(isinstance(n, int) for n in got),
            expected="a list of ints (the batch size of each invocation, in order)", got=got,
            hint="Return a list such as [8, 4, 4, ...], one number per invocation.",
        )
        expect_equal(
            f"{label}: predict_bisection({batch_size}, {poison_index}, {max_retries})", got, expected,
            hint=_bisection_hint(got, expected, max_retries),
        )

    reference = reference_bisection(*case)
    if reference != list(observed):
        raise ExerciseCheckFailed(
            f"{label}: the run on LocalStack invoked with {list(observed)}, but the documented algorithm gives "
            f"{reference} for {case}. That is not your code's fault: re-run the Part 1 cells (a leftover record "
            "or a second run of the mapping changes what the log shows)."
        )
    got = call_exercise(label, predict_bisection, *case)
    expect_equal(f"{label}: predict_bisection{case} against the real run", got, list(observed),
                 hint="Your prediction should match the table printed above.")
    passed(label, f"{len(cases)} fresh cases and the real run {tuple(case)} agree")


def _bisection_hint(got, expected, max_retries) -> str:
    if isinstance(got, list) and got and sum(1 for n in got if n == 1) < max_retries + 1:
        return "The lone bad record is tried once and then retried max_retries times: max_retries + 1 invocations of 1."
    if isinstance(got, list) and sorted(got) == sorted(expected):
        return "Right sizes, wrong order: after a split the first half is delivered (and finished) before the second."
    return ("Only a failed batch is split, and a half without the bad record succeeds at once. Odd sizes: the first "
            "half takes the extra record, e.g. 5 -> 3 + 2.")


# Exercise 06.2 ---------------------------------------------------------------------------------------------------

def _fresh_event(rng: random.Random, count: int) -> tuple[dict, list[str]]:
    """A Kinesis event of ``count`` sensor readings with increasing, non-contiguous 56-digit sequence numbers."""
    sequence = rng.randrange(10**55, 5 * 10**55)
    records, numbers = [], []
    arrival = datetime(2025, 1, 1, tzinfo=timezone.utc)
    for index in range(count):
        sequence += rng.randrange(10**20, 10**22)
        numbers.append(str(sequence))
        reading = {"sensor": f"s-{rng.randint(1, 9)}", "reading_id": f"chk-{rng.randrange(16**6):06x}",
                   "temperature": round(rng.uniform(-5, 35), 1), "unit": "C"}
        records.append({"PartitionKey": reading["sensor"], "SequenceNumber": numbers[-1],
                        "Data": json.dumps(reading).encode(), "ApproximateArrivalTimestamp": arrival})
    return kinesis_event(records, STREAM_ARN, SHARD_ID), numbers


class _Process:
    """A stand-in for the handler's per-record work: fails on chosen sequence numbers, remembers its calls."""

    def __init__(self, failing: set[str], error: type[Exception]) -> None:
        self.failing, self.error, self.calls = failing, error, []

    def __call__(self, record: dict) -> None:
        sequence_number = record["kinesis"]["sequenceNumber"]
        self.calls.append(sequence_number)
        if sequence_number in self.failing:
            raise self.error(f"cannot process {sequence_number}")


def check_batch_item_failures(batch_item_failures) -> None:
    label = "Exercise 06.2"
    rng = random.Random()
    count = rng.randint(7, 12)
    first, second = sorted(rng.sample(range(1, count - 1), 2))
    scenarios = [
        ("every record succeeds", set(), ValueError),
        (f"the records at positions {first} and {second} fail", {first, second}, ValueError),
        ("the first record fails", {0}, KeyError),
        ("only the last record fails", {count - 1}, RuntimeError),
    ]
    order_hint = ("Process the records in order, and stop at the first one that raises: everything after it will be "
                  "delivered again from that record on.")
    for description, failing, error in scenarios:
        event, numbers = _fresh_event(rng, count)
        position = {number: index for index, number in enumerate(numbers)}
        process = _Process({numbers[i] for i in failing}, error)
        where = f"{label} ({count} records, {description})"
        try:
            response = call_exercise(label, batch_item_failures, event, process)
        except ExerciseNotSolved:
            raise
        except Exception as escaped:
            raise ExerciseCheckFailed(
                f"{where}: {type(escaped).__name__} escaped from batch_item_failures: {escaped}.\n"
                "Hint: any exception that process(record) raises marks that record as failed; catch Exception."
            ) from None
        stop = min(failing, default=count)
        expect_equal(f"{where}: positions of the records given to process",
                     [position.get(number, "?") for number in process.calls], list(range(min(stop + 1, count))),
                     hint=order_hint)
        well_formed = (
            isinstance(response, dict) and isinstance(response.get("batchItemFailures"), list)
            and all(isinstance(item, dict) and set(item) == {"itemIdentifier"} for item in response["batchItemFailures"])
        )
        expect(where, well_formed, expected='{"batchItemFailures": [{"itemIdentifier": "<sequenceNumber>"}, ...]}',
               got=response, hint="Return that shape, the one Lambda reads; an empty list when every record succeeds.")
        reported = [position.get(item["itemIdentifier"], f"not in the batch: {item['itemIdentifier']!r}")
                    for item in response["batchItemFailures"]]
        expect_equal(f"{where}: positions reported in batchItemFailures", reported, list(range(stop, count)),
                     hint="Report the record that raised and every record after it, in batch order, each by its "
                          "kinesis.sequenceNumber (a string); nothing when all succeed."
                          + (" Any exception counts, not only ValueError." if error is not ValueError else ""))
        expected = {"batchItemFailures": [{"itemIdentifier": number} for number in numbers[stop:]]}
        expect_equal(f"{where}: response", response, expected, hint="Compare your response with this one.")
    passed(label, f"{len(scenarios)} fresh batches: all good, two failures, first record fails, last record fails")
