"""Checks of lesson 02 · Your first batch handler.

Every check builds its own inputs, with random values, so that only code that follows the rules passes.
normalise (02.1) meets the statement's boundaries first (0 °C, no humidity, 0 % humidity, a °F value to round, a
key it must leave out, and one reading for each kind of fault: every required field missing or empty, numeric
strings, bools, NaN and infinity, a lowercase or unknown unit), then readings drawn from the statement with
Hypothesis. It gets the reading itself, not a copy, so a change made in place is caught; the handler (02.2) too,
with its event. The handler's check adds a record that is not JSON, which must fail the batch. The mapping's
check (02.3, stated as requirements) reads the mapping back from LocalStack, and each hint names the requirement a
setting breaks. Stretch 02.S measures batches whose data is non-ASCII JSON, bytes that are not UTF-8, or empty."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import math
import random
import uuid
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from types import SimpleNamespace

from .. import logs, mappings
from ..events import kinesis_event
from . import ExerciseCheckFailed, ExerciseNotSolved, call_exercise, expect, fresh_random, passed
from .cases import answer_of, property_cases, unchanged
from .mapping import Requirement, judge, mapping_of, setting, stream_and_function

KEYS = ("reading_id", "sensor", "temperature", "unit", "humidity")
UNITS = ("C", "F")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _exact_fahrenheit(reading: dict) -> Fraction:
    temperature = Fraction(reading["temperature"])
    return temperature * 9 / 5 + 32 if reading["unit"] == "C" else temperature


def _expected(reading: dict) -> dict:
    return {
        "reading_id": reading["reading_id"],
        "sensor": reading["sensor"],
        "temperature": round(float(_exact_fahrenheit(reading)), 2),
        "unit": "F",
        "humidity": reading.get("humidity"),
    }


def _rounded_to_2_decimals(value) -> bool:
    return _is_number(value) and math.isfinite(value) and round(value, 2) == value


def _right_temperature(got, reading: dict) -> bool:
    # Rounded to 2 decimals, and within half a hundredth of the exact value: either rounding of a tie passes,
    # truncation and unrounded values do not. (A float's binary error is far below the 1e-9 allowed for it.)
    return _rounded_to_2_decimals(got) and abs(Fraction(got) - _exact_fahrenheit(reading)) <= Fraction(
        1, 200
    ) + Fraction(1, 10**9)


def _same_reading(got, reading: dict) -> bool:
    """Whether ``got`` is normalise(reading) done right."""
    expected = _expected(reading)
    return (
        isinstance(got, dict)
        and set(got) == set(KEYS)
        and all(
            got[key] == expected[key] and type(got[key]) is type(expected[key])
            for key in ("reading_id", "sensor", "unit")
        )
        and got["humidity"] == expected["humidity"]
        and (got["humidity"] is None) == (expected["humidity"] is None)
        and _right_temperature(got["temperature"], reading)
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
        (
            "a reading in °F with 3 decimals",
            _reading(rng, temperature=(rng.randint(6000, 8000) * 10 + 7) / 1000, unit="F", humidity=humidity()),
        ),
        ("a reading at 0 % humidity", _reading(rng, temperature=round(rng.uniform(-5, 5), 1), unit="C", humidity=0)),
        (
            "a reading with a key normalise does not return",
            _reading(rng, temperature=round(rng.uniform(10, 30), 1), unit="C", humidity=humidity(), battery=0.87),
        ),
    ]


def _without(reading: dict, key: str) -> dict:
    return {k: v for k, v in reading.items() if k != key}


# A reading normalise() must refuse, from a good one, by kind: (how to spoil it, the hint for a normalise that
# accepts it). Every required field, each way it can be missing or wrong, and the tempting near-misses.
FAULTS = {
    "no reading_id": (
        lambda r: _without(r, "reading_id"),
        "a reading without reading_id cannot be told apart from another one (lesson 04 writes each "
        "reading once by its reading_id): raise InvalidReading when reading_id is missing or empty, "
        "never invent one.",
    ),
    "empty reading_id": (
        lambda r: {**r, "reading_id": ""},
        "an empty reading_id is as good as none: test that reading_id is a non-empty string, not just "
        "that the key is there.",
    ),
    "reading_id null": (
        lambda r: {**r, "reading_id": None},
        "None is no reading_id: test that reading_id is a non-empty string, not just that the key is there.",
    ),
    "no sensor": (
        lambda r: _without(r, "sensor"),
        "validate every required field: sensor is required as much as reading_id; raise InvalidReading "
        "when sensor is missing or empty.",
    ),
    "empty sensor": (
        lambda r: {**r, "sensor": ""},
        "validate every required field: an empty sensor is missing; raise InvalidReading when sensor "
        "is missing or empty.",
    ),
    "no temperature": (
        lambda r: _without(r, "temperature"),
        "a missing temperature must not become a number: raise InvalidReading (test with isinstance, "
        "not `.get('temperature', 0)`).",
    ),
    "temperature null": (lambda r: {**r, "temperature": None}, "None is no temperature: raise InvalidReading."),
    "temperature not a number": (
        lambda r: {**r, "temperature": "warm"},
        "'warm' is not a number: raise InvalidReading unless the temperature is an int or a float.",
    ),
    "temperature a numeric string": (
        lambda r: {**r, "temperature": str(r["temperature"])},
        "a number written as a string is still a string, not a number: a producer that "
        "sends '21.5' is broken, and float('21.5') would hide it. Accept only int or "
        "float (isinstance), never float(...) a string.",
    ),
    "temperature True": (
        lambda r: {**r, "temperature": True},
        "True is a bool, and bool is a subclass of int in Python, so isinstance(True, (int, float)) "
        "is True: exclude bool explicitly (`isinstance(t, bool)`), True is not a temperature.",
    ),
    "temperature False": (
        lambda r: {**r, "temperature": False},
        "False is a bool too, not a temperature of 0: exclude every bool (`isinstance(t, bool)`), "
        "not only `t is True`.",
    ),
    "temperature NaN": (
        lambda r: {**r, "temperature": math.nan},
        "NaN is a float but no temperature (json.loads accepts NaN in a payload): refuse any value "
        "that is not finite, with math.isfinite(t).",
    ),
    "temperature infinite": (
        lambda r: {**r, "temperature": math.copysign(math.inf, r["temperature"] or 1)},
        "infinity is a float but no temperature (json.loads accepts Infinity in a payload): "
        "refuse any value that is not finite, with math.isfinite(t).",
    ),
    "unit in lowercase": (
        lambda r: {**r, "unit": r["unit"].lower()},
        "the unit must be exactly 'C' or 'F': a lowercase 'c' or 'f' is another unit string, and "
        "`.upper()` would guess what the producer meant. Raise InvalidReading for it.",
    ),
    "unit K": (
        lambda r: {**r, "unit": "K"},
        "only 'C' and 'F' can be converted here: raise InvalidReading for any other unit.",
    ),
    "unit °C": (
        lambda r: {**r, "unit": "°" + r["unit"]},
        "the unit must be exactly 'C' or 'F', not a spelling that means it: raise InvalidReading for any other "
        "unit string.",
    ),
    "no unit": (
        lambda r: _without(r, "unit"),
        "a reading without unit must be refused: never assume a missing unit is 'C' (the article's mistake); "
        "raise InvalidReading.",
    ),
}
REFUSE_HINTS = {what: hint for what, (_, hint) in FAULTS.items()}


def _bad_readings(rng: random.Random) -> list[tuple[str, dict]]:
    """(what is wrong, reading) pairs that normalise() must refuse, one per kind of fault."""
    good = [reading for _, reading in _good_readings(rng)]
    return [(what, spoil(rng.choice(good))) for what, (spoil, _) in FAULTS.items()]


def _reading_strategy():
    from hypothesis import strategies as st

    text = st.text(min_size=1, max_size=10)
    temperature = st.one_of(
        st.integers(-200, 1000),
        st.floats(-200, 1000, allow_nan=False, allow_infinity=False),
        st.decimals(-200, 1000, places=3, allow_nan=False, allow_infinity=False).map(float),
    )
    humidity = st.one_of(st.none(), st.integers(0, 100), st.floats(0, 100, allow_nan=False))
    extra = st.dictionaries(
        st.text(max_size=8).filter(lambda key: key not in KEYS),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
        max_size=2,
    )

    @st.composite
    def reading(draw):
        fields = {
            "reading_id": draw(text),
            "sensor": draw(text),
            "temperature": draw(temperature),
            "unit": draw(st.sampled_from(UNITS)),
        }
        present = draw(st.sampled_from(["absent", "given", "None"]))
        if present != "absent":
            fields["humidity"] = draw(humidity) if present == "given" else None
        return {**draw(extra), **fields}

    return reading()


def _wrong_reading_hint(got, reading: dict) -> str:
    expected = _expected(reading)
    if not isinstance(got, dict):
        return f"return a new dict with exactly the keys {list(KEYS)}."
    if "humidity" in got and got.get("humidity") == 0 and expected["humidity"] is None:
        return (
            "this reading has no humidity, and you returned 0: that invents a bone-dry room. Copy humidity when "
            "there is one, and use None (never 0) when there is none."
        )
    if set(got) != set(KEYS):
        return f"return a new dict with exactly the keys {list(KEYS)}; yours has {sorted(got, key=str)}."
    if got.get("humidity") is None and expected["humidity"] is not None:
        return (
            f"this reading has {expected['humidity']!r} % humidity and you returned None: 0 % is a value too "
            "(`reading.get('humidity') or None` turns it into None). Keep the humidity the reading has."
        )
    if got.get("unit") != "F":
        return "the result is always in °F: unit 'F'."
    temperature = got.get("temperature")
    if _is_number(temperature) and math.isfinite(temperature) and not _rounded_to_2_decimals(temperature):
        return (
            "round every result to 2 decimals, whichever the unit: a reading already in °F is not converted, "
            "but it is rounded too (round(value, 2))."
        )
    if (
        reading["unit"] == "F"
        and _is_number(temperature)
        and abs(temperature - (reading["temperature"] * 9 / 5 + 32)) < 0.01
    ):
        return "this reading is in °F already: keep its value (rounded to 2 decimals), do not convert it again."
    if (
        _is_number(temperature)
        and abs(temperature - round(reading["temperature"], 2)) < 0.01
        and reading["unit"] == "C"
    ):
        return "this reading is in °C: convert it with C * 9 / 5 + 32."
    return (
        "unit 'F' in the result; the temperature converted with C * 9 / 5 + 32 only when the unit is 'C' (°F "
        "stays as it is), then rounded to 2 decimals (round, not truncated), whichever the unit; reading_id and "
        "sensor copied; humidity copied, None when the reading has none."
    )


def _refused_hint(reading: dict) -> str:
    if reading.get("temperature") == 0:
        return (
            "this reading can be converted without guessing. Test for a missing temperature with `is None` or "
            "isinstance, not with `if not temperature`: 0 is a temperature, not a missing one."
        )
    if reading.get("humidity") in (0, None):
        return (
            "this reading can be converted without guessing: humidity is optional (None when absent) and 0 % is "
            "a value; only reading_id, sensor, temperature and unit are required."
        )
    if set(reading) - set(KEYS):
        return (
            "this reading can be converted without guessing: keys normalise does not return are left out of the "
            "result, not a reason to refuse the reading."
        )
    return (
        "this reading can be converted without guessing: a non-empty reading_id and sensor, an int or float "
        "temperature, unit 'C' or 'F'. Test for a missing temperature with `is None` or isinstance, not with "
        "`if not temperature`: 0 is a temperature, not a missing one."
    )


KEEP_THE_READING = (
    "normalise must not change the reading it is given (the handler logs it when something goes wrong): do not "
    "assign into it or pop from it; build the result as a new dict, {'reading_id': reading['reading_id'], ...}."
)


def _check_good(label: str, normalise, what: str, reading: dict) -> None:
    case = f"{label}, {what} {reading}"
    got = answer_of(
        label,
        case,
        normalise,
        reading,
        keep_hint=KEEP_THE_READING,
        when_raised=lambda error: (
            f"your normalise refused it ({type(error).__name__}: {error}).\nHint: {_refused_hint(reading)}"
        ),
    )
    expect(
        case, _same_reading(got, reading), expected=_expected(reading), got=got, hint=_wrong_reading_hint(got, reading)
    )


def _check_bad(label: str, normalise, InvalidReading, what: str, reading: dict) -> None:
    case = f"{label}, {what}: {reading}"
    try:
        got = unchanged(label, normalise, reading, hint=KEEP_THE_READING)
    except (ExerciseNotSolved, ExerciseCheckFailed):
        raise
    except InvalidReading:
        return
    except Exception as error:
        raise ExerciseCheckFailed(
            f"{case}: expected InvalidReading, got {type(error).__name__}: {error}.\n"
            "Hint: raise InvalidReading (the class readings.py defines, a subclass of ValueError), not a plain "
            "ValueError or another exception: the handler catches InvalidReading, and only it, to skip a reading "
            f"while letting every other error fail the batch. For this reading: {REFUSE_HINTS[what]}"
        ) from error
    raise ExerciseCheckFailed(
        f"{case}: expected InvalidReading, but normalise returned {got!r}.\nHint: {REFUSE_HINTS[what]}"
    )


def check_normalise(normalise, InvalidReading) -> None:
    """Exercise 02.1: good readings become °F with every field kept; bad ones raise InvalidReading.

    The statement's boundaries first (0 °C, no humidity, 0 % humidity, an unrounded °F value, an extra key, and
    one reading for every kind of fault), then readings drawn from the spec, each spoilt in every way it can be.
    The learner's function gets the reading itself, not a copy: a change made in place is caught.
    """
    from hypothesis import strategies as st

    label = "Exercise 02.1"
    rng = fresh_random(label)
    good, bad = _good_readings(rng), _bad_readings(rng)
    for what, reading in good:
        _check_good(label, normalise, what, reading)
    for what, reading in bad:
        _check_bad(label, normalise, InvalidReading, what, reading)
    drawn = property_cases(
        f"{label} (readings drawn from the statement)",
        _reading_strategy(),
        lambda reading: _check_good(label, normalise, "a reading", reading),
        max_examples=40,
    )
    drawn += property_cases(
        f"{label} (readings with one fault)",
        st.tuples(st.sampled_from(list(FAULTS)), _reading_strategy()),
        lambda case: _check_bad(label, normalise, InvalidReading, case[0], FAULTS[case[0]][0](case[1])),
        max_examples=60,
    )
    passed(label, f"{len(good)} readings converted and {len(bad)} refused, then {drawn} more drawn from the statement")


def _fake_records(payloads: list[bytes], keys: list[str], rng: random.Random) -> list[dict]:
    """Records shaped as boto3's GetRecords returns them, with increasing, non-contiguous sequence numbers."""
    sequence = rng.randrange(10**55, 5 * 10**55)
    arrival = datetime.now(timezone.utc)
    records = []
    for payload, key in zip(payloads, keys):
        sequence += rng.randrange(10**20, 10**22)
        arrival += timedelta(milliseconds=rng.randint(1, 50))
        records.append(
            {
                "SequenceNumber": str(sequence),
                "PartitionKey": key,
                "Data": payload,
                "ApproximateArrivalTimestamp": arrival,
            }
        )
    return records


def _context(function_name: str):
    return SimpleNamespace(
        function_name=function_name,
        function_version="$LATEST",
        memory_limit_in_mb=128,
        aws_request_id=str(uuid.uuid4()),
        get_remaining_time_in_millis=lambda: 10_000,
    )


def _printed(output: str, prefix: str) -> list:
    found = []
    for line in output.splitlines():
        if line.startswith(prefix):
            try:
                found.append(json.loads(line[len(prefix) :]))
            except json.JSONDecodeError:
                raise ExerciseCheckFailed(
                    f"Exercise 02.2: this line is not {prefix.strip()} followed by JSON: {line!r}\n"
                    f'Hint: print("{prefix}" + json.dumps(...)), one line per record.'
                ) from None
    return found


KEEP_THE_EVENT = (
    "the handler must not change the event it is given: do not assign into a record, pop from it or blank its data. "
    "Lambda logs and retries what it sent, and lesson 03's on-failure record describes the batch as it came; read "
    "from the event and build your own values."
)


def _run(handler, event: dict, label: str):
    """(result, printed output, exception or None) of one in-process invocation."""
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            return unchanged(label, handler, event, _context("check-02"), hint=KEEP_THE_EVENT), output.getvalue(), None
    except (ExerciseNotSolved, ExerciseCheckFailed):
        raise
    except Exception as error:
        return None, output.getvalue(), error


def _unexpected_error(where: str, error: Exception) -> ExerciseCheckFailed:
    if isinstance(error, KeyError):
        hint = (
            "each record's fields sit under record['kinesis']: decode it with decode_record(record) from "
            "decoding.py, which reads record['kinesis']['data'] (base64); record['data'] does not exist in a "
            "real event."
        )
    elif type(error).__name__ == "InvalidReading":
        hint = (
            "catch InvalidReading around normalise(), print a SKIPPED line and go on with the next record; one "
            "reading you cannot use must not fail the other records of the batch."
        )
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
    first_bad = next(index for index, (_, expected) in enumerate(mixed) if expected is None)
    if all(expected is None for _, expected in mixed[first_bad:]):  # a usable reading must follow a skipped one
        mixed.insert(0, mixed.pop(first_bad))
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
    usable = [reading for reading, expected in zip(readings, expectations) if expected is not None]
    if len(printed) < len(wanted) and all(map(_same_reading, printed, usable)):
        hint = (
            "the READING lines stop early: a reading normalise() refuses is skipped, and the handler goes on "
            "with the next record (`continue`, not `break` or `return`), so every usable reading is printed."
        )
    else:
        hint = (
            "print one line READING {json} per usable reading, in the order of the records, with the reading "
            "normalise() returned. A reading normalise() refuses is skipped, never given a number."
        )
    expect(
        f"{where}, READING lines",
        len(printed) == len(wanted) and all(map(_same_reading, printed, usable)),
        expected=wanted,
        got=printed,
        hint=hint,
    )
    skipped = [
        record["kinesis"]["sequenceNumber"] for record, expected in zip(records, expectations) if expected is None
    ]
    reported = [
        entry.get("sequenceNumber") if isinstance(entry, dict) else entry for entry in _printed(output, "SKIPPED ")
    ]
    event_ids = [record["eventID"] for record, expected in zip(records, expectations) if expected is None]
    by_event_id = (
        " You reported eventIDs: report the sequence number itself, not its eventID ('shardId:sequenceNumber')."
    )
    expect(
        f"{where}, SKIPPED lines",
        reported == skipped,
        expected=skipped,
        got=reported,
        hint='print one line SKIPPED {"sequenceNumber": ..., "reason": ...} per reading normalise() refused, '
        "with the record's sequence number (record['kinesis']['sequenceNumber'])."
        + (by_event_id if reported == event_ids else ""),
    )
    summary = {"processed": len(wanted), "skipped": skipped}
    if isinstance(result, dict) and result.get("processed") == len(records) and invocation == 1:
        hint = (
            f"processed counts the readings you printed as READING ({len(wanted)}), not every record: the "
            f"{len(skipped)} skipped ones were not processed."
        )
    elif isinstance(result, dict) and isinstance(result.get("processed"), int) and result["processed"] > len(wanted):
        hint = (
            "this is the second invocation, and your counts include the first one's: start from zero in every "
            "invocation. Lambda reuses a warm execution environment, so anything kept at module level (a "
            "counter, a list) survives from one batch to the next."
        )
    elif isinstance(result, dict) and result.get("skipped") == event_ids:
        hint = "skipped lists the records' sequence numbers (record['kinesis']['sequenceNumber']), not their eventIDs."
    else:
        hint = (
            "return {'processed': <readings printed>, 'skipped': [<sequence numbers skipped, in order>]} for "
            "this batch only."
        )
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
            "around decode_record, nor Exception or ValueError, which both include it (MalformedRecord is a "
            "ValueError, as InvalidReading is). Skipping it would lose it for good; lessons 03 and 06 rely on the "
            "failure to retry it, send it to an on-failure destination, or report it. Catch InvalidReading only, "
            "around normalise()."
        )
    wrapped = error.__cause__ or error.__context__
    if type(error).__name__ != "MalformedRecord" and type(wrapped).__name__ == "MalformedRecord":
        failed = ExerciseCheckFailed(
            f"{where}: expected MalformedRecord, got {type(error).__name__}: {error}.\n"
            f"Hint: let MalformedRecord itself propagate, not wrapped in a {type(error).__name__}: Lambda reports "
            "the exception's class (errorType) and message, and MalformedRecord's say which record and what is wrong "
            "with it. Do not catch it in the handler at all."
        )
        failed.__cause__ = error
        raise failed
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
    rng = fresh_random(label)
    summary = {}
    for invocation in (1, 2):
        summary = _check_good_batch(handler, rng, label, invocation)
    _check_poison_batch(handler, rng, label)
    passed(
        label,
        f"2 batches with {summary['processed']} readings and {len(summary['skipped'])} skipped in each; "
        "a record that is not JSON fails its batch",
    )


# The requirements of Exercise 02.3, as the statement numbers them: each hint names the one a setting breaks.
FEEDS = "requirement 1 (the stream's readings go to your function)"
BACKLOG = "requirement 2 (the seven readings already in the stream are processed)"
AT_MOST_4 = "requirement 3 (no invocation carries more than 4 readings)"
FEWEST = "requirement 4 (within that, as few invocations as possible)"
READS_NOW = "requirement 5 (the mapping reads the stream as soon as it exists)"
DEFAULTS = "requirement 6 (every other setting keeps its default)"
NO_STARTING_POSITION = (
    "StartingPosition is required for a Kinesis stream: there is no default, and Lambda refuses a mapping without "
    "it. Say where the mapping starts so that the readings already in the stream are processed."
)
STARTING_POSITION_REQUIRED = f"{BACKLOG}: {NO_STARTING_POSITION}"
BATCH_SIZE = 4
READINGS_IN_STREAM = 7


def _invocations(batch_size: int, readings: int = READINGS_IN_STREAM) -> int:
    return -(-readings // batch_size)


def _starting_position_hint(position) -> str:
    if position is None:
        return NO_STARTING_POSITION
    return (
        f"{position} starts at a point in time you would have to choose (and LocalStack 4.14 alone does not support "
        "it), and nothing guarantees it is before the oldest reading. Start at the oldest record still in the shard."
    )


def _requirements(function_name: str, stream_arn: str) -> list[Requirement]:
    """The statement's six requirements, as the stored settings that meet them (checks/mapping.py's judge)."""
    return [
        *stream_and_function(
            function_name,
            stream_arn,
            FEEDS,
            stream_hint="Wrong stream. EventSourceArn must be the stream_arn argument, the stream the readings are in.",
            function_hint="Wrong function. FunctionName must be the function_name argument, the function you deployed.",
        ),
        Requirement(
            "StartingPosition",
            "TRIM_HORIZON",
            BACKLOG,
            _starting_position_hint,
            mistakes=[
                (
                    lambda position: position == "LATEST",
                    "LATEST starts after the newest record, so the seven readings already in the stream would "
                    "never be processed. Which position starts at the oldest record still in the shard?",
                )
            ],
            read=lambda mapping: mapping.get("StartingPosition"),
        ),
        Requirement(
            "BatchSize",
            f"at most {BATCH_SIZE}",
            AT_MOST_4,
            lambda size: (
                f"BatchSize is the most records a batch may hold, so with {size} a batch can carry {size} records, "
                "more than 4."
            ),
            mistakes=[
                (
                    lambda size: size == 100,
                    "Left out, BatchSize is 100 (the default), so one batch may carry all seven readings, and up to "
                    "100. BatchSize is the most records one batch may hold: the largest value that keeps every "
                    f"invocation at 4 readings or fewer is {BATCH_SIZE}.",
                )
            ],
            met=lambda size: isinstance(size, int) and size <= BATCH_SIZE,
        ),
        Requirement(
            "BatchSize",
            BATCH_SIZE,
            FEWEST,
            lambda size: (
                f"Batches of at most {size} records take {_invocations(size)} invocations for the seven readings, "
                f"where batches of up to {BATCH_SIZE} take {_invocations(BATCH_SIZE)}. Take the largest BatchSize "
                f"that keeps {AT_MOST_4}."
            ),
        ),
        Requirement(
            "State",
            "Enabled",
            READS_NOW,
            "Enabled=False creates a mapping that never reads the stream, and the readings would wait there. Leave "
            "Enabled out (it defaults to True).",
            met=lambda state: state not in ("Disabled", "Disabling"),
            read=lambda mapping: mapping.get("State"),
        ),
        Requirement(
            "MaximumBatchingWindowInSeconds",
            0,
            DEFAULTS,
            lambda window: (
                f"A batching window makes the mapping wait up to {window} s for more records before it invokes. It "
                "saves no invocation here: the seven readings are all in the stream already, and BatchSize alone "
                "decides how many go in one batch. Leave MaximumBatchingWindowInSeconds out (lesson 05 is about it)."
            ),
            read=lambda mapping: setting(mapping, "MaximumBatchingWindowInSeconds") or 0,
        ),
    ]


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
            hint = (
                "a mapping of this function and stream already exists: create_reading_mapping must create exactly "
                "one mapping, with one create_event_source_mapping call."
            )
        elif "Function does not exist" in text or "Function not found" in text:
            hint = (
                f"{FEEDS}: FunctionName is the name of the function to invoke: the function_name argument "
                f"({function_name!r})."
            )
        elif "Stream not found" in text or "must be of the format" in text or "EventSourceArn" in text:
            hint = (
                f"{FEEDS}: EventSourceArn is the stream's ARN (the stream_arn argument, {stream_arn!r}), not its name."
            )
        elif "Invalid type for parameter" in text:
            hint = (
                "boto3 refused a value of the wrong type: BatchSize is an int (4), not a string ('4'); "
                "FunctionName, EventSourceArn and StartingPosition are strings."
            )
        else:
            hint = (
                "call client('lambda').create_event_source_mapping(FunctionName=..., EventSourceArn=..., "
                "StartingPosition=..., BatchSize=...) and return its response."
            )
        if mappings.mappings_of(function_name):  # a first call may have succeeded before the one that failed
            mappings.delete_mappings_of(function_name)
            hint += " (The check deleted the mapping your function had created before it failed.)"
        failed = ExerciseCheckFailed(
            f"{label}: create_reading_mapping({function_name!r}, {stream_arn!r}) raised "
            f"{type(error).__name__}: {error}\nHint: {hint}"
        )
        failed.__cause__ = error
        raise failed
    try:
        mapping = mapping_of(label, answer)
    except ExerciseCheckFailed:
        mappings.delete_mappings_of(function_name)  # created, maybe, but not returned: it must not poll unchecked
        raise

    try:
        judge(label, mapping, _requirements(function_name, stream_arn))
    except ExerciseCheckFailed as failed:
        raise _reject(mapping, function_name, str(failed)) from None
    passed(
        label,
        f"the readings already in the stream are processed (TRIM_HORIZON), in batches of at most {BATCH_SIZE} records",
    )
    return mapping


# ---------------------------------------------------------------------------------------------- Stretch 02.S

KEEP_THE_BATCH = (
    "batch_data_bytes only reads the event: decode each record's data into a local variable, never "
    "write it back into record['kinesis']."
)


def _data_payloads(rng: random.Random) -> list[bytes]:
    """What producers send: JSON with non-ASCII text, a record that is not UTF-8, an empty one, random bytes."""
    site = rng.choice(["Zürich", "Malmö", "Saint-Étienne", "Kraków"])
    payloads = [
        json.dumps(
            {
                "reading_id": f"r-{rng.randrange(10**4)}",
                "site": site,
                "unit": "°C",
                "temperature": round(rng.uniform(-5, 30), 2),
            },
            ensure_ascii=False,
        ).encode("utf-8"),
        "21,5 °C ☀".encode("utf-8"),
        b"\xff\xfe" + bytes(rng.randrange(256) for _ in range(rng.randint(1, 9))),
        b"",
        bytes(rng.randrange(256) for _ in range(rng.randint(20, 90))),
    ]
    rng.shuffle(payloads)
    return payloads


def _data_bytes_hint(got, event: dict, payloads: list[bytes]) -> str:
    records = event["Records"]
    if got == sum(len(record["kinesis"]["data"]) for record in records):
        return (
            "you counted the characters of the base64 text in record['kinesis']['data']: base64 writes 4 "
            "characters for every 3 bytes (rounded up to a multiple of 4). Decode it first, then count: "
            "len(base64.b64decode(data))."
        )
    if got == len(json.dumps(event)) or got == len(json.dumps(event).encode()):
        return (
            "that is the size of the whole event as JSON: base64, eventID, ARNs and the other fields included. "
            "Count only each record's data, decoded from base64."
        )
    if got == len(records):
        return "that is the number of records: count the bytes of their data, decoded from base64."
    if got == len(payloads[0]) and len(payloads) > 1:
        return "that is the first record's data alone: add up the data of every record of the batch."
    characters = {
        sum(len(payload.decode("utf-8", errors=errors)) for payload in payloads) for errors in ("replace", "ignore")
    }
    if got in characters:
        return (
            "you counted characters, not bytes: in UTF-8 '°' and 'ü' take 2 bytes, '☀' takes 3, and bytes "
            "that are not UTF-8 are bytes all the same. Count len() of the bytes base64 gives back, without "
            "decoding them to text."
        )
    return (
        "add up len(base64.b64decode(record['kinesis']['data'])) over every record: the bytes the producer sent, "
        "whatever they hold."
    )


def _data_bytes_raised(error: Exception) -> str:
    text = f"batch_data_bytes(event) raised {type(error).__name__}: {error}\nHint: "
    if isinstance(error, (UnicodeDecodeError, json.JSONDecodeError)) or "MalformedRecord" in type(error).__name__:
        return text + (
            "do not decode the data to text or JSON: a record that is not UTF-8 or not JSON carried bytes "
            "too, and they count. len(base64.b64decode(record['kinesis']['data'])) is all you need."
        )
    if isinstance(error, KeyError):
        return text + "each record's data is record['kinesis']['data'], base64-encoded."
    return text + "add up len(base64.b64decode(record['kinesis']['data'])) over the records of event['Records']."


def check_batch_data_bytes(batch_data_bytes) -> None:
    """Stretch 02.S: the bytes of data a batch carried, as the producers sent them (decoded from base64), for
    batches with non-ASCII JSON, bytes that are not UTF-8, an empty record and random bytes."""
    label = "Stretch 02.S"
    rng = fresh_random(label)
    batches = 0
    for _ in range(4):
        payloads = _data_payloads(rng)
        event = _event(rng, payloads, [f"s-{rng.randrange(100)}" for _ in payloads])
        case = f"{label} (a batch of {len(payloads)} records whose data is {[p[:24] for p in payloads]!r})"
        got = answer_of(label, case, batch_data_bytes, event, keep_hint=KEEP_THE_BATCH, when_raised=_data_bytes_raised)
        expected = sum(len(payload) for payload in payloads)
        if got != expected or isinstance(got, bool):
            raise ExerciseCheckFailed(
                f"{case}: expected {expected} bytes, got {got!r}.\nHint: {_data_bytes_hint(got, event, payloads)}"
            )
        batches += 1
    passed(label, f"{batches} batches measured, non-ASCII text, bytes that are not UTF-8 and empty data included")
