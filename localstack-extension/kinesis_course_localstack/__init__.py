"""LocalStack 4.14 extension for the Kinesis-Lambda course.

- ``process_executor``: runs Python zip functions as local processes (``LAMBDA_RUNTIME_EXECUTOR=process``).
- ``dynamodb_moto``: DynamoDB and DynamoDB Streams served by the bundled moto (``PROVIDER_OVERRIDE_DYNAMODB=moto``).
- ``esm``: event source mappings as AWS documents them (bisection, retries, attempts, AWS-like reading of Kinesis
  shards, validation, tumbling windows, Lambda's Duration and IteratorAge metrics) and the kit's teaching devices
  (the course clock, the position view). Its layout and its table of patches: ``esm/__init__.py``.
- ``loopback_gateway``: LocalStack listens on the configured host only.
- ``parent_guard``: kinesis-mock ends with LocalStack, even when LocalStack is killed.
"""
