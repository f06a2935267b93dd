"""The extension's pure rules for Kinesis mappings (no LocalStack needed): batch cuts, lanes, validation, switch."""

from __future__ import annotations

import pytest

from kinesis_course_localstack.esm import switches
from kinesis_course_localstack.esm.batches import (
    MAX_PAYLOAD_BYTES,
    base64_length,
    batch_is_full,
    cut_batch,
    lane_of,
    record_size,
)
from kinesis_course_localstack.esm.validation import (
    range_errors,
    metrics_config_error,
    record_age_error,
    starting_position_error,
    validation_errors,
)

MB = 1024 * 1024


def test_a_batch_holds_at_most_batch_size_records():
    assert cut_batch([100] * 250, batch_size=100) == 100
    assert cut_batch([100] * 30, batch_size=100) == 30
    assert batch_is_full([100] * 100, batch_size=100)
    assert not batch_is_full([100] * 99, batch_size=100)


def test_a_batch_holds_at_most_6_mb():
    sizes = [int(1.3 * MB)] * 10
    assert cut_batch(sizes, batch_size=100) == 4  # 5 x 1.3 MB > 6 MB
    assert batch_is_full(sizes[:5], batch_size=100)
    assert not batch_is_full(sizes[:4], batch_size=100)
    assert sum(sizes[:4]) <= MAX_PAYLOAD_BYTES


def test_a_record_too_large_alone_is_still_sent_alone():
    assert cut_batch([7 * MB, 10], batch_size=100) == 1


def test_a_record_size_counts_its_base64_data():
    assert base64_length(3) == 4 and base64_length(4) == 8
    assert record_size(b"x" * 900_000, "k", metadata_bytes=400) == 1_200_000 + len('"k"') + 400 + 2


def test_one_partition_key_always_has_the_same_lane():
    assert {lane_of("device-7", 4) for _ in range(10)} == {lane_of("device-7", 4)}
    assert lane_of("anything", 1) == 0
    assert {lane_of(f"device-{n}", 4) for n in range(100)} == {0, 1, 2, 3}


@pytest.mark.parametrize(
    ("request_", "member"),
    [
        ({"BatchSize": 0}, "batchSize"),
        ({"BatchSize": 10_001}, "batchSize"),
        ({"MaximumBatchingWindowInSeconds": 301}, "maximumBatchingWindowInSeconds"),
        ({"MaximumBatchingWindowInSeconds": -1}, "maximumBatchingWindowInSeconds"),
        ({"MaximumRetryAttempts": -2}, "maximumRetryAttempts"),
        ({"ParallelizationFactor": 0}, "parallelizationFactor"),
        ({"TumblingWindowInSeconds": 901}, "tumblingWindowInSeconds"),
    ],
)
def test_values_out_of_the_api_ranges_are_errors(request_, member):
    (error,) = range_errors(request_)
    assert f"at '{member}' failed to satisfy constraint: Member must have value" in error


def test_values_in_range_pass():
    assert (
        range_errors(
            {
                "BatchSize": 10_000,
                "MaximumBatchingWindowInSeconds": 300,
                "MaximumRetryAttempts": -1,
                "ParallelizationFactor": 10,
                "MaximumRecordAgeInSeconds": 60,
            }
        )
        == []
    )


@pytest.mark.parametrize("age", [0, 1, 59])
def test_a_record_age_under_60_s_is_refused_as_aws_refuses_it(age):
    # In the API model's range (-1 to 604,800), yet refused: -1 means no limit, the smallest limit is 60.
    assert range_errors({"MaximumRecordAgeInSeconds": age}) == []
    assert record_age_error({"MaximumRecordAgeInSeconds": age}) == (
        "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)"
    )


@pytest.mark.parametrize("age", [-1, 60, 604_800, None])
def test_no_limit_and_a_limit_of_60_s_or_more_pass(age):
    assert record_age_error({"MaximumRecordAgeInSeconds": age}) is None


def test_starting_position_and_timestamp_go_together():
    assert starting_position_error({"StartingPosition": "AT_TIMESTAMP"})
    assert starting_position_error({"StartingPosition": "LATEST", "StartingPositionTimestamp": 1})
    assert starting_position_error({"StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": 1}) is None
    assert starting_position_error({"StartingPosition": "TRIM_HORIZON"}) is None


def test_only_kinesis_mappings_are_checked_and_range_errors_come_together():
    kinesis = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
    errors, parameter_error = validation_errors(
        {"EventSourceArn": kinesis, "BatchSize": 0, "ParallelizationFactor": 11, "StartingPosition": "AT_TIMESTAMP"}
    )
    assert len(errors) == 2 and parameter_error.startswith("StartingPositionTimestamp must be provided")
    dynamodb = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024"
    assert validation_errors({"EventSourceArn": dynamodb, "BatchSize": 0}) == ([], None)


def test_a_stream_mapping_takes_the_event_count_metric_group_only():
    assert metrics_config_error({}) is None
    assert metrics_config_error({"MetricsConfig": {"Metrics": []}}) is None
    assert metrics_config_error({"MetricsConfig": {"Metrics": ["EventCount"]}}) is None
    assert "Kafka" in metrics_config_error({"MetricsConfig": {"Metrics": ["EventCount", "ErrorCount"]}})
    assert "Kafka" in metrics_config_error({"MetricsConfig": {"Metrics": ["KafkaMetrics"]}})
    assert "'eventcount'" in metrics_config_error({"MetricsConfig": {"Metrics": ["eventcount"]}})


def test_the_switch_turns_the_aws_reading_off(monkeypatch):
    monkeypatch.delenv(switches.POLLER.variable, raising=False)
    assert switches.aws_reading()
    monkeypatch.setenv(switches.POLLER.variable, "localstack")
    assert not switches.aws_reading()


def test_the_metrics_switch_leaves_the_position_view_on(monkeypatch):
    monkeypatch.setenv(switches.METRICS.variable, "off")
    monkeypatch.delenv(switches.POSITION.variable, raising=False)
    assert not switches.METRICS.on() and switches.POSITION.on()
    monkeypatch.setenv(switches.POSITION.variable, "off")
    assert not switches.POSITION.on()
