"""Lesson 04's views of what happened: each delivery of a batch to a function, and a table's items as plain dicts.

The course's handler logs one ``BATCH {...}`` line when it is given a batch and one ``DONE {...}`` line when it
finishes it; lesson 04's ``chaos.py`` logs ``CRASH {...}`` when it makes a delivery fail. Reading them back, in
order, tells each delivery's story.
"""

from __future__ import annotations

import json
from decimal import Decimal

from boto3.dynamodb.types import TypeDeserializer

from .logs import log_lines, wait_for_lines
from .tables import scan_all


def deliveries(function_name: str) -> list[dict]:
    """[{"records": n, "outcome": "DONE" | "CRASH" | None, "details": {...}}] per BATCH line, oldest first."""
    found: list[dict] = []
    for line in log_lines(function_name):
        what, _, details = line.partition(" ")
        if what == "BATCH":
            found.append({"records": len(json.loads(details)["sequenceNumbers"]), "outcome": None, "details": {}})
        elif what in ("DONE", "CRASH") and found and found[-1]["outcome"] is None:
            found[-1].update(outcome=what, details=json.loads(details))
    return found


def show_deliveries(function_name: str) -> None:
    """Prints one line per delivery: how many records it carried and how it ended."""
    for number, delivery in enumerate(deliveries(function_name), start=1):
        ending = delivery["outcome"] or "(no DONE line: the function failed)"
        print(f"delivery {number}: {delivery['records']} records -> {ending} {delivery['details'] or ''}".rstrip())


def wait_for_done(function_name: str, count: int = 1, timeout: float = 60) -> None:
    """Waits until the function has logged ``count`` DONE lines."""
    wait_for_lines(
        function_name,
        lambda lines: sum(line.startswith("DONE ") for line in lines) >= count,
        timeout=timeout,
        what=f"{count} DONE line(s)",
    )


def _plain(value):
    # DynamoDB numbers arrive as Decimal; show 3 rather than Decimal('3'), 70.7 rather than Decimal('70.7').
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def items(table_name: str) -> list[dict]:
    """Every item of a table as a plain dict, sorted by pk, so that every run prints them alike."""
    deserialize = TypeDeserializer().deserialize
    rows = [{name: _plain(deserialize(value)) for name, value in item.items()} for item in scan_all(table_name)]
    return sorted(rows, key=lambda row: str(row.get("pk")))


def per_sensor(readings: list[dict]) -> dict[str, tuple[int, float]]:
    """{sensor: (how many readings, their temperatures' sum)} of readings (dicts with sensor and temperature)."""
    totals: dict[str, tuple[int, float]] = {}
    for reading in readings:
        count, total = totals.get(reading["sensor"], (0, 0.0))
        totals[reading["sensor"]] = (count + 1, round(total + reading["temperature"], 2))
    return dict(sorted(totals.items()))
