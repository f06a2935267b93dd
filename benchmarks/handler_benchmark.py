"""The course's handler next to the Powertools handler: records per second and DynamoDB writes per record.

    .venv/course/bin/python benchmarks/handler_benchmark.py [--records 10000]

Both handlers get the same Kinesis event (``--records`` sensor readings; records 5, 10, 15, ... repeat the reading
before them under their own sequence number, as a producer's retry does), in-process, against the DynamoDB of the course's LocalStack (moto, through the
kit's extension), each with fresh tables. Each handler runs the event twice: the first pass stores the readings,
the second is a full redelivery (what a retried batch costs). The two handlers run in one process, one after the
other, so the ratio between them holds on a noisy machine even when the absolute figures do not. It prints
figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3  # noqa: E402

from kinesis_course import REGION, delete_table, endpoint_url, ensure_table, kinesis_event, require_localstack  # noqa: E402
from kinesis_course.capstone import producer, replay, run  # noqa: E402
from kinesis_course.handler_steps import copy_handler_before  # noqa: E402

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def counted_client(counter: Counter):
    """A DynamoDB client of its own boto3 session (clients of one session share their event hooks)."""
    dynamodb = boto3.session.Session().client(
        "dynamodb",
        endpoint_url=endpoint_url(),
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: counter.update([model.name]))
    return dynamodb


def make_event(count: int) -> dict:
    readings = producer.make_readings(int(count / 1.25) + 1)
    now = datetime.now(timezone.utc)
    records = []
    for index in range(count):
        reading = readings[index - index // 5]  # records 5, 10, 15, ... repeat the reading before them
        records.append(
            {
                "PartitionKey": reading["sensor"],
                "SequenceNumber": str(10**55 + index * 1000),
                "Data": json.dumps(reading).encode(),
                "ApproximateArrivalTimestamp": now,
            }
        )
    return kinesis_event(records, "arn:aws:kinesis:us-east-1:000000000000:stream/benchmark", "shardId-000000000000")


def context(name: str):
    return SimpleNamespace(
        function_name=name,
        aws_request_id=str(uuid.uuid4()),
        memory_limit_in_mb=128,
        invoked_function_arn=f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        get_remaining_time_in_millis=lambda: 900_000,
    )


def measure(label: str, handler, event: dict, counter: Counter, name: str) -> list[dict]:
    rows = []
    for attempt in ("first delivery", "redelivery"):
        counter.clear()
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the handler's BATCH and DONE lines
            response = handler(event, context(name))
        elapsed = time.perf_counter() - start
        failures = len((response or {}).get("batchItemFailures", []))
        writes = sum(n for op, n in counter.items() if op in WRITES)
        rows.append(
            {
                "handler": label,
                "pass": attempt,
                "records": len(event["Records"]),
                "seconds": elapsed,
                "records/s": len(event["Records"]) / elapsed,
                "writes/record": writes / len(event["Records"]),
                "calls": dict(sorted(counter.items())),
                "failures": failures,
            }
        )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args(argv)
    require_localstack()
    event = make_event(args.records)
    prefix = f"kcb-{uuid.uuid4().hex[:6]}-"
    folder = Path(tempfile.mkdtemp(prefix="handler-benchmark-"))
    course_dir, powertools_dir = folder / "course", folder / "powertools"
    copy_handler_before("99", course_dir)
    run.powertools_build(course_dir, powertools_dir)
    tables = {name: prefix + name for name in ("course", "powertools", "idempotency")}
    for key, table in tables.items():
        ensure_table(table, key="id" if key == "idempotency" else "pk")
    rows = []
    try:
        counter = Counter()
        replay.local_process(course_dir, tables["course"])  # sets TABLE and imports the handler's modules
        course = replay.load_handler_module(course_dir, "handler")
        course.dynamodb = counted_client(counter)
        rows += measure("course handler", course.handler, event, counter, prefix + "course")
        replay.local_powertools_process(
            powertools_dir, tables["powertools"], tables["idempotency"], prefix + "powertools"
        )
        powertools = sys.modules["powertools_handler"]
        powertools.dynamodb = powertools.persistence.client = counted_client(counter)
        rows += measure("Powertools handler", powertools.handler, event, counter, prefix + "powertools")
    finally:
        for table in tables.values():
            delete_table(table)
    print(
        f"{args.records:,} records ({(args.records - 1) // 5:,} of them repeat a reading), in-process, "
        f"LocalStack's DynamoDB; {platform.node()}, {datetime.now(timezone.utc):%Y-%m-%d}"
    )
    print(f"{'handler':<20} {'pass':<15} {'records/s':>10} {'writes/record':>14}  DynamoDB calls")
    for row in rows:
        print(
            f"{row['handler']:<20} {row['pass']:<15} {row['records/s']:>10,.0f} {row['writes/record']:>14.2f}  "
            f"{row['calls']}"
        )
    first = {row["handler"]: row for row in rows if row["pass"] == "first delivery"}
    ratio = first["course handler"]["records/s"] / first["Powertools handler"]["records/s"]
    print(f"the course handler processed {ratio:.1f}x as many records per second as the Powertools handler")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
