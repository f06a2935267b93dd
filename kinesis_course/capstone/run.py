"""Running the fault run: the wrapper deployed around the course's handler, its faults switched by configuration,
and what its invocations logged."""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from pathlib import Path

from ..endpoint import client
from ..functions import _wait_updated, deploy_function
from ..logs import log_lines
from ..waiting import WaitTimeout, wait_until

FAULTS_MODULE = Path(__file__).with_name("faults.py")
COUNTED_MODULE = Path(__file__).with_name("counted.py")
NO_FAULTS = {"error": 0, "throttle": 0, "crash": 0, "timeout": 0}


def add_fault_wrapper(build_dir: str | Path) -> None:
    """Copies the fault wrapper (faults.py, and counted.py, which plugs the counted write in) next to the handler:
    the handler's files stay as the lessons left them."""
    for module in (FAULTS_MODULE, COUNTED_MODULE):
        shutil.copyfile(module, Path(build_dir) / module.name)


def fault_variables(rates: dict[str, float]) -> dict[str, str]:
    return {f"FAULT_{kind.upper()}_RATE": str(rates.get(kind, 0)) for kind in NO_FAULTS}


def deploy_with_faults(
    name: str,
    build_dir: str | Path,
    table: str,
    rates: dict[str, float],
    timeout: int = 5,
    counter_table: str | None = None,
) -> str:
    """Deploys the build folder behind the fault wrapper; with ``counter_table``, the handler stores every reading
    with the learner's counted write (counting.py, Exercise 07.3) and counts it there."""
    add_fault_wrapper(build_dir)
    counter = {"COUNTER_TABLE": counter_table} if counter_table else {}
    return deploy_function(
        name,
        build_dir,
        handler="faults.handler",
        timeout=timeout,
        environment={"TABLE": table, **counter, **fault_variables(rates)},
    )


def set_faults(
    name: str, rates: dict[str, float], plan: str = "", outage: tuple[str, str] | None = None
) -> dict[str, str]:
    """Changes the fault rates of the deployed function with update_function_configuration: no new code.
    ``outage``: (first, last) key of the writes the table refuses on every delivery (faults.py, FAULT_OUTAGE)."""
    lam = client("lambda")
    variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    variables.update(fault_variables(rates), FAULT_PLAN=plan, FAULT_OUTAGE="..".join(outage) if outage else "")
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
    _wait_updated(name)
    return variables


def invocations(name: str) -> list[dict]:
    """The INVOKE lines of the function (one per invocation, oldest first)."""
    found = [json.loads(line[len("INVOKE ") :]) for line in log_lines(name) if line.startswith("INVOKE ")]
    return sorted(found, key=lambda line: line["at"])


def mappings_through(name: str, last_records: set[str]) -> bool | None:
    """Whether every event source mapping of ``name`` is through the stream, from the kit's position view (not an
    AWS API): each shard's checkpoint is that shard's last record (``last_records``) and no batch is in flight, so
    nothing waits for a retry and every on-failure record is sent. None when the view is unavailable (a LocalStack
    without the kit's poller); the caller then falls back to a quiet period."""
    from ..position import PositionUnavailable, mapping_position

    mappings = client("lambda").list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    try:
        shards = [shard for mapping in mappings for shard in mapping_position(mapping["UUID"])["shards"].values()]
    except PositionUnavailable:
        return None
    checkpoints = {shard.get("checkpoint") for shard in shards}
    idle = all(not shard.get("in_flight") and not shard.get("batches_in_flight") for shard in shards)
    return bool(mappings) and idle and last_records <= checkpoints


def wait_for_quiet(name: str, last_records: set[str], quiet_for: float = 4, timeout: float = 160) -> list[dict]:
    """Waits until every record in ``last_records`` was delivered, every invocation has ended (as many REPORT
    lines as START lines: a timed-out invocation ends late) and the mapping is through the stream: the kit's
    position view shows each shard's checkpoint at its last record and no batch in flight (``mappings_through``).
    A batch waiting for its next retry shows there, however long its back-off lasts on a busy laptop. Where the
    view is unavailable, the wait falls back to no invocation beginning for ``quiet_for`` seconds.

    Everything else it reads is in the function's logs, so calling it again after a timeout goes on where it
    stopped: on a slow laptop the run takes longer, and the message says so instead of a bare timeout."""
    state = {"count": -1, "since": time.monotonic(), "delivered": 0, "open": 0, "through": False}

    def settled():
        lines = log_lines(name)
        found = sorted(
            (json.loads(line[len("INVOKE ") :]) for line in lines if line.startswith("INVOKE ")),
            key=lambda line: line["at"],
        )
        started = sum(line.startswith("START RequestId") for line in lines)
        ended = sum(line.startswith("REPORT RequestId") for line in lines)
        delivered = {number for line in found for number in line["sequenceNumbers"]}
        state.update(delivered=len(last_records & delivered), open=started - ended)
        if len(found) != state["count"]:
            state.update(count=len(found), since=time.monotonic())
        if not (last_records <= delivered and started == ended):
            return None
        through = mappings_through(name, last_records)
        state["through"] = bool(through)
        if through is None:
            return found if time.monotonic() - state["since"] >= quiet_for else None
        return found if through else None

    try:
        return wait_until(settled, timeout=timeout, what=f"the invocations of {name} to settle", interval=1)
    except WaitTimeout as timed_out:
        raise WaitTimeout(
            f"{timed_out} So far: {state['count']} invocations, {state['delivered']} of the {len(last_records)} "
            f"shards' last records delivered, {state['open']} invocation(s) still running, the mapping "
            f"{'through' if state['through'] else 'not yet through'} the stream. On a slow or busy laptop "
            "the mapping is still working through its retries: run this cell again to go on waiting (nothing is "
            "lost; the wait reads the function's logs). If the count does not grow, print the function's last "
            f"log lines: from kinesis_course.logs import log_lines; print(*log_lines({name!r})[-20:], sep='\\n')"
        ) from None


def faults(name: str) -> list[dict]:
    """The FAULT lines: the faults that happened (not just the ones chosen)."""
    return [json.loads(line[len("FAULT ") :]) for line in log_lines(name) if line.startswith("FAULT ")]


def fault_counts(name: str) -> Counter:
    """Faults that happened, by kind ("outage": writes the outage refused, one per write)."""
    return Counter(line["kind"] for line in faults(name))


POWERTOOLS_HANDLER = Path(__file__).with_name("powertools_handler.py")


def powertools_build(handler_dir: str | Path, build_dir: str | Path) -> Path:
    """A build folder for the Powertools function: the course's decoding, readings and triage files, the
    Powertools handler, the fault wrapper, and the aws_lambda_powertools package itself (the function's zip must
    carry it: Lambda's Python runtime does not include it)."""
    import aws_lambda_powertools

    handler_dir, build_dir = Path(handler_dir), Path(build_dir)
    shutil.rmtree(build_dir, ignore_errors=True)
    build_dir.mkdir(parents=True)
    for name in ("decoding.py", "readings.py", "triage.py"):
        shutil.copyfile(handler_dir / name, build_dir / name)
    shutil.copyfile(POWERTOOLS_HANDLER, build_dir / "powertools_handler.py")
    add_fault_wrapper(build_dir)
    package = Path(aws_lambda_powertools.__file__).parent
    shutil.copytree(package, build_dir / "aws_lambda_powertools", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return build_dir


def deploy_powertools(
    name: str,
    build_dir: str | Path,
    table: str,
    idempotency_table: str,
    rates: dict[str, float],
    plan: str = "",
    timeout: int = 5,
    outage: str = "",
) -> str:
    return deploy_function(
        name,
        build_dir,
        handler="faults.handler",
        timeout=timeout,
        environment={
            "TABLE": table,
            "IDEMPOTENCY_TABLE": idempotency_table,
            "FAULT_TARGET": "powertools_handler",
            "FAULT_PLAN": plan,
            "FAULT_OUTAGE": outage,
            **fault_variables(rates),
        },
    )
