"""SQS queues, used as OnFailure destinations."""

from __future__ import annotations

import json
import time

from .endpoint import client


def ensure_queue(name: str) -> tuple[str, str]:
    """Creates the queue unless it exists; returns (queue URL, queue ARN)."""
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def delete_queue(name: str) -> None:
    sqs = client("sqs")
    try:
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except sqs.exceptions.QueueDoesNotExist:
        pass


def receive_json(url: str, expected: int = 1, timeout: float = 30) -> list[dict]:
    """Receives and deletes messages until ``expected`` arrived or ``timeout`` passed; returns their JSON bodies."""
    sqs = client("sqs")
    bodies: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(bodies) < expected and time.monotonic() < deadline:
        wait = max(0, min(5, int(deadline - time.monotonic())))
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait).get("Messages", [])
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies
