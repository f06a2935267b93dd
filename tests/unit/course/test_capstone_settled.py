"""Lesson 07's fault run is over when each mapping is through the stream (capstone.run.mappings_through), read from
the kit's position view: a quiet function is not enough, since a batch may be waiting out a long retry back-off on
a busy laptop (a 4-worker suite run drained Powertools' queue with 6 of the outage's 30 records still retrying)."""

from __future__ import annotations

import pytest

from kinesis_course import position
from kinesis_course.capstone import run

LAST = {"shardId-000000000000": "49600", "shardId-000000000001": "49700"}
FLIGHT = {"first": "49690", "last": "49700", "size": 11, "attempt": 2, "bisecting": True, "batch": {}}


def view(**shards):
    """The position view of one mapping: each shard at its last record with nothing in flight, unless given."""
    done = {"checkpoint": None, "in_flight": None, "batches_in_flight": 0, "behind": 0}
    return {
        "uuid": "u-1",
        "shards": {shard: {**done, "checkpoint": last, **shards.get(shard[-1], {})} for shard, last in LAST.items()},
    }


class FakeLambda:
    def __init__(self, uuids):
        self.uuids = uuids

    def list_event_source_mappings(self, FunctionName):  # noqa: N803 (boto3's parameter name)
        return {"EventSourceMappings": [{"UUID": uuid, "FunctionName": FunctionName} for uuid in self.uuids]}


@pytest.fixture
def seen(monkeypatch):
    """Makes the function have one mapping whose position view is what the test puts in seen["view"]."""
    state = {"view": view(), "uuids": ["u-1"]}
    monkeypatch.setattr(run, "client", lambda service: FakeLambda(state["uuids"]))

    def mapping_position(uuid):
        if isinstance(state["view"], Exception):
            raise state["view"]
        return state["view"]

    monkeypatch.setattr(position, "mapping_position", mapping_position)
    return state


def test_through_when_each_checkpoint_is_its_shards_last_record_and_nothing_is_in_flight(seen):
    assert run.mappings_through("fn", set(LAST.values())) is True


@pytest.mark.parametrize(
    "shard, place",
    [
        ("1", {"in_flight": FLIGHT, "batches_in_flight": 1}),  # a batch waiting for its retry
        ("1", {"batches_in_flight": 1}),  # a lane still busy with ParallelizationFactor > 1
        ("1", {"checkpoint": "49690"}),  # not yet at the last record
        ("0", {"checkpoint": None}),  # nothing done yet on a shard
    ],
    ids=["retrying", "lane busy", "behind", "not started"],
)
def test_not_through_while_a_shard_has_work_left(seen, shard, place):
    seen["view"] = view(**{shard: place})
    assert run.mappings_through("fn", set(LAST.values())) is False


def test_not_through_without_a_mapping(seen):
    seen["uuids"] = []
    assert run.mappings_through("fn", set(LAST.values())) is False


def test_unknown_without_the_kits_position_view(seen):
    seen["view"] = position.PositionUnavailable("no view")
    assert run.mappings_through("fn", set(LAST.values())) is None
