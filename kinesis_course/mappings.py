"""Event source mappings (ESM): the Lambda-side poller that reads a stream and invokes a function."""

from __future__ import annotations

from .endpoint import client
from .waiting import wait_until


def create_mapping(function_name: str, stream_arn: str, *, StartingPosition: str = "TRIM_HORIZON", **parameters) -> str:
    """Creates a Kinesis ESM with AWS's own parameter names (BatchSize, MaximumRetryAttempts, ...).

    Waits until it is Enabled and returns its UUID.
    """
    mapping = client("lambda").create_event_source_mapping(
        FunctionName=function_name, EventSourceArn=stream_arn, StartingPosition=StartingPosition, **parameters
    )
    wait_for_state(mapping["UUID"], "Enabled")
    return mapping["UUID"]


def mapping_state(uuid: str) -> str | None:
    try:
        return client("lambda").get_event_source_mapping(UUID=uuid)["State"]
    except client("lambda").exceptions.ResourceNotFoundException:
        return None


def wait_for_state(uuid: str, state: str | None, timeout: float = 60) -> None:
    """Waits until the mapping is in ``state`` (None: until it no longer exists)."""
    wait_until(lambda: mapping_state(uuid) == state, timeout=timeout, what=f"mapping {uuid} to be {state or 'deleted'}")


def mappings_of(function_name: str) -> list[dict]:
    lam = client("lambda")
    try:
        return lam.list_event_source_mappings(FunctionName=function_name)["EventSourceMappings"]
    except lam.exceptions.ResourceNotFoundException:
        return []


def listed(uuid: str) -> bool:
    """Whether ListEventSourceMappings still shows the mapping (in any state, "Deleting" included)."""
    pages = client("lambda").get_paginator("list_event_source_mappings").paginate()
    return any(mapping["UUID"] == uuid for page in pages for mapping in page["EventSourceMappings"])


def delete_mapping(uuid: str) -> None:
    """Deletes the mapping and waits until it is gone from both GetEventSourceMapping and the list.

    LocalStack answers "not found" to GetEventSourceMapping a moment before ListEventSourceMappings stops showing
    the mapping as Deleting; until then a new mapping of the same function and stream fails with
    ResourceConflictException.
    """
    lam = client("lambda")
    try:
        lam.delete_event_source_mapping(UUID=uuid)
    except lam.exceptions.ResourceNotFoundException:
        pass
    wait_for_state(uuid, None)
    wait_until(lambda: not listed(uuid), timeout=60, what=f"mapping {uuid} to leave the list")


def delete_mappings_of(function_name: str) -> None:
    for mapping in mappings_of(function_name):
        delete_mapping(mapping["UUID"])
