"""The capstone's harness, without LocalStack: the fault wrapper's choices, the catalog, the proof's arithmetic."""

from __future__ import annotations

import importlib
import json
import sys
from collections import Counter
from decimal import Decimal
from types import SimpleNamespace

import pytest

from kinesis_course.capstone import catalog, picture, proof, run
from kinesis_course.capstone.producer import GroundTruth
from kinesis_course.handler_steps import copy_handler_before


def test_fault_slices_follow_the_rates(wrapper):
    faults, _ = wrapper
    rates = {"error": 0.1, "throttle": 0.1, "crash": 0.05, "timeout": 0.05}
    assert faults.choose_fault(rates, 0.05) == "error"
    assert faults.choose_fault(rates, 0.15) == "throttle"
    assert faults.choose_fault(rates, 0.22) == "crash"
    assert faults.choose_fault(rates, 0.27) == "timeout"
    assert faults.choose_fault(rates, 0.31) is None


@pytest.fixture
def wrapper(tmp_path, monkeypatch):
    """faults.py around a stand-in handler that writes each record once; /tmp is the test's own."""
    writes = []

    class Client:
        exceptions = SimpleNamespace(ConditionalCheckFailedException=KeyError)

        def put_item(self, **parameters):
            writes.append(parameters["Item"]["pk"]["S"])

        def transact_write_items(self, **parameters):
            writes.append([next(iter(part.values())) for part in parameters["TransactItems"]])

    def fake_handler(event, context):
        failures = []
        for index, record in enumerate(event["Records"]):
            try:
                module.write_reading(module.dynamodb, "readings", record["kinesis"]["sequenceNumber"], record)
            except Exception:
                failures = [{"itemIdentifier": r["kinesis"]["sequenceNumber"]} for r in event["Records"][index:]]
                break
        return {"batchItemFailures": failures}

    def write_reading(dynamodb, table_name, key, reading):
        dynamodb.put_item(TableName=table_name, Item={"pk": {"S": key}})
        return True

    module = SimpleNamespace(dynamodb=Client(), handler=fake_handler, write_reading=write_reading)
    monkeypatch.setitem(sys.modules, "handler", module)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    sys.modules.pop("kinesis_course.capstone.faults", None)
    faults = importlib.import_module("kinesis_course.capstone.faults")
    yield faults, writes
    sys.modules.pop("kinesis_course.capstone.faults", None)


def event(first: int, count: int) -> dict:
    return {
        "Records": [
            {"eventID": f"shardId-000000000000:{n}", "kinesis": {"sequenceNumber": str(n)}}
            for n in range(first, first + count)
        ]
    }


def test_the_plan_injects_an_error_then_a_throttle_and_never_twice_on_one_batch(wrapper, monkeypatch, capsys):
    faults, writes = wrapper
    monkeypatch.setenv("FAULT_PLAN", "error,throttle")
    with pytest.raises(faults.TransientFault):
        faults.handler(event(1, 4), None)
    assert writes == []
    response = faults.handler(event(10, 4), None)  # the second first delivery: a throttled write
    assert response["batchItemFailures"], response
    assert faults.handler(event(1, 4), None) == {"batchItemFailures": []}  # the errored batch again: no fault
    lines = capsys.readouterr().out.splitlines()
    kinds = [json.loads(line[6:])["kind"] for line in lines if line.startswith("FAULT ")]
    assert kinds == ["error", "throttle"]
    assert sum(line.startswith("INVOKE ") for line in lines) == 3


def test_the_catalog_has_eight_kinds_each_with_a_fate_and_triage_agrees(tmp_path):
    assert len(catalog.KINDS) >= 8
    assert {kind.fate for kind in catalog.KINDS} == {catalog.POISON, catalog.SKIPPED}
    copy_handler_before("99", tmp_path)
    table = catalog.through_triage(tmp_path)
    for kind in catalog.KINDS:
        line = next(line for line in table.splitlines() if line.startswith(kind.name + " "))
        if kind.name == "oversized":
            assert "fails later, at the write" in line
        elif kind.fate == catalog.POISON:
            assert "PoisonRecord" in line, line
        else:
            assert "skipped" in line, line


def test_the_proof_finds_a_lost_and_a_changed_reading():
    truth = GroundTruth()
    truth.readings = {
        "a": {"reading_id": "a", "sensor": "s", "temperature": 10, "unit": "C"},
        "b": {"reading_id": "b", "sensor": "s", "temperature": 50, "unit": "F"},
        "c": {"reading_id": "c", "sensor": "t", "temperature": 0, "unit": "C"},
    }
    truth.shard_of = {"100": "shard-0"}

    def item(pk, sensor, temperature):
        return {"pk": {"S": pk}, "sensor": {"S": sensor}, "temperature": {"N": str(temperature)}}

    assert proof.fahrenheit(truth.readings["a"]) == Decimal("50.00")
    good = proof.prove(truth, [item("a", "s", 50), item("b", "s", 50), item("c", "t", 32)], [], {"100"})
    assert (good["lost"], good["duplicated or changed"], good["per-sensor totals equal"]) == (0, 0, True)
    bad = proof.prove(truth, [item("a", "s", 53), item("b", "s", 50)], [], {"100"})
    assert (bad["lost"], bad["duplicated or changed"], bad["per-sensor totals equal"]) == (1, 1, False)


def test_the_picture_tells_retries_from_bisected_halves():
    found = [
        {"at": 0, "shardId": "s0", "sequenceNumbers": ["1", "2", "3", "4"], "fault": "error"},
        {"at": 1, "shardId": "s0", "sequenceNumbers": ["1", "2"], "fault": None},
        {"at": 2, "shardId": "s0", "sequenceNumbers": ["3", "4"], "fault": None},
        {"at": 3, "shardId": "s0", "sequenceNumbers": ["5", "6"], "fault": None},
        {"at": 4, "shardId": "s0", "sequenceNumbers": ["6"], "fault": None},  # after a partial failure
    ]
    counts = Counter()
    for _, category, records in picture.classify(found):
        counts[category] += records
    assert counts == Counter({"delivered": 6, "bisected": 4, "retried": 1})


def test_fault_variables_cover_every_kind():
    assert set(run.fault_variables({"error": 0.1})) == {f"FAULT_{kind.upper()}_RATE" for kind in run.NO_FAULTS}


def test_the_outage_refuses_the_same_writes_on_every_delivery(wrapper, monkeypatch, capsys):
    faults, writes = wrapper
    monkeypatch.setenv("FAULT_OUTAGE", "3..4")
    for _ in range(4):  # the first delivery and 3 retries: the outage outlasts them all
        response = faults.handler(event(1, 5), None)
        assert response["batchItemFailures"][0] == {"itemIdentifier": "3"}, response
    assert writes == ["1", "2"] * 4
    refused = [json.loads(line[6:]) for line in capsys.readouterr().out.splitlines() if line.startswith("FAULT ")]
    assert [(line["kind"], line["key"]) for line in refused] == [("outage", "3")] * 4
    monkeypatch.setenv("FAULT_OUTAGE", "")  # the table is back: the same batch goes through
    assert faults.handler(event(1, 5), None) == {"batchItemFailures": []}


def test_the_outage_finds_the_keys_of_a_transaction(wrapper):
    faults, _ = wrapper
    transaction = {
        "TransactItems": [
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "rd-2"}}}},
            {"Update": {"TableName": "c", "Key": {"pk": {"S": "sensor-01"}}}},
        ]
    }
    assert faults.keys_written("transact_write_items", transaction) == ["rd-2", "sensor-01"]
    assert faults.outage_of("rd-1..rd-3") == ("rd-1", "rd-3") and faults.outage_of("") is None


def test_the_counted_write_replaces_only_the_handler_s_store_step(wrapper, monkeypatch):
    from kinesis_course.capstone import counted

    faults, writes = wrapper
    calls = []

    def write_counted(dynamodb, table_name, counter_table, key, reading):
        calls.append((table_name, counter_table, key))
        dynamodb.transact_write_items(TransactItems=[{"Put": {"Item": {"pk": {"S": key}}}}])
        return True

    monkeypatch.setitem(sys.modules, "counted", counted)
    monkeypatch.setitem(sys.modules, "counting", SimpleNamespace(write_counted=write_counted))
    monkeypatch.setenv("COUNTER_TABLE", "counts")
    assert faults.handler(event(1, 2), None) == {"batchItemFailures": []}
    assert calls == [("readings", "counts", "1"), ("readings", "counts", "2")]
    assert len(writes) == 2


def test_the_proof_compares_each_sensor_s_counter_with_its_readings():
    truth = GroundTruth()
    truth.readings = {
        rid: {"reading_id": rid, "sensor": sensor, "temperature": 1, "unit": "C"}
        for rid, sensor in (("a", "s"), ("b", "s"), ("c", "t"))
    }
    truth.sequence_numbers = {"a": ["1"], "b": ["2", "5"], "c": ["3"]}
    truth.shard_of = {"1": "shard-0", "2": "shard-0", "3": "shard-1", "5": "shard-0"}

    def counter(sensor, count):
        return {"pk": {"S": sensor}, "readings": {"N": str(count)}}

    failures = [{"KinesisBatchInfo": {"shardId": "shard-0", "startSequenceNumber": "2", "endSequenceNumber": "5"}}]
    good = proof.prove(truth, [], failures, set(), [counter("s", 2), counter("t", 1)], outage=("b", "b"))
    assert good["per-sensor counters equal"] and (good["readings the outage hit"], good["of them given up"]) == (1, 1)
    twice = proof.prove(truth, [], failures, set(), [counter("s", 3), counter("t", 1)])
    assert not twice["per-sensor counters equal"]
    assert proof.records_given_up(truth, failures, ("b", "b"))["  in ranges of the outage"] == 2
