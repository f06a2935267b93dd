"""How a Kinesis event source mapping cuts the records it has read into batches, as AWS documents it.

Pure functions, no LocalStack import: the shard reader (shard_reader.py) uses them; tests/unit/engine checks them.

- A batch holds at most BatchSize records and at most 6 MB of payload: "Lambda reads records ... up to the batch
  size, the 6 MB invocation payload limit, or the batching window" (Lambda developer guide, Lambda event source
  mappings, "Batching behavior"; API reference, CreateEventSourceMapping, BatchSize). The payload is the JSON
  invocation event {"Records": [...]}, each record base64-encoded with its metadata.
- With ParallelizationFactor N, "records with the same partition key are processed in order" while up to N batches
  of a shard run at once (Lambda developer guide, Using Lambda with Kinesis, "Polling and batching streams";
  AWS Compute Blog, "New AWS Lambda scaling controls for Kinesis and DynamoDB event sources"). AWS does not
  document how keys are spread over the N concurrent batches: the kit hashes the partition key (MD5, as Kinesis
  does to choose a shard) into N lanes, one batch in flight per lane.
"""

from __future__ import annotations

import hashlib
import json

# Lambda's limit for a synchronous invocation's request payload: 6 MB (Lambda quotas), taken as 6 MiB.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
# {"Records": []}
_ENVELOPE_BYTES = len('{"Records": []}')


def base64_length(byte_count: int) -> int:
    return 4 * ((byte_count + 2) // 3)


def record_size(data: bytes, partition_key: str, metadata_bytes: int) -> int:
    """Bytes one record takes in the invocation event: its base64 data, its key, and the fixed metadata (eventID,
    ARNs, sequence number...) measured once per mapping, plus the separator between records."""
    return base64_length(len(data)) + len(json.dumps(partition_key)) + metadata_bytes + 2


def cut_batch(sizes: list[int], batch_size: int, max_bytes: int = MAX_PAYLOAD_BYTES) -> int:
    """How many of the waiting records (their sizes, oldest first) go into the next batch: at most ``batch_size``,
    and no more than fit in ``max_bytes``; at least one (a single record that does not fit is sent alone, and the
    invocation refuses it as AWS's would)."""
    total = _ENVELOPE_BYTES
    count = 0
    for size in sizes[:batch_size]:
        if count and total + size > max_bytes:
            break
        total += size
        count += 1
    return count


def batch_is_full(sizes: list[int], batch_size: int, max_bytes: int = MAX_PAYLOAD_BYTES) -> bool:
    """True when the waiting records fill a batch: BatchSize records, or more than fit in 6 MB."""
    return len(sizes) >= batch_size or (bool(sizes) and cut_batch(sizes, batch_size, max_bytes) < len(sizes))


def lane_of(partition_key: str, lanes: int) -> int:
    """The lane (0..lanes-1) of a partition key: records of one key always share a lane, so they stay in order."""
    if lanes <= 1:
        return 0
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big") % lanes
