"""How a stream mapping counts its attempts at a batch (approximateInvokeCount), as AWS's recordings show it.

Pure functions, no LocalStack import: the retry loop (delivery.py) uses them, tests/unit/engine checks them.

AWS documents that MaximumRetryAttempts counts the retries after the first attempt (API reference,
CreateEventSourceMapping), that after a partial batch response "Lambda uses the record with the lowest sequence
number as the checkpoint. Lambda then retries all records starting from that checkpoint" (Lambda developer guide,
"Configuring partial batch response with Kinesis Data Streams and Lambda"), and that a failure record's
requestContext carries approximateInvokeCount (Kinesis on-failure destinations). It documents neither how the count
runs across a partial batch response nor what it says for records given up as too old. The two rules below are
INFERRED from AWS's recordings in LocalStack's AWS-validated tests at v4.14.0
(tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_kinesis.snapshot.json, "SNAP" below, and
test_lambda_integration_dynamodbstreams.snapshot.json), not documented by AWS:

1. The count belongs to the batch that starts at the checkpoint. When a partial batch response moves the
   checkpoint (the lowest reported record is not the batch's first), the records from it on are retried as a new
   batch: its attempts count from zero, so it gets one invocation plus MaximumRetryAttempts retries of its own.
   When the lowest reported record is the batch's first, the checkpoint did not move: the invocation was an
   attempt of the same batch (otherwise a record that keeps reporting itself would never run out of retries, and
   AWS's recording shows it does).
   SNAP test_kinesis_report_batch_item_failures (recorded 2024-09-11, 2024-10-12 and 2025-11-25, the same each
   time): 6 records, BatchSize 3, MaximumRetryAttempts 3, the function reports record 5 of [3, 4, 5] as failed
   -> records 0 to 4 delivered once, record 5 five times (once in [3, 4, 5], then four times alone: 10 records in
   the recorded invocations), and the failure record says RetryAttemptsExhausted, approximateInvokeCount 4,
   batchSize 1 (start = end = record 5). test_dynamodb_report_batch_item_failures (2025-11-25) shows the same.
   Bounded: every restart moves the checkpoint by at least one record, so a batch of N records gets at most
   N x (MaximumRetryAttempts + 1) invocations.
2. Records given up as RecordAgeExceeded carry approximateInvokeCount = the attempts that carried them + 1 (the
   attempts of their batch at the checkpoint, as in rule 1): the attempt that found them too old is counted,
   though it invoked nothing.
   SNAP: 1 for a record too old before any invocation (test_kinesis_maximum_record_age_exceeded
   [expire-before-ingestion]; test_kinesis_maximum_record_age_exceeded_discard_records, where the function never
   received the expired record: its five younger neighbours were delivered without it).
   For a record that expires while retrying, SNAP recorded 8 (2025-11-25) and, for the same test, 1
   (2025-04-13): how many attempts fit in the age depends on AWS's backoff, which AWS does not document, and on how
   long the new mapping took to start reading. The kit matches the rule, not that number. The recordings do not
   log that test's invocations, so they cannot tell "invocations + 1" from "at least 1"; the kit takes
   invocations + 1, the number of the attempt that gave the records up (as RetryAttemptsExhausted's count is the
   number of the last attempt).
"""

from __future__ import annotations


def attempts_after_partial_failure(attempts: int, delivered: int, retried: int) -> int:
    """The attempts already counted for the records retried after a partial batch response (rule 1).

    ``attempts``: the attempts counted so far, the one that got the partial response included; ``delivered``: how
    many records that attempt delivered; ``retried``: how many are retried (from the lowest reported record on).
    The same ``attempts`` when the retry starts at the batch's first record; 0 when it starts later, at the new
    checkpoint (a new batch)."""
    return attempts if retried >= delivered else 0


def record_age_exceeded_count(invocations: int) -> int:
    """approximateInvokeCount for records given up as too old after ``invocations`` invocations that carried
    them (rule 2): 1 when they were never invoked."""
    return invocations + 1
