"""Fault injection around the course's handler, for lesson 07's fault run. Deployed next to handler.py.

The function's handler setting is ``faults.handler``: this module wraps ``handler.handler`` (the handler the
lessons built, unchanged) and, on the first delivery of a batch, may inject one fault. Which faults, and how
often, is read from environment variables at every invocation, so ``update_function_configuration`` changes
them without deploying new code:

    FAULT_ERROR_RATE     the invocation raises TransientFault before the handler runs (a function error)
    FAULT_THROTTLE_RATE  one DynamoDB write raises a throttling error (the handler reports batchItemFailures)
    FAULT_CRASH_RATE     the process exits (os._exit) after some of the batch's writes took effect
    FAULT_TIMEOUT_RATE   the invocation sleeps past the function's Timeout after some writes took effect
    FAULT_OUTAGE         ``first..last``: every write of an item whose key lies between first and last (as text,
                         both included) fails on EVERY delivery, not only the first: the table is down for that
                         span of the stream for longer than the retries last (see ``outage_of``)

Each is a probability per first delivery (0 to 1). ``FAULT_PLAN`` (e.g. ``-,error,-,crash``) fixes the faults of the
first deliveries this environment sees ("-": none), so that a short run shows every kind; the rates apply after. A batch that was already delivered once to this execution
environment is never faulted again (the memory is a file in /tmp, which survives a crash or a timeout of the
runtime), so an injected fault always goes away on retry, as a transient fault does.
The outage is the one fault that does not go away on retry. A real outage is a span of time; the kit ties it to a
span of reading ids instead (its own device, not something AWS or DynamoDB does), so that the same readings are hit
on every run however fast or slow the machine is.
Every invocation logs ``INVOKE {"shardId", "sequenceNumbers", "fault", "afterWrites", "at"}`` first, and a fault
that happens logs ``FAULT {"kind", "at"}`` (a crash or a throttle chosen for a batch with too few writes never does;
an outage logs one ``FAULT {"kind": "outage", "key", "at"}`` per write it refused).
When ``COUNTER_TABLE`` is set, the handler's store step is the learner's counted write (``counted.py``).
This module uses only the standard library and the handler: it runs wherever the handler runs.
"""

import json
import os
import random
import tempfile
import time

import importlib

course_handler = importlib.import_module(os.environ.get("FAULT_TARGET", "handler"))

SEEN = os.path.join(tempfile.gettempdir(), "kinesis-course-faults-seen")
PENDING = os.path.join(tempfile.gettempdir(), "kinesis-course-fault-pending")  # a throttle that found no write
KINDS = ("error", "throttle", "crash", "timeout")
_random = random.Random()


class TransientFault(Exception):
    """An error that would go away on retry (a network blip, a dependency briefly down)."""


class Throttled(Exception):
    """What a throttled DynamoDB write raises (ProvisionedThroughputExceededException, in AWS's words)."""


class TableUnavailable(Exception):
    """What every write raises while the table is down (an outage longer than the mapping's retries)."""


def outage_of(setting: str):
    """(first, last) key of FAULT_OUTAGE's ``first..last``, or None when there is no outage."""
    if ".." not in setting:
        return None
    first, last = (part.strip() for part in setting.split("..", 1))
    return first, last


def keys_written(name: str, parameters: dict) -> list[str]:
    """The ``pk`` of every item a write call writes (put_item, update_item, or a transaction's Put and Update)."""
    if name == "transact_write_items":
        parts = [next(iter(part.values())) for part in parameters.get("TransactItems", [])]
        return [key for part in parts for key in keys_written("update_item" if "Key" in part else "put_item", part)]
    item = parameters.get("Item") if name == "put_item" else parameters.get("Key")
    key = item.get("pk") if isinstance(item, dict) else None
    return [key["S"]] if isinstance(key, dict) and "S" in key else []


def _first_delivery(key):
    """None if this environment saw the batch before; else how many first deliveries it saw before this one."""
    try:
        with open(SEEN) as seen:
            keys = seen.read().split()
    except FileNotFoundError:
        keys = []
    if key in keys:
        return None
    with open(SEEN, "a") as seen:
        seen.write(key + "\n")
    return len(keys)


def choose_fault(rates, roll):
    """The fault for a roll in [0, 1): the rates take consecutive slices of [0, 1) in KINDS order."""
    edge = 0.0
    for kind in KINDS:
        edge += rates.get(kind, 0.0)
        if roll < edge:
            return kind
    return None


class _Writes:
    """The handler's DynamoDB client: the outage refuses writes of its keys; ``action`` runs when write number
    ``writes`` is about to happen (``before``) or has happened."""

    WRITES = ("put_item", "update_item", "transact_write_items")

    def __init__(self, client, outage, writes=0, action=None, before=False):
        self._client, self._outage, self._writes, self._action, self._before = client, outage, writes, action, before
        self._done, self.fired = 0, False

    def __getattr__(self, name):
        method = getattr(self._client, name)
        if name not in self.WRITES:
            return method

        def write(**parameters):
            self._done += 1
            if self._action and self._before and self._done == self._writes + 1:
                self.fired = True
                self._action()
            hit = [
                key
                for key in keys_written(name, parameters)
                if self._outage and self._outage[0] <= key <= self._outage[1]
            ]
            if hit:
                print("FAULT " + json.dumps({"kind": "outage", "key": hit[0], "at": round(time.time(), 3)}), flush=True)
                raise TableUnavailable(f"injected: the table is unavailable (outage), writing {hit[0]}")
            try:
                return method(**parameters)
            finally:
                if self._action and not self._before and self._done == self._writes:
                    self.fired = True
                    self._action()

        return write


def handler(event, context):
    records = event["Records"]
    numbers = [record["kinesis"]["sequenceNumber"] for record in records]
    rates = {kind: float(os.environ.get(f"FAULT_{kind.upper()}_RATE") or 0) for kind in KINDS}
    plan = [step.strip() for step in os.environ.get("FAULT_PLAN", "").split(",") if step.strip()]
    fault, after = None, 0
    earlier = _first_delivery(f"{numbers[0]}:{len(numbers)}")
    if earlier is not None and earlier < len(plan):
        fault = plan[earlier] if plan[earlier] in KINDS else None
    elif earlier is not None:
        fault = choose_fault(rates, _random.random())
    if earlier is not None and fault is None and os.path.exists(PENDING):
        os.remove(PENDING)
        fault = "throttle"
    if fault in ("crash", "timeout"):
        after = _random.randint(1, len(records) - 1) if len(records) > 1 else 0
    elif fault == "throttle":
        after = _random.randrange(min(len(records), 5))  # early, so that the batch surely has that many writes
    print(
        "INVOKE "
        + json.dumps(
            {
                "shardId": records[0]["eventID"].split(":", 1)[0],
                "sequenceNumbers": numbers,
                "fault": fault,
                "afterWrites": after,
                "at": round(time.time(), 3),
            }
        ),
        flush=True,
    )

    def report(kind):
        print("FAULT " + json.dumps({"kind": kind, "at": round(time.time(), 3)}), flush=True)

    if fault == "error":
        report("error")
        raise TransientFault("injected: a transient error before any work")

    def crash():
        report("crash")  # the process exits, as after a segfault or an out-of-memory kill
        os._exit(1)

    def hang():
        report("timeout")
        time.sleep(context.get_remaining_time_in_millis() / 1000 + 5)

    def throttle():
        report("throttle")
        raise Throttled("injected: ProvisionedThroughputExceededException (rate of writes exceeded)")

    original = course_handler.dynamodb
    action = {"crash": crash, "timeout": hang, "throttle": throttle}.get(fault)
    if fault in ("crash", "timeout") and after == 0:
        action()
    wrapped = _Writes(
        original, outage_of(os.environ.get("FAULT_OUTAGE", "")), after, action, before=fault == "throttle"
    )
    course_handler.dynamodb = wrapped
    if os.environ.get("COUNTER_TABLE"):
        importlib.import_module("counted").plug_in(course_handler, os.environ["COUNTER_TABLE"])
    try:
        response = course_handler.handler(event, context)
    finally:
        course_handler.dynamodb = original
    if fault == "throttle" and not wrapped.fired:
        open(PENDING, "w").close()  # the batch had too few writes (poison records first): the next batch gets it
    if fault in ("crash", "timeout") and not wrapped.fired:
        action()  # the batch had fewer writes than chosen: the fault comes once the handler's work is done
    return response
