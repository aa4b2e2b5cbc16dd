"""The CloudFormation API of the local cloud's endpoint, through boto3: what ``cdk deploy`` / ``cdk destroy`` rely on.

AWS pages: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets.html
(change sets, "didn't contain changes"), https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html
(exports, an export in use cannot be deleted), https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.server import LocalCloudServer

pytestmark = pytest.mark.e2e


def queue_template(name: str, visibility: int, export: str) -> str:
    return json.dumps({
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": f"{name}.fifo", "FifoQueue": True, "VisibilityTimeout": visibility}}},
        "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}, "Export": {"Name": export}},
                    "QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}}},
    })


def importer_template(export: str) -> str:
    return json.dumps({
        "Resources": {"Param": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Type": "String", "Value": {"Fn::ImportValue": export}}}},
        "Outputs": {"ParameterName": {"Value": {"Ref": "Param"}}},
    })


def change_set(cfn: Any, stack: str, body: str, kind: str) -> dict[str, Any]:
    created = cfn.create_change_set(StackName=stack, ChangeSetName=f"cs-{uuid.uuid4().hex[:8]}", TemplateBody=body,
                                    ChangeSetType=kind)
    described: dict[str, Any] = cfn.describe_change_set(ChangeSetName=created["Id"])
    return described


def outputs(cfn: Any, stack: str) -> dict[str, str]:
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def test_change_sets_create_update_and_delete_stacks_with_outputs_and_exports(aws: Any) -> None:
    """Create through a change set, describe with outputs, export to another stack, update in place, refuse a
    no-op update, refuse to delete an export in use, delete."""
    cfn, sqs = aws("cloudformation"), aws("sqs")
    tag = uuid.uuid4().hex[:8]
    stack, importer, export = f"Queue{tag}", f"Importer{tag}", f"queue-url-{tag}"
    # Given a stack created through a change set
    created = change_set(cfn, stack, queue_template(f"q-{tag}", 30, export), "CREATE")
    assert created["Status"] == "CREATE_COMPLETE"
    assert [c["ResourceChange"]["Action"] for c in created["Changes"]] == ["Add"]
    cfn.execute_change_set(ChangeSetName=created["ChangeSetId"])
    # Then it is complete with its outputs, its export is listed, and another stack can import it
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    url = outputs(cfn, stack)["QueueUrl"]
    assert url.endswith(f"/q-{tag}.fifo")
    assert {"Name": export, "Value": url} in [{k: e[k] for k in ("Name", "Value")}
                                              for e in cfn.list_exports()["Exports"]]
    cfn.create_stack(StackName=importer, TemplateBody=importer_template(export))
    parameter = outputs(cfn, importer)["ParameterName"]
    assert aws("ssm").get_parameter(Name=parameter)["Parameter"]["Value"] == url

    # When the same template is submitted again, Then the change set has nothing to do
    unchanged = change_set(cfn, stack, queue_template(f"q-{tag}", 30, export), "UPDATE")
    assert unchanged["Status"] == "FAILED"
    assert unchanged["StatusReason"].startswith("The submitted information didn't contain changes.")
    with pytest.raises(ClientError, match="No updates are to be performed"):
        cfn.update_stack(StackName=stack, TemplateBody=queue_template(f"q-{tag}", 30, export))

    # When a property changes, Then the queue is updated in place (same URL, new attribute, events recorded)
    updated = change_set(cfn, stack, queue_template(f"q-{tag}", 60, export), "UPDATE")
    assert [(c["ResourceChange"]["Action"], c["ResourceChange"]["Replacement"]) for c in updated["Changes"]] == [
        ("Modify", "False")]
    cfn.execute_change_set(ChangeSetName=updated["ChangeSetId"])
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert outputs(cfn, stack)["QueueUrl"] == url
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
        "VisibilityTimeout": "60"}
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    assert (events[0]["LogicalResourceId"], events[0]["ResourceStatus"]) == (stack, "UPDATE_COMPLETE")
    times = [e["Timestamp"] for e in events]
    assert times == sorted(set(times), reverse=True)  # newest first, distinct: clients sort them by time
    assert ("Queue", "UPDATE_COMPLETE") in [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events]
    resources = cfn.describe_stack_resources(StackName=stack)["StackResources"]
    assert [(r["LogicalResourceId"], r["PhysicalResourceId"]) for r in resources] == [("Queue", url)]
    assert cfn.get_template(StackName=stack)["TemplateBody"] == json.loads(queue_template(f"q-{tag}", 60, export))

    # When the exporting stack is deleted while imported, Then it stays (DELETE_FAILED with the reason)
    cfn.delete_stack(StackName=stack)
    kept = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert kept["StackStatus"] == "DELETE_FAILED"
    assert f"in use by {importer}" in kept["StackStatusReason"]
    # When the importer goes first, Then both are deleted with their resources
    cfn.delete_stack(StackName=importer)
    cfn.delete_stack(StackName=stack)
    for name in (stack, importer):
        with pytest.raises(ClientError, match="does not exist"):
            cfn.describe_stacks(StackName=name)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_attributes(QueueUrl=url)
    assert stack in [s["StackName"] for s in cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]]


def test_a_failing_resource_rolls_the_new_stack_back(aws: Any) -> None:
    """A resource that cannot be created fails the stack: what was created is deleted, ROLLBACK_COMPLETE."""
    cfn, sqs = aws("cloudformation"), aws("sqs")
    tag = uuid.uuid4().hex[:8]
    # Given a template whose second resource refers to a table that does not exist
    body = json.dumps({"Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"rb-{tag}"}},
        "Broken": {"Type": "AWS::DynamoDB::Table", "DependsOn": "Queue", "Properties": {
            "TableName": f"rb-{tag}", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [], "BillingMode": "PAY_PER_REQUEST"}},
    }})
    # When it is created
    cfn.create_stack(StackName=f"Rollback{tag}", TemplateBody=body)
    # Then the stack is rolled back, the reason recorded, and the queue it had created is gone again
    described = cfn.describe_stacks(StackName=f"Rollback{tag}")["Stacks"][0]
    assert described["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [e for e in cfn.describe_stack_events(StackName=f"Rollback{tag}")["StackEvents"]
              if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Broken"]
    assert not [u for u in sqs.list_queues().get("QueueUrls", []) if u.endswith(f"/rb-{tag}")]


def test_unknown_stacks_and_templates_are_validation_errors(aws: Any) -> None:
    """Describing a missing stack, or an update of one, is a ValidationError; a template without resources too."""
    cfn = aws("cloudformation")
    with pytest.raises(ClientError, match="does not exist") as missing:
        cfn.describe_stacks(StackName="NoSuchStack")
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError, match="At least one Resources member"):
        cfn.create_stack(StackName="Empty", TemplateBody='{"Resources": {}}')


def triggered_function_template(name: str) -> str:
    """A FIFO queue, a function with inline code and the event source mapping linking them."""
    source = ("def handler(event, context):\n    print('got', len(event['Records']))\n"
              "    return {'batchItemFailures': []}\n")
    return json.dumps({"Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"{name}.fifo", "FifoQueue": True}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]}}},
        "Function": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": name, "Runtime": "python3.12", "Handler": "index.handler",
            "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Code": {"ZipFile": source}}},
        "Trigger": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "FunctionName": {"Ref": "Function"}, "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
            "BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"]}},
    }})


def test_deleting_a_stack_stops_its_trigger_before_its_queue_goes(
    server: LocalCloudServer, aws: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """What cdk destroy does: the trigger of a deleted stack stops polling before its queue is deleted (no failed
    receive), and its function and mapping are gone from the Lambda API."""
    cfn, sqs, lam = aws("cloudformation"), aws("sqs"), aws("lambda")
    name = f"trig-{uuid.uuid4().hex[:8]}"
    # Given a stack whose function is triggered by its queue, processing a message
    cfn.create_stack(StackName=name, TemplateBody=triggered_function_template(name))
    url = sqs.get_queue_url(QueueName=f"{name}.fifo")["QueueUrl"]
    mapping = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"][0]
    assert server.cloud.triggers.is_polling(mapping["UUID"])
    sqs.send_message(QueueUrl=url, MessageBody="{}", MessageGroupId="g", MessageDeduplicationId="d")
    deadline = time.monotonic() + 10
    while not any(i.function_name == name for i in server.cloud.invocations) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [i.result.ok for i in server.cloud.invocations if i.function_name == name] == [True]
    # When the stack is deleted
    with caplog.at_level(logging.ERROR, logger="localcloud"):
        cfn.delete_stack(StackName=name)
        time.sleep(0.5)  # a poller still running would fail its next receive now
    # Then nothing failed, and the trigger, the function and the mapping are gone
    assert [r.getMessage() for r in caplog.records] == []
    assert not server.cloud.triggers.is_polling(mapping["UUID"])
    assert name not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert mapping["UUID"] not in [m["UUID"] for m in lam.list_event_source_mappings()["EventSourceMappings"]]
