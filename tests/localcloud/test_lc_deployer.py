"""The deployer: templates become local resources, one source of truth, every resource type accounted for."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from localcloud import NOT_EMULATED, LocalCloud, UnsupportedResourceError
from localcloud.assembly import CloudAssembly
from localcloud.awslambda.environ import overlay
from localcloud.cloudformation.deployer import Deployer
from localcloud.cloudformation.intrinsics import Resolver, StackContext
from localcloud.errors import TemplateError
from tests.support.servers import free_port

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def write_assembly(directory: Path, resources: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Tiny.template.json").write_text(json.dumps({"Resources": resources}))
    (directory / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": {
        "Tiny": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "Tiny.template.json"}}}}))
    return directory


def test_template_properties_become_resource_attributes(cloud: LocalCloud) -> None:
    """Queues, subscriptions and tables carry what the template says (FIFO, redrive, KMS, raw, filter scope, TTL)."""
    # Given the deployed fixture app
    sqs, sns, dynamodb = cloud.client("sqs"), cloud.client("sns"), cloud.client("dynamodb")
    # When the resources are described
    attributes = sqs.get_queue_attributes(QueueUrl=cloud.outputs["InboxUrl"], AttributeNames=["All"])["Attributes"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=cloud.outputs["EventsTopicArn"])["Subscriptions"]
    filtered = next(s for s in subscriptions if s["Endpoint"] == cloud.outputs["FilteredArn"])
    sub_attributes = sns.get_subscription_attributes(SubscriptionArn=filtered["SubscriptionArn"])["Attributes"]
    table = cloud.outputs["RecordsTableName"]
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    # Then they match the template
    assert attributes["FifoQueue"] == "true"
    assert attributes["VisibilityTimeout"] == "2"
    assert attributes["KmsMasterKeyId"].startswith("arn:aws:kms:")
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == 2
    assert redrive["deadLetterTargetArn"].endswith(cloud.outputs["InboxDlqUrl"].rsplit("/", 1)[-1])
    assert json.loads(attributes["Policy"])["Statement"][0]["Principal"] == {"Service": "sns.amazonaws.com"}
    assert sub_attributes["RawMessageDelivery"] == "true"
    assert sub_attributes["FilterPolicyScope"] == "MessageBody"
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_outputs_resolve_per_stack_and_flat_including_imports(cloud: LocalCloud) -> None:
    """Stack outputs are local URLs/ARNs, per stack and flat; Fn::ImportValue resolves across stacks."""
    # Given the deployed fixture app, When its outputs are read
    per_stack = cloud.stack_outputs
    # Then they are local values, and the function's imported variable equals the exporting stack's output
    assert per_stack["FixtureService"]["InboxUrl"].endswith(".fifo")
    assert per_stack["FixtureCore"]["EventsTopicArn"].startswith("arn:aws:sns:us-east-1:123456789012:")
    function = cloud.function("WorkerFunction")
    assert function.spec.environment["RECORDS_TABLE"] == per_stack["FixtureCore"]["RecordsTableName"]


def test_unknown_resource_type_is_an_error(cloud: LocalCloud, tmp_path: Path) -> None:
    """A type neither emulated nor listed as not emulated stops the deployment."""
    # Given a template with an unlisted type
    assembly = CloudAssembly.load(write_assembly(tmp_path, {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {}}}))
    deployer = Deployer(cloud.client, region=cloud.region, account_id=cloud.account_id)
    # When deployed, Then it is refused
    with pytest.raises(UnsupportedResourceError, match="AWS::EC2::VPC"):
        deployer.deploy(assembly)


def test_listed_types_are_skipped_with_their_reason(cloud: LocalCloud, tmp_path: Path) -> None:
    """Types in NOT_EMULATED are recorded as skipped, with why."""
    # Given a template with CDK metadata
    assembly = CloudAssembly.load(write_assembly(tmp_path, {"Meta": {"Type": "AWS::CDK::Metadata"}}))
    deployer = Deployer(cloud.client, region=cloud.region, account_id=cloud.account_id)
    # When deployed, Then the resource is skipped with the listed reason
    deployment = deployer.deploy(assembly)
    assert deployment.stacks["Tiny"].skipped == {"Meta": NOT_EMULATED["AWS::CDK::Metadata"]}


def test_a_bucket_gets_its_encryption_versioning_lifecycle_access_block_and_policy(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    """AWS::S3::Bucket and AWS::S3::BucketPolicy as CloudFormation creates them (AWS::S3::Bucket reference:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucket.html)."""
    # Given a template with a KMS key, a bucket encrypted with it, versioned, expiring objects, and a TLS-only policy
    deny_plain_http = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*",
                       "Resource": [{"Fn::GetAtt": ["Claims", "Arn"]}],
                       "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    keep_bucket = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:DeleteBucket",
                   "Resource": [{"Fn::GetAtt": ["Claims", "Arn"]}]}
    assembly = CloudAssembly.load(write_assembly(tmp_path, {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"Description": "bucket key"}},
        "Claims": {"Type": "AWS::S3::Bucket", "Properties": {
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
                "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                  "KMSMasterKeyID": {"Fn::GetAtt": ["Key", "Arn"]}},
                "BucketKeyEnabled": True}]},
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {"Rules": [{"Id": "expire", "Status": "Enabled", "ExpirationInDays": 30,
                                                  "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True}}},
        "ClaimsPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": "Claims"},
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [deny_plain_http, keep_bucket]}}},
    }))
    deployer = Deployer(cloud.client, region=cloud.region, account_id=cloud.account_id)
    # When it is deployed
    stack = deployer.deploy(assembly).stacks["Tiny"]
    # Then the bucket exists under its generated name with what the template says
    s3 = cloud.client("s3")
    name = stack.refs["Claims"]
    assert name == name.lower() and len(name) <= 63
    assert stack.attrs[("Claims", "Arn")] == f"arn:aws:s3:::{name}"
    [rule] = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == stack.attrs[("Key", "Arn")]
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    [lifecycle] = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert (lifecycle["ID"], lifecycle["Expiration"]["Days"]) == ("expire", 30)
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
    assert all(s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"].values())
    # And the policy holds its statements but the TLS-only one: moto would apply it without its condition and deny
    # every request, and the local endpoint is plain HTTP anyway; objects can be written and read
    [statement] = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])["Statement"]
    assert (statement["Action"], statement["Resource"]) == ("s3:DeleteBucket", [f"arn:aws:s3:::{name}"])
    s3.put_object(Bucket=name, Key="claims/a", Body=b"{}")
    assert s3.get_object(Bucket=name, Key="claims/a")["Body"].read() == b"{}"


def test_intrinsics_and_conditions() -> None:
    """Fn::Sub, Fn::Select/Split, Fn::If with conditions and pseudo parameters resolve like CloudFormation."""
    # Given a stack context with a condition and a deployed queue
    context = StackContext("S", "us-east-1", "123456789012", exports={"E": "exported"},
                           conditions={"IsUsEast1": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}})
    resolver = Resolver(context, refs={"Q": "url"}, attrs={("Q", "Arn"): "arn:q"})
    # When fragments are resolved, Then they give CloudFormation's values
    assert resolver.resolve({"Fn::Sub": "${AWS::StackName}-${Q}-${Q.Arn}-${!Literal}"}) == "S-url-arn:q-${Literal}"
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"
    assert resolver.resolve({"Fn::If": ["IsUsEast1", "yes", "no"]}) == "yes"
    assert resolver.resolve({"Fn::ImportValue": "E"}) == "exported"
    assert resolver.resolve({"A": {"Ref": "AWS::NoValue"}, "B": 1}) == {"B": 1}
    with pytest.raises(TemplateError):
        resolver.resolve({"Fn::ImportValue": "missing"})


def test_environment_overlay_is_per_thread() -> None:
    """Each invocation sees its own function's variables through os.environ and os.getenv."""
    # Given two threads with different overlays
    seen: dict[str, str | None] = {}
    barrier = threading.Barrier(2)

    def run(name: str) -> None:
        with overlay({"LC_TEST_NAME": name}):
            barrier.wait()
            seen[name] = os.getenv("LC_TEST_NAME")

    threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
    # When both read the variable at the same time
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then each saw its own, and the process environment is untouched
    assert seen == {"a": "a", "b": "b"}
    assert "LC_TEST_NAME" not in os.environ


def test_the_real_app_deploys_with_every_resource_type_handled(cloud: LocalCloud, example_assembly: Path) -> None:
    """The project's own CDK app (as ``python app.py`` synthesizes it) deploys: every resource type is created or
    listed as not emulated, the fixed stack outputs resolve, subscriptions carry raw delivery and their body filter,
    alarms exist, and every function's handler loads from its code asset."""
    before = set(cloud.functions)
    # When it is deployed into the local cloud
    deployment = cloud.deploy(example_assembly)
    # Then the fixed outputs are local resources and every handler loads
    for key in ("OrdersCommandQueueUrl", "ReplyQueueUrl", "BillingQueueUrl", "NotificationsQueueUrl",
                "QuoteStandardQueueUrl"):
        assert cloud.outputs[key].endswith(".fifo")
    for key in ("OrderEventsTopicArn", "QuoteRequestsTopicArn"):
        assert cloud.outputs[key].startswith("arn:aws:sns:")
    assert {s.name for s in deployment.stacks.values()} >= {"MessagingCore", "Orders", "Billing", "Quotes"}
    new_functions = set(cloud.functions) - before
    templates = [json.loads(path.read_text(encoding="utf-8")) for path in example_assembly.glob("*.template.json")]
    declared = [r for t in templates for r in t["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(new_functions) == len(declared) >= 7  # the example's 7 and those of services added with make service
    for name in new_functions:
        assert callable(cloud.functions[name].load())
    skipped_types = {stack.types[lid] for stack in deployment.stacks.values() for lid in stack.skipped}
    assert skipped_types <= set(NOT_EMULATED)
    # And what moto's own CloudFormation would skip is there: subscriptions (raw, body filter) and alarms
    sns = cloud.client("sns")
    for topic in ("OrderEventsTopicArn", "QuoteRequestsTopicArn"):
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=cloud.outputs[topic])["Subscriptions"]
        assert len(subscriptions) == (2 if topic == "OrderEventsTopicArn" else 3)
        for subscription in subscriptions:
            attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
            assert attributes["RawMessageDelivery"] == "true"
            assert attributes["FilterPolicyScope"] == "MessageBody"
    alarms = cloud.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert {"billing-dlq.fifo has messages", "orders errors"} <= {a["AlarmName"] for a in alarms}


def test_serve_lists_fifo_queues_to_the_aws_cli(fixture_assembly: Path) -> None:
    """``python -m localcloud serve`` deploys onto a local endpoint the AWS CLI can use."""
    # Given the server started on the fixture assembly
    port = free_port()
    env = {**os.environ.copy(), "PYTHONPATH": str(REPO)}
    server = subprocess.Popen([sys.executable, "-m", "localcloud", "serve", "--port", str(port), "--assembly",
                               str(fixture_assembly)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=env, cwd=REPO)
    try:
        assert server.stdout is not None
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            lines.append(line)
            if "polling" in line or not line:
                break
        assert any(line.startswith("ready in") for line in lines), "".join(lines)
        # When the queues are listed through the endpoint
        cli_env = {**env, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                   "AWS_DEFAULT_REGION": "us-east-1"}
        if shutil.which("aws"):
            listed = subprocess.run(["aws", "--endpoint-url", f"http://localhost:{port}", "sqs", "list-queues"],
                                    capture_output=True, text=True, env=cli_env, check=True, timeout=60).stdout
            urls = json.loads(listed)["QueueUrls"]
        else:
            with LocalCloud(endpoint_url=f"http://localhost:{port}") as cloud:
                urls = cloud.client("sqs").list_queues()["QueueUrls"]
        # Then the FIFO queues are there, addressed on the local endpoint
        assert any("Inbox" in url and url.endswith(".fifo") for url in urls)
        assert all(url.startswith(f"http://localhost:{port}/") for url in urls)
    finally:
        server.terminate()
        server.wait(10)
