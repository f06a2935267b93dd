"""Timings of the course's engine (LocalStack 4.14 in host mode with the kit's extension), as a learner meets them.

    make bench                                  # starts LocalStack if needed, runs this, stops what it started
    python benchmarks/engine_benchmark.py [--functions 5] [--warm 50] [--esm-runs 3] [--starts 2]

What is measured, each from the client's side (boto3 against the course's endpoint):
- LocalStack ready: a private LocalStack (own port and state folder, with the caches that the course's own
  LocalStack built on its first start) from `localstack_ctl.py up` until it answers healthy with Kinesis started;
- create_function -> Active: from the CreateFunction call until GetFunctionConfiguration says Active;
- cold invoke: the first Invoke of a fresh function (starts its runtime process);
- warm invoke: later Invokes of one function (its runtime is already running);
- ESM creation -> first delivery: from CreateEventSourceMapping (one record already in the stream) until the
  handler starts, by the handler's own clock (same machine).
- bursts: seconds from the last PutRecords answer of a burst until the start of the invocation that delivers the
  burst's last record (handler's clock), for 1,000 records on one shard with BatchSize 100 and BatchSize 10, and
  1,000 records on each of 4 shards at once (BatchSize 100). AWS reads each shard with up to 10,000 records per
  GetRecords and invokes the batches back to back, shards concurrently: about 1-2 s for each of these bursts.
It is not a test: it asserts nothing and prints a table.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kinesis_course import (  # noqa: E402 (after the path set-up, for runs without the editable install)
    client,
    create_mapping,
    delete_function,
    delete_mapping,
    delete_stream,
    ensure_stream,
    json_lines,
    put_records,
    require_localstack,
    wait_until,
)
from kinesis_course.functions import ensure_role, zip_folder  # noqa: E402
from kinesis_course.logs import delete_logs  # noqa: E402

CTL = ROOT / "tools" / "localstack_ctl.py"
sys.path.insert(0, str(CTL.parent))

from localstack_ctl import free_port, seed_caches  # noqa: E402 (tools/ is a folder of scripts)

HANDLER = """
import json
import time

def handler(event, context):
    if "Records" in event:
        print("DELIVERED " + json.dumps({"t": time.time(), "n": len(event["Records"])}))
    return {"ok": True}
"""


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def localstack_ready_times(starts: int) -> list[float]:
    times = []
    for _ in range(starts):
        state_dir = Path(tempfile.mkdtemp(prefix="kcb-localstack-"))
        # A learner's second and later `make up` find these in place; the first one builds or downloads them.
        seed_caches(state_dir)
        environment = {**os.environ, "LOCALSTACK_PORT": str(free_port()), "COURSE_STATE_DIR": str(state_dir)}
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, str(CTL), "up", "--quiet"], env=environment, capture_output=True, text=True, timeout=300
        )
        elapsed = time.monotonic() - started
        subprocess.run([sys.executable, str(CTL), "down"], env=environment, capture_output=True, timeout=60)
        if result.returncode:
            print(f"(a private LocalStack failed to start: {result.stderr.strip()[-500:]})", file=sys.stderr)
        else:
            times.append(elapsed)
        shutil.rmtree(state_dir, ignore_errors=True)
    return times


def create_and_wait_active(name: str, code: bytes) -> float:
    lam = client("lambda")
    started = time.monotonic()
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ensure_role(),
        Handler="handler.handler",
        Timeout=10,
        MemorySize=128,
        Code={"ZipFile": code},
    )
    wait_until(
        lambda: lam.get_function_configuration(FunctionName=name)["State"] == "Active",
        timeout=60,
        what=f"{name} to become Active",
        interval=0.02,
    )
    return time.monotonic() - started


def invoke_round_trip(name: str) -> float:
    started = time.monotonic()
    response = client("lambda").invoke(FunctionName=name, Payload=b"{}")
    response["Payload"].read()
    elapsed = time.monotonic() - started
    if response.get("FunctionError"):
        raise RuntimeError(f"{name} failed: {response['FunctionError']}")
    return elapsed


def remove(function: str, stream: str, mapping: str | None) -> None:
    """Deletes what one ESM measurement created."""
    if mapping:
        delete_mapping(mapping)
    delete_function(function)
    delete_logs(function)
    delete_stream(stream)


def esm_first_delivery(prefix: str, code: bytes, run: int) -> float:
    stream = f"{prefix}stream-{run}"
    function = f"{prefix}esm-{run}"
    stream_arn = ensure_stream(stream)
    mapping = None
    try:
        create_and_wait_active(function, code)
        put_records(stream, [{"run": run}], progress=False)
        created_at = time.time()
        mapping = create_mapping(function, stream_arn, BatchSize=10)
        delivered = wait_until(
            lambda: json_lines(function, "DELIVERED "),
            timeout=60,
            what=f"the first delivery to {function}",
            interval=0.1,
        )
        return delivered[0]["t"] - created_at
    finally:
        remove(function, stream, mapping)


def burst_delivery(prefix: str, code: bytes, label: str, shards: int, per_shard: int, batch_size: int) -> float:
    """Seconds from the last put of a burst (``per_shard`` records on each of ``shards`` shards) to its last delivery."""
    stream = f"{prefix}burst-{label}"
    function = f"{prefix}burst-{label}"
    stream_arn = ensure_stream(stream, shards=shards)
    mapping = None
    try:
        create_and_wait_active(function, code)
        mapping = create_mapping(function, stream_arn, BatchSize=batch_size)  # returns once it is Enabled
        # One partition key per shard: the shards' hash key ranges split the 128-bit range evenly.
        ranges = client("kinesis").describe_stream(StreamName=stream)["StreamDescription"]["Shards"]
        keys = [shard["HashKeyRange"]["StartingHashKey"] for shard in ranges]
        kinesis = client("kinesis")
        total = shards * per_shard
        for start in range(0, per_shard, 500):
            for key in keys:
                kinesis.put_records(
                    StreamName=stream,
                    Records=[
                        {"Data": b'{"burst": 1}', "PartitionKey": "k", "ExplicitHashKey": key}
                        for _ in range(start, min(per_shard, start + 500))
                    ],
                )
        last_put = time.time()

        def all_delivered() -> list[dict] | None:
            lines = json_lines(function, "DELIVERED ")
            return lines if sum(line["n"] for line in lines) >= total else None

        delivered = wait_until(
            all_delivered, timeout=600, what=f"{total} records delivered to {function}", interval=0.5
        )
        return max(line["t"] for line in delivered) - last_put
    finally:
        remove(function, stream, mapping)


BURSTS = [  # label, shards, records per shard, BatchSize
    ("1 shard x 1,000, BatchSize 100", 1, 1000, 100),
    ("1 shard x 1,000, BatchSize 10", 1, 1000, 10),
    ("4 shards x 1,000, BatchSize 100", 4, 1000, 100),
]


def row(label: str, values: list[float], unit: str = "ms") -> str:
    if not values:
        return f"| {label:<62} | {0:>4} | {'n/a':>9} | {'n/a':>9} | {'n/a':>9} | {'n/a':>9} |"
    scale = 1000 if unit == "ms" else 1
    cells = [statistics.median(values), percentile(values, 0.95), min(values), max(values)]
    return f"| {label:<62} | {len(values):>4} | " + " | ".join(f"{value * scale:>9.1f}" for value in cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=2, help="private LocalStack starts to time")
    parser.add_argument("--functions", type=int, default=5, help="fresh functions for create and cold invoke")
    parser.add_argument("--warm", type=int, default=50, help="warm invocations")
    parser.add_argument("--esm-runs", type=int, default=3, help="mappings to time until their first delivery")
    parser.add_argument("--burst-runs", type=int, default=1, help="runs of each burst")
    parser.add_argument("--bursts-only", action="store_true", help="time the bursts only")
    args = parser.parse_args()

    health = require_localstack()
    prefix = f"kcb-{uuid.uuid4().hex[:8]}-"
    folder = Path(tempfile.mkdtemp(prefix="kcb-handler-"))
    (folder / "handler.py").write_text(HANDLER)
    code = zip_folder(folder)
    shutil.rmtree(folder)

    print(
        f"LocalStack {health.get('version')} at {client('lambda').meta.endpoint_url}; Python {sys.version.split()[0]}"
    )
    if args.bursts_only:
        args.starts = args.functions = args.warm = args.esm_runs = 0
    print("Timing private LocalStack starts ...", flush=True)
    ready = localstack_ready_times(args.starts)

    created, cold, warm, esm = [], [], [], []
    bursts = {label: [] for label, *_ in BURSTS}
    functions = [f"{prefix}fn-{index}" for index in range(args.functions)]
    try:
        if functions:
            print(f"Creating {args.functions} functions and invoking each once (cold) ...", flush=True)
            for name in functions:
                created.append(create_and_wait_active(name, code))
                cold.append(invoke_round_trip(name))
            print(f"Invoking {functions[0]} {args.warm} times (warm) ...", flush=True)
            warm = [invoke_round_trip(functions[0]) for _ in range(args.warm)]
        if args.esm_runs:
            print(f"Timing {args.esm_runs} event source mappings until their first delivery ...", flush=True)
            esm = [esm_first_delivery(prefix, code, run) for run in range(args.esm_runs)]
        for run in range(args.burst_runs):
            for index, (label, shards, per_shard, batch_size) in enumerate(BURSTS):
                print(f"Burst: {label} (run {run + 1}) ...", flush=True)
                bursts[label].append(burst_delivery(prefix, code, f"{index}-{run}", shards, per_shard, batch_size))
    finally:
        for name in functions:
            delete_function(name)
            delete_logs(name)

    header = f"| {'measure':<62} | {'runs':>4} | {'median':>9} | {'p95':>9} | {'min':>9} | {'max':>9} |"
    print()
    print(header)
    print("|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|")
    if not args.bursts_only:
        print(row("LocalStack ready (s)", ready, unit="s"))
        print(row("create_function -> Active (ms)", created))
        print(row("cold invoke round trip (ms)", cold))
        print(row("warm invoke round trip (ms)", warm))
        print(row("ESM creation -> first delivery (s)", esm, unit="s"))
    for label, values in bursts.items():
        print(row(f"last put -> last delivery (s): {label}", values, unit="s"))


if __name__ == "__main__":
    main()
