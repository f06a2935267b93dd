"""Kinesis event source mapping parameters are checked as AWS checks them (CreateEventSourceMapping and
UpdateEventSourceMapping). Pure rules, no LocalStack import: reading.validate_like_aws raises AWS's exceptions.

LocalStack 4.14 checks BatchSize only (with the message "out of bounds todo") and stores any other value, which
then has no effect or breaks the poller (AT_TIMESTAMP without a timestamp ends in a KeyError). AWS refuses:
- values outside the ranges of the Lambda API model (API reference, CreateEventSourceMapping: BatchSize 1-10,000,
  MaximumBatchingWindowInSeconds 0-300, MaximumRetryAttempts -1-10,000, MaximumRecordAgeInSeconds -1-604,800,
  ParallelizationFactor 1-10, TumblingWindowInSeconds 0-900), with the API's constraint error: ValidationException,
  "1 validation error detected: Value '301' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint:
  Member must have value less than or equal to 300" (the form LocalStack's own tests recorded against AWS for
  other Lambda parameters; boto3 already refuses values below a minimum before sending them);
- a StartingPosition that does not go with StartingPositionTimestamp (AT_TIMESTAMP needs one, the other positions
  take none), with InvalidParameterValueException (the message wording is the kit's: AWS does not document it);
- a MaximumRecordAgeInSeconds from 0 to 59: the API model's minimum is -1, but -1 means "no limit" and the smallest
  limit is 60 (API reference, CreateEventSourceMapping: "Minimum value of -1"; the Lambda guide: 60 s to 7 days).
  AWS answers InvalidParameterValueException "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60
  and 604800 (inclusive)" (the message as AWS returned it, quoted in terraform-provider-aws pull request 16113).
  Lesson 03 shows a record expiring at 60 s on the course clock (clock.py), a few seconds of real time.
- a MetricsConfig metric group a stream mapping does not have: the API allows EventCount, ErrorCount and
  KafkaMetrics (API reference, EventSourceMappingMetricsConfig), the last two for Amazon MSK and self-managed Apache
  Kafka only; a Kinesis mapping takes EventCount alone. InvalidParameterValueException, the message's wording the
  kit's (AWS does not document it). LocalStack 4.14 stores any value.
"""

from __future__ import annotations

RANGES = {  # parameter: (API member name in errors, minimum, maximum)
    "BatchSize": ("batchSize", 1, 10_000),
    "MaximumBatchingWindowInSeconds": ("maximumBatchingWindowInSeconds", 0, 300),
    "MaximumRetryAttempts": ("maximumRetryAttempts", -1, 10_000),
    "MaximumRecordAgeInSeconds": ("maximumRecordAgeInSeconds", -1, 604_800),
    "ParallelizationFactor": ("parallelizationFactor", 1, 10),
    "TumblingWindowInSeconds": ("tumblingWindowInSeconds", 0, 900),
}


def range_errors(request: dict) -> list[str]:
    errors = []
    for parameter, (member, low, high) in RANGES.items():
        value = request.get(parameter)
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            continue
        if value < low:
            errors.append(
                f"Value '{value}' at '{member}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {low}"
            )
        elif value > high:
            errors.append(
                f"Value '{value}' at '{member}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {high}"
            )
    return errors


def starting_position_error(request: dict) -> str | None:
    position = request.get("StartingPosition")
    has_timestamp = request.get("StartingPositionTimestamp") is not None
    if position == "AT_TIMESTAMP" and not has_timestamp:
        return "StartingPositionTimestamp must be provided with the AT_TIMESTAMP starting position."
    if position and position != "AT_TIMESTAMP" and has_timestamp:
        return f"StartingPositionTimestamp can only be used with the AT_TIMESTAMP starting position, not {position}."
    return None


def record_age_error(request: dict) -> str | None:
    age = request.get("MaximumRecordAgeInSeconds")
    if isinstance(age, int) and not isinstance(age, bool) and 0 <= age < 60:
        return "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)"
    return None


STREAM_METRIC_GROUPS = ("EventCount",)
KAFKA_METRIC_GROUPS = ("ErrorCount", "KafkaMetrics")


def metrics_config_error(request: dict) -> str | None:
    metrics = (request.get("MetricsConfig") or {}).get("Metrics") or []
    for group in metrics:
        if group in KAFKA_METRIC_GROUPS:
            return f"MetricsConfig: {group} is for Amazon MSK and self-managed Apache Kafka event sources only."
        if group not in STREAM_METRIC_GROUPS:
            return f"MetricsConfig: unknown metric group {group!r}; a Kinesis event source mapping takes EventCount."
    return None


def _is_kinesis(request: dict) -> bool:
    return ":kinesis:" in (request.get("EventSourceArn") or "")


def validation_errors(request: dict) -> tuple[list[str], str | None]:
    """What AWS refuses in a Kinesis mapping's request: the API's constraint errors (answered together, as one
    ValidationException) and an invalid parameter value (InvalidParameterValueException); nothing for other
    sources, which LocalStack checks alone."""
    if not _is_kinesis(request):
        return [], None
    return range_errors(request), (
        starting_position_error(request) or record_age_error(request) or metrics_config_error(request)
    )
