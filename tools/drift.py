"""Drift watch: would today's newest boto3, Powertools, JupyterLab or nbval break a lesson before a workshop does?

    make drift                      (python tools/drift.py --uv UV --python PYTHON313)

Builds .venv/drift from requirements.lock, upgrades the watched packages (WATCHED) to their newest releases on
the package index (LocalStack stays pinned: it lives in .venv/localstack and is not touched), then runs, on that
environment and the course's LocalStack, what the fast CI job runs (tests/unit: the tests that need no LocalStack,
lessons in sync), the checks' tests against LocalStack (tests/course), and every
solution notebook under nbval. It writes .state/drift/report.md: what moved (locked -> newest), what ran, what
failed. Exit code 0 when nothing broke. The weekly workflow .github/workflows/drift.yml runs it and keeps the
report.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "drift"
OUT = ROOT / ".state" / "drift"
WATCHED = ("boto3", "botocore", "aws-lambda-powertools", "jupyterlab", "nbval", "nbclient")
FAST_TESTS = ("tests/unit",)  # what the fast CI job runs: every test that needs no LocalStack


@dataclass
class Stage:
    name: str
    command: list[str]
    returncode: int | None = None
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    may_be_empty: bool = False  # pytest's exit 5 (no test collected) is then nothing to run, not a failure


def normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def installed(uv: str, python: Path) -> dict[str, str]:
    listing = subprocess.run(
        [uv, "pip", "list", "--python", str(python), "--format", "json"], check=True, capture_output=True, text=True
    ).stdout
    return {normalise(item["name"]): item["version"] for item in json.loads(listing)}


def moved(before: dict[str, str], after: dict[str, str]) -> list[tuple[str, str, str, bool]]:
    """(package, locked, now, watched) for every package whose version changed, watched ones first."""
    names = sorted(set(before) | set(after), key=lambda name: (normalise(name) not in WATCHED, name))
    return [
        (name, before.get(name, "-"), after.get(name, "-"), normalise(name) in WATCHED)
        for name in names
        if before.get(name) != after.get(name)
    ]


def read_junit(path: Path) -> tuple[dict[str, int], list[str]]:
    """Counts (passed, failed, errors, skipped) and the ids of what failed, from pytest's JUnit XML."""
    if not path.exists():
        return {}, ["(no report: pytest did not get to write one)"]
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failed = []
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        ident = f"{case.get('classname', '')}::{case.get('name', '')}"
        if case.find("failure") is not None:
            counts["failed"] += 1
            failed.append(ident)
        elif case.find("error") is not None:
            counts["errors"] += 1
            failed.append(ident)
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return counts, failed


def report(changes, stages: list[Stage], started: datetime) -> str:
    lines = [
        f"# Drift watch, {started:%Y-%m-%d %H:%M} UTC",
        "",
        "The course environment from requirements.lock, with the watched packages upgraded to their newest "
        "releases (LocalStack pinned).",
        "",
        "## What moved",
        "",
    ]
    if changes:
        lines += ["| package | locked | newest | watched |", "|---|---|---|---|"]
        lines += [f"| {name} | {old} | {new} | {'yes' if watched else ''} |" for name, old, new, watched in changes]
    else:
        lines.append("Nothing: the lock already holds the newest releases of the watched packages.")
    lines += [
        "",
        "## What ran",
        "",
        "| stage | result | passed | failed | errors | skipped | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for stage in stages:
        result = (
            "not run" if stage.returncode is None else "ok" if stage.returncode == 0 else f"exit {stage.returncode}"
        )
        counts = [str(stage.counts.get(key, "")) for key in ("passed", "failed", "errors", "skipped")]
        lines.append(f"| {stage.name} | {result} | {' | '.join(counts)} | {stage.seconds:.0f} |")
    broken = [stage for stage in stages if stage.failed]
    if broken:
        lines += ["", "## What broke", ""]
        for stage in broken:
            lines += [f"{stage.name}:"] + [f"- `{ident}`" for ident in stage.failed] + [""]
        lines.append("Each stage's whole output is beside this report (<stage>.log).")
    return "\n".join(lines).rstrip() + "\n"


def run_stage(stage: Stage, log: Path, junit: Path | None) -> None:
    begin = time.monotonic()
    with log.open("w") as out:
        stage.returncode = subprocess.run(stage.command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode
    if stage.may_be_empty and stage.returncode == 5:
        stage.returncode = 0
    stage.seconds = time.monotonic() - begin
    if junit is not None:
        stage.counts, stage.failed = read_junit(junit)
        if stage.returncode not in (0, None) and not stage.failed:
            stage.failed = [f"(exit {stage.returncode} with no failed test: see {log.name})"]
    elif stage.returncode:
        stage.failed = [f"(exit {stage.returncode}: see {log.name})"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uv", required=True, help="the uv the kit installs with")
    parser.add_argument("--python", required=True, help="a Python 3.13 interpreter")
    args = parser.parse_args(argv)
    started = datetime.now(timezone.utc)
    OUT.mkdir(parents=True, exist_ok=True)
    python = VENV / "bin" / "python"

    print(f"Building {VENV.relative_to(ROOT)} from requirements.lock ...", flush=True)
    if not python.exists():
        subprocess.run([args.uv, "venv", "--quiet", "--python", args.python, str(VENV)], check=True)
    subprocess.run(
        [args.uv, "pip", "sync", "--quiet", "--python", str(python), "requirements.lock"], cwd=ROOT, check=True
    )
    subprocess.run(
        [args.uv, "pip", "install", "--quiet", "--python", str(python), "--no-deps", "-e", "."], cwd=ROOT, check=True
    )
    locked = installed(args.uv, python)
    print(f"Upgrading {', '.join(WATCHED)} to their newest releases ...", flush=True)
    subprocess.run(
        [args.uv, "pip", "install", "--quiet", "--python", str(python), "--upgrade", *WATCHED], cwd=ROOT, check=True
    )
    changes = moved(locked, installed(args.uv, python))
    for name, old, new, watched in changes:
        print(f"  {name}: {old} -> {new}{'' if watched else ' (pulled in)'}")

    pytest = [str(python), "-m", "pytest", "-p", "no:cacheprovider"]
    nbval = [
        "--nbval",
        "--nbval-current-env",
        "--nbval-sanitize-with",
        "tests/nbval_sanitize.cfg",
        "--nbval-cell-timeout",
        "180",
    ]
    stages = [
        Stage("lessons in sync", [str(python), "tools/make_lessons.py", "--check"]),
        Stage("fast job's tests", [*pytest, *FAST_TESTS, f"--junitxml={OUT / 'fast.xml'}"]),
        Stage(
            "checks' tests and solutions under nbval",
            [
                "tools/with_localstack.sh",
                *pytest,
                "tests/course",
                "solutions",
                *nbval,
                "-m",
                "not measures_throughput",
                "-n",
                "2",
                "--dist",
                "loadfile",
                f"--junitxml={OUT / 'suite.xml'}",
            ],
        ),
        # as tools/run_tests.sh: the notebooks that measure throughput, each with LocalStack to itself
        Stage(
            "'alone' solutions under nbval",
            [
                "tools/with_localstack.sh",
                *pytest,
                "solutions",
                *nbval,
                "-m",
                "measures_throughput",
                f"--junitxml={OUT / 'alone.xml'}",
            ],
            may_be_empty=True,
        ),
    ]
    for stage, junit in zip(stages, (None, OUT / "fast.xml", OUT / "suite.xml", OUT / "alone.xml")):
        if junit is not None:
            junit.unlink(missing_ok=True)
        log = OUT / (stage.name.split()[0].strip("'") + ".log")
        print(f"Running {stage.name} ...", flush=True)
        run_stage(stage, log, junit)
        print(f"  {'ok' if stage.returncode == 0 else 'FAILED'} ({stage.seconds:.0f} s)", flush=True)

    text = report(changes, stages, started)
    (OUT / "report.md").write_text(text)
    print("\n" + text + f"\n(written to {(OUT / 'report.md').relative_to(ROOT)})")
    return 0 if all(stage.returncode == 0 for stage in stages) else 1


if __name__ == "__main__":
    sys.exit(main())
