"""Checks of lesson 06 · Bisection and partial batch responses.

06.1 compares ``predict_bisection`` with this kit's bisection schedule on fresh cases and with the real run.
06.2 runs the learner's handler.py in this process on fresh Kinesis events, with a stand-in DynamoDB client that
     records every write and can fail one; 06.3 calls the learner's mapping function on a stream and queue of its
     own, reads the mapping back from LocalStack and deletes it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import random
import sys
from datetime import datetime, timezone
from pathlib import Path

from botocore.exceptions import ClientError

from ..endpoint import REGION, client, endpoint_url
from ..events import kinesis_event
from ..mappings import delete_mapping, mappings_of
from ..queues import ensure_queue
from ..streams import ensure_stream
from . import ExerciseCheckFailed, ExerciseNotSolved, call_exercise, expect, expect_equal, passed
from .mapping import mapping_of, on_failure_destination, setting

STREAM_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/kc06-check"
SHARD_ID = "shardId-000000000000"


# Exercise 06.1 ---------------------------------------------------------------------------------------------------

def bisection_schedule(batch_size: int, poison_index: int, max_retries: int, *, second_half_first: bool = False,
                       odd_to_second: bool = False, lone_retries: bool = True, split_costs_retry: bool = False,
                       split_every_half: bool = False) -> list[int]:
    """The batch sizes an ESM with BisectBatchOnFunctionError invokes with, for one record that always fails.

    With the defaults, this kit's schedule: a failed batch of two or more records is split in two, the first half
    takes the odd record and is delivered (and finished) first, and the split uses no retry attempt; a failed batch
    of one record is retried ``max_retries`` times, then given up. AWS documents only "split in two and retry" and
    that splits use no retry attempt. The keyword arguments describe the mistakes the check recognises.
    """
    sizes: list[int] = []
    retries_left = [max_retries]

    def deliver(start: int, end: int) -> None:
        sizes.append(end - start)
        failed = start <= poison_index < end
        if end - start == 1:
            if failed and lone_retries:
                sizes.extend([1] * max(retries_left[0], 0))
            return
        if not failed and not split_every_half:
            return
        if split_costs_retry:
            if retries_left[0] <= 0:
                return
            retries_left[0] -= 1
        middle = start + ((end - start) // 2 if odd_to_second else (end - start + 1) // 2)
        halves = [(start, middle), (middle, end)]
        for half in reversed(halves) if second_half_first else halves:
            deliver(*half)

    deliver(0, batch_size)
    return sizes


def reference_bisection(batch_size: int, poison_index: int, max_retries: int) -> list[int]:
    """This kit's schedule (see bisection_schedule)."""
    return bisection_schedule(batch_size, poison_index, max_retries)


MISTAKES = [
    ({"lone_retries": False}, "The lone poison record is not given up at once: it is invoked once and then retried "
                              "max_retries times, so max_retries + 1 invocations of size 1."),
    ({"second_half_first": True}, "Wrong order: after a split this kit delivers the first half (and everything that "
                                  "follows from it) before the second half."),
    ({"odd_to_second": True}, "Odd sizes: in this kit the first half takes the extra record (5 -> 3 + 2), not the second."),
    ({"split_costs_retry": True}, "Splitting uses no retry attempt (AWS documents this): only the lone record's "
                                  "retries count against max_retries."),
    ({"split_every_half": True}, "Only a batch that failed is split: a half without the poison succeeds at its "
                                 "first invocation and is not split again."),
]


def check_predict_bisection(predict_bisection, observed: list[int], case: tuple[int, int, int]) -> None:
    label = "Exercise 06.1"
    rng = random.Random()
    # Fresh cases on every run, plus the edges: a lone record, the poison first or last, no retries, odd sizes.
    cases = [(1, 0, rng.randint(0, 3)), (2, 0, 0), (2, 1, 1), (5, 4, 1), (3, 2, 2), (7, 0, 2)]
    for _ in range(6):
        size = rng.randint(4, 40)
        cases.append((size, rng.randrange(size), rng.randint(0, 3)))
    size = rng.choice([64, 100, 128, 500])
    cases += [(size, 0, 2), (size, size - 1, 1), (size, rng.randrange(size), rng.randint(0, 2))]

    for batch_size, poison_index, max_retries in cases:
        where = f"{label}: predict_bisection({batch_size}, {poison_index}, {max_retries})"
        got = call_exercise(label, predict_bisection, batch_size, poison_index, max_retries)
        expected = reference_bisection(batch_size, poison_index, max_retries)
        expect(where, isinstance(got, list) and all(isinstance(n, int) for n in got),
               expected="a list of ints (the batch size of each invocation, in order)", got=got,
               hint="Return a list such as [8, 4, 4, ...], one number per invocation.")
        expect_equal(where, got, expected, hint=_bisection_hint(got, (batch_size, poison_index, max_retries)))

    reference = reference_bisection(*case)
    if reference != list(observed):
        raise ExerciseCheckFailed(
            f"{label}: the run on LocalStack invoked with {list(observed)}, but this kit's schedule gives "
            f"{reference} for {case}.\nHint: that is not your code's fault: re-run the Part 1 cells (a leftover "
            "record or a second run of the mapping changes what the log shows)."
        )
    got = call_exercise(label, predict_bisection, *case)
    expect_equal(f"{label}: predict_bisection{case} against the real run", got, list(observed),
                 hint="Your prediction should match the table printed above.")
    passed(label, f"{len(cases)} fresh cases and the real run {tuple(case)} agree")


def _bisection_hint(got, case) -> str:
    for mistake, hint in MISTAKES:
        if got == bisection_schedule(*case, **mistake):
            return hint
    return ("Only a failed batch is split, into two halves (the first takes the odd record), first half first; the "
            "lone poison record is invoked max_retries + 1 times.")


# Exercise 06.2 ---------------------------------------------------------------------------------------------------

def load_handler(where, table: str = "kc06-check-table"):
    """Imports handler.py from a lesson's build folder (a Lesson, or the folder) as Lambda would run it.

    The folder goes first on sys.path and its modules are imported afresh, so ``from triage import triage`` finds
    this folder's files. TABLE is set, and the module's boto3 client is replaced by the kit's LocalStack client.
    """
    folder = Path(where) if isinstance(where, (str, Path)) else where.folder / where.build_dir
    folder = folder.resolve()
    path = folder / "handler.py"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist yet: run the cell that writes it first.")
    for sibling in folder.glob("*.py"):
        sys.modules.pop(sibling.stem, None)
    sys.path.insert(0, str(folder))
    # The handler creates its boto3 client at import: give it Lambda's environment, on LocalStack.
    lambda_like = {"AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": endpoint_url(), "AWS_ACCESS_KEY_ID": "test",
                   "AWS_SECRET_ACCESS_KEY": "test"}
    saved = {key: os.environ.get(key) for key in lambda_like}
    os.environ.update(lambda_like)
    try:
        spec = importlib.util.spec_from_file_location(f"kc06_handler_{abs(hash(str(folder)))}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    os.environ["TABLE"] = table
    if hasattr(module, "dynamodb"):
        module.dynamodb = client("dynamodb")
    return module


class ProvisionedThroughputExceededException(ClientError):
    """What a throttled DynamoDB write raises (boto3 builds a class of that name)."""


class FakeDynamoDB:
    """A stand-in for the handler's DynamoDB client: conditional puts in memory, one write that fails, a log."""

    class exceptions:  # noqa: N801 (boto3's spelling)
        class ConditionalCheckFailedException(ClientError):
            pass

    def __init__(self, stored: set[str], failing: set[str]) -> None:
        self.stored = set(stored)
        self.items = {key: {} for key in stored}
        self.failing = failing
        self.written: list[str] = []  # keys stored, in order

    def put_item(self, TableName, Item, ConditionExpression=None, **_):  # noqa: N803 (boto3's names)
        key = Item["pk"]["S"]
        if key in self.failing:
            raise ProvisionedThroughputExceededException({"Error": {"Code": "ProvisionedThroughputExceededException",
                                          "Message": "Rate of requests exceeds the allowed throughput."}}, "PutItem")
        if ConditionExpression and key in self.items:
            raise self.exceptions.ConditionalCheckFailedException(
                {"Error": {"Code": "ConditionalCheckFailedException", "Message": "The conditional request failed"}},
                "PutItem")
        self.items[key] = Item
        self.written.append(key)
        return {}


def _reading(rng: random.Random, index: int) -> dict:
    return {"sensor": f"s-{rng.randint(1, 9)}", "reading_id": f"chk-{rng.randrange(16**6):06x}-{index}",
            "temperature": round(rng.uniform(-5, 35), 1), "unit": rng.choice(["C", "F"])}


def _event(rng: random.Random, payloads: list) -> tuple[dict, list[str]]:
    """A Kinesis event with increasing, non-contiguous 56-digit sequence numbers."""
    sequence = rng.randrange(10**55, 5 * 10**55)
    records, numbers = [], []
    arrival = datetime(2025, 1, 1, tzinfo=timezone.utc)
    for payload in payloads:
        sequence += rng.randrange(10**20, 10**22)
        numbers.append(str(sequence))
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        records.append({"PartitionKey": "sensor", "SequenceNumber": numbers[-1], "Data": data,
                        "ApproximateArrivalTimestamp": arrival})
    return kinesis_event(records, STREAM_ARN, SHARD_ID), numbers


def _scenarios(rng: random.Random) -> list[tuple[str, list, set[str], set[str], int | None]]:
    """(description, payloads, keys already stored, keys whose write fails, position of the first failure)."""
    made = []

    def batch(count):
        return [_reading(rng, i) for i in range(count)]

    # No failure, but one reading already stored (a duplicate) and one harmless bad reading (skipped).
    good = batch(rng.randint(6, 9))
    skipped_at, duplicate_at = rng.sample(range(len(good)), 2)
    good[skipped_at] = {**good[skipped_at], "unit": "K"}
    made.append(("no failure (one duplicate, one skipped reading)", good, {good[duplicate_at]["reading_id"]}, set(), None))
    # A poison record (not JSON) in the middle.
    poisoned = batch(rng.randint(6, 10))
    at = rng.randrange(2, len(poisoned) - 2)
    poisoned[at] = json.dumps(poisoned[at]).encode()[: rng.randint(10, 30)]
    made.append((f"a poison record at position {at}", poisoned, set(), set(), at))
    # A write that fails (DynamoDB throttles) in the middle.
    throttled = batch(rng.randint(6, 10))
    at = rng.randrange(1, len(throttled) - 2)
    made.append((f"a failed write at position {at}", throttled, set(), {throttled[at]["reading_id"]}, at))
    # The first record fails, then the last one.
    first = batch(rng.randint(4, 7))
    first[0] = b"\xff\xfe not even UTF-8"
    made.append(("a poison record at position 0", first, set(), set(), 0))
    last = batch(rng.randint(4, 7))
    made.append((f"a failed write at the last position ({len(last) - 1})", last, set(), {last[-1]["reading_id"]},
                 len(last) - 1))
    return made


MISSPELLINGS = ("batchitemfailure", "batch_item_failures", "batchitemfailures", "failures", "itemfailures")


def check_partial_response(where) -> None:
    """``where``: the Lesson (its build folder holds handler.py and the files of the lessons before)."""
    label = "Exercise 06.2"
    module = load_handler(where)
    rng = random.Random()
    scenarios = _scenarios(rng)
    for description, payloads, stored, failing, failed_at in scenarios:
        event, numbers = _event(rng, payloads)
        fake = FakeDynamoDB(stored, failing)
        module.dynamodb = fake
        output = io.StringIO()
        try:
            with contextlib.redirect_stdout(output):
                response = call_exercise(label, module.handler, event, None)
        except ExerciseNotSolved:
            raise
        except Exception as escaped:
            raise ExerciseCheckFailed(
                f"{label} ({description}): handler raised {type(escaped).__name__}: {escaped}.\n"
                "Hint: an exception that escapes the handler fails the whole batch, and Lambda learns nothing about "
                "which record failed (catching nothing is lesson 04's handler). Catch the exception of "
                "process(record) and return a partial batch response instead."
            ) from None
        _judge(label, description, event, numbers, payloads, fake, response, output.getvalue(), failed_at)
    passed(label, f"{len(scenarios)} fresh batches: no failure, a poison record, a failed write, "
                  "a failure at the first and at the last record")


def _short(response):
    """A response as the messages show it: long lists of 56-digit identifiers cut to their first item."""
    if isinstance(response, dict):
        return {key: (value[:1] + [f"... {len(value)} items in all"] if isinstance(value, list) and len(value) > 2
                      else value) for key, value in response.items()}
    return response


def _judge(label, description, event, numbers, payloads, fake, response, printed, failed_at) -> None:
    where = f"{label} ({len(numbers)} records, {description})"
    position = {number: index for index, number in enumerate(numbers)}
    event_ids = {record["eventID"]: index for index, record in enumerate(event["Records"])}
    key_position = {payload["reading_id"]: index for index, payload in enumerate(payloads) if isinstance(payload, dict)}
    expected = {"batchItemFailures": [{"itemIdentifier": number} for number in numbers[failed_at:]]} \
        if failed_at is not None else {"batchItemFailures": []}
    written_after = sorted(key_position[key] for key in fake.written
                           if failed_at is not None and key_position[key] > failed_at)
    if written_after:
        raise ExerciseCheckFailed(
            f"{where}: the record at position {failed_at} failed, yet the readings at positions {written_after} were "
            "written after it.\nHint: stop at the first failure. Readings of one sensor must take effect in order: "
            "a later reading written before the failed one is applied out of order (and Lambda sends it again "
            "anyway, since it resumes from the lowest reported record)."
        )
    if not isinstance(response, dict):
        raise ExerciseCheckFailed(
            f"{where}: expected {_short(expected)!r}, got {_short(response)!r}.\nHint: return a dict with the key batchItemFailures "
            "(an empty list when every record went through). Lambda reads None as success, so a failed record would "
            "be lost."
        )
    if "batchItemFailures" not in response:
        keys = sorted(response)
        if "statusCode" in response:
            hint = ("that is the article's API Gateway reply. Lambda reads a statusCode as nothing special: with no "
                    "batchItemFailures the batch counts as a success, and the failed records would be skipped.")
        elif any(key.lower().replace("_", "") in MISSPELLINGS or "fail" in key.lower() for key in keys):
            hint = ("a misspelt key: Lambda looks for exactly batchItemFailures (camelCase). Without it the response "
                    "reads as success and the failed records are skipped.")
        else:
            hint = "Lambda reads only batchItemFailures; without it the response reads as success."
        raise ExerciseCheckFailed(f"{where}: expected {_short(expected)!r}, got {_short(response)!r} (keys {keys}).\nHint: {hint}")
    items = response["batchItemFailures"]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ExerciseCheckFailed(f"{where}: expected {_short(expected)!r}, got {_short(response)!r}.\nHint: batchItemFailures is a "
                                  'list of dicts such as {"itemIdentifier": "<sequenceNumber>"}.')
    for item in items:
        if set(item) != {"itemIdentifier"}:
            raise ExerciseCheckFailed(
                f"{where}: expected items like {{'itemIdentifier': ...}}, got {item!r}.\nHint: a misspelt key: "
                "each item has exactly the key itemIdentifier; Lambda fails the whole batch when it cannot read one."
            )
    identifiers = [item["itemIdentifier"] for item in items]
    if any(identifier in event_ids for identifier in identifiers):
        raise ExerciseCheckFailed(
            f"{where}: expected {_short(expected)!r}, got {_short(response)!r}.\nHint: itemIdentifier is the record's "
            "kinesis.sequenceNumber, not its eventID (shardId:sequenceNumber). Lambda finds no record with that "
            "identifier and fails the whole batch."
        )
    unknown = [identifier for identifier in identifiers if identifier not in position]
    if unknown:
        raise ExerciseCheckFailed(
            f"{where}: expected {_short(expected)!r}, got {_short(response)!r}.\nHint: {unknown[0]!r} is not the sequenceNumber "
            "of a record of this batch (a string, as in record['kinesis']['sequenceNumber']); Lambda fails the "
            "whole batch when an identifier is not in it."
        )
    reported = [position[identifier] for identifier in identifiers]
    if failed_at is None:
        if reported:
            raise ExerciseCheckFailed(
                f"{where}: expected {_short(expected)!r}, reported positions {reported}.\nHint: nothing failed here. A "
                "skipped reading (lesson 03's harmless bad reading) and a duplicate (lesson 04: already stored) are "
                "records the handler dealt with; reporting them makes Lambda send them, and all after them, again."
            )
    else:
        if not reported:
            raise ExerciseCheckFailed(
                f"{where}: expected {_short(expected)!r}, got {_short(response)!r}.\nHint: an empty list when a record failed "
                "means success: Lambda moves past the whole batch, and the failed record is never retried."
            )
        if min(reported) < failed_at:
            earlier = sorted(p for p in reported if p < failed_at)
            raise ExerciseCheckFailed(
                f"{where}: expected positions {list(range(failed_at, len(numbers)))}, got {reported}.\nHint: you "
                f"reported records before the failure (positions {earlier}), which were processed and written. "
                "Lambda resumes from the lowest reported sequence number, so they would be sent and written again."
            )
        if reported == [failed_at] and failed_at < len(numbers) - 1:
            raise ExerciseCheckFailed(
                f"{where}: expected positions {list(range(failed_at, len(numbers)))}, got {reported}.\nHint: you "
                "report only the failed record. On AWS that alone would work, since Lambda resumes from the lowest "
                "reported record and sends every later one again. This course's rule is stricter: stop at the first "
                "failure, so that no later record is written before it, and report the failed record and every "
                "later one, the records the handler did not process."
            )
    if response != expected:
        raise ExerciseCheckFailed(
            f"{where}: expected {_short(expected)!r}, got {_short(response)!r}.\nHint: report the record that failed and every "
            "record after it, once each, in batch order (positions "
            f"{list(range(failed_at, len(numbers))) if failed_at is not None else []}), got positions {reported}."
        )
    written = [key_position[key] for key in fake.written]
    should = [index for index, payload in enumerate(payloads)
              if isinstance(payload, dict) and payload["unit"] in ("C", "F") and payload["reading_id"] not in fake.failing
              and (failed_at is None or index < failed_at) and payload["reading_id"] not in fake.stored]
    expect_equal(f"{where}: positions of the readings written", written, should,
                 hint="Call process(record) on every record, in order, once each, until one fails.")
    if failed_at is not None:
        failed = [line for line in printed.splitlines() if line.startswith("FAILED ")]
        named = [json.loads(line[len("FAILED "):]).get("sequenceNumber") for line in failed]
        expect(f"{where}: FAILED lines printed", named == [numbers[failed_at]],
               expected=f'one line FAILED {{"sequenceNumber": "{numbers[failed_at]}", "error": ...}}', got=failed,
               hint="Print one FAILED line naming the failed record's sequenceNumber (and the error): the timeline "
                    "of Part 3 reads it.")


# Exercise 06.3 ---------------------------------------------------------------------------------------------------

MAX_RETRIES = 2
BATCH_SIZE = 8


def check_partial_mapping(create_partial_mapping, function_name: str, lesson) -> None:
    """Calls the learner's function on a stream and a queue of the check's own; reads the mapping back; deletes it."""
    label = "Exercise 06.3"
    stream_arn = ensure_stream(lesson.name("mapping-check"))
    _, queue_arn = ensure_queue(lesson.name("mapping-check-failures"))
    for leftover in mappings_of(function_name):
        if leftover["EventSourceArn"] == stream_arn:
            delete_mapping(leftover["UUID"])
    answer = None
    try:
        answer = call_exercise(label, create_partial_mapping, function_name, stream_arn, queue_arn)
        mapping = mapping_of(label, answer)
        _judge_mapping(label, mapping, function_name, stream_arn, queue_arn)
    finally:
        uuid = answer.get("UUID") if isinstance(answer, dict) else answer
        if isinstance(uuid, str) and uuid:
            delete_mapping(uuid)
    passed(label, "ReportBatchItemFailures, bisection, 2 retries and the on-failure queue, read back from LocalStack")


def _judge_mapping(label: str, mapping: dict, function_name: str, stream_arn: str, queue_arn: str) -> None:
    def wrong(what, expected, got, hint):
        raise ExerciseCheckFailed(f"{label}: {what}: expected {expected!r}, got {got!r}.\nHint: {hint}")

    if mapping.get("EventSourceArn") != stream_arn:
        wrong("EventSourceArn", stream_arn, mapping.get("EventSourceArn"), "pass EventSourceArn=stream_arn.")
    if not str(mapping.get("FunctionArn", "")).endswith(f":function:{function_name}"):
        wrong("FunctionArn", function_name, mapping.get("FunctionArn"), "pass FunctionName=function_name.")
    if "ReportBatchItemFailures" not in (setting(mapping, "FunctionResponseTypes") or []):
        wrong("FunctionResponseTypes", ["ReportBatchItemFailures"], setting(mapping, "FunctionResponseTypes"),
              "FunctionResponseTypes is missing ReportBatchItemFailures: batchItemFailures would be ignored: Lambda "
              "reads the response only when ReportBatchItemFailures is listed, and otherwise takes any normal return "
              "as success, so the failed records would be skipped.")
    if setting(mapping, "BisectBatchOnFunctionError") is not True:
        wrong("BisectBatchOnFunctionError", True, setting(mapping, "BisectBatchOnFunctionError"),
              "bisect is off. The handler reports its failures, but it can still raise (a bug outside the try, a "
              "timeout, running out of memory): then the whole batch fails, and bisection is what isolates the bad "
              "record instead of retrying all of them together.")
    retries = mapping.get("MaximumRetryAttempts", -1)
    if retries is None or retries < 0:
        wrong("MaximumRetryAttempts", MAX_RETRIES, retries,
              "-1 (the default) retries until the records expire from the stream (24 hours by default, up to a "
              "year): the shard stays blocked behind one poison record all that time.")
    if retries != MAX_RETRIES:
        wrong("MaximumRetryAttempts", MAX_RETRIES, retries,
              f"use {MAX_RETRIES}: few retries bound the cost of a poison record, and Part 3 counts on them.")
    destination = on_failure_destination(mapping)
    if destination != queue_arn:
        wrong("DestinationConfig.OnFailure.Destination", queue_arn, destination,
              "no destination: when the retries run out, Lambda drops the failed records and moves on; the "
              "on-failure record in the queue is the only trace of them. Pass "
              "DestinationConfig={'OnFailure': {'Destination': queue_arn}}." if destination is None else
              "send the on-failure records to the queue_arn the function receives.")
    if mapping.get("StartingPosition") != "TRIM_HORIZON":
        wrong("StartingPosition", "TRIM_HORIZON", mapping.get("StartingPosition"),
              "StartingPosition is required for Kinesis; TRIM_HORIZON reads from the oldest record, so the readings "
              "put before the mapping exists are processed too (LATEST would start after them).")
    if mapping.get("BatchSize") != BATCH_SIZE:
        wrong("BatchSize", BATCH_SIZE, mapping.get("BatchSize"),
              f"use BatchSize={BATCH_SIZE}, so the 16 readings of Part 3 come in two batches.")
