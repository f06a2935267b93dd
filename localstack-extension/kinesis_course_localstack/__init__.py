"""LocalStack 4.14 extension for the Kinesis-Lambda course.

- ``process_executor``: runs Python zip functions as local processes (``LAMBDA_RUNTIME_EXECUTOR=process``).
- ``dynamodb_moto``: DynamoDB and DynamoDB Streams served by the bundled moto (``PROVIDER_OVERRIDE_DYNAMODB=moto``).
- ``esm_parity``: event source mapping patches that match AWS (bisection, retries end with their mapping), with
  attempts counted as AWS's recordings show (``esm_attempts``: a partial batch response that moves the checkpoint
  starts a new batch; a RecordAgeExceeded record counts the attempt that found its records too old).
- ``esm_aws_reading``: Kinesis mappings read like AWS: one reader per shard (``esm_shard_reader``), batches of
  BatchSize and 6 MB (``esm_batches``), checkpoints (``esm_checkpoints``), AWS-shaped validation (``esm_validation``);
  ``COURSE_ESM_POLLER=localstack`` turns it off.
- ``esm_windows``: tumbling windows (TumblingWindowInSeconds) for Kinesis mappings, as AWS documents them: state carried
  between a window's invocations, a final invocation per window, a response without state fails (with the AWS-like
  reading only; LocalStack 4.14 ignores the setting).
- ``esm_clock``: the course clock, a teaching device (not AWS): per mapping, off by default, runs record age, retry
  backoff, the batching window and idle polling F times faster (``PUT /_kinesis_course/esm/<UUID>/clock``).
- ``esm_metrics``: Lambda's Duration and IteratorAge (per FunctionName; IteratorAge also per EventSourceMappingUUID)
  in LocalStack's CloudWatch, namespace AWS/Lambda, as AWS publishes them (LocalStack publishes Invocations, Errors).
- ``esm_position``: the position view, a teaching device (not AWS): per shard the checkpoint, the batch in flight
  (attempt, bisecting) and the records behind (``GET /_kinesis_course/esm/<UUID>/position``).
- ``parent_guard``: kinesis-mock ends with LocalStack, even when LocalStack is killed.
"""
