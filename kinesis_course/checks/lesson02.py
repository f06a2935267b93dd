"""Checks of lesson 02 · Your first batch handler.

Every check builds its own inputs, with random values, so that only code that follows the rules passes:
a reading in °C, one already in °F, 0 °C (which a truthiness test mistakes for "missing"), a reading
without humidity, and readings that must be refused (no reading_id, no temperature, True as a temperature,
an unknown or missing unit). The handler's check adds a record that is not JSON, which must fail the batch.
The mapping's check reads the mapping back from LocalStack.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from .. import logs, mappings
from ..events import kinesis_event
from . import ExerciseCheckFailed, ExerciseNotSolved, call_exercise, expect, expect_raises, passed
from .mapping import mapping_of, setting

KEYS = ("reading_id", "sensor", "temperature", "unit", "humidity")
TOLERANCE = 0.01  # the result is rounded to 2 decimals; allow for that, nothing more


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _expected(reading: dict) -> dict:
    temperature = reading["temperature"]
    fahrenheit = temperature * 9 / 5 + 32 if reading["unit"] == "C" else temperature
    return {"reading_id": reading["reading_id"], "sensor": reading["sensor"], "temperature": round(fahrenheit, 2),
            "unit": "F", "humidity": reading.get("humidity")}


def _same_reading(got, expected: dict) -> bool:
    return (
        isinstance(got, dict)
        and set(got) == set(KEYS)
        and all(got[key] == expected[key] for key in ("reading_id", "sensor", "unit", "humidity"))
        and _is_number(got["temperature"])
        and abs(got["temperature"] - expected["temperature"]) <= TOLERANCE
    )


def _reading(rng: random.Random, **fields) -> dict:
    return {"reading_id": f"r-{rng.randint(10_000, 99_999)}", "sensor": f"s-{rng.randint(10, 99)}", **fields}


def _good_readings(rng: random.Random) -> list[tuple[str, dict]]:
    """(what it is, reading) pairs that normalise() must accept."""
    humidity = lambda: rng.randint(20, 90)  # noqa: E731
    return [
        ("a reading in °C", _reading(rng, temperature=round(rng.uniform(-15, 35), 1), unit="C", humidity=humidity())),
        ("a reading already in °F", _reading(rng, temperature=rng.randint(60, 80), unit="F", humidity=humidity())),
        ("a reading of 0 °C", _reading(rng, temperature=0, unit="C", humidity=humidity())),
        ("a reading of 0 °F", _reading(rng, temperature=0, unit="F", humidity=humidity())),
        ("a reading without humidity", _reading(rng, temperature=round(rng.uniform(15, 25), 2), unit="C")),
    ]


def _without(reading: dict, key: str) -> dict:
    return {k: v for k, v in reading.items() if k != key}


# What is wrong with a reading normalise() must refuse, and the hint for a normalise that accepts it.
REFUSE_HINTS = {
    "no reading_id": "a reading without reading_id cannot be told apart from another one (lesson 04 writes each "
    "reading once by its reading_id): raise InvalidReading when reading_id is missing or empty, never invent one.",
    "no temperature": "a missing temperature must not become a number: raise InvalidReading (test with "
    "isinstance, not `.get('temperature', 0)`).",
    "temperature null": "None is no temperature: raise InvalidReading.",
    "temperature not a number": "'warm' is not a number: raise InvalidReading unless the temperature is an int "
    "or a float.",
    "temperature True": "True is a bool, and bool is a subclass of int in Python, so isinstance(True, (int, float)) "
    "is True: exclude bool explicitly (`isinstance(t, bool)`), True is not a temperature.",
    "unit K": "only 'C' and 'F' can be converted here: raise InvalidReading for any other unit.",
    "no unit": "a reading without unit must be refused: never assume a missing unit is 'C' (the article's "
    "mistake); raise InvalidReading.",
}


def _bad_readings(rng: random.Random) -> list[tuple[str, dict]]:
    """(what is wrong, reading) pairs that normalise() must refuse."""
    humidity = rng.randint(20, 90)
    return [
        ("no reading_id", _without(_reading(rng, temperature=round(rng.uniform(10, 30), 1), unit="C"), "reading_id")),
        ("no temperature", _reading(rng, unit="C", humidity=humidity)),
        ("temperature null", _reading(rng, temperature=None, unit="F")),
        ("temperature not a number", _reading(rng, temperature="warm", unit="C")),
        ("temperature True", _reading(rng, temperature=True, unit="C", humidity=humidity)),
        ("unit K", _reading(rng, temperature=round(rng.uniform(270, 300), 2), unit="K")),
        ("no unit", _without(_reading(rng, temperature=round(rng.uniform(10, 30), 1)), "unit")),
    ]


def _wrong_reading_hint(got, expected: dict) -> str:
    if isinstance(got, dict) and "humidity" in got and got.get("humidity") == 0 and expected["humidity"] is None:
        return ("this reading has no humidity, and you returned 0: that invents a bone-dry room. Copy humidity when "
                "there is one, and use None (never 0) when there is none.")
    if isinstance(got, dict) and set(got) != set(KEYS):
        return f"return a new dict with exactly the keys {list(KEYS)}; yours has {sorted(got)}."
    return ("unit 'F' in the result; the temperature converted with C * 9 / 5 + 32 only when the unit is 'C' (°F "
            "stays as it is), rounded to 2 decimals; reading_id and sensor copied; humidity copied, None when the "
            "reading has none.")


def check_normalise(normalise, InvalidReading) -> None:
    """Exercise 02.1: good readings become °F with every field kept; bad ones raise InvalidReading."""
    label = "Exercise 02.1"
    rng = random.Random()
    good, bad = _good_readings(rng), _bad_readings(rng)
    for what, reading in good:
        try:
            got = call_exercise(label, normalise, dict(reading))
        except ExerciseNotSolved:
            raise
        except Exception as error:
            raise ExerciseCheckFailed(
                f"{label}, {what} {reading}: your normalise refused it ({type(error).__name__}: {error}).\n"
                "Hint: this reading can be converted without guessing. Test for a missing temperature with "
                "`is None` or isinstance, not with `if not temperature`: 0 is a temperature, not a missing one."
            ) from error
        expected = _expected(reading)
        expect(f"{label}, {what} {reading}", _same_reading(got, expected), expected=expected, got=got,
               hint=_wrong_reading_hint(got, expected))
    for what, reading in bad:
        case = f"{label}, {what} {reading}"
        try:
            got = call_exercise(label, normalise, dict(reading))
        except ExerciseNotSolved:
            raise
        except InvalidReading:
            continue
        except Exception as error:
            raise ExerciseCheckFailed(
                f"{case}: expected InvalidReading, got {type(error).__name__}: {error}.\n"
                "Hint: raise InvalidReading (the class readings.py defines, a subclass of ValueError), not a plain "
                "ValueError or another exception: the handler catches InvalidReading, and only it, to skip a reading "
                "while letting every other error fail the batch."
            ) from error
        raise ExerciseCheckFailed(
            f"{case}: expected InvalidReading, but normalise returned {got!r}.\nHint: {REFUSE_HINTS[what]}"
        )
    passed(label, f"{len(good)} readings converted, {len(bad)} refused")


def _fake_records(payloads: list[bytes], keys: list[str], rng: random.Random) -> list[dict]:
    """Records shaped as boto3's GetRecords returns them, with increasing, non-contiguous sequence numbers."""
    sequence = rng.randrange(10**55, 5 * 10**55)
    arrival = datetime.now(timezone.utc)
    records = []
    for payload, key in zip(payloads, keys):
        sequence += rng.randrange(10**20, 10**22)
        arrival += timedelta(milliseconds=rng.randint(1, 50))
        records.append({"SequenceNumber": str(sequence), "PartitionKey": key, "Data": payload,
                        "ApproximateArrivalTimestamp": arrival})
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


def _run(handler, event: dict, label: str):
    """(result, printed output, exception or None) of one in-process invocation."""
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            return call_exercise(label, handler, event, _context("check-02")), output.getvalue(), None
    except ExerciseNotSolved:
        raise
    except Exception as error:
        return None, output.getvalue(), error


def _unexpected_error(where: str, error: Exception) -> ExerciseCheckFailed:
    if isinstance(error, KeyError):
        hint = ("each record's fields sit under record['kinesis']: decode it with decode_record(record) from "
                "decoding.py, which reads record['kinesis']['data'] (base64); record['data'] does not exist in a "
                "real event.")
    elif type(error).__name__ == "InvalidReading":
        hint = ("catch InvalidReading around normalise(), print a SKIPPED line and go on with the next record; one "
                "reading you cannot use must not fail the other records of the batch.")
    else:
        hint = "every record of this batch can be decoded; process them all and return the summary."
    failed = ExerciseCheckFailed(
        f"{where}: your handler raised {type(error).__name__}: {error}, on an event shaped as Lambda sends it.\n"
        f"Hint: {hint}"
    )
    failed.__cause__ = error
    return failed


def _batch(rng: random.Random) -> tuple[list[dict], list[dict | None]]:
    """Readings in random order and, for each, its normalised form (None where it must be skipped)."""
    mixed = [(reading, _expected(reading)) for _, reading in _good_readings(rng)]
    mixed += [(reading, None) for what, reading in _bad_readings(rng) if what in ("no temperature", "unit K")]
    rng.shuffle(mixed)
    return [reading for reading, _ in mixed], [expected for _, expected in mixed]


def _event(rng: random.Random, payloads: list[bytes], keys: list[str]) -> dict:
    stream_arn = f"arn:aws:kinesis:us-east-1:000000000000:stream/check-02-{rng.randint(1000, 9999)}"
    return kinesis_event(_fake_records(payloads, keys, rng), stream_arn, f"shardId-{rng.randint(0, 9):012d}")


def _check_good_batch(handler, rng: random.Random, label: str, invocation: int) -> dict:
    readings, expectations = _batch(rng)
    event = _event(rng, [json.dumps(r).encode() for r in readings], [r["sensor"] for r in readings])
    records = event["Records"]
    where = f"{label}, invocation {invocation} ({len(records)} records)"
    result, output, error = _run(handler, event, label)
    if error is not None:
        raise _unexpected_error(where, error)

    printed = _printed(output, "READING ")
    wanted = [expected for expected in expectations if expected is not None]
    expect(
        f"{where}, READING lines", len(printed) == len(wanted) and all(map(_same_reading, printed, wanted)),
        expected=wanted, got=printed,
        hint="print one line READING {json} per usable reading, in the order of the records, with the reading "
        "normalise() returned. A reading normalise() refuses is skipped, never given a number.",
    )
    skipped = [record["kinesis"]["sequenceNumber"] for record, expected in zip(records, expectations) if expected is None]
    reported = [entry.get("sequenceNumber") if isinstance(entry, dict) else entry for entry in _printed(output, "SKIPPED ")]
    expect(
        f"{where}, SKIPPED lines", reported == skipped, expected=skipped, got=reported,
        hint="print one line SKIPPED {\"sequenceNumber\": ..., \"reason\": ...} per reading normalise() refused, "
        "with the record's sequence number (record['kinesis']['sequenceNumber']).",
    )
    summary = {"processed": len(wanted), "skipped": skipped}
    if isinstance(result, dict) and result.get("processed") == len(records) and invocation == 1:
        hint = (f"processed counts the readings you printed as READING ({len(wanted)}), not every record: the "
                f"{len(skipped)} skipped ones were not processed.")
    elif isinstance(result, dict) and isinstance(result.get("processed"), int) and result["processed"] > len(wanted):
        hint = ("this is the second invocation, and your counts include the first one's: start from zero in every "
                "invocation. Lambda reuses a warm execution environment, so anything kept at module level (a "
                "counter, a list) survives from one batch to the next.")
    else:
        hint = ("return {'processed': <readings printed>, 'skipped': [<sequence numbers skipped, in order>]} for "
                "this batch only.")
    expect(f"{where}, return value", result == summary, expected=summary, got=result, hint=hint)
    return summary


def _check_poison_batch(handler, rng: random.Random, label: str) -> None:
    """A batch with one record that is not JSON: the handler must let decode_record's MalformedRecord fail it."""
    readings = [reading for _, reading in _good_readings(rng)][:3]
    payloads = [json.dumps(reading).encode() for reading in readings]
    keys = [reading["sensor"] for reading in readings]
    payloads.insert(1, f"{keys[0]},21.5,C".encode())  # a CSV line from a producer that did not get the memo
    keys.insert(1, keys[0])
    event = _event(rng, payloads, keys)
    bad = event["Records"][1]["kinesis"]
    where = f"{label}, a batch of {len(payloads)} records whose record {bad['sequenceNumber']} holds {base64.b64decode(bad['data'])!r}"
    result, _, error = _run(handler, event, label)
    if error is None:
        raise ExerciseCheckFailed(
            f"{where}: expected MalformedRecord to propagate (the invocation fails), but the handler returned "
            f"{result!r}.\nHint: a record that cannot be decoded must fail the batch: do not catch MalformedRecord "
            "(nor Exception, which includes it) around decode_record. Skipping it would lose it for good; lessons 03 "
            "and 06 rely on the failure to retry it, send it to an on-failure destination, or report it. Catch "
            "InvalidReading only, around normalise()."
        )
    if type(error).__name__ != "MalformedRecord":
        failed = ExerciseCheckFailed(
            f"{where}: expected MalformedRecord, got {type(error).__name__}: {error}.\n"
            "Hint: decode each record with decode_record(record) from your decoding.py (lesson 01), not with your "
            "own json.loads(base64.b64decode(...)): decode_record raises MalformedRecord naming the record and what "
            "is wrong with it, which is what the logs must show when a batch fails."
        )
        failed.__cause__ = error
        raise failed


def check_handler(handler) -> None:
    """Exercise 02.2: two batches, as a warm execution environment gets them, then one with a non-JSON record."""
    label = "Exercise 02.2"
    rng = random.Random()
    summary = {}
    for invocation in (1, 2):
        summary = _check_good_batch(handler, rng, label, invocation)
    _check_poison_batch(handler, rng, label)
    passed(label, f"2 batches with {summary['processed']} readings and {len(summary['skipped'])} skipped in each; "
                  "a record that is not JSON fails its batch")


STARTING_POSITION_REQUIRED = (
    "StartingPosition is required for a Kinesis stream: there is no default, and Lambda refuses a mapping without "
    "it. Say where the mapping starts: the readings already in the stream must be processed."
)
BATCH_SIZE = 4


def _reject(mapping: dict, function_name: str, message: str) -> ExerciseCheckFailed:
    """Deletes the rejected mapping (and the logs it may have caused), so a corrected run starts clean."""
    uuid_ = mapping.get("UUID")
    if uuid_:
        mappings.delete_mapping(uuid_)
        logs.delete_logs(function_name)
        message += "\n(The check deleted this mapping: fix your function, then run its cell and this check again.)"
    return ExerciseCheckFailed(message)


def check_reading_mapping(create_reading_mapping, function_name: str, stream_arn: str) -> dict:
    """Exercise 02.3: the learner's create_event_source_mapping call, read back from LocalStack.

    Returns the mapping as LocalStack stores it. Deletes the function's earlier mappings and logs first (a re-run
    would otherwise meet ResourceConflictException, and count each reading twice), and deletes any mapping it rejects.
    """
    label = "Exercise 02.3"
    if mappings.mappings_of(function_name):  # a re-run: start again from a clean function, as the lesson expects
        mappings.delete_mappings_of(function_name)
        logs.delete_logs(function_name)
    try:
        answer = call_exercise(label, create_reading_mapping, function_name, stream_arn)
    except ExerciseNotSolved:
        raise
    except Exception as error:
        text = str(error)
        if "startingposition" in text.lower():
            hint = STARTING_POSITION_REQUIRED
        elif "ResourceConflict" in type(error).__name__:
            hint = ("a mapping of this function and stream already exists: create_reading_mapping must create exactly "
                    "one mapping, with one create_event_source_mapping call.")
        elif "Function does not exist" in text or "Function not found" in text:
            hint = f"FunctionName is the name of the function to invoke: the function_name argument ({function_name!r})."
        elif "Stream not found" in text or "must be of the format" in text or "EventSourceArn" in text:
            hint = f"EventSourceArn is the stream's ARN (the stream_arn argument, {stream_arn!r}), not its name."
        else:
            hint = ("call client('lambda').create_event_source_mapping(FunctionName=..., EventSourceArn=..., "
                    "StartingPosition=..., BatchSize=...) and return its response.")
        failed = ExerciseCheckFailed(
            f"{label}: create_reading_mapping({function_name!r}, {stream_arn!r}) raised "
            f"{type(error).__name__}: {error}\nHint: {hint}"
        )
        failed.__cause__ = error
        raise failed
    mapping = mapping_of(label, answer)

    function_arn = mapping.get("FunctionArn", "")
    if not function_arn.endswith(f":function:{function_name}"):
        raise _reject(mapping, function_name, (
            f"{label}: expected a mapping that invokes {function_name!r}, got one that invokes {function_arn!r}.\n"
            f"Hint: wrong function: FunctionName must be the function_name argument, the function you deployed."
        ))
    if mapping.get("EventSourceArn") != stream_arn:
        raise _reject(mapping, function_name, (
            f"{label}: expected a mapping that reads {stream_arn!r}, got one that reads {mapping.get('EventSourceArn')!r}."
            "\nHint: wrong stream: EventSourceArn must be the stream_arn argument, the stream the readings are in."
        ))
    position = mapping.get("StartingPosition")
    if position != "TRIM_HORIZON":
        if position == "LATEST":
            hint = ("LATEST starts after the newest record: the seven readings already in the stream would never be "
                    "processed. TRIM_HORIZON starts at the oldest record still in the shard.")
        elif position is None:
            hint = STARTING_POSITION_REQUIRED
        else:
            hint = (f"{position} starts at a point in time you would have to choose (and LocalStack 4.14 does not "
                    "support it); the readings already in the stream must all be processed: TRIM_HORIZON.")
        raise _reject(mapping, function_name, f"{label}: expected StartingPosition 'TRIM_HORIZON', got {position!r}.\nHint: {hint}")
    batch_size = setting(mapping, "BatchSize")
    if batch_size != BATCH_SIZE:
        if batch_size == 100:
            hint = ("BatchSize left at the default 100: give BatchSize=4, as the exercise asks. A mapping's defaults "
                    "are rarely what you want; say every setting that matters.")
        else:
            hint = f"the exercise asks for batches of at most {BATCH_SIZE} records: BatchSize={BATCH_SIZE}."
        raise _reject(mapping, function_name, f"{label}: expected BatchSize {BATCH_SIZE}, got {batch_size!r}.\nHint: {hint}")
    passed(label, f"the mapping reads the stream from TRIM_HORIZON in batches of at most {BATCH_SIZE} records")
    return mapping
