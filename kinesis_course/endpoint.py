"""boto3 clients for the course's LocalStack, and the guard that keeps them off real AWS.

The endpoint is http://127.0.0.1:4566 (the port follows LOCALSTACK_PORT, as `make up` does) unless
KINESIS_COURSE_ENDPOINT names another one. A non-local
endpoint is refused unless KINESIS_COURSE_ALLOW_REMOTE=1 is set: nothing reaches a real AWS account
unless the learner asks for it explicitly.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import urllib.error
import urllib.request
from urllib.parse import urlparse

import boto3
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
COURSE_SERVICES = ("kinesis", "lambda", "dynamodb", "dynamodbstreams", "sqs", "s3", "iam", "sts", "logs", "cloudwatch")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "localhost.localstack.cloud"}


class LocalStackNotRunning(RuntimeError):
    pass


class RemoteEndpointRefused(RuntimeError):
    pass


def endpoint_url() -> str:
    default = f"http://127.0.0.1:{os.environ.get('LOCALSTACK_PORT', '4566')}"
    url = os.environ.get("KINESIS_COURSE_ENDPOINT", default).rstrip("/")
    host = urlparse(url).hostname or ""
    if host not in LOCAL_HOSTS and os.environ.get("KINESIS_COURSE_ALLOW_REMOTE") != "1":
        raise RemoteEndpointRefused(
            f"KINESIS_COURSE_ENDPOINT={url} is not on this machine. The course talks to a local LocalStack only; "
            "set KINESIS_COURSE_ALLOW_REMOTE=1 if you really mean to use that endpoint."
        )
    return url


def localstack_document(name: str) -> dict:
    """One of LocalStack's own documents (``health``, ``info``); raises LocalStackNotRunning with what to do."""
    url = endpoint_url()
    try:
        with urllib.request.urlopen(f"{url}/_localstack/{name}", timeout=3) as response:
            return json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise LocalStackNotRunning(
            f"LocalStack does not answer at {url} ({error}). Start it in a terminal at the course's folder "
            "with `make up` (or open the course with `make lab`, which starts it), then run this cell again."
        ) from None


def health() -> dict:
    """LocalStack's health document: which services run, its version."""
    return localstack_document("health")


def require_localstack() -> dict:
    """Checks that LocalStack runs and serves every service the course needs; returns its health document."""
    state = health()
    missing = [name for name in COURSE_SERVICES if state.get("services", {}).get(name) not in ("running", "available")]
    if missing:
        raise LocalStackNotRunning(
            f"LocalStack answers but does not serve {', '.join(missing)}. Stop it (`make down`) and start the "
            "course's own LocalStack with `make up`."
        )
    return state


_CREATING_CLIENT = threading.Lock()


def client(service: str):
    """A boto3 client for ``service`` bound to the course's LocalStack (region us-east-1, dummy credentials).

    One client per service, shared: a client is safe to use from several threads, but boto3's default session,
    which creates it, is not; so creation happens under a lock (the kit's harnesses run threads)."""
    with _CREATING_CLIENT:
        return _client(service)


@functools.cache
def _client(service: str):
    return boto3.client(
        service,
        endpoint_url=endpoint_url(),
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 2, "mode": "standard"}, read_timeout=120),
    )
