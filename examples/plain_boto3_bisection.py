"""A Kinesis -> Lambda event source mapping with bisection and an SQS on-failure queue, in plain boto3.

Run it against the course's LocalStack (`make up`):  .venv/course/bin/python examples/plain_boto3_bisection.py
It needs nothing from this repo but boto3: it is what the kit's engine offers any script.
"""

import io
import json
import time
import zipfile

import boto3

ENDPOINT = "http://127.0.0.1:4566"
AWS = dict(endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
kinesis, lam, sqs, logs = (boto3.client(name, **AWS) for name in ("kinesis", "lambda", "sqs", "logs"))

STREAM, FUNCTION, QUEUE = "example-readings", "example-bisect", "example-bisect-failures"
HANDLER = """
import base64, json

def handler(event, context):
    values = [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in event["Records"]]
    print("BATCH " + json.dumps([v["n"] for v in values]))
    if any(v.get("poison") for v in values):
        raise ValueError("a poison record is in this batch")
"""


def wait(condition, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout}s")
        time.sleep(0.5)
    return result


def clean_up():
    for mapping in lam.list_event_source_mappings().get("EventSourceMappings", []):
        if mapping["FunctionArn"].endswith(f":{FUNCTION}"):
            lam.delete_event_source_mapping(UUID=mapping["UUID"])
    for call in (
        lambda: lam.delete_function(FunctionName=FUNCTION),
        lambda: sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]),
        lambda: logs.delete_log_group(logGroupName=f"/aws/lambda/{FUNCTION}"),
    ):
        try:
            call()
        except Exception:
            pass
    if STREAM in kinesis.list_streams()["StreamNames"]:
        kinesis.delete_stream(StreamName=STREAM)
        wait(lambda: STREAM not in kinesis.list_streams()["StreamNames"], "stream deletion")


clean_up()
kinesis.create_stream(StreamName=STREAM, ShardCount=1)
wait(
    lambda: kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE",
    "stream",
)
stream_arn = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamARN"]
queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

archive = io.BytesIO()
with zipfile.ZipFile(archive, "w") as zf:
    zf.writestr("handler.py", HANDLER)
lam.create_function(
    FunctionName=FUNCTION,
    Runtime="python3.12",
    Handler="handler.handler",
    Code={"ZipFile": archive.getvalue()},
    Role="arn:aws:iam::000000000000:role/example-role",
    Timeout=10,
)
wait(lambda: lam.get_function(FunctionName=FUNCTION)["Configuration"]["State"] == "Active", "function Active")

for n in range(8):
    kinesis.put_record(StreamName=STREAM, PartitionKey="sensor-1", Data=json.dumps({"n": n, "poison": n == 5}).encode())

mapping = lam.create_event_source_mapping(
    FunctionName=FUNCTION,
    EventSourceArn=stream_arn,
    StartingPosition="TRIM_HORIZON",
    BatchSize=8,
    BisectBatchOnFunctionError=True,
    MaximumRetryAttempts=2,
    DestinationConfig={"OnFailure": {"Destination": queue_arn}},
)


def failure_record():
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2).get("Messages", [])
    return json.loads(messages[0]["Body"]) if messages else None


failure = wait(failure_record, "the on-failure record", timeout=60)


def batches():
    lines = [
        e["message"]
        for s in logs.describe_log_streams(logGroupName=f"/aws/lambda/{FUNCTION}")["logStreams"]
        for e in logs.get_log_events(logGroupName=f"/aws/lambda/{FUNCTION}", logStreamName=s["logStreamName"])["events"]
    ]
    found = [json.loads(line[len("BATCH ") :]) for line in lines if line.startswith("BATCH ")]
    # Done when the records after the poison went through: the last batch holds record 7 and not the poison.
    return found if found and 7 in found[-1] and 5 not in found[-1] else None


seen = wait(batches, "every batch in the logs")
print("batches the function saw:", seen)
print(
    "on-failure record:",
    failure["requestContext"]["condition"],
    "batchSize",
    failure["KinesisBatchInfo"]["batchSize"],
    "approximateInvokeCount",
    failure["requestContext"]["approximateInvokeCount"],
)
lam.delete_event_source_mapping(UUID=mapping["UUID"])
clean_up()
