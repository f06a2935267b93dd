"""Where each Kinesis event source mapping is in each shard: its checkpoint, kept across the mapping's pollers.

AWS: the mapping keeps its own position per shard (Kinesis keeps no consumer position) and moves it past a batch
only when the batch is done (processed, or described in the on-failure destination); a mapping that is disabled
and enabled again, or updated, resumes from it ("Lambda resumes polling from the last checkpoint"; Lambda
developer guide, Using Lambda with Kinesis and Lambda event source mappings). LocalStack 4.14 rebuilds the poller
on every UpdateEventSourceMapping and restarts from StartingPosition (duplicates with TRIM_HORIZON, gaps with
LATEST); this store outlives the pollers, in memory, for as long as LocalStack runs.

A position is either the last sequence number done ("after") or, before any record was done, the moment the
mapping started reading at LATEST ("at"), so that records put while it was disabled are not skipped.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Position:
    after: str | None = None  # the last sequence number done
    at: float | None = None  # epoch seconds: LATEST as it was when the mapping first read the shard
    closed: bool = False  # the shard is closed and was read to its end


_lock = threading.Lock()
_positions: dict[str, dict[str, Position]] = {}
# The reader thread of each (mapping, shard): a new poller's reader waits for the previous one to end, so that
# the two never deliver the same records.
_readers: dict[tuple[str, str], threading.Thread] = {}


def position(mapping_uuid: str, shard_id: str) -> Position | None:
    with _lock:
        return _positions.get(mapping_uuid, {}).get(shard_id)


def save(mapping_uuid: str, shard_id: str, new: Position) -> None:
    with _lock:
        _positions.setdefault(mapping_uuid, {})[shard_id] = new


def forget(mapping_uuid: str) -> None:
    """A deleted mapping's positions go with it (a new mapping starts from its StartingPosition)."""
    with _lock:
        _positions.pop(mapping_uuid, None)


def take_over(mapping_uuid: str, shard_id: str, reader: threading.Thread) -> threading.Thread | None:
    """Registers ``reader`` as the shard's reader; returns the one it replaces (to be waited for), if any."""
    with _lock:
        previous = _readers.get((mapping_uuid, shard_id))
        _readers[(mapping_uuid, shard_id)] = reader
        return previous if previous is not reader else None


def release(mapping_uuid: str, shard_id: str, reader: threading.Thread) -> None:
    with _lock:
        if _readers.get((mapping_uuid, shard_id)) is reader:
            del _readers[(mapping_uuid, shard_id)]
