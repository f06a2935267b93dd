"""Checks of lesson 07 · The capstone: the finished handler under faults."""

from __future__ import annotations

import base64
import copy
import json
import random

from ..mappings import delete_mappings_of, wait_for_state
from botocore.exceptions import ClientError

from . import ExerciseCheckFailed, ExerciseNotSolved, call_exercise, expect, fresh_random, passed
from .cases import unchanged
from .lesson04 import reading_item
from .mapping import calls_to, left_out, mapping_of, on_failure_destination, refused, setting

# Exercise 07.1 ---------------------------------------------------------------------------------------------------

TARGET = {
    "BatchSize": 100,
    "MaximumBatchingWindowInSeconds": 1,
    "MaximumRetryAttempts": 3,
    "MaximumRecordAgeInSeconds": 600,
    "BisectBatchOnFunctionError": True,
    "FunctionResponseTypes": ["ReportBatchItemFailures"],
}

# The requirements of the statement, by the name the statement gives them: a hint names the one a setting breaks.
REQUIREMENTS = {
    "StartingPosition": "every record the stream keeps",
    "BatchSize": "small batches",
    "MaximumBatchingWindowInSeconds": "a short wait",
    "FunctionResponseTypes": "failed records are read",
    "BisectBatchOnFunctionError": "a bug costs one record",
    "MaximumRetryAttempts": "a poison record's cost is bounded",
    "MaximumRecordAgeInSeconds": "a poison record's cost is bounded",
    "DestinationConfig": "nothing given up without a trace",
}


def _hint(name: str, got, subject: str = "This") -> str:
    """What the setting ``name`` with the stored value ``got`` breaks, and why."""
    why = {
        "StartingPosition": lambda: (
            "LATEST starts reading after the newest record when the mapping starts polling: readings put before "
            "would never be processed. The oldest record the stream keeps is TRIM_HORIZON."
            if got == "LATEST"
            else "AT_TIMESTAMP starts reading at a time: records put before it would never be processed. The oldest "
            "record the stream keeps is TRIM_HORIZON."
            if got == "AT_TIMESTAMP"
            else "Read from the oldest record the stream keeps: TRIM_HORIZON."
        ),
        "BatchSize": lambda: (
            f"BatchSize={got} lets one invocation carry {got} records, more than the 100 the requirement allows "
            "(a batch's writes must fit well within the function's 5 s Timeout)."
            if isinstance(got, int) and got > 100
            else f"BatchSize={got} cuts the stream into smaller batches than needed: more invocations for the same "
            "records. The requirement allows up to 100 records per invocation: BatchSize=100."
        ),
        "MaximumBatchingWindowInSeconds": lambda: (
            "A window of 0 invokes on every poll, however few records arrived: the requirement lets a batch fill "
            "for up to 1 second."
            if got == 0
            else f"A window of {got} s lets a batch wait longer than the 1 second the readings may lag: "
            "MaximumBatchingWindowInSeconds is in seconds, and the requirement allows 1."
        ),
        "FunctionResponseTypes": lambda: (
            "Without FunctionResponseTypes=['ReportBatchItemFailures'], Lambda ignores the batchItemFailures the "
            "handler returns and treats the batch as a success: a poison record would be skipped silently, never "
            "retried nor sent to the queue."
        ),
        "BisectBatchOnFunctionError": lambda: (
            "Without BisectBatchOnFunctionError=True, a function error (a crash, a timeout, an exception) retries "
            "the whole batch until the retries run out, and the whole batch is given up with the record that "
            "causes it. Bisection splits a failed batch in two, and again, until the failing record is alone; "
            "splits use no retry attempt."
        ),
        "MaximumRetryAttempts": lambda: (
            "-1 (the default) retries a failing record until it expires: a poison record blocks its shard for up "
            "to the stream's retention (24 hours by default)."
            if got in (-1, None)
            else "MaximumRetryAttempts counts the retries after the first attempt: 4 lets a poison record be attempted "
            "5 times in all, one more than the 4 the requirement allows. 4 attempts = the first + 3 retries."
            if got == 4
            else f"MaximumRetryAttempts={got} lets a poison record be attempted {got + 1} times in all; the requirement "
            "allows 4: the first attempt and 3 retries."
            if isinstance(got, int) and got > 4
            else f"MaximumRetryAttempts={got} gives a record up after {got + 1} attempt(s) in all, before a transient "
            "fault (a throttled write, a crash) has had its chance to pass: the requirement gives a record up "
            "after its 4th attempt, the first + 3 retries."
            if isinstance(got, int)
            else "The requirement gives up after the 4th attempt: the first + 3 retries."
        ),
        "MaximumRecordAgeInSeconds": lambda: (
            "-1 (the default) never gives up a record for its age: with retries pending, a poison record's shard "
            "waits however long the retries take. The requirement gives up a record once it is 10 minutes old "
            "(the setting is in seconds)."
            if got in (-1, None)
            else f"MaximumRecordAgeInSeconds is in seconds: {got} is not 10 minutes (and AWS's minimum is 60). "
            "10 minutes = 600 seconds."
            if isinstance(got, int) and got < 60
            else f"MaximumRecordAgeInSeconds={got} gives a record up when it is {got / 60:g} minutes old; the "
            "requirement says 10 minutes: 600 seconds."
        ),
        "DestinationConfig": lambda: (
            "Give up records to the queue: DestinationConfig={'OnFailure': {'Destination': queue_arn}} (the "
            "queue's ARN, not its URL). Without it, a batch that runs out of retries is dropped with no trace, "
            "and the replay (Exercise 07.2) has nothing to read."
        ),
    }[name]()
    return f"{subject} breaks the requirement \u201c{REQUIREMENTS[name]}\u201d. {why}"


def check_capstone_mapping(create_capstone_mapping, function_name: str, stream_arn: str, queue_arn: str) -> dict:
    """Creates the learner's mapping (after deleting any earlier one of the function) and judges what LocalStack stored."""
    label = "Exercise 07.1"
    delete_mappings_of(function_name)  # a second run of the cell must not leave two mappings on one stream
    with calls_to("CreateEventSourceMapping") as calls:
        try:
            answer = call_exercise(label, create_capstone_mapping, function_name, stream_arn, queue_arn)
        except ClientError as error:
            # AWS (and the course's LocalStack) refuse an age under 60 s: say which requirement it misses.
            got = calls[-1].get("MaximumRecordAgeInSeconds") if calls else None
            too_young = _hint("MaximumRecordAgeInSeconds", got, f"MaximumRecordAgeInSeconds={got}")
            specific = [("maximumrecordageinseconds", too_young)] if calls else []
            raise refused(label, "create_event_source_mapping", error, specific) from None
    mapping = mapping_of(label, answer)
    try:
        # The statement asks for every setting written out: a value that is right only as AWS's default is left out.
        for name in left_out(calls, ("StartingPosition", *TARGET, "DestinationConfig")):
            default = setting(mapping, name)
            right = default == TARGET.get(name)
            raise ExerciseCheckFailed(
                f"{label}: your create_event_source_mapping call left out {name}, so the mapping has AWS's default, "
                f"{default!r}.\nHint: "
                + (
                    "the right value, but only by default: the statement asks for every setting written out, so "
                    "that a reader of the call sees each requirement met without knowing AWS's defaults. Write "
                    f"{name}={default!r} (requirement \u201c{REQUIREMENTS[name]}\u201d)."
                    if right
                    else _hint(name, default, subject="AWS's default")
                )
            )
        expect(
            f"{label}: the mapping's stream",
            mapping.get("EventSourceArn") == stream_arn,
            expected=stream_arn,
            got=mapping.get("EventSourceArn"),
            hint="Pass EventSourceArn=stream_arn.",
        )
        expect(
            f"{label}: the mapping's function",
            str(mapping.get("FunctionArn", "")).endswith(f":function:{function_name}"),
            expected=function_name,
            got=mapping.get("FunctionArn"),
            hint="Pass FunctionName=function_name.",
        )
        position = mapping.get("StartingPosition")
        expect(
            f"{label}: StartingPosition",
            position == "TRIM_HORIZON",
            expected="TRIM_HORIZON",
            got=position,
            hint=_hint("StartingPosition", position),
        )
        for key, wanted in TARGET.items():
            got = setting(mapping, key)
            expect(f"{label}: {key}", got == wanted, expected=wanted, got=got, hint=_hint(key, got))
        destination = on_failure_destination(mapping)
        expect(
            f"{label}: the OnFailure destination",
            destination == queue_arn,
            expected=queue_arn,
            got=destination,
            hint=_hint("DestinationConfig", destination),
        )
    except ExerciseCheckFailed:
        delete_mappings_of(function_name)  # a wrong mapping must not start the fault run
        raise
    wait_for_state(mapping["UUID"], "Enabled")
    passed(label, "the mapping LocalStack stored meets the target")
    return mapping


# Exercise 07.2 ---------------------------------------------------------------------------------------------------


def _scenario(rng: random.Random):
    """Two fake shards of event records, ranges to replay, and which records fail or are skipped."""
    shards = {}
    # Shard A's sequence numbers cross a power of ten, so comparing them as text gives the wrong order.
    start = {"shardId-000000000000": rng.randrange(70, 85), "shardId-000000000001": rng.randrange(10**6, 2 * 10**6)}
    for shard, first in start.items():
        numbers, value = [], first
        for _ in range(rng.randint(16, 18)):
            value += rng.randrange(2, 5)
            numbers.append(str(value))
        shards[shard] = numbers
    a, b = shards["shardId-000000000000"], shards["shardId-000000000001"]
    # A range of shard A that crosses 99 -> 100, a range of shard B, a second range of shard A.
    cross = next(i for i, n in enumerate(a) if int(n) >= 100)
    a1 = (max(1, min(cross, len(a) - 9) - 3), min(cross, len(a) - 9) + 3)
    a2 = (a1[1] + 2, len(a) - 2)
    b1 = (3, len(b) - 4)
    ranges = [("shardId-000000000000", a1), ("shardId-000000000001", b1), ("shardId-000000000000", a2)]
    failing = {a[a1[0] + 1], b[b1[0]], a[a2[1]]}
    skipped = {a[a1[1]], b[b1[0] + 2]}
    failures = [
        {
            "requestContext": {"condition": "RetryAttemptsExhausted"},
            "KinesisBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": shards[shard][lo],
                "endSequenceNumber": shards[shard][hi],
                "batchSize": hi - lo + 1,
                "streamArn": "arn:aws:kinesis:us-east-1:000000000000:stream/kc07-check",
            },
        }
        for shard, (lo, hi) in ranges
    ]
    return shards, failures, failing, skipped


class ProvisionedThroughputExceededException(Exception):
    """What a throttled DynamoDB write raises (its own class, as boto3 builds it)."""


FAILURES = [RuntimeError, ValueError, KeyError, ProvisionedThroughputExceededException]

REPLAY_MUTATION_HINT = (
    "replay changed the list of on-failure records it was given (popped or removed them). The caller still needs "
    "them: to report what was replayed, and to delete each message from the queue only once its range is done. "
    "Loop over the list (for failure in failures) without changing it."
)


def _record(shard: str, number: str) -> dict:
    return {
        "eventID": f"{shard}:{number}",
        "kinesis": {"sequenceNumber": number, "partitionKey": "sensor-01", "data": "e30="},
    }


def check_replay(replay) -> None:
    label = "Exercise 07.2"
    from ..capstone.replay import reference_replay

    rng = fresh_random(label)
    for _ in range(3):
        shards, failures, failing, skipped = _scenario(rng)
        reads = []

        def read_from(shard_id, sequence_number):
            if shard_id not in shards:
                raise KeyError(f"no shard {shard_id!r}")
            numbers = shards[shard_id]
            if sequence_number not in numbers:
                raise ValueError(f"{sequence_number!r} is not a sequence number of {shard_id}")
            reads.append((shard_id, sequence_number))
            for number in numbers[numbers.index(sequence_number) :]:
                yield _record(shard_id, number)

        calls: dict[str, int] = {}
        # What process raises differs from record to record, as in the handler: a poison record, a bad value, a
        # throttled write.
        kinds = dict(zip(sorted(failing, key=int), rng.sample(FAILURES, len(failing)), strict=False))

        def process(record):
            number = record["kinesis"]["sequenceNumber"]
            calls[number] = calls.get(number, 0) + 1
            if number in failing:
                raise kinds[number](f"record {number} cannot be processed")
            return "skipped" if number in skipped else "stored"

        expected = reference_replay(failures, read_from, process)
        reads.clear()
        calls.clear()
        try:
            got = unchanged(label, replay, failures, read_from, process, hint=REPLAY_MUTATION_HINT)
        except (ExerciseNotSolved, ExerciseCheckFailed):
            raise
        except Exception as error:
            raise ExerciseCheckFailed(
                f"{label}: replay raised {type(error).__name__}: {error}.\nHint: a record that cannot be processed "
                "must not stop the replay. process(record) can raise any exception (here RuntimeError, ValueError, "
                "KeyError or a throttled write's error, as a handler's process does): catch Exception around "
                "process(record), not only the classes you have seen, note 'failed', and go on."
            ) from error
        expect(
            f"{label}: the result",
            isinstance(got, dict),
            expected="a dict {sequence number: outcome}",
            got=got,
            hint="Return {sequence_number: what process returned, or 'failed'} for every record of the ranges.",
        )
        if got != expected:
            raise ExerciseCheckFailed(
                f"{label}: expected {expected!r}, got {got!r}.\nHint: {_replay_hint(got, failures, read_from, process)}"
            )
        repeated = {number: count for number, count in calls.items() if count > 1}
        if repeated:
            number, count = next(iter(repeated.items()))
            raise ExerciseCheckFailed(
                f"{label}: process was called {count} times for record {number} ({len(repeated)} records were "
                "processed more than once).\nHint: call process(record) once per record and keep what it returned "
                "(or 'failed'): each call writes, and a second call of a stored record only returns 'duplicate'."
            )

    passed(label, "fresh ranges on two shards, with records that fail and records that are skipped")


def _variant(
    failures,
    read_from,
    process,
    *,
    text=False,
    exclusive=False,
    no_stop=False,
    stop_at_failure=False,
    one_shard=False,
    first_only=False,
    skip_start=False,
) -> dict:
    """What a replay with one of the usual mistakes returns (to name the mistake in the hint)."""
    outcomes = {}
    for failure in failures[:1] if first_only else failures:
        info = failure["KinesisBatchInfo"]
        shard = failures[0]["KinesisBatchInfo"]["shardId"] if one_shard else info["shardId"]
        end = info["endSequenceNumber"] if text else int(info["endSequenceNumber"])
        try:
            for record in read_from(shard, info["startSequenceNumber"]):
                number = record["kinesis"]["sequenceNumber"]
                value = number if text else int(number)
                if skip_start and number == info["startSequenceNumber"]:
                    continue
                if not no_stop and (value >= end if exclusive else value > end):
                    break
                try:
                    outcomes[number] = process(record)
                except Exception:
                    outcomes[number] = "failed"
                    if stop_at_failure:
                        break
        except (KeyError, ValueError):
            continue
    return outcomes


MISTAKES = [
    (
        dict(text=True),
        "Sequence numbers are numbers written as strings: compare them with int(...), not as text "
        "('100' < '99' as text).",
    ),
    (
        dict(exclusive=True),
        "endSequenceNumber is part of the range: include the record whose sequence number equals it.",
    ),
    (
        dict(no_stop=True),
        "Stop after endSequenceNumber: read_from goes on to the end of the shard, and the records "
        "after the range were not given up (the mapping processed them).",
    ),
    (
        dict(stop_at_failure=True),
        "A record that fails is noted as 'failed', and the replay goes on with the next "
        "record of the range: the records after it can still be processed.",
    ),
    (dict(one_shard=True), "Read each range from its own KinesisBatchInfo['shardId']."),
    (
        dict(first_only=True),
        "You replayed only the first range: go through every on-failure record in the list "
        "(is there a return inside the loop?).",
    ),
    (
        dict(skip_start=True),
        "startSequenceNumber is part of the range: the record at startSequenceNumber was given "
        "up too (it is not a checkpoint of what was done), so process it.",
    ),
]


def _replay_hint(got: dict, failures, read_from, process) -> str:
    for mistake, hint in MISTAKES:
        if got == _variant(failures, read_from, process, **mistake):
            return hint
    return (
        "Every record from startSequenceNumber through endSequenceNumber of every on-failure record, each mapped to "
        "what process(record) returned ('stored', 'duplicate', 'skipped'), or to 'failed' if it raised."
    )


# Stretch 07.S ----------------------------------------------------------------------------------------------------

DEAD_LETTER_KEYS = {"shardId", "sequenceNumber", "partitionKey", "data", "error"}


def _stretch_record(rng: random.Random, shard: str, number: str) -> dict:
    """An event record with data of its own (base64, as the mapping puts it in the event): some not even UTF-8."""
    raw = rng.choice(
        [
            json.dumps({"reading_id": f"rd-{number}", "temperature": rng.randint(-5, 35)}).encode(),
            b"\xff\xfe" + f"reading {number}".encode("utf-16-le"),
            f"reading_id=rd-{number};temperature=21.5C".encode(),
        ]
    )
    return {
        "eventID": f"{shard}:{number}",
        "kinesis": {
            "sequenceNumber": number,
            "data": base64.b64encode(raw).decode(),
            "partitionKey": f"sensor-{rng.randint(1, 8):02d}",
        },
    }


def check_stretch_dead_letters(dead_letters) -> None:
    label = "Stretch 07.S"
    from ..capstone.replay import reference_dead_letters

    rng = fresh_random(label)
    for _ in range(3):
        shards, failures, failing, skipped = _scenario(rng)
        # SQS standard queues deliver a message at least once: one on-failure record arrives twice.
        failures.insert(rng.randrange(1, len(failures) + 1), copy.deepcopy(rng.choice(failures)))
        records = {
            (shard, number): _stretch_record(rng, shard, number)
            for shard, numbers in shards.items()
            for number in numbers
        }
        kinds = dict(zip(sorted(failing, key=int), rng.sample(FAILURES, len(failing)), strict=False))

        def read_from(shard_id, sequence_number):
            numbers = shards[shard_id]
            for number in numbers[numbers.index(sequence_number) :]:
                yield copy.deepcopy(records[(shard_id, number)])

        def process(record):
            number = record["kinesis"]["sequenceNumber"]
            if number in failing:
                raise kinds[number](f"record {number} cannot be processed")
            return "skipped" if number in skipped else "stored"

        expected = reference_dead_letters(failures, read_from, process)
        try:
            got = unchanged(label, dead_letters, failures, read_from, process, hint=REPLAY_MUTATION_HINT)
        except (ExerciseNotSolved, ExerciseCheckFailed):
            raise
        except Exception as error:
            raise ExerciseCheckFailed(
                f"{label}: dead_letters raised {type(error).__name__}: {error}.\nHint: a record that cannot be "
                "processed is what a dead letter is for: catch Exception around process(record), keep the record "
                "and the error's class, and go on."
            ) from error
        if got != expected:
            raise ExerciseCheckFailed(
                f"{label}: expected {expected!r},\ngot {got!r}.\nHint: {_dead_letter_hint(got, expected)}"
            )
    passed(label, "every record that still fails kept once, with its data, on fresh ranges (one delivered twice)")


def _dead_letter_hint(got, expected: list[dict]) -> str:
    if not isinstance(got, list) or not all(isinstance(letter, dict) for letter in got):
        return "Return a list of dicts, one per record that still fails, in the order the ranges list them."
    numbers = [letter.get("sequenceNumber") for letter in got]
    wanted = [letter["sequenceNumber"] for letter in expected]
    if len(numbers) > len(set(numbers)):
        return (
            "A record is listed twice. An SQS standard queue delivers a message at least once, so the same "
            "on-failure record (the same range) can come twice: keep each shard's record once (a set of the "
            "(shardId, sequenceNumber) pairs already seen)."
        )
    if set(numbers) > set(wanted):
        return (
            "Only the records that still fail are dead letters: a record process stored (or skipped as a harmless "
            "bad reading) is done."
        )
    if set(numbers) != set(wanted):
        return (
            "Every record of every range, from startSequenceNumber through endSequenceNumber (compared as "
            "numbers), whose process(record) raises, is a dead letter."
        )
    if numbers != wanted:
        return "List the dead letters in the order the ranges list them, each range in shard order."
    by_number = {letter["sequenceNumber"]: letter for letter in expected}
    for letter in got:
        right = by_number[letter["sequenceNumber"]]
        if "data" not in letter:
            return (
                "Keep the record's data. An on-failure record holds metadata only, and the stream drops its "
                "records after the retention period (24 hours by default): after that, the dead letter is the "
                "only copy of what the record said."
            )
        if letter["data"] != right["data"]:
            return (
                "Keep the data as the event carries it (record['kinesis']['data'], base64 text), not decoded: "
                "a poison record may not even decode (not UTF-8, not JSON), and whoever fixes it needs the bytes "
                "the producer sent."
            )
        if set(letter) != DEAD_LETTER_KEYS:
            return (
                f"Each dead letter has exactly the keys {sorted(DEAD_LETTER_KEYS)}: you gave {sorted(letter)}. "
                "The shard and partition key say where to put the fixed record back."
            )
        if letter != right:
            return (
                "'error' is the class name of what process raised (type(error).__name__, e.g. 'PoisonRecord'), "
                "and every other value comes from the record and its range as they are."
                if letter.get("error") != right["error"]
                else "Take shardId from the range, sequenceNumber, partitionKey and data from the record."
            )
    return "Compare your dead letters with the expected ones above."


# Exercise 07.3 ---------------------------------------------------------------------------------------------------

COUNTED_WRITES = ("put_item", "update_item", "transact_write_items", "batch_write_item")


class SimulatedCrash(BaseException):
    """The process dies here (a BaseException, so that no ``except Exception`` of the learner's code catches it)."""


def reference_write_counted(dynamodb, table_name, counter_table, key, reading):
    """What Exercise 07.3 asks for: two writes, each idempotent on its own, the second on every delivery."""
    stored = True
    try:
        dynamodb.put_item(
            TableName=table_name, Item=reading_item(key, reading), ConditionExpression="attribute_not_exists(pk)"
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        stored = False
    try:
        dynamodb.update_item(
            TableName=counter_table,
            Key={"pk": {"S": reading["sensor"]}},
            UpdateExpression="ADD readings :one, counted :ids",
            ConditionExpression="NOT contains(counted, :id)",
            ExpressionAttributeValues={":one": {"N": "1"}, ":ids": {"SS": [key]}, ":id": {"S": key}},
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        pass
    return stored


class _Recorder:
    """A real DynamoDB client that records its write calls; ``crash_after`` ends the process (SimulatedCrash) once
    that many writes took effect; ``rival`` runs once, just before the first write."""

    def __init__(self, real, crash_after=None, rival=None):
        self._real, self._crash_after, self._rival, self.writes = real, crash_after, rival, []

    def __getattr__(self, name):
        attribute = getattr(self._real, name)
        if name not in COUNTED_WRITES:
            return attribute

        def write(*args, **kwargs):
            self.writes.append((name, kwargs))
            if self._rival:
                rival, self._rival = self._rival, None
                rival()
            try:
                return attribute(*args, **kwargs)
            finally:
                if self._crash_after is not None and len(self.writes) == self._crash_after:
                    raise SimulatedCrash(f"the process died after write {len(self.writes)}")

        return write

    def puts(self):
        """(ConditionExpression, ExpressionAttributeNames) of every put of a reading, alone or in a transaction."""
        found = []
        for name, kwargs in self.writes:
            parts = (
                [part["Put"] for part in kwargs.get("TransactItems", []) if "Put" in part]
                if name == "transact_write_items"
                else [kwargs]
                if name == "put_item"
                else []
            )
            found += [(part.get("ConditionExpression", ""), part.get("ExpressionAttributeNames", {})) for part in parts]
        return found


def _counts(counter_table: str, token: str) -> dict[str, int]:
    """{pk: readings} of the counter items this check run made (their pk holds its token)."""
    from ..tables import scan_all

    return {
        item["pk"]["S"]: int(item.get("readings", {}).get("N", 0))
        for item in scan_all(counter_table)
        if token in item["pk"]["S"]
    }


TRANSACTION_HINT = (
    "On AWS, TransactWriteItems would be a right answer (the put and the ADD, both or neither). The course's "
    "LocalStack answers DynamoDB with moto, which undoes a cancelled transaction by restoring whole tables from a "
    "copy taken when it began: every repeat cancels, and the restore also undoes what other deliveries wrote in the "
    "meantime (the fault run then counts readings twice or loses them). Here, make each write idempotent on its "
    "own: the conditional put, then an update_item whose condition remembers the ids it counted."
)


def _count_hint(recorder: _Recorder) -> str:
    """Names what is wrong with the count's write, from the recorded calls."""
    names = [name for name, _ in recorder.writes]
    if "transact_write_items" in names:
        return TRANSACTION_HINT
    updates = [kwargs for name, kwargs in recorder.writes if name == "update_item"]
    if not updates:
        return "Your code never called update_item: ADD 1 to readings on the sensor's item of counter_table."
    expression = updates[-1].get("ConditionExpression", "")
    names = updates[-1].get("ExpressionAttributeNames", {})
    for placeholder, name in sorted(names.items(), key=lambda pair: -len(pair[0])):  # "#cnt" before "#c"
        expression = expression.replace(placeholder, name)
    if not expression:
        return (
            "Your count is an ADD without a condition: it counts every delivery. Give it a condition that "
            "remembers what was counted: ADD the reading's id to a string set (counted) in the same update, "
            "with ConditionExpression='NOT contains(counted, :id)'."
        )
    if "contains" not in expression:
        return (
            f"Your count's condition {expression!r} does not test whether this reading was counted: it tests "
            "the wrong attribute (the counter item's pk exists after its first reading whatever the reading). "
            "Test the set of ids the item counted: 'NOT contains(counted, :id)', and ADD the id to that set."
        )
    if "counted" not in expression:
        return (
            f"Your count's condition {expression!r} does not test the attribute counted: every delivery, in every "
            "execution environment, keeps the ids it counted in the string set counted of the sensor's item, so "
            "that the others see them. Use that name: 'NOT contains(counted, :id)', and ADD the id to counted."
        )
    return (
        "The count's condition must test the set of reading ids the same update ADDs to (counted), with the "
        "reading's id (key), as every other delivery writes it: not a value only your process computes."
    )


def check_counted_write(write_counted, lesson) -> None:
    """Runs the learner's counting.write_counted against real tables of LocalStack's DynamoDB (the lesson's own,
    kept between runs: each run counts sensors of its own)."""
    label = "Exercise 07.3"
    from ..endpoint import client
    from ..tables import ensure_table

    rng = fresh_random(label)
    token = f"chk{rng.randrange(16**6):06x}"
    sensors = [f"{token}-sensor-{n}" for n in (1, 2)]
    table, counter_table = lesson.name("check-readings"), lesson.name("check-counts")
    ensure_table(table)
    ensure_table(counter_table)
    real = client("dynamodb")

    def reading(sensor):
        return {
            "reading_id": f"rd-{token}-{rng.randrange(10**6):06d}",
            "sensor": sensor,
            "temperature": round(rng.uniform(-5, 95), 1),
            "unit": rng.choice("CF"),
            "humidity": rng.randint(20, 90),
        }

    def deliver(what, recorder, the_reading):
        before = copy.deepcopy(the_reading)
        try:
            result = call_exercise(
                label, write_counted, recorder, table, counter_table, the_reading["reading_id"], the_reading
            )
        except SimulatedCrash:
            result = "crashed"
        except (ExerciseNotSolved, ExerciseCheckFailed):
            raise
        except Exception as error:
            raise ExerciseCheckFailed(
                f"{label}: write_counted raised {type(error).__name__}: {error} on {what}.\nHint: a repeat is not an "
                "error: when DynamoDB cancels the transaction because the put's condition failed "
                "(TransactionCanceledException, reason ConditionalCheckFailed), return False."
            ) from error
        if the_reading != before:
            raise ExerciseCheckFailed(
                f"{label}: write_counted changed the reading it was given ({before} became {the_reading}).\nHint: "
                "do not change the reading in place: the handler passes the same dict on, and a retry must see the "
                "reading as it came. Build the item and the counter's values from it without changing it."
            )
        return result

    first, second, third = reading(sensors[0]), reading(sensors[0]), reading(sensors[1])
    recorder = _Recorder(real)
    got = deliver("the first delivery of a reading", recorder, first)
    counts = _counts(counter_table, token)
    if set(counts) - set(sensors):
        raise ExerciseCheckFailed(
            f"{label}: after one reading of {sensors[0]}, the counter table holds the items {sorted(counts)}.\nHint: "
            "the count of a sensor is ONE item, whose pk is the sensor's name (reading['sensor']). A key that "
            "changes from call to call (a time, a random id, the reading's id) starts a new counter every time, "
            "and no item says how many readings the sensor has."
        )
    stored = real.get_item(TableName=table, Key={"pk": {"S": first["reading_id"]}}).get("Item")
    expect(
        f"{label}: the first delivery of a reading (returned, count, stored)",
        got is True and counts.get(sensors[0]) == 1 and stored is not None,
        expected=(True, 1, "stored"),
        got=(got, counts.get(sensors[0]), "stored" if stored else "not stored"),
        hint="Store the reading (reading_item(key, reading), conditional put) and ADD 1 to the attribute readings "
        "of the item {'pk': {'S': reading['sensor']}} of counter_table; return True when the put stored it.",
    )
    if "transact_write_items" in [name for name, _ in recorder.writes]:
        raise ExerciseCheckFailed(f"{label}: your write_counted calls transact_write_items.\nHint: {TRANSACTION_HINT}")

    recorder = _Recorder(real)
    got = deliver("a second delivery of the same reading", recorder, first)
    count = _counts(counter_table, token).get(sensors[0])
    if (got, count) != (False, 1):
        put = [kwargs for name, kwargs in recorder.writes if name == "put_item"]
        hint = (
            _count_hint(recorder)
            if count != 1 or not put or "transact_write_items" in [n for n, _ in recorder.writes]
            else "The put of the reading must be conditional (attribute_not_exists(pk)), and return False when "
            "DynamoDB refuses it: the reading was stored before."
        )
        raise ExerciseCheckFailed(
            f"{label}: a second delivery of the same reading returned {got!r} and left the count at {count} "
            f"(expected False and 1).\nHint: {hint}"
        )

    # A crash between the first write and the rest, then the retry Lambda makes.
    crashing = _Recorder(real, crash_after=1)
    deliver("a delivery that crashed after its first write", crashing, second)
    retrying = _Recorder(real)
    deliver("the retry after the crash", retrying, second)
    count = _counts(counter_table, token).get(sensors[0])
    stored = real.get_item(TableName=table, Key={"pk": {"S": second["reading_id"]}}).get("Item")
    if count != 2 or stored is None:
        condition = [kwargs.get("ConditionExpression", "") for name, kwargs in retrying.writes if name == "update_item"]
        raise ExerciseCheckFailed(
            f"{label}: the process died right after your first write ({crashing.writes[0][0]}), Lambda retried, and "
            f"now the sensor's count is {count} for 2 readings (reading {'stored' if stored else 'not stored'}).\n"
            "Hint: "
            + (
                _count_hint(retrying)
                if condition and "contains" not in condition[0]
                else "two separate calls where the count runs only when the put succeeded leave the count and "
                "the readings disagreeing when the process dies between them: the retry finds the reading "
                "stored and never counts it. Make the count idempotent on its own (it remembers the ids it "
                "counted) and run it on every delivery, whatever the put answered."
            )
        )

    # Another delivery of the same reading, in another execution environment, stores and counts it while this one
    # runs. It follows the item layout the exercise states (the ids in `counted`), not your code: a key or an id that
    # only your process would compute again (hash() of a string, a token drawn at import) must not pass.
    rival = _Recorder(
        real, rival=lambda: reference_write_counted(real, table, counter_table, third["reading_id"], dict(third))
    )
    got = deliver("a reading another delivery counts at the same moment", rival, third)
    count = _counts(counter_table, token).get(sensors[1])
    if (got, count) != (False, 1):
        raise ExerciseCheckFailed(
            f"{label}: another delivery stored and counted the reading just before your write; yours returned "
            f"{got!r} and the count is {count} (expected False and 1).\nHint: a read before the write (get_item) "
            "does not protect the count: the condition must be part of each write itself. " + _count_hint(rival)
        )

    try:
        call_exercise(
            label,
            write_counted,
            real,
            table,
            lesson.name("check-no-such-counter"),
            f"rd-{token}-x",
            reading(sensors[1]),
        )
    except (ExerciseNotSolved, ExerciseCheckFailed):
        raise
    except Exception:
        pass
    else:
        raise ExerciseCheckFailed(
            f"{label}: with a counter table that does not exist, write_counted returned instead of raising.\nHint: "
            "only ConditionalCheckFailedException means 'stored or counted before'; any other error "
            "(a missing table, a throttled write) must propagate, so that Lambda retries the batch."
        )
    passed(
        label,
        "one count per reading through a repeat, a crash between writes and a rival delivery; other errors propagate",
    )
