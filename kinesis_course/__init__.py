"""Helpers for the notebooks of the Kinesis-Lambda batching course.

Every client talks to the course's LocalStack (http://127.0.0.1:4566), never to AWS, unless you opt in.

    from kinesis_course import Lesson, client
    lesson = Lesson("02").start()          # check LocalStack, clean up an earlier run
    stream_arn = ensure_stream(lesson.name("readings"))
"""

from .endpoint import ACCOUNT_ID, REGION, client, endpoint_url, health, require_localstack
from .events import kinesis_event
from .functions import ROLE_ARN, delete_function, deploy_function, deploy_functions
from .lesson import Lesson
from .logs import json_lines, log_lines, wait_for_lines
from .mappings import create_mapping, delete_mapping, delete_mappings_of, mapping_state, wait_for_state
from .queues import delete_queue, ensure_queue, receive_json
from .streams import (
    delete_stream,
    ensure_stream,
    put_records,
    read_records,
    read_records_at,
    shard_for_partition_key,
    shard_ids,
)
from .tables import delete_table, ensure_table, scan_all
from .waiting import wait_until

__all__ = [
    "ACCOUNT_ID",
    "REGION",
    "ROLE_ARN",
    "Lesson",
    "client",
    "create_mapping",
    "delete_function",
    "delete_mapping",
    "delete_mappings_of",
    "delete_queue",
    "delete_stream",
    "delete_table",
    "deploy_function",
    "deploy_functions",
    "endpoint_url",
    "ensure_queue",
    "ensure_stream",
    "ensure_table",
    "health",
    "json_lines",
    "kinesis_event",
    "log_lines",
    "mapping_state",
    "put_records",
    "read_records",
    "read_records_at",
    "receive_json",
    "require_localstack",
    "scan_all",
    "shard_for_partition_key",
    "shard_ids",
    "wait_for_lines",
    "wait_for_state",
    "wait_until",
]
