"""Kinesis streams: create and delete idempotently, put records, read them back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from .endpoint import client
from .waiting import wait_until


def stream_exists(name: str) -> bool:
    try:
        client("kinesis").describe_stream_summary(StreamName=name)
        return True
    except client("kinesis").exceptions.ResourceNotFoundException:
        return False


def ensure_stream(name: str, shards: int = 1, timeout: float = 60) -> str:
    """Creates the stream unless it exists, waits until it is ACTIVE, returns its ARN."""
    kinesis = client("kinesis")
    # Only create what does not exist: kinesis-mock loses a stream created right after a delete of a missing one.
    if not stream_exists(name):
        kinesis.create_stream(StreamName=name, ShardCount=shards)

    def active():
        summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        return summary["StreamARN"] if summary["StreamStatus"] == "ACTIVE" else None

    return wait_until(active, timeout=timeout, what=f"stream {name} to become ACTIVE")


def delete_stream(name: str, timeout: float = 60) -> None:
    if not stream_exists(name):
        return
    client("kinesis").delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    wait_until(lambda: not stream_exists(name), timeout=timeout, what=f"stream {name} to be deleted")


def shard_ids(name: str) -> list[str]:
    return [shard["ShardId"] for shard in client("kinesis").list_shards(StreamName=name)["Shards"]]


def shard_for_partition_key(name: str, partition_key: str) -> str:
    """The shard Kinesis puts a partition key in: the one whose hash-key range holds MD5(key) as a 128-bit number."""
    hashed = int(hashlib.md5(partition_key.encode("utf-8")).hexdigest(), 16)
    for shard in client("kinesis").list_shards(StreamName=name)["Shards"]:
        low, high = (int(shard["HashKeyRange"][bound]) for bound in ("StartingHashKey", "EndingHashKey"))
        if low <= hashed <= high:
            return shard["ShardId"]
    raise LookupError(f"no shard of {name} covers the hash of {partition_key!r}")


def put_records(
    name: str,
    records: Iterable[dict | bytes | str],
    partition_key=lambda index, record: "sensor-1",
    progress: bool = True,
    chunk: int = 100,
) -> list[dict]:
    """Puts records in order (PutRecords, up to ``chunk`` a call) and returns [{SequenceNumber, ShardId}] per record.

    dicts are sent as JSON, str as UTF-8, bytes as they are. ``partition_key(index, record)`` picks each key.
    Failed entries (throttling) are retried until every record is stored.
    """
    records = list(records)
    entries = [
        {"Data": _as_bytes(record), "PartitionKey": partition_key(index, record)}
        for index, record in enumerate(records)
    ]
    results: list[dict] = []
    bar = _progress_bar(len(entries), name) if progress else None
    for start in range(0, len(entries), chunk):
        results.extend(_put_chunk(name, entries[start : start + chunk]))
        if bar:
            bar.update(len(entries[start : start + chunk]))
    if bar:
        bar.close()
    return results


def _put_chunk(name: str, entries: list[dict]) -> list[dict]:
    kinesis = client("kinesis")
    stored: list[dict | None] = [None] * len(entries)
    pending = list(range(len(entries)))
    for _attempt in range(10):
        response = kinesis.put_records(StreamName=name, Records=[entries[i] for i in pending])
        retry = []
        for index, result in zip(pending, response["Records"]):
            if "SequenceNumber" in result:
                stored[index] = {"SequenceNumber": result["SequenceNumber"], "ShardId": result["ShardId"]}
            else:
                retry.append(index)
        if not retry:
            return stored
        pending = retry
    raise RuntimeError(f"{len(pending)} records could not be put to {name} after 10 attempts")


def _as_bytes(record) -> bytes:
    if isinstance(record, bytes):
        return record
    if isinstance(record, str):
        return record.encode("utf-8")
    return json.dumps(record).encode("utf-8")


def _progress_bar(total: int, name: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"put {name}", unit="rec")


def read_records(name: str, shard_id: str | None = None, limit: int = 10_000) -> list[dict]:
    """Every record of one shard (the first by default) from the oldest, with GetRecords, as boto3 returns them."""
    kinesis = client("kinesis")
    shard_id = shard_id or shard_ids(name)[0]
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records: list[dict] = []
    while iterator and len(records) < limit:
        response = kinesis.get_records(ShardIterator=iterator, Limit=min(10_000, limit - len(records)))
        records.extend(response["Records"])
        if not response["Records"] and response.get("MillisBehindLatest", 0) == 0:
            break
        iterator = response.get("NextShardIterator")
    return records


def read_range(stream: str, shard_id: str, start: str, end: str) -> list[dict]:
    """The records of one shard from sequence number ``start`` through ``end`` (both included), in order.

    ``stream`` is the stream's name or ARN (an on-failure record gives the ARN). GetRecords may return fewer
    records than exist, or none, while more follow: this loops until it is past ``end``, and stops at the end
    of the shard (an empty read with MillisBehindLatest 0), so records that expired cannot make it loop forever.
    """
    kinesis = client("kinesis")
    where = {"StreamARN": stream} if stream.startswith("arn:") else {"StreamName": stream}
    iterator = kinesis.get_shard_iterator(
        **where,
        ShardId=shard_id,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=start,
    )["ShardIterator"]
    found: list[dict] = []
    while iterator:
        response = kinesis.get_records(**where, ShardIterator=iterator, Limit=1000)
        for record in response["Records"]:
            if int(record["SequenceNumber"]) > int(end):
                return found
            found.append(record)
        if found and found[-1]["SequenceNumber"] == end:
            return found
        if not response["Records"] and response.get("MillisBehindLatest", 0) == 0:
            return found
        iterator = response.get("NextShardIterator")
    return found


def read_records_at(name: str, shard_id: str, sequence_numbers: Iterable[str]) -> list[dict]:
    """Re-reads records by sequence number, in stream order, e.g. those an on-failure record names.

    One looping read (see read_range) from the lowest to the highest of them, keeping the ones asked for.
    """
    wanted = sorted(set(sequence_numbers), key=int)
    if not wanted:
        return []
    return [
        record for record in read_range(name, shard_id, wanted[0], wanted[-1]) if record["SequenceNumber"] in wanted
    ]
