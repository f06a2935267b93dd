"""The table of the extension's patches of LocalStack 4.14's event source mappings, and the hook that applies them.

Each entry names its LocalStack target (``module:Class.method``), the function that replaces it, the AWS behaviour it
matches (with its source), its switch (switches.py; None: always on), and what the upgrade test pins
(tests/engine/test_esm_localstack_pins.py, through pins.py): the target's signature at LocalStack 4.14 and, where the
replacement is a copy of LocalStack's function with lines changed, the SHA-256 of that function's source. Each
target is patched once. The routes below are the extension's own endpoints on LocalStack's gateway.

Applied once when LocalStack starts (hook ``localstack.hooks.on_infra_start``), with LocalStack's patch utility.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from localstack.runtime import hooks

from . import clock, delivery, event_counts, lifecycle, metrics, position, reading, switches, windows
from .switches import Switch

LOG = logging.getLogger(__name__)

_POLLERS = "localstack.services.lambda_.event_source_mapping"


@dataclass(frozen=True)
class PatchEntry:
    target: str  # "module:Class.method"
    replacement: Callable
    aws: str  # the AWS behaviour the replacement matches, and its source
    switch: Switch | None  # None: always applied
    signature: str  # str(inspect.signature(target)) at LocalStack 4.14
    copied_source_sha256: str | None = None  # the replacement copies the target's source, with lines changed
    pass_target: bool = True  # the replacement gets LocalStack's function as its first argument

    def resolve(self) -> Callable:
        module_name, _, qualified = self.target.partition(":")
        found = importlib.import_module(module_name)
        for name in qualified.split("."):
            found = getattr(found, name)
        return found


PATCHES: tuple[PatchEntry, ...] = (
    PatchEntry(
        f"{_POLLERS}.esm_worker_factory:EsmWorkerFactory.get_esm_worker",
        reading.configure_poller,
        "BisectBatchOnFunctionError (always), and with the AWS-like reading ParallelizationFactor, "
        "TumblingWindowInSeconds, StartingPositionTimestamp reach the poller (API reference, "
        "CreateEventSourceMapping); LocalStack stores them and passes none to its poller",
        None,
        "(self) -> localstack.services.lambda_.event_source_mapping.esm_worker.EsmWorker",
    ),
    PatchEntry(
        f"{_POLLERS}.pollers.stream_poller:StreamPoller.forward_events_to_target",
        delivery.forward_with_aws_retry_rules,
        "a failed batch is split in two and retried, the split using no retry attempt; retries stop with the mapping; "
        "attempts counted as AWS's recordings show (Lambda developer guide, Kinesis on-failure destinations; "
        "attempts.py)",
        None,
        "(self, shard_id, records)",
        copied_source_sha256="9473064dbc51c754e6b098cebda69e2eb801a6a753fb9212b85c4697dafdeee2",
        pass_target=False,
    ),
    PatchEntry(
        f"{_POLLERS}.esm_worker:EsmWorker.stop",
        lifecycle.also_end_poller_retries,
        "disabling a mapping stops its invocations, retries included (Lambda developer guide, event source mappings)",
        None,
        "(self)",
    ),
    PatchEntry(
        f"{_POLLERS}.esm_worker:EsmWorker.stop_for_shutdown",
        lifecycle.also_end_poller_retries,
        "as for stop: a stopped mapping invokes nothing more, retries included (LocalStack's own shutdown of its "
        "workers, e.g. when LocalStack stops)",
        None,
        "(self)",
    ),
    PatchEntry(
        f"{_POLLERS}.esm_worker:EsmWorker.delete",
        lifecycle.delete_even_without_poller_loop,
        "a disabled mapping can be deleted, and deleting stops its retries (API reference, DeleteEventSourceMapping)",
        None,
        "(self)",
    ),
    PatchEntry(
        f"{_POLLERS}.esm_worker:EsmWorker.delete_esm_in_store",
        lifecycle.forget_deleted_mapping,
        "a deleted mapping's checkpoints go with it: a new mapping starts from its StartingPosition (Lambda developer "
        "guide, Using Lambda with Kinesis); its clock factor and windows go too",
        None,
        "(self)",
    ),
    PatchEntry(
        f"{_POLLERS}.pollers.stream_poller:StreamPoller.poll_events",
        reading.keep_one_reader_per_shard,
        "each shard polled by its own reader at a base rate of once per second, reads of 10,000 records, batches of "
        "BatchSize and 6 MB (Lambda developer guide, Using Lambda with Kinesis)",
        switches.POLLER,
        "(self)",
    ),
    PatchEntry(
        "localstack.services.lambda_.provider:LambdaProvider.validate_event_source_mapping",
        reading.validate_like_aws,
        "parameters refused as AWS refuses them (API reference, CreateEventSourceMapping; validation.py)",
        switches.POLLER,
        "(self, context, request)",
    ),
    PatchEntry(
        f"{_POLLERS}.senders.lambda_sender:LambdaSender.send_events",
        windows.send_window_event,
        "tumbling windows: the window's event with its state, a response without state fails (Lambda developer "
        "guide, Implementing stateful Kinesis Data Streams processing)",
        switches.POLLER,
        "(self, events: list[dict] | dict) -> dict",
        copied_source_sha256="61d45f857a10f7011d598c562a22aaf34787e790520546def7a879cb652279c4",
    ),
    PatchEntry(
        "localstack.services.lambda_.invocation.version_manager:LambdaVersionManager.invoke",
        metrics.publish_duration,
        "Lambda publishes Duration per invocation (Lambda developer guide, Types of metrics for Lambda functions)",
        switches.METRICS,
        "(self, *, invocation: localstack.services.lambda_.invocation.lambda_models.Invocation) -> "
        "localstack.services.lambda_.invocation.lambda_models.InvocationResult",
    ),
)


@dataclass(frozen=True)
class RouteEntry:
    path: str
    endpoint: Callable
    methods: tuple[str, ...]
    what: str
    switch: Switch | None


ROUTES: tuple[RouteEntry, ...] = (
    RouteEntry(clock.PATH, clock.serve_clock, ("GET", "PUT"), "the course clock (a teaching device, not AWS)", None),
    RouteEntry(
        position.PATH,
        position.serve_position,
        ("GET",),
        "the position view (a teaching device, not AWS)",
        switches.POSITION,
    ),
)


@dataclass(frozen=True)
class ObserverEntry:
    observer: delivery.DeliveryObserver
    what: str
    switch: Switch


OBSERVERS: tuple[ObserverEntry, ...] = (
    ObserverEntry(position.FlightTracker(), "the batches in flight, for the position view", switches.POSITION),
    ObserverEntry(metrics.IteratorAgeObserver(), "IteratorAge in CloudWatch, before each invocation", switches.METRICS),
    ObserverEntry(
        event_counts.EventCountObserver(),
        "the EventCount metrics of a mapping with MetricsConfig (PolledEventCount ... DroppedEventCount)",
        switches.METRICS,
    ),
)


def _on(switch: Switch | None) -> bool:
    return switch is None or switch.on()


@hooks.on_infra_start()
def apply_esm_patches():
    from localstack.services.edge import ROUTER
    from localstack.utils.patch import Patch

    for entry in PATCHES:
        if _on(entry.switch):
            Patch.function(entry.resolve(), entry.replacement, pass_target=entry.pass_target).apply()
    for route in ROUTES:
        if _on(route.switch):
            ROUTER.add(route.path, route.endpoint, methods=list(route.methods))
    delivery.OBSERVERS[:] = [entry.observer for entry in OBSERVERS if _on(entry.switch)]
    for switch in (switches.POLLER, switches.METRICS, switches.POSITION):
        LOG.info("kinesis-course: %s (%s): %s", switch.what, switch.variable, "on" if switch.on() else "off")
    LOG.info("kinesis-course: %d event source mapping patches applied", sum(_on(entry.switch) for entry in PATCHES))
