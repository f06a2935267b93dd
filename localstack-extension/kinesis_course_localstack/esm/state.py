"""The state of the kit's stream poller, in one place, with public read access (no LocalStack import).

Everything here lives in memory for as long as LocalStack runs, outlives the poller that LocalStack rebuilds on
every UpdateEventSourceMapping, and goes with the mapping when it is deleted (``forget``):

- checkpoints: where each Kinesis mapping is in each shard, and which reader thread reads the shard;
- clock factors: the course clock's factor per mapping (a teaching device, see clock.py);
- batches in flight: the batch each delivery is sending now (for the position view, position.py);
- open windows: each shard's open tumbling window and its state (windows.py);
- poller settings: what the kit's poller needs to know about a LocalStack poller that LocalStack's poller does not
  carry (bisection, ParallelizationFactor, TumblingWindowInSeconds...), kept beside the poller, not on it.

Checkpoints. AWS: the mapping keeps its own position per shard (Kinesis keeps no consumer position) and moves it
past a batch only when the batch is done (processed, or described in the on-failure destination); a mapping that is
disabled and enabled again, or updated, resumes from it ("Lambda resumes polling from the last checkpoint"; Lambda
developer guide, Using Lambda with Kinesis and Lambda event source mappings). LocalStack 4.14 rebuilds the poller on
every UpdateEventSourceMapping and restarts from StartingPosition (duplicates with TRIM_HORIZON, gaps with LATEST).
A position is either the last sequence number done ("after") or, before any record was done, the moment the
mapping started reading at LATEST ("at"), so that records put while it was disabled are not skipped.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

_lock = threading.Lock()


# Checkpoints ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Position:
    after: str | None = None  # the last sequence number done
    at: float | None = None  # epoch seconds: LATEST as it was when the mapping first read the shard
    closed: bool = False  # the shard is closed and was read to its end


_positions: dict[str, dict[str, Position]] = {}
# The reader thread of each (mapping, shard): a new poller's reader waits for the previous one to end, so that
# the two never deliver the same records.
_readers: dict[tuple[str, str], threading.Thread] = {}


def position(mapping_uuid: str, shard_id: str) -> Position | None:
    with _lock:
        return _positions.get(mapping_uuid, {}).get(shard_id)


def positions_of(mapping_uuid: str) -> dict[str, Position]:
    """Every shard's position of one mapping (a copy)."""
    with _lock:
        return dict(_positions.get(mapping_uuid, {}))


def save(mapping_uuid: str, shard_id: str, new: Position) -> None:
    with _lock:
        _positions.setdefault(mapping_uuid, {})[shard_id] = new


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


def readers_of(mapping_uuid: str) -> dict[str, threading.Thread]:
    """The reader thread of each shard of one mapping (a copy)."""
    with _lock:
        return {shard: reader for (uuid, shard), reader in _readers.items() if uuid == mapping_uuid}


# Clock factors (the course clock, a teaching device: clock.py) -------------------------------------------------
MAX_FACTOR = 1000.0
_factors: dict[str, float] = {}


def factor(mapping_uuid: str | None) -> float:
    """How many times faster than real time the mapping's clock runs (1.0 unless a lesson or a test set it)."""
    return _factors.get(mapping_uuid, 1.0) if mapping_uuid else 1.0


def set_factor(mapping_uuid: str, value: float) -> float:
    value = float(value)
    if not 1.0 <= value <= MAX_FACTOR:
        raise ValueError(f"the clock's factor must be between 1 and {MAX_FACTOR:g}, got {value:g}")
    with _lock:
        if value == 1.0:
            _factors.pop(mapping_uuid, None)
        else:
            _factors[mapping_uuid] = value
    return value


# Batches in flight ---------------------------------------------------------------------------------------------
@dataclass
class Flight:
    """One batch being delivered by one thread of a mapping's poller: the batch as read, and the part of it that
    the current attempt sends (after a bisection or a partial batch response, a part of the batch)."""

    batch_first: str | None
    batch_last: str | None
    batch_size: int
    first: str | None = None
    last: str | None = None
    size: int = 0
    attempt: int = 0
    bisecting: bool = False


_flights: dict[tuple[str, str], dict[int, Flight]] = {}  # (mapping, shard) -> {delivery key: flight}


def start_flight(mapping_uuid: str, shard_id: str, key: int, flight: Flight) -> None:
    with _lock:
        _flights.setdefault((mapping_uuid, shard_id), {})[key] = flight


def end_flight(mapping_uuid: str, shard_id: str, key: int) -> None:
    with _lock:
        batches = _flights.get((mapping_uuid, shard_id), {})
        batches.pop(key, None)
        if not batches:
            _flights.pop((mapping_uuid, shard_id), None)


def flight(mapping_uuid: str, shard_id: str, key: int) -> Flight | None:
    with _lock:
        return _flights.get((mapping_uuid, shard_id), {}).get(key)


def flights_of(mapping_uuid: str) -> dict[str, list[Flight]]:
    """The batches in flight on each shard of one mapping."""
    with _lock:
        return {shard: list(batches.values()) for (uuid, shard), batches in _flights.items() if uuid == mapping_uuid}


# Open tumbling windows (windows.py, window_rules.py) -------------------------------------------------------------
@dataclass
class Window:
    start: float
    end: float
    state: dict = field(default_factory=dict)
    terminated_early: bool = False  # the last response's state went over 1 MB: a final invocation comes next


_windows: dict[tuple[str, str], Window] = {}  # (mapping UUID, shard id) -> the shard's open window


def current_window(mapping_uuid: str, shard_id: str) -> Window | None:
    with _lock:
        return _windows.get((mapping_uuid, shard_id))


def open_window(mapping_uuid: str, shard_id: str, start: float, end: float) -> Window:
    with _lock:
        window = _windows[(mapping_uuid, shard_id)] = Window(start, end)
        return window


def keep_window_state(window: Window, new_state: dict, terminate_early: bool) -> None:
    """A response's state becomes the window's; ``terminate_early`` when it is over the limit (window_rules)."""
    with _lock:
        window.state = new_state
        if terminate_early:
            window.terminated_early = True


def window_finished(mapping_uuid: str, shard_id: str, window: Window, early: bool) -> None:
    """The window's final invocation succeeded: its state is dropped; after an early end the same window continues
    with a fresh state (window_rules, rules 4 and 5)."""
    with _lock:
        if early:
            window.state = {}
            window.terminated_early = False
        elif _windows.get((mapping_uuid, shard_id)) is window:
            del _windows[(mapping_uuid, shard_id)]


# Poller settings -----------------------------------------------------------------------------------------------
@dataclass
class PollerSettings:
    """What the kit's poller knows of one LocalStack poller beyond what LocalStack passes it (reading.py)."""

    bisect: bool = False  # BisectBatchOnFunctionError
    aws_reading: bool = False  # one reader per shard (shard_reader.py); False: LocalStack's own poll loop
    aws_failure_records: bool = False  # RecordAgeExceeded records with AWS's requestContext (delivery.py)
    parallelization_factor: int = 1
    tumbling_window: int = 0  # TumblingWindowInSeconds; 0: no windows
    event_counts: bool = False  # MetricsConfig holds "EventCount" (event_counts.py)
    shards: list[str] = field(default_factory=list)  # the stream's shards, as last listed
    shards_listed_at: float = 0.0  # monotonic time of that listing
    readers: dict = field(default_factory=dict)  # shard id -> ShardReader


# Keyed by the poller itself, held weakly: a poller LocalStack drops (after an update) takes its settings with it.
_settings: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def settings(poller) -> PollerSettings:
    """The settings of ``poller`` (defaults for a poller the kit did not configure)."""
    with _lock:
        found = _settings.get(poller)
        if found is None:
            found = _settings[poller] = PollerSettings()
        return found


# A deleted mapping ---------------------------------------------------------------------------------------------
def forget(mapping_uuid: str) -> None:
    """A deleted mapping's positions, clock factor and windows go with it (a new mapping starts afresh)."""
    with _lock:
        _positions.pop(mapping_uuid, None)
        _factors.pop(mapping_uuid, None)
        for key in [key for key in _windows if key[0] == mapping_uuid]:
            del _windows[key]
