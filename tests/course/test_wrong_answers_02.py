"""Wrong answers to lesson 02's exercises: each must be rejected with a hint that names the mistake.

02.1 (normalise) and 02.2 (handler) run in-process; 02.3 (the mapping) creates real mappings on the shared
LocalStack, with names of its own (kcm02-<uuid8>-...), deleted afterwards.
"""

from __future__ import annotations

import base64
import importlib
import json
import math
import sys

import pytest
from wrong_answers import assert_rejected

from kinesis_course import client, delete_mappings_of
from kinesis_course import handler_steps
from kinesis_course.checks import ExerciseNotSolved
from kinesis_course.checks import lesson02 as checks


@pytest.fixture(scope="module")
def handler_package(tmp_path_factory):
    """decoding, readings and handler as lesson 02 leaves them, imported by plain name as Lambda imports them."""
    folder = tmp_path_factory.mktemp("handler02")
    handler_steps.copy_handler_before("03", folder)
    saved = {name: sys.modules.pop(name) for name in ("decoding", "readings", "handler") if name in sys.modules}
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(folder)  # taken off sys.path again when the module's tests end
        try:
            yield {name: importlib.import_module(name) for name in ("decoding", "readings", "handler")}
        finally:
            for name in ("decoding", "readings", "handler"):
                sys.modules.pop(name, None)
            sys.modules.update(saved)


# ---- Exercise 02.1: normalise -----------------------------------------------------------------------------------


def _normalise_with(
    InvalidReading, *, error=None, bools=False, default_unit=None, truthy=False, default_humidity=None, need_id=True
):
    """A normalise with one mistake switched on (the reference without any)."""
    error = error or InvalidReading

    def normalise(reading):
        if need_id and not reading.get("reading_id"):
            raise error("no reading_id")
        if not reading.get("sensor"):
            raise error("no sensor")
        temperature = reading.get("temperature")
        if truthy and not temperature:
            raise error("no temperature")
        if not isinstance(temperature, (int, float)) or (isinstance(temperature, bool) and not bools):
            raise error("no numeric temperature")
        if not math.isfinite(temperature):
            raise error("temperature is not finite")
        unit = reading.get("unit", default_unit)
        if unit == "C":
            fahrenheit = temperature * 9 / 5 + 32
        elif unit == "F":
            fahrenheit = temperature
        else:
            raise error(f"unit {unit!r}")
        return {
            "reading_id": reading.get("reading_id"),
            "sensor": reading["sensor"],
            "temperature": round(fahrenheit, 2),
            "unit": "F",
            "humidity": reading.get("humidity", default_humidity),
        }

    return normalise


def _reference_like(
    InvalidReading,
    *,
    upper_unit=False,
    round_celsius_only=False,
    parse_strings=False,
    finite_only=True,
    refuse_true_only=False,
    humidity_or_none=False,
    keep_extra_keys=False,
    check_sensor=True,
    id_present_only=False,
    in_place=False,
):
    """The mistakes of a learner's walk-through and of readings from the wild, one switched on at a time."""

    def normalise(reading):
        if id_present_only:
            if "reading_id" not in reading:
                raise InvalidReading("no reading_id")
        elif not isinstance(reading.get("reading_id"), str) or not reading["reading_id"]:
            raise InvalidReading("no reading_id")
        if check_sensor and (not isinstance(reading.get("sensor"), str) or not reading["sensor"]):
            raise InvalidReading("no sensor")
        temperature = reading.get("temperature")
        if parse_strings and isinstance(temperature, str):
            try:
                temperature = float(temperature)
            except ValueError:
                raise InvalidReading(f"temperature {temperature!r}") from None
        if refuse_true_only:
            if temperature is True or not isinstance(temperature, (int, float)):
                raise InvalidReading("no numeric temperature")
        elif not isinstance(temperature, (int, float)) or isinstance(temperature, bool):
            raise InvalidReading("no numeric temperature")
        if finite_only and not math.isfinite(temperature):
            raise InvalidReading("temperature is not finite")
        unit = reading.get("unit")
        if upper_unit and isinstance(unit, str):
            unit = unit.upper()
        if unit == "C":
            fahrenheit = round(temperature * 9 / 5 + 32, 2)
        elif unit == "F":
            fahrenheit = temperature if round_celsius_only else round(temperature, 2)
        else:
            raise InvalidReading(f"unit {unit!r}")
        humidity = reading.get("humidity") or None if humidity_or_none else reading.get("humidity")
        if in_place:
            reading.update(temperature=fahrenheit, unit="F", humidity=humidity)
            return {key: reading[key] for key in ("reading_id", "sensor", "temperature", "unit", "humidity")}
        base = dict(reading) if keep_extra_keys else {}
        return {
            **base,
            "reading_id": reading["reading_id"],
            "sensor": reading.get("sensor"),
            "temperature": fahrenheit,
            "unit": "F",
            "humidity": humidity,
        }

    return normalise


# Each new wrong answer, and words the check's message must use to name its mistake.
NEW_NORMALISE_MISTAKES = {
    "lowercase-unit-accepted": (dict(upper_unit=True), ["'c'", "exactly 'C' or 'F'"]),
    "fahrenheit-not-rounded": (dict(round_celsius_only=True), ["2 decimals", "whichever the unit"]),
    "numeric-string-accepted": (dict(parse_strings=True), ["string", "not a number"]),
    "nan-and-infinity-accepted": (dict(finite_only=False), ["math.isfinite"]),
    "false-accepted": (dict(refuse_true_only=True), ["False", "bool"]),
    "zero-humidity-becomes-none": (dict(humidity_or_none=True), ["0 %", "keep"]),
    "extra-keys-kept": (dict(keep_extra_keys=True), ["exactly the keys"]),
    "sensor-not-validated": (dict(check_sensor=False), ["sensor"]),
    "empty-reading-id-accepted": (dict(id_present_only=True), ["reading_id", "empty"]),
    "input-changed-in-place": (dict(in_place=True), ["in place"]),
}


@pytest.mark.parametrize("mistake", list(NEW_NORMALISE_MISTAKES))
def test_a_new_wrong_normalise_is_rejected(handler_package, mistake):
    InvalidReading = handler_package["readings"].InvalidReading
    options, mentions = NEW_NORMALISE_MISTAKES[mistake]
    wrong = _reference_like(InvalidReading, **options)
    assert_rejected(lambda: checks.check_normalise(wrong, InvalidReading), *mentions)


def test_the_reference_like_normalise_passes(handler_package, capsys):
    InvalidReading = handler_package["readings"].InvalidReading
    checks.check_normalise(_reference_like(InvalidReading), InvalidReading)
    assert "✔ Exercise 02.1 passed" in capsys.readouterr().out


def test_the_stub_normalise_is_not_solved(handler_package):
    def stub(reading):
        raise NotImplementedError("Exercise 02.1: replace this line with your solution")

    with pytest.raises(ExerciseNotSolved):
        checks.check_normalise(stub, handler_package["readings"].InvalidReading)


def test_the_reference_normalise_passes(handler_package, capsys):
    readings = handler_package["readings"]
    checks.check_normalise(readings.normalise, readings.InvalidReading)
    assert "✔ Exercise 02.1 passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "mistake, mentions",
    [
        (dict(bools=True), ["True is a bool", "subclass of int"]),
        (dict(error=ValueError), ["expected InvalidReading", "not a plain ValueError"]),
        (dict(default_unit="C"), ["never assume", "unit"]),
        (dict(truthy=True), ["0 is a temperature"]),
        (dict(default_humidity=0), ["humidity", "None", "never 0"]),
        (dict(need_id=False), ["reading_id"]),
    ],
    ids=[
        "true-is-a-temperature",
        "plain-valueerror",
        "unit-defaults-to-c",
        "zero-is-missing",
        "humidity-defaults-to-0",
        "missing-reading-id-accepted",
    ],
)
def test_a_wrong_normalise_is_rejected(handler_package, mistake, mentions):
    InvalidReading = handler_package["readings"].InvalidReading
    assert_rejected(
        lambda: checks.check_normalise(_normalise_with(InvalidReading, **mistake), InvalidReading), *mentions
    )


# ---- Exercise 02.2: handler -------------------------------------------------------------------------------------


def _handlers(modules):
    decode_record = modules["decoding"].decode_record
    normalise, InvalidReading = modules["readings"].normalise, modules["readings"].InvalidReading
    MalformedRecord = modules["decoding"].MalformedRecord

    def loop(
        event,
        *,
        skip_malformed=False,
        count_skipped=False,
        decode=decode_record,
        totals=None,
        caught=InvalidReading,
        skipped_id="sequenceNumber",
        stop_at_invalid=False,
        wrap_malformed=False,
    ):
        processed, skipped = (totals["processed"], totals["skipped"]) if totals is not None else (0, [])
        for record in event["Records"]:
            sequence_number = record["kinesis"]["sequenceNumber"]
            reported = record["eventID"] if skipped_id == "eventID" else sequence_number
            try:
                normalised = normalise(decode(record))
            except caught if not skip_malformed else Exception as error:
                print("SKIPPED " + json.dumps({"sequenceNumber": reported, "reason": str(error)}))
                skipped.append(reported)
                if count_skipped:
                    processed += 1
                if stop_at_invalid:
                    break
                continue
            except MalformedRecord as error:
                if wrap_malformed:
                    raise RuntimeError(f"record {sequence_number} cannot be decoded") from error
                raise
            print("READING " + json.dumps(normalised))
            processed += 1
        if totals is not None:
            totals["processed"] = processed
        return {"processed": processed, "skipped": skipped}

    state = {"processed": 0, "skipped": []}
    return {
        "catches-exception": lambda event, context: loop(event, skip_malformed=True),
        "counts-skipped-as-processed": lambda event, context: loop(event, count_skipped=True),
        "module-level-state": lambda event, context: loop(event, totals=state),
        "record-data": lambda event, context: loop(
            event, decode=lambda record: json.loads(base64.b64decode(record["data"]))
        ),
        "own-json-loads": lambda event, context: loop(
            event, decode=lambda record: json.loads(base64.b64decode(record["kinesis"]["data"]))
        ),
        "catches-valueerror": lambda event, context: loop(event, caught=ValueError),
        "skipped-by-event-id": lambda event, context: loop(event, skipped_id="eventID"),
        "stops-at-the-first-invalid-reading": lambda event, context: loop(event, stop_at_invalid=True),
        "wraps-malformed-record": lambda event, context: loop(event, wrap_malformed=True),
        "changes-the-event": lambda event, context: loop(
            event, decode=lambda record: _decode_and_blank(decode_record, record)
        ),
    }


def _decode_and_blank(decode_record, record):
    """Decodes, then drops the base64 from the event (to "save memory"): the event no longer holds the data."""
    reading = decode_record(record)
    record["kinesis"]["data"] = ""
    return reading


HANDLER_MISTAKES = {
    "catches-exception": ["must fail the batch", "lessons 03 and 06", "Exception"],
    "counts-skipped-as-processed": ["processed counts", "skipped"],
    "module-level-state": ["module level", "start from zero"],
    "record-data": ["record['kinesis']", "record['data'] does not exist"],
    "own-json-loads": ["decode_record", "MalformedRecord", "json.loads"],
    "catches-valueerror": ["must fail the batch", "ValueError", "MalformedRecord is a ValueError"],
    "skipped-by-event-id": ["sequence number", "not its eventID"],
    "stops-at-the-first-invalid-reading": ["the READING lines stop early", "continue"],
    "wraps-malformed-record": ["MalformedRecord itself", "RuntimeError"],
    "changes-the-event": ["in place", "event"],
}


def test_the_reference_handler_passes(handler_package, capsys):
    checks.check_handler(handler_package["handler"].handler)
    assert "✔ Exercise 02.2 passed" in capsys.readouterr().out


def test_the_stub_handler_is_not_solved():
    def stub(event, context):
        raise NotImplementedError("Exercise 02.2: replace this line with your solution")

    with pytest.raises(ExerciseNotSolved):
        checks.check_handler(stub)


@pytest.mark.parametrize("mistake", sorted(HANDLER_MISTAKES))
def test_a_wrong_handler_is_rejected(handler_package, mistake):
    wrong = _handlers(handler_package)[mistake]
    assert_rejected(lambda: checks.check_handler(wrong), *HANDLER_MISTAKES[mistake])


# ---- Exercise 02.3: the mapping ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def targets(module_resources):
    """Two streams and two functions of this test's own; the first of each is the right one."""
    code = "def handler(event, context):\n    return None\n"
    names = {"fn": module_resources.function("fn", code), "other_fn": module_resources.function("other-fn", code)}
    arns = {"stream": module_resources.stream("readings"), "other_stream": module_resources.stream("other")}
    names.update(stream=module_resources.name("readings"), other_stream=module_resources.name("other"))
    return names, arns


def _create(*, returns=True, twice=False, **overrides):
    def create_reading_mapping(function_name, stream_arn):
        settings = dict(
            FunctionName=function_name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=4
        )
        settings.update(overrides)
        lam = client("lambda")
        response = lam.create_event_source_mapping(**{k: v for k, v in settings.items() if v is not None})
        if twice:  # "to be sure it exists"
            response = lam.create_event_source_mapping(**{k: v for k, v in settings.items() if v is not None})
        return response if returns else None

    return create_reading_mapping


@pytest.mark.localstack
def test_the_stub_mapping_is_not_solved(targets):
    def stub(function_name, stream_arn):
        raise NotImplementedError("Exercise 02.3: replace this line with your solution")

    names, arns = targets
    with pytest.raises(ExerciseNotSolved):
        checks.check_reading_mapping(stub, names["fn"], arns["stream"])


@pytest.mark.localstack
def test_the_reference_mapping_passes(targets, capsys):
    names, arns = targets
    mapping = checks.check_reading_mapping(_create(), names["fn"], arns["stream"])
    assert "✔ Exercise 02.3 passed" in capsys.readouterr().out
    assert (mapping["StartingPosition"], mapping["BatchSize"]) == ("TRIM_HORIZON", 4)
    delete_mappings_of(names["fn"])


@pytest.mark.localstack
@pytest.mark.parametrize(
    "overrides, mentions",
    [
        (
            dict(StartingPosition="LATEST"),
            ["requirement 2", "LATEST starts after the newest record", "never be processed"],
        ),
        (dict(BatchSize=None), ["requirement 3", "BatchSize is 100 (the default)"]),
        (dict(BatchSize=10), ["requirement 3", "carry 10 records"]),
        (dict(FunctionName="other_fn"), ["requirement 1", "wrong function"]),
        (dict(EventSourceArn="other_stream"), ["requirement 1", "wrong stream"]),
        (dict(EventSourceArn="stream name"), ["requirement 1", "stream's ARN", "not its name"]),
        (dict(StartingPosition=None), ["requirement 2", "StartingPosition is required", "no default"]),
        (dict(BatchSize=5), ["requirement 3", "carry 5 records"]),
        (dict(BatchSize=3), ["requirement 4", "take 3 invocations", "take 2"]),
        (dict(BatchSize=1), ["requirement 4", "take 7 invocations"]),
        (dict(BatchSize="4"), ["int", "not a string"]),
        (dict(Enabled=False), ["requirement 5", "Enabled=False", "never reads"]),
        (dict(MaximumBatchingWindowInSeconds=5), ["requirement 6", "batching window", "saves no invocation"]),
        (
            dict(StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=1_700_000_000),
            ["requirement 2", "AT_TIMESTAMP"],
        ),
        (dict(returns=False), ["return", "create_event_source_mapping"]),
        (dict(twice=True), ["exactly one mapping"]),
    ],
    ids=[
        "latest",
        "default-batch-size",
        "batch-size-10",
        "other-function",
        "other-stream",
        "stream-name",
        "no-starting-position",
        "batch-size-5",
        "batch-size-3",
        "batch-size-1",
        "batch-size-string",
        "disabled",
        "batching-window",
        "at-timestamp",
        "nothing-returned",
        "created-twice",
    ],
)
def test_a_wrong_mapping_is_rejected_and_deleted(targets, overrides, mentions):
    names, arns = targets
    resolved = dict(overrides)
    if resolved.get("FunctionName") == "other_fn":
        resolved["FunctionName"] = names["other_fn"]
    if resolved.get("EventSourceArn") == "other_stream":
        resolved["EventSourceArn"] = arns["other_stream"]
    if resolved.get("EventSourceArn") == "stream name":
        resolved["EventSourceArn"] = names["stream"]
    assert_rejected(lambda: checks.check_reading_mapping(_create(**resolved), names["fn"], arns["stream"]), *mentions)
    for key in ("fn", "other_fn"):  # the check deletes what it rejects
        assert client("lambda").list_event_source_mappings(FunctionName=names[key])["EventSourceMappings"] == []


# ---- Stretch 02.S: batch_data_bytes -----------------------------------------------------------------------------


def _data(record):
    return base64.b64decode(record["kinesis"]["data"])


def batch_data_bytes(event):
    return sum(len(_data(record)) for record in event["Records"])


WRONG_DATA_BYTES = {
    "base64-length": (
        lambda event: sum(len(record["kinesis"]["data"]) for record in event["Records"]),
        ["base64", "4 characters for every 3 bytes"],
    ),
    "characters": (
        lambda event: sum(len(_data(record).decode("utf-8", errors="replace")) for record in event["Records"]),
        ["characters, not bytes"],
    ),
    "strict-text": (
        lambda event: sum(len(_data(record).decode("utf-8").encode("utf-8")) for record in event["Records"]),
        ["UnicodeDecodeError", "not UTF-8"],
    ),
    "json-again": (
        lambda event: sum(len(json.dumps(json.loads(_data(record)))) for record in event["Records"]),
        ["not JSON", "carried bytes too"],
    ),
    "whole-event": (lambda event: len(json.dumps(event)), ["the whole event"]),
    "record-count": (lambda event: len(event["Records"]), ["number of records"]),
    "decodes-in-place": (
        lambda event: sum(
            len(record["kinesis"].update(data=_data(record)) or record["kinesis"]["data"])
            for record in event["Records"]
        ),
        ["in place"],
    ),
}


def test_the_reference_batch_data_bytes_passes(capsys):
    checks.check_batch_data_bytes(batch_data_bytes)
    assert "✔ Stretch 02.S passed" in capsys.readouterr().out


def test_the_stub_batch_data_bytes_is_not_solved():
    def stub(event):
        raise NotImplementedError("Stretch 02.S: replace this line with your solution")

    with pytest.raises(ExerciseNotSolved):
        checks.check_batch_data_bytes(stub)


@pytest.mark.parametrize("mistake", list(WRONG_DATA_BYTES))
def test_a_wrong_batch_data_bytes_is_rejected(mistake):
    wrong, mentions = WRONG_DATA_BYTES[mistake]
    assert_rejected(lambda: checks.check_batch_data_bytes(wrong), *mentions)
