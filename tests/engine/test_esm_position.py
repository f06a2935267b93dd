"""The position view of a mapping (issue 11, extension module esm/position.py; kinesis_course.position), read while
the mapping retries a failing batch and while it bisects one.

The tests sample the view every 0.1 s while the handler takes 0.5 s per invocation, and compare what it showed
with the sequence numbers PutRecords returned and with the batches the handler received. No timing assertions.
"""

from __future__ import annotations

import pytest

from kinesis_course import client, json_lines, put_records, wait_until
from kinesis_course.position import mapping_position, position_table

pytestmark = pytest.mark.localstack

POISONED = """
    import base64
    import json
    import time

    def handler(event, context):
        items = [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in event["Records"]]
        print("INVOKE " + json.dumps({"sequences": [r["kinesis"]["sequenceNumber"] for r in event["Records"]]}))
        time.sleep(0.5)
        if any(item.get("poison") for item in items):
            raise RuntimeError("poison record")
"""


def stream_arn(name: str) -> str:
    return client("kinesis").describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def watch(uuid: str, until, timeout: float = 40) -> list[dict]:
    """The shard's positions, sampled every 0.1 s until ``until(shard)`` holds."""
    samples = []

    def done():
        shards = mapping_position(uuid)["shards"]
        if shards:
            samples.append(next(iter(shards.values())))
            return until(samples[-1])
        return False

    wait_until(done, timeout=timeout, what=f"mapping {uuid} to reach the expected position", interval=0.1)
    return samples


def test_the_view_follows_a_batch_through_its_retries(resources):
    function = resources.function("retries", POISONED)
    stream = resources.stream("retries")
    first = [
        entry["SequenceNumber"]
        for entry in put_records(stream, [{"i": 0}, {"i": 1, "poison": True}, {"i": 2}], progress=False)
    ]
    uuid = resources.mapping(function, stream_arn(stream), BatchSize=10, MaximumRetryAttempts=2)

    # While the first attempt runs, two more records arrive: the view counts them behind the checkpoint.
    wait_until(
        lambda: (mapping_position(uuid)["shards"] or {None: {}}).popitem()[1].get("in_flight"),
        timeout=30,
        what="the first batch in flight",
        interval=0.1,
    )
    later = [entry["SequenceNumber"] for entry in put_records(stream, [{"i": 3}, {"i": 4}], progress=False)]
    samples = watch(uuid, lambda shard: shard["checkpoint"] == later[-1] and shard["in_flight"] is None)

    retrying = [shard for shard in samples if shard["in_flight"] and shard["in_flight"]["first"] == first[0]]
    assert retrying, "the view never showed the failing batch"
    for shard in retrying:
        flight = shard["in_flight"]
        assert shard["checkpoint"] is None  # nothing done yet: the failing batch blocks the shard
        assert (flight["first"], flight["last"], flight["size"], flight["bisecting"]) == (first[0], first[-1], 3, False)
        assert flight["batch"] == {"first": first[0], "last": first[-1], "size": 3}
        assert shard["behind"] in (3, 5)  # the batch, then the batch and the two records put after it
    attempts = [shard["in_flight"]["attempt"] for shard in retrying]
    assert attempts == sorted(attempts) and set(attempts) <= {1, 2, 3}
    assert max(attempts) == 3  # the first attempt and MaximumRetryAttempts 2
    assert any(shard["behind"] == 5 for shard in retrying)
    # After the last retry the batch is given up (no destination): the checkpoint passes it, the next records follow.
    assert samples[-1] == {"checkpoint": later[-1], "in_flight": None, "batches_in_flight": 0, "behind": 0}
    invoked = json_lines(function, "INVOKE ")
    assert [call["sequences"] for call in invoked] == [first] * 3 + [later]

    table = position_table(uuid)
    assert "shardId-000000000000" in table and "…" + later[-1][-6:] in table


def test_the_view_shows_the_halves_of_a_bisected_batch(resources):
    function = resources.function("bisect", POISONED)
    stream = resources.stream("bisect")
    sequences = [
        entry["SequenceNumber"]
        for entry in put_records(stream, [{"i": 0}, {"i": 1}, {"i": 2, "poison": True}, {"i": 3}], progress=False)
    ]
    uuid = resources.mapping(
        function, stream_arn(stream), BatchSize=10, MaximumRetryAttempts=0, BisectBatchOnFunctionError=True
    )
    samples = watch(uuid, lambda shard: shard["checkpoint"] == sequences[-1] and shard["in_flight"] is None)

    s = sequences
    # The batch of 4 fails and is split; [0,1] passes; [2,3] fails and is split; [2] fails (0 retries), [3] passes.
    invoked = [tuple(call["sequences"]) for call in json_lines(function, "INVOKE ")]
    assert invoked == [tuple(s), (s[0], s[1]), (s[2], s[3]), (s[2],), (s[3],)]
    seen = []
    for shard in samples:
        flight = shard["in_flight"]
        if flight is None:
            continue
        assert flight["batch"] == {"first": s[0], "last": s[3], "size": 4}
        assert shard["checkpoint"] is None
        part = (flight["first"], flight["last"], flight["size"], flight["bisecting"])
        if not seen or seen[-1] != part:
            seen.append(part)
    halves = [(s[0], s[1], 2, True), (s[2], s[3], 2, True), (s[2], s[2], 1, True), (s[3], s[3], 1, True)]
    # Each invocation takes 0.5 s and the view is read every 0.1 s: every part of the batch is seen, in order.
    assert seen == [(s[0], s[3], 4, False)] + halves
    assert samples[-1]["behind"] == 0
