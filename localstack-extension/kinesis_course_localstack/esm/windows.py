"""Invocations of a tumbling window (window_rules.py has AWS's rules): the window's event is sent instead of the plain
batch, the state is taken from the response, and each window ends with a final invocation retried until it
succeeds. The shard reader (shard_reader.py) decides when; this module makes the calls.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass

from . import state
from .delivery import new_backoff
from .state import Window
from .window_rules import MAX_STATE_BYTES, state_bytes, state_of, window_event

LOG = logging.getLogger(__name__)

_local = threading.local()  # the window invocation the calling thread is making (for the sender)


# Invocations ----------------------------------------------------------------------------------------------------
@dataclass
class Call:
    window: Window
    shard_id: str
    source_arn: str
    final: bool = False
    early: bool = False


class calling:
    """Context manager: the calling thread's Lambda invocations are invocations of ``call``'s window."""

    def __init__(self, call: Call) -> None:
        self.call = call

    def __enter__(self) -> Call:
        _local.call = self.call
        return self.call

    def __exit__(self, *exc) -> None:
        _local.call = None


def send_window_event(send_events, self, events):
    """Patch of LambdaSender.send_events: inside a window invocation, sends the window's event and takes the state
    from the response (a response without one is a failed invocation: window_rules, rule 3).

    Outside a window it calls LocalStack's own. Inside, it is LocalStack 4.14's send_events with the event, the
    invocation type (always RequestResponse) and the state check changed: its source is pinned (patches.py, pins.py)."""
    call: Call | None = getattr(_local, "call", None)
    if call is None:
        return send_events(self, events)
    from localstack.services.lambda_.api_utils import function_locators_from_arn
    from localstack.services.lambda_.event_source_mapping.pipe_utils import to_json_str
    from localstack.services.lambda_.event_source_mapping.pollers.poller import has_batch_item_failures
    from localstack.services.lambda_.event_source_mapping.senders.sender import (
        PartialFailureSenderError,
        SenderError,
    )

    event = window_event(list(events), call.window, call.shard_id, call.source_arn, call.final, call.early)
    _, qualifier, _, _ = function_locators_from_arn(self.target_arn)
    result = self.target_client.invoke(
        FunctionName=self.target_arn,
        Payload=to_json_str(event),
        InvocationType="RequestResponse",
        **({"Qualifier": qualifier} if qualifier is not None else {}),
    )
    try:
        payload = json.load(result["Payload"])
    except json.JSONDecodeError:
        payload = None

    def error(**extra) -> dict:
        return {
            "message": f"Target {self.target_arn} encountered an error while processing event(s).",
            "httpStatusCode": result["StatusCode"],
            "awsService": "lambda",
            "requestId": result["ResponseMetadata"]["RequestId"],
            "exceptionType": "BadRequest",
            "resourceArn": self.target_arn,
            "executedVersion": result.get("ExecutedVersion", "$LATEST"),
            **extra,
        }

    if function_error := result.get("FunctionError"):
        raise SenderError(
            f"Function error {function_error} in a window invocation", error=error(functionError=function_error)
        )
    response_state = state_of(payload)
    if response_state is None:
        # AWS: "If the response does not contain a state property, Lambda considers this a failed invocation."
        raise SenderError("The response of a window invocation has no state", error=error())
    # AWS: "Your state can be a maximum of 1 MB per shard. If it exceeds that size, Lambda terminates the window
    # early" (window_rules, rule 5).
    state.keep_window_state(call.window, response_state, state_bytes(response_state) > MAX_STATE_BYTES)
    if not call.final and self.report_batch_item_failures and has_batch_item_failures(payload):
        raise PartialFailureSenderError(error=error(), partial_failure_payload=payload)
    return payload


def invoke_final(poller, shard_id: str, window: Window, early: bool) -> bool:
    """The window's final invocation, retried until it succeeds (window_rules, rule 4); False when the mapping
    stopped first."""
    backoff = new_backoff()
    retrying = False
    with calling(Call(window, shard_id, poller.source_arn, final=True, early=early)):
        while not poller._is_shutdown.is_set():
            if retrying and poller._is_shutdown.wait(backoff.next_backoff() / state.factor(poller.esm_uuid)):
                return False
            retrying = True
            try:
                poller.processor.process_events_batch([])
                return True
            except Exception as failure:
                # AWS: "If invocation is unsuccessful, your Lambda function suspends further processing until a
                # successful invocation."
                LOG.debug("The final invocation of a window of %s failed (%s); retrying", shard_id, failure)
    return False
