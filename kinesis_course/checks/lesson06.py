"""Checks of lesson 06 · Bisection and partial batch responses.

06.1 compares ``predict_bisection`` with this kit's bisection schedule on fresh cases and with the real run.
06.2 runs the learner's handler.py in this process on fresh Kinesis events, with a stand-in DynamoDB client that
     records every write and can fail one; 06.3 calls the learner's mapping function on a stream and queue of its
     own, reads the mapping back from LocalStack and deletes it.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import random
import re
from datetime import datetime, timezone
from pathlib import Path

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from ..endpoint import REGION, client, endpoint_url
from ..events import kinesis_event
from ..handler_import import import_fresh
from ..mappings import delete_mapping, mappings_of
from ..queues import ensure_queue
from ..streams import ensure_stream
from . import (
    ExerciseCheckFailed,
    ExerciseNotSolved,
    call_checked,
    call_exercise,
    expect,
    expect_equal,
    fresh_random,
    passed,
)
from .cases import property_cases
from .mapping import (
    Requirement,
    calls_to,
    judge,
    judge_unasked,
    mapping_of,
    on_failure_destination,
    refused,
    stream_and_function,
)

STREAM_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/kc06-check"
SHARD_ID = "shardId-000000000000"


# Exercise 06.1 ---------------------------------------------------------------------------------------------------


def bisection_schedule(
    batch_size: int,
    poison_index: int,
    max_retries: int,
    *,
    second_half_first: bool = False,
    odd_to_second: bool = False,
    lone_retries: bool = True,
    split_costs_retry: bool = False,
    split_every_half: bool = False,
    retries_before_split: bool = False,
    halves_floor: bool = False,
    smallest_split: int = 2,
) -> list[int]:
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
        if end - start < smallest_split:
            if failed and lone_retries:
                sizes.extend([end - start] * max(retries_left[0], 0))
            return
        if not failed and not split_every_half:
            return
        if retries_before_split:
            sizes.extend([end - start] * max_retries)
        if split_costs_retry:
            if retries_left[0] <= 0:
                return
            retries_left[0] -= 1
        middle = start + ((end - start) // 2 if odd_to_second or halves_floor else (end - start + 1) // 2)
        halves = [(start, middle), (middle, middle + (end - start) // 2 if halves_floor else end)]
        for half in reversed(halves) if second_half_first else halves:
            deliver(*half)

    deliver(0, batch_size)
    return sizes


def reference_bisection(batch_size: int, poison_index: int, max_retries: int) -> list[int]:
    """This kit's schedule (see bisection_schedule)."""
    return bisection_schedule(batch_size, poison_index, max_retries)


MISTAKES = [
    (
        {"lone_retries": False},
        "The lone poison record is not given up at once: it is invoked once and then retried "
        "max_retries times, so max_retries + 1 invocations of size 1.",
    ),
    (
        {"second_half_first": True},
        "Wrong order: after a split this kit delivers the first half (and everything that "
        "follows from it) before the second half.",
    ),
    (
        {"odd_to_second": True},
        "Odd sizes: in this kit the first half takes the extra record (5 -> 3 + 2), not the second.",
    ),
    (
        {"split_costs_retry": True},
        "Splitting uses no retry attempt (AWS documents this): only the lone record's "
        "retries count against max_retries.",
    ),
    (
        {"split_every_half": True},
        "Only a batch that failed is split: a half without the poison succeeds at its "
        "first invocation and is not split again.",
    ),
    (
        {"retries_before_split": True},
        "A failed batch of two or more records is split at once, with no retry of the "
        "whole batch first: splitting uses no retry attempt; only the lone record is "
        "retried.",
    ),
    (
        {"halves_floor": True},
        "Halves of n // 2 and n // 2 lose a record when n is odd: the two halves hold every "
        "record of the batch, and the first takes the odd one (5 -> 3 + 2).",
    ),
    (
        {"smallest_split": 3},
        "A failed batch of two records is split too, into two batches of one: only a lone record is retried.",
    ),
]


def check_predict_bisection(predict_bisection, observed: list[int], case: tuple[int, int, int]) -> None:
    label = "Exercise 06.1"
    rng = fresh_random(label)
    # Fresh cases on every run, plus the edges: a lone record, the poison first or last, no retries, odd sizes.
    cases = [(1, 0, rng.randint(0, 3)), (2, 0, 0), (2, 1, 1), (5, 4, 1), (3, 2, 2), (7, 0, 2)]
    for _ in range(6):
        size = rng.randint(4, 40)
        cases.append((size, rng.randrange(size), rng.randint(0, 3)))
    size = rng.choice([64, 100, 128, 500])
    cases += [(size, 0, 2), (size, size - 1, 1), (size, rng.randrange(size), rng.randint(0, 2))]

    def judge(case):
        batch_size, poison_index, max_retries = case
        where = f"{label}: predict_bisection({batch_size}, {poison_index}, {max_retries})"
        got = call_exercise(label, predict_bisection, batch_size, poison_index, max_retries)
        expected = reference_bisection(batch_size, poison_index, max_retries)
        expect(
            where,
            isinstance(got, list) and all(isinstance(n, int) and not isinstance(n, bool) for n in got),
            expected="a list of ints (the batch size of each invocation, in order)",
            got=got,
            hint="Return a list such as [8, 4, 4, ...], one number per invocation.",
        )
        expect_equal(
            where, got, expected, hint=_bisection_hint(got, (batch_size, poison_index, max_retries), predict_bisection)
        )

    for fresh in cases:
        judge(fresh)
    property_cases(
        f"{label}, batches drawn from the statement",
        _bisection_cases(),
        judge,
        examples=BISECTION_EDGES,
        max_examples=40,
    )

    reference = reference_bisection(*case)
    if reference != list(observed):
        raise ExerciseCheckFailed(
            f"{label}: the run on LocalStack invoked with {list(observed)}, but this kit's schedule gives "
            f"{reference} for {case}.\nHint: that is not your code's fault: re-run the Part 1 cells (a leftover "
            "record or a second run of the mapping changes what the log shows)."
        )
    got = call_exercise(label, predict_bisection, *case)
    expect_equal(
        f"{label}: predict_bisection{case} against the real run",
        got,
        list(observed),
        hint="Your prediction should match the table printed above.",
    )
    passed(
        label,
        f"{len(cases)} fresh cases, {len(BISECTION_EDGES)} edge cases, more drawn at random, and the real "
        f"run {tuple(case)} agree",
    )


# One record, two, powers of two and the odd sizes next to them, the poison first, last and in the middle.
BISECTION_EDGES = [
    (1, 0, 0),
    (1, 0, 3),
    (2, 0, 2),
    (2, 1, 0),
    (3, 0, 1),
    (3, 1, 0),
    (4, 3, 1),
    (16, 15, 0),
    (17, 16, 2),
    (31, 0, 1),
    (33, 16, 2),
    (256, 128, 1),
    (255, 254, 0),
]


def _bisection_cases():
    """(batch_size, poison_index, max_retries) within the statement, as Hypothesis draws them."""
    from hypothesis import strategies as st

    return st.integers(1, 600).flatmap(
        lambda size: st.tuples(st.just(size), st.integers(0, size - 1), st.integers(0, 5))
    )


PROBES = [(8, 5, 2), (5, 4, 1), (2, 1, 2), (7, 0, 1), (12, 11, 3)]


def _bisection_hint(got, case, predict_bisection) -> str:
    candidates = [(mistake, hint) for mistake, hint in MISTAKES if got == bisection_schedule(*case, **mistake)]
    for probe in PROBES:  # several mistakes can give the same answer here: ask the learner's function a few more
        if len(candidates) <= 1:
            break
        try:
            answer = predict_bisection(*probe)
        except Exception:
            break
        narrowed = [(mistake, hint) for mistake, hint in candidates if bisection_schedule(*probe, **mistake) == answer]
        candidates = narrowed or candidates
    if candidates:
        return candidates[0][1]
    return (
        "Only a failed batch is split, into two halves (the first takes the odd record), first half first; the "
        "lone poison record is invoked max_retries + 1 times."
    )


# Exercise 06.2 ---------------------------------------------------------------------------------------------------


def load_handler(where, table: str = "kc06-check-table"):
    """Imports handler.py from a lesson's build folder (a Lesson, or the folder) as Lambda would run it.

    The folder goes first on sys.path and its modules are imported afresh, so ``from triage import triage`` finds
    this folder's files. TABLE is set, and the module's boto3 client is replaced by the kit's LocalStack client.
    """
    folder = Path(where) if isinstance(where, (str, Path)) else where.folder / where.build_dir
    folder = folder.resolve()
    # The handler creates its boto3 client at import: give it Lambda's environment, on LocalStack.
    lambda_like = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint_url(),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    saved = {key: os.environ.get(key) for key in lambda_like}
    os.environ.update(lambda_like)
    try:
        module = import_fresh(folder, "handler.py", module_name=f"kc06_handler_{abs(hash(str(folder)))}")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    os.environ["TABLE"] = table
    if hasattr(module, "dynamodb"):
        module.dynamodb = client("dynamodb")
    return module


@functools.cache
def _answered_client():
    """One real DynamoDB client for the stand-in (creating one costs a few tenths of a second); no request leaves it."""
    return boto3.session.Session().client(
        "dynamodb",
        region_name=REGION,
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}),
    )


NOT_EXISTS = re.compile(r"attribute_not_exists\s*\(\s*([#\w.]+)\s*\)")


class FakeDynamoDB:
    """A real boto3 DynamoDB client whose calls are answered here, in memory, instead of by a server.

    Being a real client, it has every exception class a real one has (``dynamodb.exceptions.X`` works for any X
    DynamoDB defines) and raises them as botocore does, as ClientError subclasses built from the error code.
    botocore's ``before-call`` event (the hook botocore's own Stubber answers through) returns the answer:
    conditional puts and updates on a dict, and for each reading_id in ``failing`` a write that fails: "throttled"
    (ProvisionedThroughputExceededException) or "timeout" (botocore's ReadTimeoutError, a BotoCoreError and not a
    ClientError). Items are found by their reading_id (the learner's key may be made of more than it).
    ``written`` lists the reading_ids stored, in order.
    """

    def __init__(self, stored: set[str], failing: dict[str, str]) -> None:
        self.stored = set(stored)
        self.items = {key: {"pk": {"S": key}, "reading_id": {"S": key}} for key in stored}
        self.failing = dict(failing)
        self.written: list[str] = []  # reading_ids stored, in order
        self.client = _answered_client()

    def __enter__(self) -> FakeDynamoDB:
        self.client.meta.events.register("before-call.dynamodb", self._answer, unique_id="kc06-stand-in")
        return self

    def __exit__(self, *_) -> None:
        self.client.meta.events.unregister("before-call.dynamodb", unique_id="kc06-stand-in")

    @staticmethod
    def _reply(status: int, body: dict):
        return AWSResponse("http://127.0.0.1:9", status, {}, None), {
            **body,
            "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 0},
        }

    def _error(self, code: str, message: str):
        return self._reply(400, {"Error": {"Code": code, "Message": message}})

    def _answer(self, model, params, **_):
        request = json.loads(params.get("body") or b"{}")
        operation = model.name
        if operation not in ("PutItem", "UpdateItem", "GetItem"):
            return self._error(
                "ValidationException",
                f"the check's stand-in DynamoDB does not answer {operation}; "
                "write_reading needs only put_item (lesson 04)",
            )
        item = request.get("Item") or {}
        key = (item.get("reading_id") or (request.get("Key") or item).get("pk") or {}).get("S")
        if operation == "GetItem":
            return self._reply(200, {"Item": self.items[key]} if key in self.items else {})
        if self.failing.get(key) == "timeout":
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")
        if self.failing.get(key) == "throttled":
            return self._error(
                "ProvisionedThroughputExceededException", "Rate of requests exceeds the allowed throughput."
            )
        condition = request.get("ConditionExpression")
        if condition and key in self.items:
            names = request.get("ExpressionAttributeNames") or {}
            tested = [names.get(attribute, attribute) for attribute in NOT_EXISTS.findall(condition)]
            if not tested or any(attribute in self.items[key] for attribute in tested):
                return self._error("ConditionalCheckFailedException", "The conditional request failed")
        if operation == "PutItem":
            self.items[key] = request.get("Item", {})
        else:
            self.items.setdefault(key, {"pk": {"S": key}})
        self.written.append(key)
        return self._reply(200, {})


def _reading(rng: random.Random, index: int) -> dict:
    return {
        "sensor": f"s-{rng.randint(1, 9)}",
        "reading_id": f"chk-{rng.randrange(16**6):06x}-{index}",
        "temperature": round(rng.uniform(-5, 35), 1),
        "unit": rng.choice(["C", "F"]),
    }


def _event(rng: random.Random, payloads: list) -> tuple[dict, list[str]]:
    """A Kinesis event with increasing, non-contiguous 56-digit sequence numbers."""
    sequence = rng.randrange(10**55, 5 * 10**55)
    records, numbers = [], []
    arrival = datetime(2025, 1, 1, tzinfo=timezone.utc)
    for payload in payloads:
        sequence += rng.randrange(10**20, 10**22)
        numbers.append(str(sequence))
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        records.append(
            {
                "PartitionKey": "sensor",
                "SequenceNumber": numbers[-1],
                "Data": data,
                "ApproximateArrivalTimestamp": arrival,
            }
        )
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
    made.append(("no failure (one duplicate, one skipped reading)", good, {good[duplicate_at]["reading_id"]}, {}, None))
    # A poison record (not JSON) in the middle.
    poisoned = batch(rng.randint(6, 10))
    at = rng.randrange(2, len(poisoned) - 2)
    poisoned[at] = json.dumps(poisoned[at]).encode()[: rng.randint(10, 30)]
    made.append((f"a poison record at position {at}", poisoned, set(), {}, at))
    # A write that fails (DynamoDB throttles) in the middle.
    throttled = batch(rng.randint(6, 10))
    at = rng.randrange(1, len(throttled) - 2)
    made.append(
        (f"a throttled write at position {at}", throttled, set(), {throttled[at]["reading_id"]: "throttled"}, at)
    )
    # A write that times out (botocore's ReadTimeoutError: not a ClientError) in the middle.
    slow = batch(rng.randint(6, 10))
    at = rng.randrange(1, len(slow) - 2)
    made.append((f"a write that times out at position {at}", slow, set(), {slow[at]["reading_id"]: "timeout"}, at))
    # The first record fails, then the last one.
    first = batch(rng.randint(4, 7))
    first[0] = b"\xff\xfe not even UTF-8"
    made.append(("a poison record at position 0", first, set(), {}, 0))
    last = batch(rng.randint(4, 7))
    made.append(
        (
            f"a failed write at the last position ({len(last) - 1})",
            last,
            set(),
            {last[-1]["reading_id"]: "throttled"},
            len(last) - 1,
        )
    )
    return made


MISSPELLINGS = ("batchitemfailure", "batch_item_failures", "batchitemfailures", "failures", "itemfailures")


def check_partial_response(where) -> None:
    """``where``: the Lesson (its build folder holds handler.py and the files of the lessons before)."""
    label = "Exercise 06.2"
    module = load_handler(where)
    rng = fresh_random(label)
    scenarios = _scenarios(rng)
    for description, payloads, stored, failing, failed_at in scenarios:
        event, numbers = _event(rng, payloads)
        fake = FakeDynamoDB(stored, failing)
        module.dynamodb = fake.client
        output = io.StringIO()
        try:
            with fake, contextlib.redirect_stdout(output):
                response = call_exercise(label, module.handler, event, None)
        except ExerciseNotSolved:
            raise
        except Exception as escaped:
            raise ExerciseCheckFailed(
                f"{label} ({description}): handler raised {type(escaped).__name__}: {escaped}.\n"
                "Hint: an exception that escapes the handler fails the whole batch, and Lambda learns nothing about "
                "which record failed (catching nothing is lesson 04's handler). process(record) can raise any "
                "exception: a poison record, a throttled write, a timeout (botocore's ReadTimeoutError is not a "
                "ClientError), a bug. Catch Exception around it, not only the classes you have seen raised, and "
                "return a partial batch response instead."
            ) from None
        _judge(label, description, event, numbers, payloads, fake, response, output.getvalue(), failed_at)
    passed(
        label,
        f"{len(scenarios)} fresh batches: no failure, a poison record, a throttled write, a write that "
        "times out, a failure at the first and at the last record",
    )


def _short(response):
    """A response as the messages show it: long lists of 56-digit identifiers cut to their first item."""
    if isinstance(response, dict):
        return {
            key: (
                value[:1] + [f"... {len(value)} items in all"] if isinstance(value, list) and len(value) > 2 else value
            )
            for key, value in response.items()
        }
    return response


def _judge(label, description, event, numbers, payloads, fake, response, printed, failed_at) -> None:
    where = f"{label} ({len(numbers)} records, {description})"
    position = {number: index for index, number in enumerate(numbers)}
    event_ids = {record["eventID"]: index for index, record in enumerate(event["Records"])}
    key_position = {payload["reading_id"]: index for index, payload in enumerate(payloads) if isinstance(payload, dict)}
    expected = (
        {"batchItemFailures": [{"itemIdentifier": number} for number in numbers[failed_at:]]}
        if failed_at is not None
        else {"batchItemFailures": []}
    )
    written_after = sorted(
        key_position[key] for key in fake.written if failed_at is not None and key_position[key] > failed_at
    )
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
            hint = (
                "that is the article's API Gateway reply. Lambda reads a statusCode as nothing special: with no "
                "batchItemFailures the batch counts as a success, and the failed records would be skipped."
            )
        elif any(key.lower().replace("_", "") in MISSPELLINGS or "fail" in key.lower() for key in keys):
            hint = (
                "a misspelt key: Lambda looks for exactly batchItemFailures (camelCase). Without it the response "
                "reads as success and the failed records are skipped."
            )
        else:
            hint = "Lambda reads only batchItemFailures; without it the response reads as success."
        raise ExerciseCheckFailed(
            f"{where}: expected {_short(expected)!r}, got {_short(response)!r} (keys {keys}).\nHint: {hint}"
        )
    items = response["batchItemFailures"]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ExerciseCheckFailed(
            f"{where}: expected {_short(expected)!r}, got {_short(response)!r}.\nHint: batchItemFailures is a "
            'list of dicts such as {"itemIdentifier": "<sequenceNumber>"}.'
        )
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
    partition_keys = {record["kinesis"]["partitionKey"] for record in event["Records"]}
    if any(identifier in partition_keys for identifier in identifiers):
        raise ExerciseCheckFailed(
            f"{where}: expected {_short(expected)!r}, got {_short(response)!r}.\nHint: itemIdentifier is the record's "
            "kinesis.sequenceNumber, not its partitionKey: every record of a sensor shares the partition key, so it "
            "names no record. Lambda finds no record with that identifier and fails the whole batch."
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
        if reported == list(range(failed_at + 1, len(numbers))):
            raise ExerciseCheckFailed(
                f"{where}: expected positions {list(range(failed_at, len(numbers)))}, got {reported}.\nHint: you "
                "reported the records after the failure but not the failed record itself. Lambda resumes from the "
                "lowest reported record, so the failed one would count as processed and never be retried: report "
                "it first, then every later one."
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
    should = [
        index
        for index, payload in enumerate(payloads)
        if isinstance(payload, dict)
        and payload["unit"] in ("C", "F")
        and payload["reading_id"] not in fake.failing
        and (failed_at is None or index < failed_at)
        and payload["reading_id"] not in fake.stored
    ]
    expect_equal(
        f"{where}: positions of the readings written",
        written,
        should,
        hint="Call process(record) on every record, in order, once each, until one fails.",
    )
    if failed_at is not None:
        failed = [line for line in printed.splitlines() if line.startswith("FAILED ")]
        named = [json.loads(line[len("FAILED ") :]).get("sequenceNumber") for line in failed]
        expect(
            f"{where}: FAILED lines printed",
            named == [numbers[failed_at]],
            expected=f'one line FAILED {{"sequenceNumber": "{numbers[failed_at]}", "error": ...}}',
            got=failed,
            hint="Print one FAILED line naming the failed record's sequenceNumber (and the error): the timeline "
            "of Part 3 reads it.",
        )


# Exercise 06.3 ---------------------------------------------------------------------------------------------------

# Settings the statement does not ask for, with the value a mapping has without them, and what changing them does.
UNASKED = {
    "MaximumRecordAgeInSeconds": (
        -1,
        "records older than that are given up without their retries, so a poison "
        "record's neighbours can be dropped before they are retried",
    ),
    "ParallelizationFactor": (
        1,
        "batches of one shard run side by side, so a shard's records no longer take effect in order",
    ),
    "TumblingWindowInSeconds": (0, "the handler must then return a state, or every invocation counts as failed"),
}

MAX_RETRIES = 2
BATCH_SIZE = 8


def check_partial_mapping(create_partial_mapping, function_name: str, lesson) -> None:
    """Calls the learner's function on a stream and a queue of the check's own; reads the mapping back; deletes it.

    The statement gives requirements, not settings: each hint names the requirement a wrong setting breaks.
    """
    label = "Exercise 06.3"
    stream_arn = ensure_stream(lesson.name("mapping-check"))
    _, queue_arn = ensure_queue(lesson.name("mapping-check-failures"))
    for leftover in mappings_of(function_name):
        if leftover["EventSourceArn"] == stream_arn:
            delete_mapping(leftover["UUID"])
    answer = None
    try:
        with calls_to("CreateEventSourceMapping") as calls:
            try:
                answer = call_exercise(label, create_partial_mapping, function_name, stream_arn, queue_arn)
            except ClientError as error:
                raise refused(label, "create_event_source_mapping", error) from None
        mapping = mapping_of(label, answer)
        judge(label, mapping, _requirements(function_name, stream_arn, queue_arn))
        judge_unasked(label, mapping, calls, UNASKED)
    finally:
        uuid = answer.get("UUID") if isinstance(answer, dict) else answer
        if isinstance(uuid, str) and uuid:
            delete_mapping(uuid)
    passed(
        label,
        "every requirement met: ReportBatchItemFailures, bisection, MaximumRetryAttempts=2 (3 invocations "
        "in all), the on-failure queue, TRIM_HORIZON and BatchSize=8, read back from LocalStack",
    )


def _retries(mapping: dict):
    return mapping.get("MaximumRetryAttempts", -1)


def _requirements(function_name: str, stream_arn: str, queue_arn: str) -> list[Requirement]:
    """The statement's requirements, as the stored settings that meet them: the mistakes learners make come first."""
    acts = "Lambda must act on the batchItemFailures the handler returns"
    invocations = f"a batch that keeps failing is given up after {MAX_RETRIES + 1} invocations in all"
    trace = "every record given up leaves a trace in the queue"
    arrive = "the 16 readings already in the stream arrive as two batches of 8"
    return [
        *stream_and_function(function_name, stream_arn),
        Requirement(
            "FunctionResponseTypes",
            ["ReportBatchItemFailures"],
            acts,
            "Without FunctionResponseTypes, batchItemFailures would be ignored: Lambda reads the response only when "
            "ReportBatchItemFailures is listed, and otherwise takes any normal return as success, so the failed "
            "records would be skipped.",
            mistakes=[
                (
                    bool,  # something listed, but not the one response type there is
                    "A misspelt response type: the only value is ReportBatchItemFailures (plural, as in "
                    "batchItemFailures). AWS refuses any other value; LocalStack stores it, and then ignores "
                    "batchItemFailures.",
                )
            ],
            met=lambda types: "ReportBatchItemFailures" in (types or []),
        ),
        Requirement(
            "BisectBatchOnFunctionError",
            True,
            "a bug that makes the handler raise must cost one record, not the batch",
            "Bisect is off: when the handler raises (a bug outside the try, a timeout, running out of memory), the "
            "whole batch fails, its retries fail too, and every record of it is given up together. "
            "BisectBatchOnFunctionError=True splits the failed batch until the bad record is alone (Part 1).",
            met=lambda value: value is True,
        ),
        Requirement(
            "MaximumRetryAttempts",
            MAX_RETRIES,
            invocations,
            lambda retries: (
                f"MaximumRetryAttempts={retries} invokes a failing batch {retries + 1} times in all (the first "
                f"attempt plus {retries} retries): {'too few' if retries < MAX_RETRIES else 'more than asked'}. "
                "Part 3 counts the invocations."
            ),
            mistakes=[
                (
                    lambda retries: retries is None or retries < 0,
                    "-1 (the default) retries until the records expire from the stream (24 hours by default, up "
                    "to a year): the record is never given up, and the shard stays blocked behind one poison record "
                    "all that time.",
                ),
                (
                    lambda retries: retries == MAX_RETRIES + 1,
                    lambda retries: (
                        "Off by one: MaximumRetryAttempts counts the retries after the first attempt, not the "
                        f"attempts: {retries} would invoke a failing batch {retries + 1} times. {MAX_RETRIES + 1} "
                        f"invocations in all is the first one plus {MAX_RETRIES} retries."
                    ),
                ),
            ],
            read=_retries,
        ),
        Requirement(
            "DestinationConfig.OnFailure.Destination",
            queue_arn,
            trace,
            "Send the on-failure records to the queue_arn the function receives.",
            mistakes=[
                (
                    lambda destination: destination is None,
                    "No destination: when the retries run out, Lambda drops the failed records and moves on; an "
                    "on-failure record in the queue is the only trace of them. Pass "
                    "DestinationConfig={'OnFailure': {'Destination': queue_arn}}.",
                )
            ],
            read=on_failure_destination,
        ),
        Requirement(
            "StartingPosition",
            "TRIM_HORIZON",
            arrive,
            "The readings are put before the mapping exists: TRIM_HORIZON reads from the oldest record the stream "
            "keeps, so they are processed too; LATEST would start after them and never see them.",
            read=lambda mapping: mapping.get("StartingPosition"),
        ),
        Requirement(
            "BatchSize",
            BATCH_SIZE,
            arrive,
            lambda got: (
                f"BatchSize is the most records one invocation gets: {got} would hand the 16 readings over "
                f"{'as one batch' if isinstance(got, int) and got >= 16 else 'in other batches'}; two batches of 8 "
                f"need BatchSize={BATCH_SIZE}."
            ),
            read=lambda mapping: mapping.get("BatchSize"),
        ),
    ]


# Stretch 06.S ---------------------------------------------------------------------------------------------------


def reference_resume_at(sequence_numbers: list[str], response) -> str | None:
    """Where the ESM's retry starts after a response read with ReportBatchItemFailures (None: the batch succeeded).

    AWS (Lambda developer guide, "Configuring partial batch response with Kinesis Data Streams and Lambda"): an
    empty or null response, or an empty or null batchItemFailures, is success; an empty or null itemIdentifier, or a
    misspelt key, fails the whole batch; otherwise Lambda checkpoints at the lowest reported sequence number. An
    identifier not in the batch failing the whole batch is what LocalStack's snapshot tests recorded against AWS.
    """
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not failures:
        return None
    reported = [item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures]
    if any(not identifier or identifier not in sequence_numbers for identifier in reported):
        return sequence_numbers[0]  # the whole batch failed: the retry starts at its first record
    return min(reported, key=int)


def _sequence_numbers(rng: random.Random, count: int, digits: int) -> list[str]:
    """Increasing sequence numbers of ``digits`` digits, with gaps, as one shard gives them."""
    number = rng.randrange(10 ** (digits - 1), 10**digits // 2)
    numbers = []
    for _ in range(count):
        number += rng.randint(1, 10**6)
        numbers.append(str(number))
    return numbers


def _resume_cases(rng: random.Random) -> list[tuple[str, list[str], object, str]]:
    """(what the case is, the batch's sequence numbers, the response, the hint naming the rule it tests)."""
    count = rng.randint(5, 12)
    batch = _sequence_numbers(rng, count, rng.randint(21, 56))
    failed = rng.randrange(1, count - 1)
    later = batch[failed:]
    shuffled = later[:]
    while shuffled[0] == batch[failed]:
        rng.shuffle(shuffled)
    # A batch whose numbers gain a digit half-way: as strings, "1000..." sorts before "999...".
    digits = rng.randint(21, 55)
    step = rng.randint(1, 10**6)
    straddling = [str(10**digits + (index - count // 2) * step) for index in range(count)]
    outside = str(int(batch[-1]) + rng.randint(1, 10**6))

    def items(identifiers):
        return {"batchItemFailures": [{"itemIdentifier": identifier} for identifier in identifiers]}

    success = "the batch succeeded: return None"
    whole = "the whole batch fails, so the retry starts at the batch's first record"
    return [
        ("a response of None", batch, None, f"an empty or null response is success: {success}."),
        ("an empty dict", batch, {}, f"an empty or null response is success: {success}."),
        (
            "an empty batchItemFailures",
            batch,
            {"batchItemFailures": []},
            f"an empty batchItemFailures list is success: {success}.",
        ),
        (
            "a null batchItemFailures",
            batch,
            {"batchItemFailures": None},
            f"a null batchItemFailures is success: {success}.",
        ),
        (
            "the article's statusCode reply",
            batch,
            {"statusCode": 200, "body": "ok"},
            f"a response without batchItemFailures (API Gateway's statusCode reply) is read as success: {success}.",
        ),
        (
            "the failed record and every later one, in order",
            batch,
            items(later),
            "the retry starts at the lowest reported record itself (it failed), not after it.",
        ),
        (
            "only the failed record",
            batch,
            items([batch[failed]]),
            "the retry starts at the lowest reported record itself; the records after it come again with it.",
        ),
        (
            "the failed record and every later one, in another order",
            batch,
            items(shuffled),
            "the lowest reported sequence number, not the first one listed: the response's order means nothing.",
        ),
        (
            "records whose sequence numbers gain a digit",
            straddling,
            items(straddling[count // 2 - 1 : count // 2 + 2]),
            "sequence numbers are numbers written as strings: compare them as numbers (int), since as strings "
            "'1000' sorts before '999'.",
        ),
        ("an empty itemIdentifier", batch, items([batch[failed], ""]), f"an empty itemIdentifier: {whole}."),
        ("a null itemIdentifier", batch, items([None]), f"a null itemIdentifier: {whole}."),
        (
            "a misspelt key (itemIdentifer)",
            batch,
            {"batchItemFailures": [{"itemIdentifer": batch[failed]}]},
            f"a misspelt key leaves the item without an itemIdentifier: {whole}.",
        ),
        (
            "an identifier not in the batch",
            batch,
            items([batch[failed], outside]),
            f"an identifier that is not in the batch: {whole} (tests recorded against AWS show it).",
        ),
    ]


def check_stretch_resume_at(resume_at) -> None:
    """Fresh batches and responses, one case per rule of AWS's partial batch response page; each hint names it."""
    label = "Stretch 06.S"
    rng = fresh_random(label)
    for what, batch, response, hint in _resume_cases(rng):
        given = copy_of(response)
        got = call_checked(
            label,
            resume_at,
            list(batch),
            given,
            hint=hint,
            shown_args=f"<a batch of {len(batch)}>, {_short_response(response)}",
        )
        expected = reference_resume_at(batch, response)
        where = f"{label}: resume_at on {what} ({_short_response(response)})"
        expect(where, got == expected, expected=_at(batch, expected), got=_at(batch, got), hint=hint)
    passed(
        label,
        "every rule of the partial batch response, on fresh batches; reporting only the failed record "
        "resumes where reporting it and every later record does",
    )


def copy_of(value):
    return json.loads(json.dumps(value))


def _short_response(response) -> str:
    text = json.dumps(response)
    return text if len(text) <= 90 else text[:87] + "..."


def _at(batch: list[str], value) -> str:
    """A returned value as the message shows it: None, or which record of the batch it is."""
    if value is None:
        return "None (success)"
    if isinstance(value, str) and value in batch:
        return f"record {batch.index(value)} of the batch ({value})"
    return repr(value)
