"""LocalStack 4.14 extension for the Kinesis-Lambda course.

- ``process_executor``: runs Python zip functions as local processes (``LAMBDA_RUNTIME_EXECUTOR=process``).
- ``dynamodb_moto``: DynamoDB and DynamoDB Streams served by the bundled moto (``PROVIDER_OVERRIDE_DYNAMODB=moto``).
- ``esm_parity``: event source mapping patches that match AWS (bisection, retries end with their mapping).
- ``esm_aws_reading``: Kinesis mappings read like AWS: one reader per shard (``esm_shard_reader``), batches of
  BatchSize and 6 MB (``esm_batches``), checkpoints (``esm_checkpoints``), AWS-shaped validation (``esm_validation``);
  ``COURSE_ESM_POLLER=localstack`` turns it off.
- ``parent_guard``: kinesis-mock ends with LocalStack, even when LocalStack is killed.
"""
