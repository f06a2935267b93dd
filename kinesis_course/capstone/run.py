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
from ..waiting import wait_until

FAULTS_MODULE = Path(__file__).with_name("faults.py")
NO_FAULTS = {"error": 0, "throttle": 0, "crash": 0, "timeout": 0}


def add_fault_wrapper(build_dir: str | Path) -> None:
    """Copies the fault wrapper (faults.py) next to the handler: the handler's files stay as the lessons left them."""
    shutil.copyfile(FAULTS_MODULE, Path(build_dir) / "faults.py")


def fault_variables(rates: dict[str, float]) -> dict[str, str]:
    return {f"FAULT_{kind.upper()}_RATE": str(rates.get(kind, 0)) for kind in NO_FAULTS}


def deploy_with_faults(name: str, build_dir: str | Path, table: str, rates: dict[str, float], timeout: int = 5) -> str:
    add_fault_wrapper(build_dir)
    return deploy_function(name, build_dir, handler="faults.handler", timeout=timeout,
                           environment={"TABLE": table, **fault_variables(rates)})


def set_faults(name: str, rates: dict[str, float], plan: str = "") -> dict[str, str]:
    """Changes the fault rates of the deployed function with update_function_configuration: no new code."""
    lam = client("lambda")
    variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    variables.update(fault_variables(rates), FAULT_PLAN=plan)
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
    _wait_updated(name)
    return variables


def invocations(name: str) -> list[dict]:
    """The INVOKE lines of the function (one per invocation, oldest first)."""
    found = [json.loads(line[len("INVOKE "):]) for line in log_lines(name) if line.startswith("INVOKE ")]
    return sorted(found, key=lambda line: line["at"])


def wait_for_quiet(name: str, last_records: set[str], quiet_for: float = 6, timeout: float = 150) -> list[dict]:
    """Waits until every record in ``last_records`` was delivered and no invocation came for ``quiet_for`` s."""
    state = {"count": -1, "since": time.monotonic()}

    def settled():
        found = invocations(name)
        if len(found) != state["count"]:
            state.update(count=len(found), since=time.monotonic())
            return None
        delivered = {number for line in found for number in line["sequenceNumbers"]}
        if last_records <= delivered and time.monotonic() - state["since"] >= quiet_for:
            return found
        return None

    return wait_until(settled, timeout=timeout, what=f"the invocations of {name} to settle", interval=1)


def faults(name: str) -> list[dict]:
    """The FAULT lines: the faults that happened (not just the ones chosen)."""
    return [json.loads(line[len("FAULT "):]) for line in log_lines(name) if line.startswith("FAULT ")]


def fault_counts(name: str) -> Counter:
    return Counter(line["kind"] for line in faults(name))
