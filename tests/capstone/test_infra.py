"""infra/capstone.yaml: linted by cfn-lint, and deployed to LocalStack's CloudFormation (never to an AWS account)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from kinesis_course import client, health
from kinesis_course.functions import zip_folder
from kinesis_course.handler_steps import copy_handler_before

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "capstone.yaml"


def test_cfn_lint_finds_nothing():
    cfn_lint = Path(sys.executable).with_name("cfn-lint")  # installed by requirements.txt
    result = subprocess.run([str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, f"cfn-lint:\n{result.stdout}{result.stderr}"


def test_the_template_uses_no_transform_and_configures_the_mapping_like_lesson_07():
    text = TEMPLATE.read_text()
    assert "Transform" not in text
    from kinesis_course.checks.lesson07 import TARGET

    for key, value in TARGET.items():
        written = str(value).lower() if isinstance(value, bool) else value
        if isinstance(written, list):
            assert all(f"- {item}" in text for item in written), key
        else:
            assert f"{key}: {written}" in text, key


@pytest.fixture
def stack(tmp_path, missing_tool):
    if health().get("services", {}).get("cloudformation") not in ("running", "available"):
        missing_tool(
            "LocalStack runs without CloudFormation: this LocalStack was not started by the kit "
            "(`make down`, then `make up`), or cloudformation is missing from SERVICES in tools/localstack_ctl.py"
        )
    prefix = f"kcinfra-{uuid.uuid4().hex[:6]}"
    bucket = f"{prefix}-code"
    s3, cloudformation = client("s3"), client("cloudformation")
    s3.create_bucket(Bucket=bucket)
    copy_handler_before("99", tmp_path / "handler")
    s3.put_object(Bucket=bucket, Key="capstone/handler.zip", Body=zip_folder(tmp_path / "handler"))
    cloudformation.create_stack(
        StackName=prefix,
        TemplateBody=TEMPLATE.read_text(),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[
            {"ParameterKey": "Prefix", "ParameterValue": prefix},
            {"ParameterKey": "CodeBucket", "ParameterValue": bucket},
        ],
    )
    try:
        cloudformation.get_waiter("stack_create_complete").wait(
            StackName=prefix, WaiterConfig={"Delay": 2, "MaxAttempts": 90}
        )
        yield prefix, cloudformation.describe_stacks(StackName=prefix)["Stacks"][0]
    finally:
        cloudformation.delete_stack(StackName=prefix)
        try:
            cloudformation.get_waiter("stack_delete_complete").wait(
                StackName=prefix, WaiterConfig={"Delay": 2, "MaxAttempts": 90}
            )
        finally:
            for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])
            s3.delete_bucket(Bucket=bucket)


@pytest.mark.localstack
def test_the_template_deploys_to_localstack(stack):
    prefix, description = stack
    outputs = {output["OutputKey"]: output["OutputValue"] for output in description["Outputs"]}
    assert (
        client("kinesis").describe_stream_summary(StreamName=f"{prefix}-readings")["StreamDescriptionSummary"][
            "OpenShardCount"
        ]
        == 2
    )
    assert (
        client("dynamodb").describe_table(TableName=f"{prefix}-readings")["Table"]["KeySchema"][0]["AttributeName"]
        == "pk"
    )
    assert client("sqs").get_queue_url(QueueName=f"{prefix}-failures")["QueueUrl"]
    function = client("lambda").get_function_configuration(FunctionName=f"{prefix}-fn")
    assert (
        function["Handler"] == "handler.handler"
        and function["Environment"]["Variables"]["TABLE"] == f"{prefix}-readings"
    )
    mapping = client("lambda").get_event_source_mapping(UUID=outputs["MappingId"])
    assert mapping["BatchSize"] == 100 and mapping["MaximumRetryAttempts"] == 3
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"] and mapping["BisectBatchOnFunctionError"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(f":{prefix}-failures")
