"""The flake budget: `make test` N times, each in a fresh clone of the committed tree, and a table of the runs.

    python3 benchmarks/soak_suite.py --runs 10            (make soak-suite N=10)
    python3 benchmarks/soak_suite.py --runs 3 --target test-all --ref HEAD~1

Each run clones the repository afresh (what CI does), gives it a LocalStack port of its own (so the course's
LocalStack on 4566 is never touched) and runs the target there, with the environment of this process (set
CHROMIUM=/nonexistent to run as a learner without a browser). The table: run, exit, wall seconds, tests passed,
and the failed test ids; then every failed id with the runs it failed in. Logs stay in the work folder; clones are
removed. Standard library only. It prints figures; it asserts nothing (not a test), but exits 1 if any run failed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)")
SUMMARY = re.compile(r"^=+ (.*(?:passed|failed|error).*) in [\d.]+s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_run(index: int, ref: str, target: str, work: Path) -> dict:
    clone = work / f"clone-{index}"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", ref], check=True)
    log = work / f"run-{index}.log"
    env = {**os.environ, "LOCALSTACK_PORT": str(free_port())}
    env.pop("PYTEST_XDIST_WORKER", None)
    started = time.monotonic()
    with log.open("w") as output:
        status = subprocess.run(
            ["make", target], cwd=clone, env=env, stdout=output, stderr=subprocess.STDOUT
        ).returncode
    wall = time.monotonic() - started
    subprocess.run(["tools/localstack-ctl", "down"], cwd=clone, env=env, capture_output=True)
    lines = log.read_text(errors="replace").splitlines()
    failed = sorted({match.group(1) for line in lines if (match := FAILED.match(line))})
    summaries = [match.group(1) for line in lines if (match := SUMMARY.match(line))]
    passed = sum(int(n) for summary in summaries for n in re.findall(r"(\d+) passed", summary))
    shutil.rmtree(clone, ignore_errors=True)
    return {"run": index, "exit": status, "wall": wall, "passed": passed, "failed": failed, "log": log}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--target", default="test", help="the make target each run makes (default: test)")
    parser.add_argument(
        "--ref", default="HEAD", help="the commit to clone (default: HEAD; uncommitted work is not in it)"
    )
    arguments = parser.parse_args()
    ref = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", arguments.ref], capture_output=True, text=True, check=True
    ).stdout.strip()
    work = Path(tempfile.mkdtemp(prefix="kinesis-course-soak-suite."))
    print(f"make {arguments.target} x {arguments.runs} on fresh clones of {ref}; logs in {work}", flush=True)
    results = []
    for index in range(1, arguments.runs + 1):
        result = one_run(index, ref, arguments.target, work)
        results.append(result)
        print(
            f"  run {index}: exit {result['exit']}, {result['wall']:.0f} s, {result['passed']} passed, "
            f"{len(result['failed'])} failed",
            flush=True,
        )
    print("\n| run | exit | wall (s) | tests passed | failures |\n|---|---|---|---|---|")
    for result in results:
        print(
            f"| {result['run']} | {result['exit']} | {result['wall']:.0f} | {result['passed']} | "
            f"{', '.join(result['failed']) or '-'} |"
        )
    walls = sorted(result["wall"] for result in results)
    print(
        f"\nwall: min {walls[0]:.0f} s, median {walls[len(walls) // 2]:.0f} s, max {walls[-1]:.0f} s; "
        f"{sum(r['exit'] != 0 for r in results)} of {len(results)} runs failed; "
        f"load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    by_test: dict[str, list[int]] = {}
    for result in results:
        for test in result["failed"]:
            by_test.setdefault(test, []).append(result["run"])
    for test, runs in sorted(by_test.items(), key=lambda pair: -len(pair[1])):
        print(f"  {test}: failed in run(s) {', '.join(map(str, runs))}")
    return 1 if any(result["exit"] != 0 for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
