"""The same handler written with Powertools for AWS Lambda (Python): deployed as ``powertools_handler.handler``.

Decoding and normalising are the course's own (triage.py and the files it imports); what changes is the rest:

* ``BatchProcessor(EventType.KinesisDataStreams)`` runs ``record_handler`` on every record and builds the
  ``batchItemFailures`` response (the mapping must have FunctionResponseTypes=["ReportBatchItemFailures"]).
  Unlike the course's handler it does not stop at the first failure: it processes every record and reports each
  one that raised; Lambda then resumes from the lowest reported sequence number.
* ``@idempotent_function`` keyed on the reading's ``reading_id``: before running ``store`` it writes an
  INPROGRESS record to the idempotency table (conditional put), afterwards it marks it COMPLETED with the result;
  a repeat within ``expires_after_seconds`` returns the saved result without running ``store``. With
  ``payload_validation_jmespath`` a repeat whose sensor, temperature or unit differ raises
  IdempotencyValidationError: the conflicting duplicate fails instead of being ignored.

Environment: TABLE (the readings), IDEMPOTENCY_TABLE (partition key ``id``).
"""

import os

import boto3
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from triage import triage

dynamodb = boto3.client("dynamodb")
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"])
config = IdempotencyConfig(
    event_key_jmespath="reading_id",
    payload_validation_jmespath="[sensor, temperature, unit]",
    expires_after_seconds=3600,
)


@idempotent_function(data_keyword_argument="reading", config=config, persistence_store=persistence)
def store(reading: dict) -> str:
    item = {
        "pk": {"S": reading["reading_id"]},
        "reading_id": {"S": reading["reading_id"]},
        "sensor": {"S": reading["sensor"]},
        "temperature": {"N": str(reading["temperature"])},
        "unit": {"S": reading["unit"]},
    }
    if reading.get("humidity") is not None:
        item["humidity"] = {"N": str(reading["humidity"])}
    dynamodb.put_item(TableName=os.environ["TABLE"], Item=item)  # no condition: Powertools guards the repeats
    return "stored"


def process(record: dict) -> str:
    """One record of the event (a dict): 'stored' (or the saved result of an earlier run), or 'skipped'."""
    reading = triage(record)  # PoisonRecord propagates: the record is reported as failed
    if reading is None:
        return "skipped"
    return store(reading=reading)


def record_handler(record):
    return process(record.raw_event)


def handler(event, context):
    config.register_lambda_context(context)  # an INPROGRESS record expires when this invocation would time out
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
