"""Step 9 of the course's handler: per sensor and tumbling window, count, min, max and mean, written once."""
import json
import os

import boto3

from triage import triage

dynamodb = boto3.client("dynamodb")  # created once per execution environment, reused by warm invocations


def update_state(state: dict, readings: list[dict]) -> dict:
    """The window's new state: {sensor: {count, sum, min, max, mean}}; the old state is left unchanged."""
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


def write_window(dynamodb, table_name: str, window: dict, state: dict) -> int:
    """Stores each sensor's aggregate under "<window start>#<sensor>" once; returns how many items it stored."""
    stored = 0
    for sensor, aggregate in state.items():
        item = {
            "pk": {"S": f"{window['start']}#{sensor}"},
            "window_start": {"S": window["start"]},
            "window_end": {"S": window["end"]},
            "sensor": {"S": sensor},
            "count": {"N": str(aggregate["count"])},
            "min": {"N": str(aggregate["min"])},
            "max": {"N": str(aggregate["max"])},
            "mean": {"N": str(round(aggregate["mean"], 2))},
        }
        try:
            dynamodb.put_item(TableName=table_name, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue
        stored += 1
    return stored


def window_handler(event, context):
    final, records, state = event["isFinalInvokeForWindow"], event["Records"], event["state"]
    print("WINDOW " + json.dumps({"start": event["window"]["start"], "records": len(records), "final": final,
                                  "readings_in_state": sum(a["count"] for a in state.values())}))
    state = update_state(state, [reading for reading in map(triage, records) if reading is not None])
    if final:  # the window's end: its aggregate is complete
        write_window(dynamodb, os.environ["TABLE"], event["window"], state)
    return {"state": state}
