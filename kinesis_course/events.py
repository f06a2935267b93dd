"""The Lambda event an ESM builds from Kinesis records (as AWS documents it, and as LocalStack sends it)."""

from __future__ import annotations

import base64
from datetime import datetime

from .endpoint import REGION
from .functions import ROLE_ARN


def kinesis_event(
    records: list[dict], stream_arn: str, shard_id: str, region: str = REGION, role_arn: str = ROLE_ARN
) -> dict:
    """Wraps GetRecords output (boto3 records: Data as bytes) in the ``{"Records": [...]}`` shape Lambda receives.

    The data fields sit under ``kinesis``; the shard id appears only in ``eventID``.
    """
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record["PartitionKey"],
                    "sequenceNumber": record["SequenceNumber"],
                    "data": base64.b64encode(record["Data"]).decode("ascii"),
                    "approximateArrivalTimestamp": _epoch(record["ApproximateArrivalTimestamp"]),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{record['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": role_arn,
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for record in records
        ]
    }


def _epoch(moment) -> float:
    return round(moment.timestamp(), 3) if isinstance(moment, datetime) else float(moment)
