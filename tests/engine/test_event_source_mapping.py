"""Kinesis event source mappings, driven by LocalStack's own poller, behave as AWS documents them.

Each handler prints one ``INVOKE {...}`` line per invocation (the time it started, the sequence numbers and the
``i`` field of each record's data); the tests read those lines back from CloudWatch Logs.
"""

from __future__ import annotations

import base64
import json
import time

import pytest

from kinesis_course import (
    ROLE_ARN,
    client,
    delete_mapping,
    json_lines,
    put_records,
    receive_json,
    shard_ids,
    wait_for_state,
    wait_until,
)

pytestmark = pytest.mark.localstack

RECORDER = """
    import base64
    import json
    import time

    def items(event):
        return [json.loads(base64.b64decode(record["kinesis"]["data"]))["i"] for record in event["Records"]]

    def record_invocation(event):
        print("INVOKE " + json.dumps({
            "t": time.time(),
            "seqs": [record["kinesis"]["sequenceNumber"] for record in event["Records"]],
            "items": items(event),
        }))
"""


def handler_code(body: str) -> str:
    return RECORDER + body


def invocations(function_name: str) -> list[dict]:
    return json_lines(function_name, "INVOKE ")


def wait_for_invocations(function_name: str, count: int, timeout: float = 30) -> list[dict]:
    return wait_until(
        lambda: seen if len(seen := invocations(function_name)) >= count else None,
        timeout=timeout,
        what=f"{count} invocations of {function_name}",
        interval=0.5,
    )


def put_items(stream: str, count: int, key=lambda i: "sensor-1") -> list[str]:
    """Puts records {"i": 0..count-1} in order; returns their sequence numbers."""
    stored = put_records(stream, [{"i": i} for i in range(count)], partition_key=lambda i, _: key(i), progress=False)
    return [entry["SequenceNumber"] for entry in stored]


EVENT_PRINTER = """
    import json

    def handler(event, context):
        print("EVENT " + json.dumps(event))
"""


def test_the_event_has_the_shape_aws_documents(resources):
    stream = resources.stream("shape")
    stream_arn = client("kinesis").describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    function = resources.function("shape", EVENT_PRINTER)
    payloads = [b'{"temperature": 21.5}', b"not json at all", "température".encode()]
    put_at = time.time()
    stored = put_records(stream, payloads, partition_key=lambda i, _: f"sensor-{i}", progress=False)
    resources.mapping(function, stream_arn, BatchSize=10)

    delivered = wait_until(
        lambda: r if len(r := [rec for e in json_lines(function, "EVENT ") for rec in e["Records"]]) >= 3 else None,
        timeout=30,
        what="the three records to be delivered",
        interval=0.5,
    )

    assert len(delivered) == 3
    shard_id = shard_ids(stream)[0]
    for index, (record, put) in enumerate(zip(delivered, stored)):
        assert set(record) == {
            "kinesis",
            "eventSource",
            "eventVersion",
            "eventID",
            "eventName",
            "invokeIdentityArn",
            "awsRegion",
            "eventSourceARN",
        }
        assert set(record["kinesis"]) == {
            "kinesisSchemaVersion",
            "partitionKey",
            "sequenceNumber",
            "data",
            "approximateArrivalTimestamp",
        }
        assert record["kinesis"]["kinesisSchemaVersion"] == "1.0"
        assert record["kinesis"]["partitionKey"] == f"sensor-{index}"
        assert record["kinesis"]["sequenceNumber"] == put["SequenceNumber"]
        assert base64.b64decode(record["kinesis"]["data"]) == payloads[index], "data must be the record's bytes, base64"
        arrival = record["kinesis"]["approximateArrivalTimestamp"]
        assert isinstance(arrival, (int, float)) and abs(arrival - put_at) < 30, "epoch seconds, as a number"
        assert record["eventSource"] == "aws:kinesis"
        assert record["eventVersion"] == "1.0"
        assert record["eventID"] == f"{shard_id}:{put['SequenceNumber']}"
        assert put["ShardId"] == shard_id
        assert record["eventName"] == "aws:kinesis:record"
        assert record["invokeIdentityArn"] == ROLE_ARN
        assert record["awsRegion"] == "us-east-1"
        assert record["eventSourceARN"] == stream_arn


ALWAYS_FAILS = handler_code("""
    def handler(event, context):
        record_invocation(event)
        raise RuntimeError("this batch cannot be processed")
""")


def stream_and_queue(resources, suffix: str) -> tuple[str, str, str, str]:
    stream = resources.stream(suffix)
    stream_arn = client("kinesis").describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    queue_url, queue_arn = resources.queue(f"{suffix}-failures")
    return stream, stream_arn, queue_url, queue_arn


def test_a_failing_batch_is_retried_then_described_in_the_on_failure_destination(resources):
    stream, stream_arn, queue_url, queue_arn = stream_and_queue(resources, "retries")
    function = resources.function("retries", ALWAYS_FAILS)
    sequence_numbers = put_items(stream, 3)
    resources.mapping(
        function,
        stream_arn,
        BatchSize=10,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )

    failures = receive_json(queue_url, expected=1, timeout=40)
    assert len(failures) == 1, "no on-failure record arrived"
    seen = wait_for_invocations(function, 3)

    # One attempt plus MaximumRetryAttempts retries, each with the whole batch.
    assert len(seen) == 3
    assert all(invocation["seqs"] == sequence_numbers for invocation in seen)
    failure = failures[0]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["responseContext"]["functionError"] == "Unhandled"
    batch = failure["KinesisBatchInfo"]
    assert batch["batchSize"] == 3
    assert batch["startSequenceNumber"] == sequence_numbers[0]
    assert batch["endSequenceNumber"] == sequence_numbers[-1]
    assert batch["shardId"] == shard_ids(stream)[0]
    assert batch["streamArn"] == stream_arn
    # Metadata only: the records themselves are not in it (AWS adds them for S3 destinations only).
    text = json.dumps(failure)
    assert "payload" not in failure and "Records" not in text
    assert base64.b64encode(b'{"i": 0}').decode() not in text and '"i": 0' not in text


REPORTS_ONE_FAILURE = handler_code("""
    def handler(event, context):
        record_invocation(event)
        batch = items(event)
        if batch[0] == 0:
            # The first delivery reports record 2 as failed; the records after it were processed fine.
            failed = event["Records"][batch.index(2)]["kinesis"]["sequenceNumber"]
            return {"batchItemFailures": [{"itemIdentifier": failed}]}
        return {"batchItemFailures": []}
""")


def test_report_batch_item_failures_resumes_at_the_failed_sequence_number(resources):
    stream = resources.stream("partial")
    stream_arn = client("kinesis").describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    function = resources.function("partial", REPORTS_ONE_FAILURE)
    sequence_numbers = put_items(stream, 5)
    resources.mapping(
        function,
        stream_arn,
        BatchSize=5,
        MaximumRetryAttempts=2,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )

    seen = wait_for_invocations(function, 2)

    assert seen[0]["items"] == [0, 1, 2, 3, 4]
    # The checkpoint is the failed record: it and everything after it come again, records before it do not.
    assert seen[1]["seqs"][0] == sequence_numbers[2]
    assert seen[1]["items"] == [2, 3, 4]
    assert seen[1]["seqs"] == sequence_numbers[2:]
    assert len(seen) == 2, f"the second delivery succeeded, yet more followed: {seen[2:]}"


FAILS_ON_POISON = handler_code("""
    def handler(event, context):
        record_invocation(event)
        if 5 in items(event):
            raise ValueError("record 5 is poison")
""")


def test_bisection_halves_a_failing_batch_until_the_poison_record_is_alone(resources):
    stream, stream_arn, queue_url, queue_arn = stream_and_queue(resources, "bisect")
    function = resources.function("bisect", FAILS_ON_POISON)
    sequence_numbers = put_items(stream, 8)
    resources.mapping(
        function,
        stream_arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=8,
        MaximumRetryAttempts=2,
        BisectBatchOnFunctionError=True,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )

    failures = receive_json(queue_url, expected=1, timeout=40)
    assert len(failures) == 1, "no on-failure record arrived"
    seen = wait_for_invocations(function, 9)

    # 8 fails -> halves 0-3 (ok) and 4-7 (fails) -> 4-5 (fails) -> 4 (ok), 5 (fails: first try + 2 retries;
    # splitting used no retry attempt) -> 6-7 (ok). Halves are delivered in order, left first.
    assert [len(invocation["items"]) for invocation in seen] == [8, 4, 4, 2, 1, 1, 1, 1, 2]
    assert [invocation["items"] for invocation in seen] == [
        [0, 1, 2, 3, 4, 5, 6, 7],
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [4, 5],
        [4],
        [5],
        [5],
        [5],
        [6, 7],
    ]
    assert all(invocation["seqs"] == [sequence_numbers[i] for i in invocation["items"]] for invocation in seen)
    succeeded = {i for invocation in seen if 5 not in invocation["items"] for i in invocation["items"]}
    assert succeeded == {0, 1, 2, 3, 4, 6, 7}, "every record but the poison one must be processed"
    failure = failures[0]
    batch = failure["KinesisBatchInfo"]
    assert batch["batchSize"] == 1
    assert batch["startSequenceNumber"] == batch["endSequenceNumber"] == sequence_numbers[5]
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"


def listed(function_name: str, uuid: str) -> bool:
    mappings = client("lambda").list_event_source_mappings(FunctionName=function_name)["EventSourceMappings"]
    return any(mapping["UUID"] == uuid for mapping in mappings)


def started_after(function_name: str, moment: float) -> list[dict]:
    return [invocation for invocation in invocations(function_name) if invocation["t"] > moment]


def retried_after(function_name: str, moment: float) -> list[dict]:
    """Invocations that began after ``moment``, less the one that may have been in flight then: the poller may
    have sent it just before the disable or delete, and the handler records its start only once its process runs,
    which a busy machine delays (AWS does not cancel an invocation already sent either). Retries that went on would
    be several within OBSERVE_S, so at most one is still telling."""
    return started_after(function_name, moment)[1:]


# Long enough for several retries if they went on: LocalStack's backoff starts near 0.5 s and grows 1.5x.
OBSERVE_S = 6


def test_deleting_a_mapping_stops_the_retries_of_its_failing_batch(resources):
    stream = resources.stream("deleted")
    stream_arn = client("kinesis").describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    function = resources.function("deleted", ALWAYS_FAILS)
    put_items(stream, 1)
    uuid = resources.mapping(function, stream_arn, BatchSize=10, MaximumRetryAttempts=-1)
    wait_for_invocations(function, 2)

    delete_mapping(uuid)  # returns once the mapping no longer exists
    deleted_at = time.time()
    time.sleep(OBSERVE_S)

    assert retried_after(function, deleted_at) == [], "the function was retried after its mapping was deleted"
    assert not listed(function, uuid), "the deleted mapping is still listed"


def test_disabling_a_mapping_stops_the_retries_of_its_failing_batch(resources):
    stream = resources.stream("disabled")
    stream_arn = client("kinesis").describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    function = resources.function("disabled", ALWAYS_FAILS)
    put_items(stream, 1)
    uuid = resources.mapping(function, stream_arn, BatchSize=10, MaximumRetryAttempts=-1)
    wait_for_invocations(function, 2)

    client("lambda").update_event_source_mapping(UUID=uuid, Enabled=False)
    wait_for_state(uuid, "Disabled")
    disabled_at = time.time()
    time.sleep(OBSERVE_S)

    assert retried_after(function, disabled_at) == [], "the function was retried after its mapping was disabled"
    # A disabled mapping can be deleted like any other, and is then gone from the list.
    delete_mapping(uuid)
    wait_until(lambda: not listed(function, uuid), timeout=10, what=f"the deleted mapping {uuid} to leave the list")
