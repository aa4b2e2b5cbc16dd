"""The resource types the local cloud creates, one module per AWS service, and the ones it deliberately skips.

Example::

    from localcloud.cloudformation.resources import EMULATED, NOT_EMULATED
    EMULATED["AWS::SQS::Queue"].create(ctx)
"""

from __future__ import annotations

from localcloud.apigateway import resources as apigateway
from localcloud.cloudformation.resources import (
    awslambda,
    cloudwatch,
    dynamodb,
    ecr,
    iam,
    kms,
    logs,
    s3,
    scheduler,
    sns,
    sqs,
    ssm,
)
from localcloud.cloudformation.resources.base import CodeSource, FunctionCode, ResourceContext, ResourceType

EMULATED: dict[str, ResourceType] = {
    "AWS::KMS::Key": kms.Key(),
    "AWS::KMS::Alias": kms.Alias(),
    "AWS::SNS::Topic": sns.Topic(),
    "AWS::SNS::TopicPolicy": sns.TopicPolicy(),
    "AWS::SNS::Subscription": sns.Subscription(),
    "AWS::SQS::Queue": sqs.Queue(),
    "AWS::SQS::QueuePolicy": sqs.QueuePolicy(),
    "AWS::DynamoDB::Table": dynamodb.Table(),
    "AWS::DynamoDB::GlobalTable": dynamodb.Table(),
    "AWS::IAM::Role": iam.Role(),
    "AWS::IAM::Policy": iam.Policy(),
    "AWS::IAM::ManagedPolicy": iam.ManagedPolicy(),
    "AWS::Logs::LogGroup": logs.LogGroup(),
    "AWS::Lambda::Function": awslambda.Function(),
    "AWS::Lambda::EventSourceMapping": awslambda.EventSourceMapping(),
    "AWS::CloudWatch::Alarm": cloudwatch.Alarm(),
    "AWS::CloudWatch::Dashboard": cloudwatch.Dashboard(),
    "AWS::SSM::Parameter": ssm.Parameter(),
    "AWS::S3::Bucket": s3.Bucket(),
    "AWS::S3::BucketPolicy": s3.BucketPolicy(),
    "AWS::ECR::Repository": ecr.Repository(),
    "AWS::ApiGatewayV2::Api": apigateway.Api(),
    "AWS::ApiGatewayV2::Stage": apigateway.Stage(),
    "AWS::ApiGatewayV2::Integration": apigateway.Integration(),
    "AWS::ApiGatewayV2::Route": apigateway.Route(),
    "AWS::Scheduler::ScheduleGroup": scheduler.ScheduleGroup(),
}
"""Resource type -> how it is created, updated and deleted through the service APIs (moto)."""

CUSTOM_RESOURCE_REASON = "custom resources run provider Lambdas in AWS; not run locally."

NOT_EMULATED: dict[str, str] = {
    "AWS::CDK::Metadata": "CDK usage analytics; no runtime behaviour.",
    "AWS::Lambda::Permission": "resource policy allowing a service to invoke a function; local invocations are "
    "made by the event-source-mapping emulator and the Lambda API and are not authorised.",
    "AWS::Lambda::Url": "function URLs need an HTTP front end per function; the local cloud invokes functions from "
    "queues and through the Lambda Invoke API only.",
    "AWS::Lambda::EventInvokeConfig": "retry and destination settings of asynchronous invocations; the local cloud "
    "runs an asynchronous Invoke once and keeps no destinations.",
    "Custom::LogRetention": "custom resource backed by a CDK Lambda; log retention has no effect locally.",
    "Custom::CDKBucketDeployment": "custom resource backed by a CDK Lambda; no S3 deployments locally.",
    "AWS::CloudFormation::CustomResource": CUSTOM_RESOURCE_REASON,
}
"""Resource types deliberately not created, with why. Every other type must be in :data:`EMULATED`."""


def not_emulated_reason(resource_type: str) -> str | None:
    """Why ``resource_type`` is skipped, or None when it is not a listed (or custom) type."""
    if resource_type in NOT_EMULATED:
        return NOT_EMULATED[resource_type]
    if resource_type.startswith("Custom::"):
        return CUSTOM_RESOURCE_REASON
    return None


__all__ = ["EMULATED", "NOT_EMULATED", "CodeSource", "FunctionCode", "ResourceContext", "ResourceType",
           "not_emulated_reason"]
