"""The replay side of the fault run: on-failure records in, the failed ranges re-read from the stream.

An on-failure record (what the mapping sends to its OnFailure destination) does not hold the records: it names a
range, ``KinesisBatchInfo`` = shardId, startSequenceNumber, endSequenceNumber, batchSize, streamArn. A replay
consumer reads that range again from the stream (while the stream still keeps it: 24 hours by default) and
processes what can be processed.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from ..endpoint import REGION, client
from ..events import kinesis_event
from ..handler_import import import_fresh
from . import counted


def drain(queue_url: str, quiet_for: float = 1.0, timeout: float = 60) -> list[dict]:
    """Every message of the queue, deleted once read: stops when none arrived for ``quiet_for`` seconds.

    Called once the mapping has settled (run.wait_for_quiet), when every on-failure record is already in the queue:
    a long poll (WaitTimeSeconds=1) that returns nothing then means the queue is empty."""
    sqs = client("sqs")
    bodies: list[dict] = []
    deadline = time.monotonic() + timeout
    last = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - last < quiet_for:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            last = time.monotonic()
    return bodies


def records_from(stream_arn: str) -> Callable[[str, str], Iterator[dict]]:
    """``read_from(shard_id, sequence_number)``: the shard's records from that one on, as event records.

    GetRecords may return fewer records than exist, or none while more follow, so this loops; it ends at the
    shard's current end (an empty read with MillisBehindLatest 0). The caller stops where its range ends.
    """
    kinesis = client("kinesis")

    def read_from(shard_id: str, sequence_number: str) -> Iterator[dict]:
        iterator = kinesis.get_shard_iterator(
            StreamARN=stream_arn,
            ShardId=shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=sequence_number,
        )["ShardIterator"]
        while iterator:
            response = kinesis.get_records(StreamARN=stream_arn, ShardIterator=iterator, Limit=1000)
            yield from kinesis_event(response["Records"], stream_arn, shard_id)["Records"]
            if not response["Records"] and response.get("MillisBehindLatest", 0) == 0:
                return
            iterator = response.get("NextShardIterator")

    return read_from


def records_in_ranges(failures: list[dict], read_from) -> Iterator[tuple[str, dict]]:
    """(shard id, record) for every record from startSequenceNumber through endSequenceNumber of each on-failure
    record, in order; ``read_from(shard_id, sequence_number)`` yields a shard's records from that one on."""
    for failure in failures:
        info = failure["KinesisBatchInfo"]
        end = int(info["endSequenceNumber"])
        for record in read_from(info["shardId"], info["startSequenceNumber"]):
            if int(record["kinesis"]["sequenceNumber"]) > end:
                break
            yield info["shardId"], record


def reference_replay(failures: list[dict], read_from, process) -> dict[str, str]:
    """What Exercise 07.2 asks for (the check compares the learner's answer with this)."""
    outcomes: dict[str, str] = {}
    for _, record in records_in_ranges(failures, read_from):
        sequence_number = record["kinesis"]["sequenceNumber"]
        try:
            outcomes[sequence_number] = process(record)
        except Exception:
            outcomes[sequence_number] = "failed"
    return outcomes


def load_handler_module(build_dir: str | Path, name: str = "handler"):
    """A fresh import of one of the handler's files from the build folder (its sibling imports resolve there)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)  # the handler creates its client when it is imported
    return import_fresh(build_dir, f"{name}.py")


def local_process(build_dir: str | Path, table_name: str, counter_table: str | None = None):
    """The handler's own ``process(record)`` from the build folder, run here, writing to LocalStack's table; with
    ``counter_table``, storing with the counted write of counting.py, as the deployed function does."""
    os.environ["TABLE"] = table_name
    module = load_handler_module(build_dir)
    module.dynamodb = client("dynamodb")  # the handler's own client would look for AWS's endpoint
    if counter_table:
        counted.plug_in(module, counter_table, counting=load_handler_module(build_dir, "counting"))
    return module.process


def local_powertools_process(build_dir: str | Path, table_name: str, idempotency_table: str, function_name: str):
    """The Powertools handler's ``process(record)``, run here against LocalStack's tables.

    Powertools puts the function's name (AWS_LAMBDA_FUNCTION_NAME) into every idempotency key, so a replay that
    must see what the deployed function recorded runs under the same name.
    """
    os.environ.update(TABLE=table_name, IDEMPOTENCY_TABLE=idempotency_table, AWS_LAMBDA_FUNCTION_NAME=function_name)
    module = load_handler_module(build_dir, "powertools_handler")
    module.dynamodb = client("dynamodb")
    module.persistence.client = client("dynamodb")  # its own client would look for AWS's endpoint
    # Outside Lambda there is no context to register: an INPROGRESS record then simply has no early expiry.
    warnings.filterwarnings("ignore", message="Couldn't determine the remaining time left")
    return module.process


def reference_dead_letters(failures: list[dict], read_from, process) -> list[dict]:
    """What Stretch 07.S asks for: every record of the ranges that still fails, once, with what it takes to fix it
    and put it back after the stream has dropped it (the check compares the learner's answer with this)."""
    letters, seen = [], set()
    for shard_id, record in records_in_ranges(failures, read_from):
        number = record["kinesis"]["sequenceNumber"]
        if (shard_id, number) in seen:
            continue  # an on-failure record the queue delivered twice
        seen.add((shard_id, number))
        try:
            process(record)
        except Exception as error:
            letters.append(
                {
                    "shardId": shard_id,
                    "sequenceNumber": number,
                    "partitionKey": record["kinesis"]["partitionKey"],
                    "data": record["kinesis"]["data"],
                    "error": type(error).__name__,
                }
            )
    return letters
