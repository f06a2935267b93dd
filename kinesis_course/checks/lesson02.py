"""Checks of lesson 02 · Your first batch handler.

Every check builds its own inputs, with random values, so that only code that follows the rules passes:
a reading in °C, one already in °F, 0 °C (which a truthiness test mistakes for "missing"), a reading
without humidity, and readings that must be refused (no temperature, an unknown or missing unit, a
temperature that is not a number).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from ..events import kinesis_event
from . import ExerciseCheckFailed, call_exercise, expect, expect_raises, passed

KEYS = ("sensor", "temperature", "unit", "humidity")
TOLERANCE = 0.01  # the result is rounded to 2 decimals; allow for that, nothing more


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _expected(reading: dict) -> dict:
    temperature = reading["temperature"]
    fahrenheit = temperature * 9 / 5 + 32 if reading["unit"] == "C" else temperature
    return {"sensor": reading["sensor"], "temperature": round(fahrenheit, 2), "unit": "F", "humidity": reading.get("humidity")}


def _same_reading(got, expected: dict) -> bool:
    return (
        isinstance(got, dict)
        and set(got) == set(KEYS)
        and got["sensor"] == expected["sensor"]
        and got["unit"] == "F"
        and got["humidity"] == expected["humidity"]
        and _is_number(got["temperature"])
        and abs(got["temperature"] - expected["temperature"]) <= TOLERANCE
    )


def _sensor(rng: random.Random) -> str:
    return f"s-{rng.randint(10, 99)}"


def _good_readings(rng: random.Random) -> list[tuple[str, dict]]:
    """(what it is, reading) pairs that normalise() must accept."""
    return [
        ("a reading in °C", {"sensor": _sensor(rng), "temperature": round(rng.uniform(-15, 35), 1), "unit": "C",
                             "humidity": rng.randint(20, 90)}),
        ("a reading already in °F", {"sensor": _sensor(rng), "temperature": rng.randint(60, 80), "unit": "F",
                                     "humidity": rng.randint(20, 90)}),
        ("a reading of 0 °C", {"sensor": _sensor(rng), "temperature": 0, "unit": "C", "humidity": rng.randint(20, 90)}),
        ("a reading of 0 °F", {"sensor": _sensor(rng), "temperature": 0, "unit": "F", "humidity": rng.randint(20, 90)}),
        ("a reading without humidity", {"sensor": _sensor(rng), "temperature": round(rng.uniform(15, 25), 2),
                                        "unit": "C"}),
    ]


def _bad_readings(rng: random.Random) -> list[tuple[str, dict]]:
    """(what is wrong, reading) pairs that normalise() must refuse."""
    return [
        ("no temperature", {"sensor": _sensor(rng), "unit": "C", "humidity": rng.randint(20, 90)}),
        ("temperature null", {"sensor": _sensor(rng), "temperature": None, "unit": "F"}),
        ("temperature not a number", {"sensor": _sensor(rng), "temperature": "warm", "unit": "C"}),
        ("unit K", {"sensor": _sensor(rng), "temperature": round(rng.uniform(270, 300), 2), "unit": "K"}),
        ("no unit", {"sensor": _sensor(rng), "temperature": round(rng.uniform(10, 30), 1)}),
    ]


def check_normalise(normalise) -> None:
    label = "Exercise 02.1"
    rng = random.Random()
    for what, reading in _good_readings(rng):
        try:
            got = call_exercise(label, normalise, dict(reading))
        except ValueError as error:
            raise ExerciseCheckFailed(
                f"{label}, {what} {reading}: your normalise refused it ({type(error).__name__}: {error}).\n"
                "Hint: this reading can be converted without guessing. Test for a missing temperature with "
                "`is None` or isinstance, not with `if not temperature`: 0 is a temperature."
            ) from None
        expected = _expected(reading)
        expect(
            f"{label}, {what} {reading}", _same_reading(got, expected), expected=expected, got=got,
            hint="Return a new dict with exactly sensor, temperature, unit and humidity: unit 'F', the temperature "
            "converted with C * 9 / 5 + 32 only when the unit is 'C' (°F stays as it is; 0 is a temperature, not a "
            "missing one), rounded to 2 decimals, and humidity None when the reading has none (not 0).",
        )
    for what, reading in _bad_readings(rng):
        expect_raises(
            f"{label}, {what} {reading}", ValueError, normalise, dict(reading),
            hint="Refuse what you cannot convert without guessing: raise InvalidReading (a ValueError) when the "
            "temperature is missing or not a number, or the unit is anything but 'C' or 'F'.",
        )
    passed(label, f"{len(_good_readings(rng))} readings converted, {len(_bad_readings(rng))} refused")


def _fake_records(readings: list[dict], rng: random.Random) -> list[dict]:
    """Records shaped as boto3's GetRecords returns them, with increasing, non-contiguous sequence numbers."""
    sequence = rng.randrange(10**55, 5 * 10**55)
    arrival = datetime.now(timezone.utc)
    records = []
    for reading in readings:
        sequence += rng.randrange(10**20, 10**22)
        arrival += timedelta(milliseconds=rng.randint(1, 50))
        records.append({
            "SequenceNumber": str(sequence), "PartitionKey": reading.get("sensor", "unknown"),
            "Data": json.dumps(reading).encode("utf-8"), "ApproximateArrivalTimestamp": arrival,
        })
    return records


def _context(function_name: str):
    return SimpleNamespace(
        function_name=function_name, function_version="$LATEST", memory_limit_in_mb=128,
        aws_request_id=str(uuid.uuid4()), get_remaining_time_in_millis=lambda: 10_000,
    )


def _printed(output: str, prefix: str) -> list:
    found = []
    for line in output.splitlines():
        if line.startswith(prefix):
            try:
                found.append(json.loads(line[len(prefix):]))
            except json.JSONDecodeError:
                raise ExerciseCheckFailed(
                    f"Exercise 02.2: this line is not {prefix.strip()} followed by JSON: {line!r}\n"
                    f"Hint: print(\"{prefix}\" + json.dumps(...)), one line per record."
                ) from None
    return found


def _invoke(handler, event: dict, label: str):
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            result = call_exercise(label, handler, event, _context("check-02"))
    except KeyError as error:
        raise ExerciseCheckFailed(
            f"{label}: your handler raised KeyError {error} on an event shaped as Lambda sends it.\n"
            "Hint: each record's fields sit under record['kinesis']: record['kinesis']['data'] (base64) and "
            "record['kinesis']['sequenceNumber']."
        ) from None
    except ValueError as error:
        raise ExerciseCheckFailed(
            f"{label}: your handler raised {type(error).__name__}: {error}.\n"
            "Hint: catch InvalidReading around normalise(), print a SKIPPED line and go on with the next record; "
            "one reading you cannot use must not fail the other records of the batch."
        ) from None
    return result, output.getvalue()


def _batch(rng: random.Random) -> tuple[list[dict], list[dict | None]]:
    """Readings in random order and, for each, its normalised form (None where it must be skipped)."""
    mixed = [(reading, _expected(reading)) for _, reading in _good_readings(rng)]
    mixed += [(reading, None) for what, reading in _bad_readings(rng) if what in ("no temperature", "unit K")]
    rng.shuffle(mixed)
    return [reading for reading, _ in mixed], [expected for _, expected in mixed]


def check_handler(handler) -> None:
    label = "Exercise 02.2"
    rng = random.Random()
    stream_arn = f"arn:aws:kinesis:us-east-1:000000000000:stream/check-02-{rng.randint(1000, 9999)}"
    shard_id = f"shardId-{rng.randint(0, 9):012d}"
    # Two invocations, as a warm execution environment would get: the second must not count the first.
    for invocation in (1, 2):
        readings, expectations = _batch(rng)
        records = _fake_records(readings, rng)
        event = kinesis_event(records, stream_arn, shard_id)
        result, output = _invoke(handler, event, label)
        where = f"{label}, invocation {invocation} ({len(records)} records)"

        printed = _printed(output, "READING ")
        wanted = [expected for expected in expectations if expected is not None]
        expect(
            f"{where}, READING lines", len(printed) == len(wanted) and all(map(_same_reading, printed, wanted)),
            expected=wanted, got=printed,
            hint="Print one line READING {json} per usable reading, in the order of the records, with the "
            "normalised reading (unit F). A reading without temperature is skipped, never given a number.",
        )
        skipped = [record["SequenceNumber"] for record, expected in zip(records, expectations) if expected is None]
        reported = [entry.get("sequenceNumber") if isinstance(entry, dict) else entry for entry in _printed(output, "SKIPPED ")]
        expect(
            f"{where}, SKIPPED lines", reported == skipped, expected=skipped, got=reported,
            hint="Print one line SKIPPED {\"sequenceNumber\": ..., \"reason\": ...} per reading normalise() refused, "
            "with the record's sequence number (record['kinesis']['sequenceNumber']).",
        )
        summary = {"processed": len(wanted), "skipped": skipped}
        expect(
            f"{where}, return value", result == summary, expected=summary, got=result,
            hint="Return {'processed': <readings printed>, 'skipped': [<sequence numbers skipped>]} for this batch "
            "only: start from zero in every invocation (module-level lists survive between warm invocations).",
        )
    passed(label, f"2 batches of {len(records)} records, {summary['processed']} readings and "
                  f"{len(summary['skipped'])} skipped in each")
