"""Wrong answers to lesson 09's exercises: each must be rejected with a hint that names the mistake.

09.1 (update_state) and Stretch 09.S (merge_states) run in-process; 09.2 (write_window) writes to a table of its own
and 09.3 (the mapping) creates real mappings, both on LocalStack, with names of their own (kcm09-<uuid8>-...),
deleted afterwards.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from wrong_answers import assert_rejected

from kinesis_course import client, delete_function, delete_mappings_of, delete_stream, deploy_function
from kinesis_course.checks import ExerciseNotSolved
from kinesis_course.checks import lesson09 as checks


# ---- Exercise 09.1: update_state --------------------------------------------------------------------------------
def test_the_reference_update_passes(capsys):
    checks.check_update_state(checks.reference_update)
    assert "✔ Exercise 09.1 passed" in capsys.readouterr().out


def _fold(new, readings, *, min_start=None, mean_of_means_from=None):
    batch = {}
    for reading in readings:
        t = reading["temperature"]
        b = batch.setdefault(reading["sensor"], [])
        b.append(t)
    for sensor, temperatures in batch.items():
        aggregate = new.get(sensor)
        if aggregate is None:
            start = min_start if min_start is not None else temperatures[0]
            aggregate = new[sensor] = {"count": 0, "sum": 0, "min": start, "max": temperatures[0]}
        old_mean, old_count = aggregate.get("mean"), aggregate["count"]
        aggregate["count"] += len(temperatures)
        aggregate["sum"] += sum(temperatures)
        aggregate["min"] = min(aggregate["min"], *temperatures)
        aggregate["max"] = max(aggregate["max"], *temperatures)
        if mean_of_means_from and old_count:
            aggregate["mean"] = (old_mean + sum(temperatures) / len(temperatures)) / 2
        else:
            aggregate["mean"] = aggregate["sum"] / aggregate["count"]
    return new


def in_place(state, readings):
    return _fold(state, readings)  # changes the state it was given


def shallow_copy(state, readings):
    return _fold(dict(state), readings)  # the inner dicts are still the old state's


def mean_of_means(state, readings):
    return _fold({s: dict(a) for s, a in state.items()}, readings, mean_of_means_from=True)


def forgets_old_state(state, readings):
    return _fold({}, readings)


def min_from_zero(state, readings):
    return _fold({s: dict(a) for s, a in state.items()}, readings, min_start=0)


@pytest.mark.parametrize(
    "update, mentions",
    [
        (in_place, ["changed", "in place", "new state"]),
        (shallow_copy, ["in place", "inner dicts"]),
        (mean_of_means, ["mean of means", "sum / count"]),
        (forgets_old_state, ["only this batch", "window so far"]),
        (min_from_zero, ["min", "first temperature"]),
    ],
    ids=["changes the state in place", "shallow copy", "mean of means", "forgets the old state", "min starts at 0"],
)
def test_wrong_updates_are_rejected(update, mentions):
    assert_rejected(lambda: checks.check_update_state(update), *mentions)


def test_an_update_stub_is_not_solved():
    def stub(state, readings):
        raise NotImplementedError("Exercise 09.1: replace this line with your solution")

    with pytest.raises(ExerciseNotSolved):
        checks.check_update_state(stub)


# ---- Exercise 09.2: write_window --------------------------------------------------------------------------------
def _writer(*, condition=True, key=lambda window, sensor: f"{window['start']}#{sensor}", catch=None, digits=2):
    def write_window(dynamodb, table_name, window, state):
        stored = 0
        for sensor, aggregate in state.items():
            item = {
                "pk": {"S": key(window, sensor)},
                "window_start": {"S": window["start"]},
                "window_end": {"S": window["end"]},
                "sensor": {"S": sensor},
                "count": {"N": str(aggregate["count"])},
                "min": {"N": str(aggregate["min"])},
                "max": {"N": str(aggregate["max"])},
                "mean": {"N": str(round(aggregate["mean"], digits) if digits else aggregate["mean"])},
            }
            extra = {"ConditionExpression": "attribute_not_exists(pk)"} if condition else {}
            try:
                dynamodb.put_item(TableName=table_name, Item=item, **extra)
            except catch or dynamodb.exceptions.ConditionalCheckFailedException:
                continue
            stored += 1
        return stored

    return write_window


@pytest.fixture(scope="module")
def namer():
    prefix = f"kcm09-{uuid.uuid4().hex[:8]}-"
    return SimpleNamespace(name=lambda suffix: f"{prefix}{suffix}")


@pytest.mark.localstack
def test_the_reference_write_passes(namer, capsys):
    checks.check_write_window(_writer(), namer)
    assert "✔ Exercise 09.2 passed" in capsys.readouterr().out


@pytest.mark.localstack
@pytest.mark.parametrize(
    "write, mentions",
    [
        (_writer(condition=False), ["written again", "conditional", "attribute_not_exists"]),
        (_writer(key=lambda window, sensor: sensor), ["pk", "window's start"]),
        (_writer(key=lambda window, sensor: f"{sensor}#{window['end'][:13]}"), ["window's start"]),
        (_writer(catch=Exception), ["missing table", "ConditionalCheckFailedException only"]),
        (_writer(digits=0), ["rounded to 2 decimals"]),
    ],
    ids=["plain put", "key without the window", "key by the hour", "swallows every error", "mean not rounded"],
)
def test_wrong_writes_are_rejected(namer, write, mentions):
    assert_rejected(lambda: checks.check_write_window(write, namer), *mentions)


# ---- Exercise 09.3: the mapping ---------------------------------------------------------------------------------
REFERENCE_MAPPING = dict(
    StartingPosition="TRIM_HORIZON", TumblingWindowInSeconds=60, BatchSize=4, MaximumRetryAttempts=1
)


def _create_mapping(**changes):
    settings = {key: value for key, value in {**REFERENCE_MAPPING, **changes}.items() if value is not None}

    def create_window_mapping(function_name, stream_arn):
        return client("lambda").create_event_source_mapping(
            FunctionName=function_name, EventSourceArn=stream_arn, **settings
        )

    return create_window_mapping


@pytest.fixture(scope="module")
def mapping_target(tmp_path_factory, namer):
    folder = tmp_path_factory.mktemp("fn09")
    (folder / "handler.py").write_text("def handler(event, context):\n    return {'state': {}}\n")
    function_name = namer.name("fn")
    deploy_function(function_name, folder)
    yield function_name, namer
    delete_mappings_of(function_name)
    delete_function(function_name)
    delete_stream(namer.name("mapping-check"))


@pytest.mark.localstack
def test_the_reference_mapping_passes(mapping_target, capsys):
    function_name, lesson = mapping_target
    checks.check_window_mapping(_create_mapping(), function_name, lesson)
    assert "✔ Exercise 09.3 passed" in capsys.readouterr().out


@pytest.mark.localstack
@pytest.mark.parametrize(
    "create, mentions",
    [
        (_create_mapping(TumblingWindowInSeconds=None), ["window of one minute", "there is no window"]),
        (_create_mapping(TumblingWindowInSeconds=1), ["window of one minute", "seconds, not minutes"]),
        (_create_mapping(TumblingWindowInSeconds=600), ["window of one minute", "600 s is not one minute"]),
        (_create_mapping(BatchSize=None), ["at most 4 records", "100"]),
        (_create_mapping(MaximumRetryAttempts=2), ["2 invocations in all", "off by one"]),
        (_create_mapping(MaximumRetryAttempts=None), ["2 invocations in all", "until the records expire"]),
        (_create_mapping(ParallelizationFactor=2), ["not asked"]),
        (_create_mapping(StartingPosition="LATEST"), ["even one put before", "LATEST starts after"]),
    ],
    ids=[
        "no window",
        "1 (minutes)",
        "600",
        "default BatchSize",
        "2 retries",
        "retries not given",
        "ParallelizationFactor",
        "LATEST",
    ],
)
def test_wrong_mappings_are_rejected(mapping_target, create, mentions):
    function_name, lesson = mapping_target
    assert_rejected(lambda: checks.check_window_mapping(create, function_name, lesson), *mentions)
    assert not [
        m
        for m in client("lambda").list_event_source_mappings(FunctionName=function_name)["EventSourceMappings"]
        if m["State"] not in ("Deleting",)
    ], "the check must delete the mapping it read back"


# ---- Stretch 09.S: merge_states ---------------------------------------------------------------------------------
def test_the_reference_merge_passes(capsys):
    checks.check_stretch_merge_states(checks.reference_merge)
    assert "✔ Stretch 09.S passed" in capsys.readouterr().out


def _merge(states, *, mode=""):
    merged = {} if mode != "in place" else (states[0] if states else {})
    for state in states if mode != "in place" else states[1:]:
        for sensor, a in state.items():
            if sensor not in merged or mode == "last wins":
                merged[sensor] = dict(a)
                continue
            t = merged[sensor]
            if mode == "mean of means":
                t["mean"] = (t["mean"] + a["mean"]) / 2
            t["count"] += a["count"]
            t["sum"] += a["sum"]
            t["min"], t["max"] = min(t["min"], a["min"]), max(t["max"], a["max"])
            if mode != "mean of means":
                t["mean"] = t["sum"] / t["count"]
    return merged


@pytest.mark.parametrize(
    "mode, mentions",
    [
        ("mean of means", ["mean of the shards' means", "sum / count"]),
        ("last wins", ["count and sum add up", "not replaced by the last"]),
        ("in place", ["in place", "leave them unchanged"]),
    ],
    ids=["mean of means", "last shard wins", "merges into the first state"],
)
def test_wrong_merges_are_rejected(mode, mentions):
    assert_rejected(lambda: checks.check_stretch_merge_states(lambda states: _merge(states, mode=mode)), *mentions)


@pytest.mark.parametrize("which", ["first", "last"])
@pytest.mark.parametrize("extreme", ["min", "max"])
def test_a_merge_that_keeps_one_shards_extreme_is_rejected(which, extreme):
    """Every draw (a seed once let the first shard's max through): the check has a case for each order."""

    def one_shards(states):
        merged = checks.reference_merge(states)
        ordered = states if which == "first" else states[::-1]
        for sensor in merged:
            merged[sensor][extreme] = next(s[sensor][extreme] for s in ordered if sensor in s)
        return merged

    mentions = "largest of their maxes" if extreme == "max" else "smallest of the shards' mins"
    assert_rejected(lambda: checks.check_stretch_merge_states(one_shards), mentions)
