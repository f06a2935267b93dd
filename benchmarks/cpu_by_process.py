"""CPU-seconds of a command, by kind of process: what a suite run costs the machine, and where.

    python3 benchmarks/cpu_by_process.py -- make test
    python3 benchmarks/cpu_by_process.py --interval 0.5 -- tools/run_tests.sh tests/engine

The machine's CPU time (/proc/stat, every process, so nothing is missed) is the total; each process seen while
the command runs is sampled every --interval seconds (/proc/<pid>/stat) and put in a group by its command line,
so a process that lives less than one interval is counted in the total but not in a group ("unattributed").
It prints figures; it asserts nothing (not a test). Linux only; standard library only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")

# First match wins: (group, a substring of the command line).
GROUPS = (
    ("kinesis-mock (node)", "kinesis-mock"),
    ("kinesis-mock (node)", "kinesis-local"),
    ("function runtimes", "runtime_bootstrap"),
    ("function runtimes", "bootstrap.py"),
    ("LocalStack", "localstack"),
    ("notebook kernels", "ipykernel"),
    ("pytest and its workers", "pytest"),
    ("pytest and its workers", "execnet"),
    ("pytest and its workers", "exec(eval(sys.stdin.readline()))"),  # an xdist worker
    ("node (other)", "node"),
    ("uv / pip", "uv"),
    ("uv / pip", "pip"),
)


def machine_cpu_seconds() -> float:
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICKS


def processes() -> dict[int, tuple[str, float]]:
    seen = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        seen[int(entry.name)] = (command, (int(fields[11]) + int(fields[12])) / TICKS)
    return seen


def group_of(command: str) -> str:
    for group, needle in GROUPS:
        if needle in command:
            return group
    return "other"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    arguments = parser.parse_args()
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    if not command:
        parser.error("give the command after --")
    before = processes()
    baseline = {pid: cpu for pid, (_, cpu) in before.items()}
    latest: dict[int, tuple[str, float]] = {}
    machine_start, wall_start = machine_cpu_seconds(), time.monotonic()
    child = subprocess.Popen(command)
    while child.poll() is None:
        for pid, (cmd, cpu) in processes().items():
            if pid != os.getpid():
                # A process that has exited but not been reaped reads with an empty command line: keep its name.
                latest[pid] = (cmd or latest.get(pid, ("",))[0], cpu - baseline.get(pid, 0.0))
        time.sleep(arguments.interval)
    wall = time.monotonic() - wall_start
    machine = machine_cpu_seconds() - machine_start
    by_group: dict[str, float] = {}
    for cmd, cpu in latest.values():
        by_group[group_of(cmd)] = by_group.get(group_of(cmd), 0.0) + max(cpu, 0.0)
    attributed = sum(by_group.values())
    print(
        f"\n{' '.join(command)}: exit {child.returncode}, {wall:.0f} s wall, {machine:.0f} CPU-s on the machine "
        f"({os.cpu_count()} cores, {100 * machine / (wall * os.cpu_count()):.0f} % busy)",
        file=sys.stderr,
    )
    for group, cpu in sorted(by_group.items(), key=lambda pair: -pair[1]):
        print(f"{cpu:8.0f}  {group}", file=sys.stderr)
    print(
        f"{max(machine - attributed, 0):8.0f}  unattributed (processes shorter than {arguments.interval:g} s, "
        "and the machine's own)",
        file=sys.stderr,
    )
    print("the processes that took most:", file=sys.stderr)
    for cmd, cpu in sorted(latest.values(), key=lambda pair: -pair[1])[:8]:
        print(f"{cpu:8.0f}  [{group_of(cmd)}] {cmd[:110]}", file=sys.stderr)
    return child.returncode


if __name__ == "__main__":
    raise SystemExit(main())
