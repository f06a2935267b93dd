"""Kinesis mappings read like AWS's poller (issue 10), through LocalStack's real poller and the kit's extension.

Each handler prints one ``INVOKE {...}`` line per invocation: when it started and ended, the records' ``i`` (from
their JSON data), partition keys and shards. The tests assert orders and counts, never durations.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from kinesis_course import client, json_lines, receive_json, wait_for_state, wait_until
from kinesis_course.clock import set_clock
from kinesis_course.endpoint import health

pytestmark = pytest.mark.localstack

RECORDER = """
    import base64
    import json
    import time

    def record_invocation(event, **extra):
        print("INVOKE " + json.dumps({
            "t": time.time(),
            "items": [json.loads(base64.b64decode(r["kinesis"]["data"]))["i"] for r in event["Records"]],
            "keys": [r["kinesis"]["partitionKey"] for r in event["Records"]],
            "shards": sorted({r["eventID"].split(":")[0] for r in event["Records"]}),
            **extra,
        }))
"""

RECORDS = (
    RECORDER
    + """
    def handler(event, context):
        record_invocation(event)
"""
)


def invocations(function: str) -> list[dict]:
    return sorted(json_lines(function, "INVOKE "), key=lambda invocation: invocation["t"])


def delivered(function: str) -> list[int]:
    return [i for invocation in invocations(function) for i in invocation["items"]]


def wait_for_items(function: str, count: int, timeout: float = 40) -> list[dict]:
    def enough() -> list[dict] | None:
        seen = invocations(function)
        return seen if sum(len(invocation["items"]) for invocation in seen) >= count else None

    return wait_until(enough, timeout=timeout, what=f"{count} records delivered to {function}", interval=0.5)


def stream_arn(name: str) -> str:
    return client("kinesis").describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def hash_keys(stream: str) -> list[str]:
    """One explicit hash key per shard, in shard order: a record put with it lands in that shard."""
    shards = client("kinesis").describe_stream(StreamName=stream)["StreamDescription"]["Shards"]
    return [shard["HashKeyRange"]["StartingHashKey"] for shard in shards]


def put(stream: str, items, key=lambda i: "sensor-1", hash_key=None, pad: int = 0) -> None:
    """Puts {"i": i} for each item, one PutRecord each (so they are stored in this order)."""
    kinesis = client("kinesis")
    for i in items:
        data = {"i": i, "pad": "x" * pad} if pad else {"i": i}
        extra = {"ExplicitHashKey": hash_key(i)} if hash_key else {}
        kinesis.put_record(StreamName=stream, Data=json.dumps(data).encode(), PartitionKey=key(i), **extra)


def settle(function: str, seconds: float = 3) -> list[int]:
    """Waits a little for deliveries that should not come, then returns every record delivered."""
    time.sleep(seconds)
    return delivered(function)


def through_a_last_record(stream: str, function: str, last: int) -> list[int]:
    """Puts record ``last``, waits until it is delivered, and returns every record delivered by then. A shard is
    read in order, so a record delivered twice (a read again from an older position) comes before ``last``: waiting
    for that event replaces a fixed wait for deliveries that should not come."""
    put(stream, [last])
    wait_until(lambda: last in delivered(function), timeout=40, what=f"record {last} delivered to {function}")
    return delivered(function)


# Reading and batching ------------------------------------------------------------------------------------------


def test_a_backlog_is_cut_into_full_batches_in_order(resources):
    stream = resources.stream("backlog")
    function = resources.function("backlog", RECORDS)
    put(stream, range(250))
    resources.mapping(function, stream_arn(stream), BatchSize=100)

    seen = wait_for_items(function, 250)

    # One read returns the whole backlog (up to 10,000 records); it is cut into batches of BatchSize.
    assert [len(invocation["items"]) for invocation in seen] == [100, 100, 50]
    assert delivered(function) == list(range(250))


def test_a_batch_stops_at_6_mb_of_payload(resources):
    stream = resources.stream("sixmb")
    function = resources.function(
        "sixmb",
        RECORDER
        + """
    def handler(event, context):
        record_invocation(event, size=len(json.dumps(event)))
""",
    )
    # 12 records of about 900 KB: 1.2 MB each once base64-encoded, so no more than 5 fit in 6 MB.
    put(stream, range(12), pad=900_000)
    resources.mapping(function, stream_arn(stream), BatchSize=100)

    seen = wait_for_items(function, 12, timeout=90)

    assert delivered(function) == list(range(12))
    assert len(seen) >= 3, [invocation["items"] for invocation in seen]
    assert all(invocation["size"] <= 6 * 1024 * 1024 for invocation in seen)
    assert all(len(invocation["items"]) <= 5 for invocation in seen)


def test_shards_are_read_concurrently_and_a_failing_shard_delays_no_other(resources):
    stream = resources.stream("shards", shards=2)
    function = resources.function(
        "shards",
        RECORDER
        + """
    def handler(event, context):
        record_invocation(event)
        if any(key == "poison" for key in (r["kinesis"]["partitionKey"] for r in event["Records"])):
            raise RuntimeError("shard 0 holds a record that always fails")
""",
    )
    first, second = hash_keys(stream)
    put(stream, [0], key=lambda i: "poison", hash_key=lambda i: first)
    # Retried forever: on LocalStack's own poller this blocked every shard of the mapping.
    resources.mapping(function, stream_arn(stream), BatchSize=10, MaximumRetryAttempts=-1)
    wait_until(lambda: len(invocations(function)) >= 2, timeout=30, what="the poison record's retries", interval=0.5)
    put(stream, range(1, 31), key=lambda i: f"ok-{i}", hash_key=lambda i: second)

    wait_until(
        lambda: set(range(1, 31)) <= set(delivered(function)),
        timeout=30,
        what="shard 1's records while shard 0 keeps failing",
        interval=0.5,
    )

    shard_of = {i: invocation["shards"][0] for invocation in invocations(function) for i in invocation["items"]}
    assert shard_of[0] != shard_of[1]
    assert [i for i in delivered(function) if i != 0] == list(range(1, 31)), "shard 1 in order, each record once"


def test_records_wait_for_the_batching_window_unless_the_batch_is_full(resources):
    stream = resources.stream("window")
    function = resources.function("window", RECORDS)
    put(stream, range(12))
    uuid = resources.mapping(function, stream_arn(stream), BatchSize=5, MaximumBatchingWindowInSeconds=300)
    # A full batch goes at once, whatever the window; the rest waits for the window (5 minutes here).
    seen = wait_for_items(function, 10)
    assert [invocation["items"] for invocation in seen] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert settle(function) == list(range(10)), "records 10 and 11 must wait for the window"

    # With a window of 2 s, the records waiting are delivered when it ends.
    client("lambda").update_event_source_mapping(UUID=uuid, MaximumBatchingWindowInSeconds=2, BatchSize=100)
    wait_for_state(uuid, "Enabled")
    seen = wait_for_items(function, 12)
    assert seen[-1]["items"] == [10, 11], "the update keeps the position and the window then ends"
    assert delivered(function) == list(range(12))


# Checkpoints ---------------------------------------------------------------------------------------------------


def test_an_update_and_a_disable_keep_the_position(resources):
    stream = resources.stream("checkpoint")
    function = resources.function("checkpoint", RECORDS)
    put(stream, range(5))
    uuid = resources.mapping(function, stream_arn(stream), BatchSize=10)
    wait_for_items(function, 5)
    lam = client("lambda")

    lam.update_event_source_mapping(UUID=uuid, BatchSize=20, MaximumRetryAttempts=3)
    wait_for_state(uuid, "Enabled")
    put(stream, range(5, 8))
    wait_for_items(function, 8)

    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    wait_for_state(uuid, "Disabled")
    put(stream, range(8, 11))  # while disabled
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    wait_for_state(uuid, "Enabled")
    wait_for_items(function, 11)

    # TRIM_HORIZON: LocalStack 4.14 re-read the stream from its start after each update (duplicates).
    assert through_a_last_record(stream, function, 11) == list(range(12)), "each record exactly once, in order"


def test_latest_resumes_where_it_stopped_after_a_disable(resources):
    stream = resources.stream("latest")
    function = resources.function("latest", RECORDS)
    uuid = resources.mapping(function, stream_arn(stream), StartingPosition="LATEST", BatchSize=10)
    time.sleep(2)  # the shard's reader opens its LATEST iterator (records put before that are not read, as on AWS)
    put(stream, [0])
    wait_for_items(function, 1)
    lam = client("lambda")
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    wait_for_state(uuid, "Disabled")
    put(stream, [1, 2])  # while disabled
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    wait_for_state(uuid, "Enabled")

    wait_for_items(function, 3)
    # LATEST: LocalStack 4.14 started again at the stream's end and skipped the records put while disabled.
    assert through_a_last_record(stream, function, 3) == [0, 1, 2, 3]


def test_at_timestamp_starts_at_the_first_record_put_at_or_after_it(resources):
    stream = resources.stream("timestamp")
    function = resources.function("timestamp", RECORDS)
    put(stream, range(3))
    time.sleep(1.5)
    moment = datetime.now(timezone.utc)
    time.sleep(1.5)
    put(stream, range(3, 6))
    resources.mapping(
        function, stream_arn(stream), StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=moment, BatchSize=10
    )

    wait_for_items(function, 3)
    assert through_a_last_record(stream, function, 6) == [3, 4, 5, 6]


# ParallelizationFactor -----------------------------------------------------------------------------------------


def test_parallelization_factor_runs_batches_of_a_shard_at_once_and_keeps_each_key_in_order(resources):
    stream = resources.stream("parallel")
    function = resources.function(
        "parallel",
        RECORDER
        + """
    def handler(event, context):
        started = time.time()
        time.sleep(0.3)
        record_invocation(event, start=started, end=time.time())
""",
    )
    keys = [f"device-{n}" for n in range(8)]
    put(stream, range(80), key=lambda i: keys[i % len(keys)])
    resources.mapping(function, stream_arn(stream), BatchSize=5, ParallelizationFactor=4)

    seen = wait_for_items(function, 80, timeout=60)

    assert sorted(delivered(function)) == list(range(80)), "each record exactly once"
    for key in keys:
        # In the order the invocations started: each key's records in the order they were put.
        items = [
            i
            for invocation in sorted(seen, key=lambda x: x["start"])
            for i, k in zip(invocation["items"], invocation["keys"])
            if k == key
        ]
        assert items == sorted(items), f"{key} out of order: {items}"
    overlapping = any(a["start"] < b["start"] < a["end"] for a in seen for b in seen if a is not b)
    assert overlapping, "with ParallelizationFactor 4, batches of one shard run at the same time"


# Validation ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameters", "code", "message"),
    [
        (
            {"MaximumBatchingWindowInSeconds": 301},
            "ValidationException",
            "1 validation error detected: Value '301' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: "
            "Member must have value less than or equal to 300",
        ),
        (
            {"ParallelizationFactor": 11},
            "ValidationException",
            "Value '11' at 'parallelizationFactor' failed to satisfy constraint: Member must have value less than or equal to 10",
        ),
        (
            {"MaximumRetryAttempts": 10_001},
            "ValidationException",
            "Value '10001' at 'maximumRetryAttempts' failed to satisfy constraint",
        ),
        ({"BatchSize": 10_001}, "ValidationException", "Value '10001' at 'batchSize' failed to satisfy constraint"),
        ({"MaximumRecordAgeInSeconds": 604_801}, "ValidationException", "at 'maximumRecordAgeInSeconds'"),
        (
            {"MaximumRecordAgeInSeconds": 59},
            "InvalidParameterValueException",
            "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)",
        ),
        ({"MaximumRecordAgeInSeconds": 0}, "InvalidParameterValueException", "between 60 and 604800"),
        ({"StartingPosition": "AT_TIMESTAMP"}, "InvalidParameterValueException", "StartingPositionTimestamp"),
        (
            {"StartingPositionTimestamp": datetime(2026, 1, 1, tzinfo=timezone.utc)},
            "InvalidParameterValueException",
            "StartingPositionTimestamp",
        ),
    ],
)
def test_out_of_range_parameters_are_refused_as_aws_refuses_them(resources, parameters, code, message):
    stream = resources.stream("invalid")
    function = resources.function("invalid", RECORDS)
    request = {
        "FunctionName": function,
        "EventSourceArn": stream_arn(stream),
        "StartingPosition": "LATEST",
        **parameters,
    }

    with pytest.raises(ClientError) as refused:
        client("lambda").create_event_source_mapping(**request)

    assert refused.value.response["Error"]["Code"] == code
    assert message in refused.value.response["Error"]["Message"]
    assert client("lambda").list_event_source_mappings(FunctionName=function)["EventSourceMappings"] == []


def test_an_update_out_of_range_is_refused_and_changes_nothing(resources):
    stream = resources.stream("badupdate")
    function = resources.function("badupdate", RECORDS)
    uuid = resources.mapping(function, stream_arn(stream), BatchSize=10, ParallelizationFactor=2)

    with pytest.raises(ClientError) as refused:
        client("lambda").update_event_source_mapping(UUID=uuid, ParallelizationFactor=11)

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert client("lambda").get_event_source_mapping(UUID=uuid)["ParallelizationFactor"] == 2


def test_an_update_to_a_record_age_under_60_s_is_refused_and_changes_nothing(resources):
    stream = resources.stream("ageupdate")
    function = resources.function("ageupdate", RECORDS)
    uuid = resources.mapping(function, stream_arn(stream), BatchSize=10, MaximumRecordAgeInSeconds=60)

    with pytest.raises(ClientError) as refused:
        client("lambda").update_event_source_mapping(UUID=uuid, MaximumRecordAgeInSeconds=30)

    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert client("lambda").get_event_source_mapping(UUID=uuid)["MaximumRecordAgeInSeconds"] == 60


def test_a_record_older_than_its_limit_is_described_as_aws_describes_it(resources):
    # AWS's smallest limit, 60 s, on the course clock (a teaching device of the kit): 3 s of real time.
    stream = resources.stream("age")
    queue_url, queue_arn = resources.queue("age-failures")
    function = resources.function(
        "age",
        RECORDER
        + """
    def handler(event, context):
        record_invocation(event)
        raise RuntimeError("always fails")
""",
    )
    put(stream, [0])
    uuid = resources.mapping(
        function,
        stream_arn(stream),
        BatchSize=10,
        MaximumRecordAgeInSeconds=60,
        MaximumRetryAttempts=-1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    set_clock(uuid, 20)

    failure = receive_json(queue_url, expected=1, timeout=40)[0]

    # AWS's RecordAgeExceeded record: a requestContext, no responseContext.
    context = failure["requestContext"]
    assert context["condition"] == "RecordAgeExceeded"
    assert context["functionArn"].endswith(f":function:{function}")
    assert context["approximateInvokeCount"] >= 1
    assert context["requestId"]
    assert "responseContext" not in failure
    assert failure["KinesisBatchInfo"]["batchSize"] == 1


def test_an_s3_on_failure_destination_gets_the_record_and_the_batch(resources):
    # AWS: an S3 destination receives the failure record plus "payload" with the records, under the key
    # aws/lambda/<ESM UUID>/<shard id>/YYYY/MM/DD/... (Lambda developer guide, Kinesis on-failure destinations).
    stream = resources.stream("s3dest")
    bucket = resources.name("s3dest-failures")
    s3 = client("s3")
    s3.create_bucket(Bucket=bucket)

    def remove_bucket() -> None:
        for entry in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=entry["Key"])
        s3.delete_bucket(Bucket=bucket)

    resources.on_cleanup(remove_bucket)
    function = resources.function(
        "s3dest",
        RECORDER
        + """
    def handler(event, context):
        record_invocation(event)
        raise RuntimeError("always fails")
""",
    )
    put(stream, [0, 1])
    uuid = resources.mapping(
        function,
        stream_arn(stream),
        BatchSize=10,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:s3:::{bucket}"}},
    )

    (key,) = wait_until(
        lambda: [e["Key"] for e in s3.list_objects_v2(Bucket=bucket).get("Contents", [])],
        timeout=40,
        what="the failure record in S3",
        interval=0.5,
    )
    record = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    assert key.startswith(f"aws/lambda/{uuid}/{record['KinesisBatchInfo']['shardId']}/")
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["KinesisBatchInfo"]["batchSize"] == 2
    assert len(record["payload"]["Records"]) == 2


def test_an_sns_on_failure_destination_publishes_the_record(resources, missing_tool):
    # AWS: SQS, SNS or S3 on-failure destinations (API reference, OnFailure); SNS gets the metadata only.
    if health().get("services", {}).get("sns") not in ("running", "available"):
        missing_tool(
            "LocalStack runs without SNS: this LocalStack was not started by the kit "
            "(`make down`, then `make up`), or sns is missing from SERVICES in tools/localstack_ctl.py"
        )
    stream = resources.stream("snsdest")
    queue_url, queue_arn = resources.queue("snsdest-inbox")
    sns = client("sns")
    topic_arn = sns.create_topic(Name=resources.name("snsdest-failures"))["TopicArn"]
    resources.on_cleanup(lambda: sns.delete_topic(TopicArn=topic_arn))
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    function = resources.function(
        "snsdest",
        RECORDER
        + """
    def handler(event, context):
        record_invocation(event)
        raise RuntimeError("always fails")
""",
    )
    put(stream, [0])
    resources.mapping(
        function,
        stream_arn(stream),
        BatchSize=10,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": topic_arn}},
    )

    failure = receive_json(queue_url, expected=1, timeout=40)[0]

    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 1
    assert failure["KinesisBatchInfo"]["batchSize"] == 1
    assert "payload" not in failure
