"""`make soak`'s load generator leaves no busy process behind, however the soak ends; its table names what failed.

Each test starts a real soak-like process (a Python child that holds a CpuLoad), ends it one way, and then looks
for the busy processes it reported (by pid, and that pid's command line, so a reused pid cannot pass for one).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

import cpu_load  # tools/, on pytest's pythonpath (pyproject.toml)
import soak

TOOLS = Path(__file__).resolve().parents[3] / "tools"

# The holder plays a tool in a terminal's foreground, where Ctrl-C raises KeyboardInterrupt. Under a shell's
# background job (`make test &`, nohup) SIGINT arrives ignored, and Python keeps it so: restore the default.
HOLDER = textwrap.dedent("""
    import json, signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from cpu_load import CpuLoad
    load = CpuLoad(processes=2, max_seconds={max_seconds}).start()
    print(json.dumps(load.pids), flush=True)
    try:
        time.sleep(60)
    finally:
        load.stop()
""")


def _alive(pids: list[int]) -> list[int]:
    living = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE and "cpu_load.py" in " ".join(process.cmdline()):
                living.append(pid)
        except psutil.NoSuchProcess:
            pass
    return living


def _gone_within(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _alive(pids)


def _started(pids: list[int], seconds: float = 5) -> bool:
    """True once every pid runs cpu_load.py (right after the fork, a child still runs its parent's command)."""
    deadline = time.monotonic() + seconds
    while len(_alive(pids)) < len(pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    return len(_alive(pids)) == len(pids)


def _holder(max_seconds: float = 120) -> tuple[subprocess.Popen, list[int]]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(max_seconds=max_seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(TOOLS)},
    )
    pids = json.loads(holder.stdout.readline())
    assert _started(pids), "the load did not start"
    return holder, pids


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_no_busy_process_outlives_the_tool(how):
    holder, pids = _holder()
    holder.send_signal(how)
    holder.wait(timeout=10)
    assert _gone_within(pids, 3) == [], f"busy processes left after {how.name}"


def test_leaving_the_block_stops_the_load():
    with cpu_load.CpuLoad(processes=2) as load:
        pids = load.pids
        assert _started(pids), "the load did not start"
        # Busy, not sleeping: each burns CPU (how much depends on what else the machine runs).
        before = sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in pids)
        time.sleep(1)
        assert sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in pids) - before > 0.1, "the load is not busy"
    assert _alive(pids) == []


def test_a_busy_process_stops_at_its_deadline_on_its_own():
    holder, pids = _holder(max_seconds=3)
    assert _gone_within(pids, 5) == [], "a busy process ran past its deadline"
    holder.kill()
    holder.wait()


def test_the_table_names_failed_cells_by_number_and_first_line(tmp_path):
    notebook = soak.choose(["08"])[0]
    lines = soak.first_lines(notebook)
    report = tmp_path / "report.xml"
    report.write_text(
        '<testsuites><testsuite><testcase name="Cell 0"/>'
        '<testcase name="Cell 2"><failure message="outputs differ"/></testcase>'
        "</testsuite></testsuites>"
    )
    failed = soak.failed_cells(report, notebook)
    assert failed == [f"Cell 2: {lines[2]}"]
    runs = [soak.Run(notebook, 40.0), soak.Run(notebook, 60.0, failed, ok=False), soak.Run(notebook, 50.0)]
    row = soak.table(runs, [notebook]).splitlines()[2]
    assert row == f"| {notebook.stem} | 3 | 1 | Cell 2: {lines[2]} (1) | 40 / 50 / 60 |"


def test_notebooks_are_chosen_by_number_or_name():
    assert soak.choose(["5"])[0].name.startswith("05-")
    assert soak.choose(["solutions/08-diagnosing-a-growing-iteratorage.ipynb"])[0].name.startswith("08-")
    assert len(soak.choose([])) == len(list(soak.SOLUTIONS.glob("*.ipynb")))
    with pytest.raises(SystemExit, match="names 0 notebooks"):
        soak.choose(["99"])
