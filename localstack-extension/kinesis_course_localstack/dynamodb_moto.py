"""DynamoDB and DynamoDB Streams answered by the moto that LocalStack bundles.

LocalStack's default DynamoDB provider starts DynamoDB Local, which needs Java and a download at first use;
neither works offline. moto implements the same API in-process, including conditional writes and
UpdateItem expressions, which is all the course needs. Select with PROVIDER_OVERRIDE_DYNAMODB=moto
(and PROVIDER_OVERRIDE_DYNAMODBSTREAMS=moto, so that streams read moto's tables).
"""

from localstack.aws.api.dynamodb import DynamodbApi
from localstack.aws.api.dynamodbstreams import DynamodbstreamsApi
from localstack.services.plugins import Service, aws_provider


class DynamoDBMotoProvider(DynamodbApi):
    """Implements nothing itself: every operation falls through to moto."""


class DynamoDBStreamsMotoProvider(DynamodbstreamsApi):
    """Implements nothing itself: every operation falls through to moto."""


@aws_provider(api="dynamodb", name="moto")
def dynamodb():
    from localstack.services.moto import MotoFallbackDispatcher

    return Service.for_provider(DynamoDBMotoProvider(), dispatch_table_factory=MotoFallbackDispatcher)


@aws_provider(api="dynamodbstreams", name="moto")
def dynamodbstreams():
    from localstack.services.moto import MotoFallbackDispatcher

    return Service.for_provider(DynamoDBStreamsMotoProvider(), dispatch_table_factory=MotoFallbackDispatcher)
