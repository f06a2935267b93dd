"""Checks of lesson 09 (tumbling windows): the window's state update, its idempotent final write, the mapping.

The state of a window, as the lesson defines it: {sensor: {"count", "sum", "min", "max", "mean"}}, with the mean
computed from sum and count. The final write stores one item per sensor under "<window start>#<sensor>".
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
from decimal import Decimal

from botocore.exceptions import ClientError

from ..endpoint import REGION, client, endpoint_url
from ..mappings import delete_mapping, mappings_of
from ..streams import ensure_stream
from ..tables import delete_table, ensure_table
from . import ExerciseCheckFailed, ExerciseNotSolved, call_checked, call_exercise, fresh_random, passed
from .cases import unchanged
from .mapping import Requirement, calls_to, judge, judge_unasked, mapping_of, refused, setting, stream_and_function

SENSORS = ["s-1", "s-2", "s-3", "s-4"]
WINDOW_SECONDS, BATCH_SIZE, MAX_RETRIES = 60, 4, 1


def _call(label: str, function, *args, mutation_hint: str, hint: str, shown: str):
    """The learner's pure function called on the very arguments (a change in place is seen); errors explained."""
    try:
        return unchanged(label, function, *args, hint=mutation_hint)
    except (ExerciseCheckFailed, ExerciseNotSolved):
        raise
    except Exception as error:
        raise ExerciseCheckFailed(
            f"{label}: {getattr(function, '__name__', 'your function')}({shown}) raised "
            f"{type(error).__name__}: {error}\nHint: {hint}"
        ) from error


# Exercise 09.1 ---------------------------------------------------------------------------------------------------
def reference_update(state: dict, readings: list[dict]) -> dict:
    """The lesson's answer: a new state, the old one untouched, the mean from sum and count."""
    new = {sensor: dict(aggregate) for sensor, aggregate in state.items()}
    for reading in readings:
        temperature = reading["temperature"]
        aggregate = new.setdefault(reading["sensor"], {"count": 0, "sum": 0, "min": temperature, "max": temperature})
        aggregate["count"] += 1
        aggregate["sum"] += temperature
        aggregate["min"] = min(aggregate["min"], temperature)
        aggregate["max"] = max(aggregate["max"], temperature)
        aggregate["mean"] = aggregate["sum"] / aggregate["count"]
    return new


def _readings(rng: random.Random, count: int, sensors: list[str]) -> list[dict]:
    return [
        {
            "reading_id": f"r-{rng.randrange(10**6):06d}",
            "sensor": rng.choice(sensors),
            "temperature": round(rng.uniform(50, 95), 2),
            "unit": "F",
            "humidity": None,
        }
        for _ in range(count)
    ]


def _close(a, b) -> bool:
    return isinstance(a, (int, float)) and not isinstance(a, bool) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _state_cases(rng: random.Random) -> list[tuple[str, dict, list[dict]]]:
    cases = [
        ("the window's first batch (state {})", {}, _readings(rng, 5, SENSORS[:2])),
        ("a batch with no usable reading", reference_update({}, _readings(rng, 3, SENSORS[:2])), []),
    ]
    for _ in range(4):
        # Batches of different sizes, so that a mean of means differs from the mean; a sensor new in the window.
        old = reference_update({}, _readings(rng, rng.randint(1, 3), SENSORS[:2]))
        old = reference_update(old, _readings(rng, rng.randint(4, 8), SENSORS[:2]))
        cases.append(("a later batch of the window", old, _readings(rng, rng.randint(5, 9), SENSORS)))
    return cases


def _state_hint(old: dict, readings: list[dict], sensor: str, got: dict, expected: dict) -> str:
    fresh = reference_update({}, readings).get(sensor)
    if fresh and got.get("count") == fresh["count"] and sensor in old:
        return (
            "Your state counts only this batch: the state you were given is the window so far. Start from it, "
            "and add this batch's readings to it."
        )
    if sensor in old and "mean" in got and _close(got.get("count"), expected["count"]) and fresh:
        mean_of_means = (old[sensor]["mean"] + fresh["mean"]) / 2
        if _close(got["mean"], mean_of_means):
            return (
                "Your mean is the mean of the old mean and this batch's mean: a mean of means, wrong when the "
                "batches differ in size. Keep sum and count, and compute mean = sum / count."
            )
    if not _close(got.get("min"), expected["min"]) or not _close(got.get("max"), expected["max"]):
        return (
            "min or max is wrong: a new sensor's min and max start at its first temperature (not 0 or 100), and "
            "each reading can only lower the min and raise the max."
        )
    if not _close(got.get("sum"), expected["sum"]) or not _close(got.get("count"), expected["count"]):
        return "count and sum must add every reading of the batch to the old state's count and sum."
    return "mean must be sum / count, over every reading of the window so far (not rounded in the state)."


def check_update_state(update_state) -> None:
    label = "Exercise 09.1"
    rng = fresh_random(label)
    for description, old, readings in _state_cases(rng):
        expected = reference_update(old, readings)
        shown = f"state={json.dumps(old)}, readings of {len(readings)}"
        got = _call(
            label,
            update_state,
            copy.deepcopy(old),
            copy.deepcopy(readings),
            shown=shown,
            mutation_hint="update_state must return a NEW state and leave the one it was given "
            "unchanged, inner dicts included ({**state} or dict(state) copies only the outer dict): Lambda keeps the "
            "old state when an invocation fails, and a retry must start from it as it was.",
            hint="update_state must accept the state {} (a window's first invocation) and an empty list of readings.",
        )
        if not isinstance(got, dict):
            raise ExerciseCheckFailed(
                f"{label}: {description}: expected a dict (the new state), got {got!r}.\n"
                "Hint: return the new state: Lambda gives it to the window's next invocation."
            )
        try:
            same_json = json.loads(json.dumps(got)) == got
        except (TypeError, ValueError):
            same_json = False
        if not same_json:
            raise ExerciseCheckFailed(
                f"{label}: {description}: expected a state made of dicts, strings and numbers, "
                f"got {got!r:.300}.\nHint: the state travels as JSON between invocations."
            )
        if sorted(got) != sorted(expected):
            only_batch = sorted(got) == sorted({reading["sensor"] for reading in readings}) and bool(old)
            raise ExerciseCheckFailed(
                f"{label}: {description}: expected the sensors {sorted(expected)}, got {sorted(got)}.\nHint: "
                + (
                    "Your state counts only this batch: the state you were given is the window so far. "
                    if only_batch
                    else ""
                )
                + "The state keeps every sensor of the window so far: those of the old state and those "
                "of this batch."
            )
        for sensor in sorted(expected):
            want, have = expected[sensor], got[sensor]
            if not isinstance(have, dict) or any(not _close(have.get(k), want[k]) for k in want):
                raise ExerciseCheckFailed(
                    f"{label}: {description}, sensor {sensor}: expected {json.dumps(want)}, got {json.dumps(have)}.\n"
                    f"Hint: {_state_hint(old, readings, sensor, have if isinstance(have, dict) else {}, want)}"
                )
    passed(
        label,
        "count, sum, min, max and mean (sum / count) over batches of different sizes; the old state left as it was",
    )


# Exercise 09.2 ---------------------------------------------------------------------------------------------------
def _window(rng: random.Random, minute: int) -> dict:
    return {"start": f"2026-12-03T09:{minute:02d}:00Z", "end": f"2026-12-03T09:{minute + 1:02d}:00Z"}


def _item_of(table: str, key: str) -> dict | None:
    return client("dynamodb").get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True).get("Item")


def _number(item: dict, name: str):
    value = item.get(name, {})
    return Decimal(value["N"]) if isinstance(value, dict) and "N" in value else None


def check_write_window(write_window, lesson) -> None:
    label = "Exercise 09.2"
    rng = fresh_random(label)
    table = lesson.name("check-windows")
    delete_table(table)
    ensure_table(table)
    dynamodb = client("dynamodb")
    try:
        minute = rng.randrange(0, 50)
        window = _window(rng, minute)
        state = reference_update({}, _readings(rng, 7, SENSORS[:3]))
        while any(abs(a["mean"] - round(a["mean"], 2)) < 1e-9 for a in state.values()):  # so rounding is seen
            state = reference_update({}, _readings(rng, 7, SENSORS[:3]))

        def write(what, window, state):
            return call_checked(
                label,
                write_window,
                dynamodb,
                table,
                window,
                state,
                shown_args=f"dynamodb, table, {window}, state",
                hint=f"{what} must not raise.",
            )

        first = write("the window's final write", window, state)
        if first != len(state):
            raise ExerciseCheckFailed(
                f"{label}: the first write of a window of {len(state)} sensors returned "
                f"{first!r}, expected {len(state)}.\nHint: return how many items this call "
                "stored: one per sensor of the state."
            )
        for sensor, aggregate in state.items():
            key = f"{window['start']}#{sensor}"
            item = _item_of(table, key)
            if item is None:
                raise ExerciseCheckFailed(
                    f"{label}: expected an item with pk {key!r}, found none (keys: "
                    f"{sorted(i['pk']['S'] for i in dynamodb.scan(TableName=table)['Items'])}).\nHint: the key is the "
                    "window's start and the sensor, '<window start>#<sensor>': the same for every retry of the window's "
                    "final invocation, different for each window and sensor."
                )
            want = {
                "count": Decimal(aggregate["count"]),
                "min": Decimal(str(aggregate["min"])),
                "max": Decimal(str(aggregate["max"])),
                "mean": Decimal(str(round(aggregate["mean"], 2))),
            }
            have = {name: _number(item, name) for name in want}
            if have != want:
                raise ExerciseCheckFailed(
                    f"{label}: item {key}: expected {want}, got {have}.\nHint: store count, min, max, and the mean "
                    "rounded to 2 decimals, as numbers (N): the window's aggregate, from the final state."
                )
        # A retried final invocation (or a replay of the stream): the same window and sensors, maybe another state.
        again = write("a retried final write", window, reference_update(state, _readings(rng, 2, sorted(state))))
        kept = {sensor: _number(_item_of(table, f"{window['start']}#{sensor}"), "count") for sensor in state}
        if again != 0 or kept != {sensor: Decimal(a["count"]) for sensor, a in state.items()}:
            raise ExerciseCheckFailed(
                f"{label}: the same window written again returned {again!r} and left counts {kept}; expected 0 and "
                f"{ {s: a['count'] for s, a in state.items()} }.\nHint: a retried final invocation must write nothing: "
                "make each put conditional (ConditionExpression='attribute_not_exists(pk)'), count only the puts "
                "DynamoDB accepted, and catch ConditionalCheckFailedException (lesson 04's store did the same)."
            )
        later = _window(rng, minute + 1)
        other = write("the next window's write", later, state)
        if other != len(state):
            raise ExerciseCheckFailed(
                f"{label}: the next window ({later['start']}) with the same sensors returned {other!r}, expected "
                f"{len(state)}.\nHint: the key must hold the window's start as well as the sensor, or every window "
                "after the first is refused as a duplicate."
            )
        try:
            call_exercise(label, write_window, dynamodb, lesson.name("check-no-such-table"), window, state)
        except dynamodb.exceptions.ResourceNotFoundException:
            pass
        except Exception as error:  # noqa: BLE001 - any other outcome is the mistake
            raise ExerciseCheckFailed(
                f"{label}: a write to a missing table raised {type(error).__name__}, expected "
                "ResourceNotFoundException.\nHint: catch ConditionalCheckFailedException only; "
                "other errors must fail the invocation, so Lambda retries it."
            ) from None
        else:
            raise ExerciseCheckFailed(
                f"{label}: a write to a missing table returned normally, expected "
                "ResourceNotFoundException.\nHint: catch ConditionalCheckFailedException only; "
                "other errors must fail the invocation, so Lambda retries it."
            )
    finally:
        delete_table(table)
    passed(
        label,
        "one item per sensor under '<window start>#<sensor>'; written again, nothing changes; other errors propagate",
    )


# Exercise 09.3 ---------------------------------------------------------------------------------------------------
UNASKED = {
    "ParallelizationFactor": (1, "with windows the kit runs one batch at a time per shard anyway (AWS says nothing)"),
    "BisectBatchOnFunctionError": (False, "no requirement asks to split a failing batch"),
    "MaximumRecordAgeInSeconds": (-1, "no requirement asks to give records up by age"),
}


def check_window_mapping(create_window_mapping, function_name: str, lesson) -> None:
    """Calls the learner's function on a stream of the check's own, reads the mapping back, deletes it."""
    label = "Exercise 09.3"
    stream_arn = ensure_stream(lesson.name("mapping-check"))
    for leftover in mappings_of(function_name):
        if leftover["EventSourceArn"] == stream_arn:
            delete_mapping(leftover["UUID"])
    answer = None
    try:
        with calls_to("CreateEventSourceMapping") as calls:
            try:
                answer = call_exercise(label, create_window_mapping, function_name, stream_arn)
            except ClientError as error:
                raise refused(label, "create_event_source_mapping", error) from None
        mapping = mapping_of(label, answer)
        judge(label, mapping, _requirements(function_name, stream_arn, calls))
        judge_unasked(label, mapping, calls, UNASKED)
    finally:
        uuid = answer.get("UUID") if isinstance(answer, dict) else answer
        if isinstance(uuid, str) and uuid:
            delete_mapping(uuid)
    passed(
        label,
        f"TumblingWindowInSeconds={WINDOW_SECONDS}, BatchSize={BATCH_SIZE}, "
        f"MaximumRetryAttempts={MAX_RETRIES} (2 invocations in all), read back from LocalStack",
    )


def _requirements(function_name: str, stream_arn: str, calls: list[dict]) -> list[Requirement]:
    """The statement's requirements, as the stored settings that meet them: the mistakes learners make come first."""
    batch_left_out = not (calls and "BatchSize" in calls[-1])
    return [
        *stream_and_function(function_name, stream_arn),
        Requirement(
            "StartingPosition",
            "TRIM_HORIZON",
            "every reading in the stream is processed, even one put before the mapping's first read",
            "LATEST starts after the newest record at the moment the mapping first reads its shard: a reading put "
            "between the mapping's creation and that first read would never be aggregated.",
            read=lambda mapping: mapping.get("StartingPosition"),
        ),
        Requirement(
            "TumblingWindowInSeconds",
            WINDOW_SECONDS,
            "readings are aggregated per window of one minute",
            lambda window: (
                f"A window of {window} s is not one minute: the setting is the window's length in seconds (0-900)."
            ),
            mistakes=[
                (
                    lambda window: window == 0,
                    "Without TumblingWindowInSeconds (0, the default) there is no window: the event has no state and "
                    "isFinalInvokeForWindow never comes, so nothing would ever be written.",
                ),
                (lambda window: window == 1, "The unit is seconds, not minutes: 1 makes windows of one second."),
            ],
            read=lambda mapping: setting(mapping, "TumblingWindowInSeconds") or 0,
        ),
        Requirement(
            "BatchSize",
            BATCH_SIZE,
            f"an invocation gets at most {BATCH_SIZE} records",
            lambda batch: (
                "Left out, BatchSize is 100 for Kinesis: a window's readings would come in one invocation, and "
                "Part 2 would not show the state carried from batch to batch."
                if batch_left_out
                else f"BatchSize is the most records one invocation gets: {batch} is not {BATCH_SIZE}."
            ),
            read=lambda mapping: mapping.get("BatchSize"),
        ),
        Requirement(
            "MaximumRetryAttempts",
            MAX_RETRIES,
            f"a batch that keeps failing is given up after {MAX_RETRIES + 1} invocations in all",
            lambda retries: f"{retries} retries invoke a failing batch {retries + 1} times in all.",
            mistakes=[
                (
                    lambda retries: retries is None or retries < 0,
                    "-1 (the default) retries until the records expire from the stream: the window, and the shard, "
                    "would wait behind one poison record all that time.",
                ),
                (
                    lambda retries: retries == MAX_RETRIES + 1,
                    lambda retries: (
                        "Off by one: MaximumRetryAttempts counts the retries after the first attempt: "
                        f"{retries} would invoke a failing batch {retries + 1} times."
                    ),
                ),
            ],
            read=lambda mapping: mapping.get("MaximumRetryAttempts", -1),
        ),
    ]


# Stretch 09.S ----------------------------------------------------------------------------------------------------
def reference_merge(states: list[dict]) -> dict:
    merged: dict = {}
    for state in states:
        for sensor, aggregate in state.items():
            if sensor not in merged:
                merged[sensor] = dict(aggregate)
                continue
            total = merged[sensor]
            total["count"] += aggregate["count"]
            total["sum"] += aggregate["sum"]
            total["min"] = min(total["min"], aggregate["min"])
            total["max"] = max(total["max"], aggregate["max"])
            total["mean"] = total["sum"] / total["count"]
    return merged


def _extremes_apart(rng: random.Random, lowest_in: int, highest_in: int) -> list[dict]:
    """One sensor seen by every shard, its lowest reading in shard ``lowest_in`` and its highest in ``highest_in``:
    with both orders among the cases, a merge that keeps the first or the last shard's min or max fails whatever
    the draw."""
    sensor = SENSORS[0]
    shards = [_readings(rng, count, [sensor]) for count in rng.sample(range(1, 7), rng.randint(2, 3))]
    temperatures = [reading["temperature"] for readings in shards for reading in readings]
    lowest, highest = round(min(temperatures) - rng.uniform(1, 5), 2), round(max(temperatures) + rng.uniform(1, 5), 2)
    shards[lowest_in][0]["temperature"] = lowest
    shards[highest_in].append(
        dict(shards[highest_in][0], reading_id=f"r-{rng.randrange(10**6):06d}", temperature=highest)
    )
    return [reference_update({}, readings) for readings in shards]


def check_stretch_merge_states(merge_states) -> None:
    label = "Stretch 09.S"
    rng = fresh_random(label)
    cases = [("no shard", []), ("one shard", [reference_update({}, _readings(rng, 4, SENSORS[:2]))])]
    for _ in range(4):
        cases.append(
            (
                "several shards",
                [
                    reference_update({}, _readings(rng, rng.randint(1, 9), SENSORS[: rng.randint(1, 4)]))
                    for _ in range(rng.randint(2, 4))
                ],
            )
        )
    cases.append(("several shards, the lowest reading in the first", _extremes_apart(rng, 0, -1)))
    cases.append(("several shards, the lowest reading in the last", _extremes_apart(rng, -1, 0)))
    for description, states in cases:
        expected = reference_merge(states)
        got = _call(
            label,
            merge_states,
            copy.deepcopy(states),
            shown=f"{len(states)} states",
            mutation_hint="merge_states must build a new state: the shards' states are theirs, leave them unchanged.",
            hint="merge_states must accept any number of states, none included.",
        )
        if not isinstance(got, dict) or sorted(got) != sorted(expected):
            raise ExerciseCheckFailed(
                f"{label}: {description}: expected the sensors {sorted(expected)}, got "
                f"{sorted(got) if isinstance(got, dict) else got!r}.\nHint: every sensor of every shard's state is in "
                "the merged state, including those only one shard saw."
            )
        for sensor, want in expected.items():
            have = got[sensor] if isinstance(got[sensor], dict) else {}
            if all(_close(have.get(k), want[k]) for k in want):
                continue
            means = [s[sensor]["mean"] for s in states if sensor in s]
            if not _close(have.get("count"), want["count"]) or not _close(have.get("sum"), want["sum"]):
                hint = (
                    "count and sum add up over the shards; a sensor seen by several shards is not replaced by the last."
                )
            elif not _close(have.get("min"), want["min"]) or not _close(have.get("max"), want["max"]):
                hint = "min is the smallest of the shards' mins, max the largest of their maxes."
            else:
                hint = (
                    "the mean is sum / count over all the shards: a mean of the shards' means is wrong when they "
                    f"counted different numbers (here {means})."
                )
            raise ExerciseCheckFailed(
                f"{label}: {description}, sensor {sensor}: expected {json.dumps(want)}, got "
                f"{json.dumps(have)}.\nHint: {hint}"
            )
    passed(label, "the shards' states merged: counts and sums added, mean = sum / count, min of mins, max of maxes")


# Loading the learner's windows.py -----------------------------------------------------------------------------------
def load_windows(lesson):
    """Imports windows.py from the lesson's build folder afresh, as Lambda would run it: its boto3 client, created at
    import, gets Lambda's environment on LocalStack (the notebook's kernel may have no AWS region set)."""
    lambda_like = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint_url(),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    saved = {key: os.environ.get(key) for key in lambda_like}
    os.environ.update(lambda_like)
    try:
        return lesson.load_module("windows.py")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
