"""Deploys a cloud assembly's stacks into moto with plain API calls, resource by resource, in dependency order.

moto's own CloudFormation is not used: it skips subscriptions, queue policies, alarms and TTL, and creates event
source mappings that fire inside SendMessage. Here every resource type of the templates is either created through
its service API (:data:`EMULATED`) or listed in :data:`NOT_EMULATED` with the reason; any other type is an error.

Example::

    deployer = Deployer(client_factory, region="us-east-1", account_id="123456789012")
    deployment = deployer.deploy(CloudAssembly.load(Path("cdk.out")))
    deployment.outputs["OrdersCommandQueueUrl"]
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.assembly import CloudAssembly, StackArtifact
from localcloud.errors import TemplateError, UnsupportedResourceError
from localcloud.intrinsics import Resolver, StackContext, references

log = logging.getLogger("localcloud.deployer")

ClientFactory = Callable[[str], Any]

NOT_EMULATED: dict[str, str] = {
    "AWS::CDK::Metadata": "CDK usage analytics; no runtime behaviour.",
    "AWS::Lambda::Permission": "resource policy allowing a service to invoke a function; local invocations are "
    "made by the event-source-mapping emulator and are not authorised.",
    "AWS::Lambda::Url": "function URLs need an HTTP front end; the local cloud runs functions from queues only.",
    "AWS::Lambda::EventInvokeConfig": "asynchronous-invocation settings; the local cloud invokes synchronously "
    "from event source mappings only.",
    "Custom::LogRetention": "custom resource backed by a CDK Lambda; log retention has no effect locally.",
    "Custom::CDKBucketDeployment": "custom resource backed by a CDK Lambda; no S3 deployments locally.",
    "AWS::CloudFormation::CustomResource": "custom resources run provider Lambdas in AWS; not run locally.",
}
"""Resource types deliberately not created, with why. Every other type must be in :data:`EMULATED`."""


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function as the emulator runs it."""

    stack: str
    logical_id: str
    name: str
    arn: str
    handler: str
    runtime: str
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str]
    code_dir: Path
    log_group_name: str


@dataclass(frozen=True)
class MappingSpec:
    """An SQS event source mapping (kept out of moto; run by :mod:`localcloud.esm`)."""

    uuid: str
    stack: str
    logical_id: str
    function_name: str
    event_source_arn: str
    batch_size: int
    maximum_batching_window_seconds: int
    report_batch_item_failures: bool
    maximum_concurrency: int | None
    enabled: bool


@dataclass
class DeployedStack:
    """Physical ids and outputs of one deployed stack."""

    name: str
    refs: dict[str, Any] = field(default_factory=dict)
    attrs: dict[tuple[str, str], Any] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """Logical id -> reason, for resources not created (not emulated or condition false)."""


@dataclass
class Deployment:
    """Everything a deployment produced."""

    stacks: dict[str, DeployedStack] = field(default_factory=dict)
    exports: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    """Function name -> spec."""
    mappings: list[MappingSpec] = field(default_factory=list)
    queues: dict[str, str] = field(default_factory=dict)
    """Queue ARN -> queue URL."""

    @property
    def outputs(self) -> dict[str, Any]:
        """Every stack output, flat (output logical id -> value)."""
        flat: dict[str, Any] = {}
        for stack in self.stacks.values():
            flat.update(stack.outputs)
        return flat


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _physical_name(stack: str, logical_id: str, *, limit: int, suffix: str = "") -> str:
    base = f"{stack}-{logical_id}"
    return base[: limit - len(suffix)] + suffix


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Code is run in-process by the local cloud from the assembly's asset dir.\n")
    return buffer.getvalue()


class Deployer:
    """Creates the resources of an assembly through boto3 clients (moto in-process or a moto server)."""

    def __init__(self, client: ClientFactory, *, region: str, account_id: str) -> None:
        self.client = client
        self.region = region
        self.account_id = account_id
        self.deployment = Deployment()
        self._handlers: dict[str, Callable[[_Ctx], None]] = {
            "AWS::KMS::Key": self._kms_key,
            "AWS::KMS::Alias": self._kms_alias,
            "AWS::SNS::Topic": self._sns_topic,
            "AWS::SNS::TopicPolicy": self._sns_topic_policy,
            "AWS::SNS::Subscription": self._sns_subscription,
            "AWS::SQS::Queue": self._sqs_queue,
            "AWS::SQS::QueuePolicy": self._sqs_queue_policy,
            "AWS::DynamoDB::Table": self._dynamodb_table,
            "AWS::DynamoDB::GlobalTable": self._dynamodb_table,
            "AWS::IAM::Role": self._iam_role,
            "AWS::IAM::Policy": self._iam_policy,
            "AWS::IAM::ManagedPolicy": self._iam_managed_policy,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::Lambda::Function": self._lambda_function,
            "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            "AWS::CloudWatch::Alarm": self._alarm,
            "AWS::CloudWatch::Dashboard": self._dashboard,
            "AWS::SSM::Parameter": self._ssm_parameter,
            "AWS::S3::Bucket": self._s3_bucket,
            "AWS::S3::BucketPolicy": self._s3_bucket_policy,
        }

    # ----------------------------------------------------------------------------------------------------- driving
    def deploy(self, assembly: CloudAssembly) -> Deployment:
        """Deploy every stack of ``assembly`` (dependencies first) and return the accumulated deployment."""
        for stack in assembly.stacks:
            self.deploy_stack(assembly, stack)
        return self.deployment

    def deploy_stack(self, assembly: CloudAssembly, stack: StackArtifact) -> DeployedStack:
        template = stack.template
        deployed = DeployedStack(name=stack.name)
        self.deployment.stacks[stack.name] = deployed
        parameters = {
            name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()
        }
        context = StackContext(
            stack_name=stack.name,
            region=self.region,
            account_id=self.account_id,
            exports=self.deployment.exports,
            parameters=parameters,
            conditions=dict(template.get("Conditions", {})),
        )
        resolver = Resolver(context, deployed.refs, deployed.attrs)
        resources: dict[str, Any] = template.get("Resources", {})
        for logical_id in _resource_order(resources):
            resource = resources[logical_id]
            rtype: str = resource["Type"]
            deployed.types[logical_id] = rtype
            if "Condition" in resource and not resolver.condition(resource["Condition"]):
                deployed.skipped[logical_id] = f"condition {resource['Condition']} is false"
                continue
            handler = self._handlers.get(rtype)
            if handler is None:
                reason = NOT_EMULATED.get(rtype) or (NOT_EMULATED["AWS::CloudFormation::CustomResource"]
                                                     if rtype.startswith("Custom::") else None)
                if reason is None:
                    raise UnsupportedResourceError(
                        f"{stack.name}/{logical_id}: resource type {rtype} is neither emulated nor listed in "
                        "localcloud.deployer.NOT_EMULATED"
                    )
                deployed.skipped[logical_id] = reason
                deployed.refs[logical_id] = f"{stack.name}-{logical_id}-not-emulated"
                continue
            props = resolver.resolve(resource.get("Properties", {}))
            ctx = _Ctx(assembly, stack, deployed, logical_id, resource, props)
            try:
                handler(ctx)
            except TemplateError:
                raise
            except Exception as exc:
                raise TemplateError(f"{stack.name}/{logical_id} ({rtype}): {exc}") from exc
        for output_id, output in template.get("Outputs", {}).items():
            if "Condition" in output and not resolver.condition(output["Condition"]):
                continue
            value = resolver.resolve(output["Value"])
            deployed.outputs[output_id] = value
            if "Export" in output:
                self.deployment.exports[resolver.resolve(output["Export"]["Name"])] = value
        log.info("deployed stack %s: %d resources", stack.name, len(resources))
        return deployed

    # ---------------------------------------------------------------------------------------------- resource types
    def _kms_key(self, ctx: _Ctx) -> None:
        kms = self.client("kms")
        args: dict[str, Any] = {}
        if "KeyPolicy" in ctx.props:
            args["Policy"] = _text(ctx.props["KeyPolicy"])
        for key in ("Description", "KeyUsage", "KeySpec"):
            if key in ctx.props:
                args[key] = ctx.props[key]
        meta = kms.create_key(**args)["KeyMetadata"]
        if ctx.props.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=meta["KeyId"])
        ctx.set(meta["KeyId"], Arn=meta["Arn"], KeyId=meta["KeyId"])

    def _kms_alias(self, ctx: _Ctx) -> None:
        target = str(ctx.props["TargetKeyId"]).rsplit("/", 1)[-1]
        self.client("kms").create_alias(AliasName=ctx.props["AliasName"], TargetKeyId=target)
        ctx.set(ctx.props["AliasName"])

    def _sns_topic(self, ctx: _Ctx) -> None:
        props = ctx.props
        fifo = bool(props.get("FifoTopic")) and _text(props.get("FifoTopic")) == "true"
        name = props.get("TopicName") or _physical_name(ctx.stack.name, ctx.logical_id, limit=256,
                                                        suffix=".fifo" if fifo else "")
        attributes = {
            key: _text(props[key])
            for key in ("FifoTopic", "ContentBasedDeduplication", "KmsMasterKeyId", "DisplayName", "SignatureVersion",
                        "TracingConfig", "DeliveryPolicy", "ArchivePolicy", "FifoThroughputScope")
            if key in props
        }
        sns = self.client("sns")
        arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        for subscription in props.get("Subscription", []):
            sns.subscribe(TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])
        ctx.set(arn, TopicArn=arn, TopicName=name)

    def _sns_topic_policy(self, ctx: _Ctx) -> None:
        sns = self.client("sns")
        for topic in ctx.props["Topics"]:
            sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                                     AttributeValue=_text(ctx.props["PolicyDocument"]))
        ctx.set(f"{ctx.stack.name}-{ctx.logical_id}")

    def _sns_subscription(self, ctx: _Ctx) -> None:
        props = ctx.props
        sns = self.client("sns")
        arn = sns.subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"],
                            ReturnSubscriptionArn=True)["SubscriptionArn"]
        # FilterPolicyScope first: moto validates the policy against the scope already set.
        for key in ("FilterPolicyScope", "FilterPolicy", "RawMessageDelivery", "RedrivePolicy", "DeliveryPolicy",
                    "SubscriptionRoleArn"):
            if key in props:
                sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName=key,
                                                AttributeValue=_text(props[key]))
        ctx.set(arn)

    def _sqs_queue(self, ctx: _Ctx) -> None:
        props = ctx.props
        fifo = _text(props.get("FifoQueue", False)) == "true"
        name = props.get("QueueName") or _physical_name(ctx.stack.name, ctx.logical_id, limit=80,
                                                        suffix=".fifo" if fifo else "")
        attributes = {
            key: _text(value) for key, value in props.items() if key not in ("QueueName", "Tags")
        }
        tags = {t["Key"]: t["Value"] for t in props.get("Tags", [])}
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes, **({"tags": tags} if tags else {}))["QueueUrl"]
        arn = f"arn:aws:sqs:{self.region}:{self.account_id}:{name}"
        self.deployment.queues[arn] = url
        ctx.set(url, Arn=arn, QueueName=name, QueueUrl=url)

    def _sqs_queue_policy(self, ctx: _Ctx) -> None:
        sqs = self.client("sqs")
        for url in ctx.props["Queues"]:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _text(ctx.props["PolicyDocument"])})
        ctx.set(f"{ctx.stack.name}-{ctx.logical_id}")

    def _dynamodb_table(self, ctx: _Ctx) -> None:
        props = ctx.props
        name = props.get("TableName") or _physical_name(ctx.stack.name, ctx.logical_id, limit=255)
        global_table = ctx.resource["Type"] == "AWS::DynamoDB::GlobalTable"
        billing = props.get("BillingMode", "PAY_PER_REQUEST" if global_table else "PROVISIONED")
        throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        args: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": billing,
        }
        if billing == "PROVISIONED":
            args["ProvisionedThroughput"] = props.get("ProvisionedThroughput", throughput)
        indexes = []
        for index in props.get("GlobalSecondaryIndexes", []):
            spec = {k: index[k] for k in ("IndexName", "KeySchema", "Projection") if k in index}
            if billing == "PROVISIONED":
                spec["ProvisionedThroughput"] = index.get("ProvisionedThroughput", throughput)
            indexes.append(spec)
        if indexes:
            args["GlobalSecondaryIndexes"] = indexes
        if props.get("LocalSecondaryIndexes"):
            args["LocalSecondaryIndexes"] = props["LocalSecondaryIndexes"]
        stream = props.get("StreamSpecification")
        if stream and stream.get("StreamViewType"):
            args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        sse = props.get("SSESpecification")
        if sse:
            args["SSESpecification"] = {
                {"SSEEnabled": "Enabled", "KMSMasterKeyId": "KMSMasterKeyId", "SSEType": "SSEType"}[k]: v
                for k, v in sse.items() if k in ("SSEEnabled", "KMSMasterKeyId", "SSEType")
            }
        if props.get("Tags"):
            args["Tags"] = props["Tags"]
        dynamodb = self.client("dynamodb")
        table = dynamodb.create_table(**args)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
            )
        pitr = props.get("PointInTimeRecoverySpecification") or next(
            (r.get("PointInTimeRecoverySpecification") for r in props.get("Replicas", [])
             if r.get("PointInTimeRecoverySpecification")), None
        )
        if pitr and pitr.get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        attrs = {"Arn": table["TableArn"]}
        if table.get("LatestStreamArn"):
            attrs["StreamArn"] = table["LatestStreamArn"]
        ctx.set(name, **attrs)

    def _iam_role(self, ctx: _Ctx) -> None:
        props = ctx.props
        name = props.get("RoleName") or _physical_name(ctx.stack.name, ctx.logical_id, limit=64)
        iam = self.client("iam")
        args: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": _text(props["AssumeRolePolicyDocument"]),
        }
        for key in ("Path", "Description", "MaxSessionDuration"):
            if key in props:
                args[key] = props[key]
        role = iam.create_role(**args)["Role"]
        for policy in props.get("Policies", []):
            iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                                PolicyDocument=_text(policy["PolicyDocument"]))
        for policy_arn in props.get("ManagedPolicyArns", []):
            try:
                iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
            except iam.exceptions.NoSuchEntityException:
                # moto loads AWS managed policies only on request; permissions are not enforced locally anyway.
                log.debug("managed policy %s not known to moto; not attached to %s", policy_arn, name)
        ctx.set(name, Arn=role["Arn"], RoleId=role["RoleId"])

    def _iam_policy(self, ctx: _Ctx) -> None:
        props = ctx.props
        iam = self.client("iam")
        document = _text(props["PolicyDocument"])
        for role in props.get("Roles", []):
            iam.put_role_policy(RoleName=role, PolicyName=props["PolicyName"], PolicyDocument=document)
        for user in props.get("Users", []):
            iam.put_user_policy(UserName=user, PolicyName=props["PolicyName"], PolicyDocument=document)
        for group in props.get("Groups", []):
            iam.put_group_policy(GroupName=group, PolicyName=props["PolicyName"], PolicyDocument=document)
        ctx.set(f"{ctx.stack.name}-{props['PolicyName']}"[:128])

    def _iam_managed_policy(self, ctx: _Ctx) -> None:
        props = ctx.props
        name = props.get("ManagedPolicyName") or _physical_name(ctx.stack.name, ctx.logical_id, limit=128)
        iam = self.client("iam")
        arn = iam.create_policy(PolicyName=name, PolicyDocument=_text(props["PolicyDocument"]),
                                Path=props.get("Path", "/"))["Policy"]["Arn"]
        for role in props.get("Roles", []):
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        ctx.set(arn, PolicyArn=arn)

    def _log_group(self, ctx: _Ctx) -> None:
        props = ctx.props
        name = props.get("LogGroupName") or _physical_name(ctx.stack.name, ctx.logical_id, limit=512)
        logs = self.client("logs")
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in props:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        ctx.set(name, Arn=f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{name}:*")

    def _lambda_function(self, ctx: _Ctx) -> None:
        props = ctx.props
        name = props.get("FunctionName") or _physical_name(ctx.stack.name, ctx.logical_id, limit=64)
        environment = {k: _text(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()}
        timeout = int(props.get("Timeout", 3))
        memory = int(props.get("MemorySize", 128))
        runtime = props.get("Runtime", "python3.13")
        handler = props["Handler"]
        arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
        try:
            created = self.client("lambda").create_function(
                FunctionName=name,
                Runtime=runtime,
                Role=props["Role"],
                Handler=handler,
                Code={"ZipFile": _placeholder_zip()},
                Timeout=timeout,
                MemorySize=memory,
                Environment={"Variables": environment},
            )
            arn = created["FunctionArn"]
        except Exception as exc:  # the function still runs in-process; moto only mirrors it for listing
            log.warning("moto did not accept function %s (%s); it runs in-process only", name, exc)
        log_group = props.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{name}"
        self.deployment.functions[name] = FunctionSpec(
            stack=ctx.stack.name,
            logical_id=ctx.logical_id,
            name=name,
            arn=arn,
            handler=handler,
            runtime=runtime,
            timeout_seconds=timeout,
            memory_mb=memory,
            environment=environment,
            code_dir=self._code_dir(ctx),
            log_group_name=log_group,
        )
        ctx.set(name, Arn=arn)

    def _code_dir(self, ctx: _Ctx) -> Path:
        metadata = ctx.resource.get("Metadata", {})
        asset_path = metadata.get("aws:asset:path")
        if asset_path:
            path = Path(asset_path)
            return path if path.is_absolute() else ctx.assembly.directory / path
        code = ctx.props.get("Code", {})
        if "S3Key" in code:
            asset_hash = str(code["S3Key"]).rsplit("/", 1)[-1].split(".", 1)[0]
            if asset_hash in ctx.stack.asset_paths:
                return ctx.stack.asset_paths[asset_hash]
        if "ZipFile" in code:
            inline = Path(tempfile.mkdtemp(prefix=f"localcloud-{ctx.logical_id}-"))
            (inline / "index.py").write_text(code["ZipFile"])
            return inline
        raise TemplateError(f"{ctx.stack.name}/{ctx.logical_id}: cannot find the function's code asset")

    def _event_source_mapping(self, ctx: _Ctx) -> None:
        props = ctx.props
        source = props.get("EventSourceArn", "")
        if not str(source).startswith("arn:aws:sqs:"):
            raise UnsupportedResourceError(
                f"{ctx.stack.name}/{ctx.logical_id}: only SQS event source mappings are emulated (got {source})"
            )
        function = str(props["FunctionName"]).rsplit(":", 1)[-1]
        mapping_uuid = str(uuid.uuid4())
        self.deployment.mappings.append(
            MappingSpec(
                uuid=mapping_uuid,
                stack=ctx.stack.name,
                logical_id=ctx.logical_id,
                function_name=function,
                event_source_arn=source,
                batch_size=int(props.get("BatchSize", 10)),
                maximum_batching_window_seconds=int(props.get("MaximumBatchingWindowInSeconds", 0)),
                report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                maximum_concurrency=(int(props["ScalingConfig"]["MaximumConcurrency"])
                                     if props.get("ScalingConfig", {}).get("MaximumConcurrency") else None),
                enabled=_text(props.get("Enabled", True)) == "true",
            )
        )
        ctx.set(mapping_uuid, Id=mapping_uuid)

    def _alarm(self, ctx: _Ctx) -> None:
        props = dict(ctx.props)
        name = props.pop("AlarmName", None) or _physical_name(ctx.stack.name, ctx.logical_id, limit=255)
        allowed = {
            "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions",
            "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
            "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
            "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId",
        }
        args = {k: v for k, v in props.items() if k in allowed}
        if "Threshold" in args:
            args["Threshold"] = float(args["Threshold"])
        for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if key in args:
                args[key] = int(args[key])
        self.client("cloudwatch").put_metric_alarm(AlarmName=name, **args)
        ctx.set(name, Arn=f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:{name}")

    def _dashboard(self, ctx: _Ctx) -> None:
        name = ctx.props.get("DashboardName") or _physical_name(ctx.stack.name, ctx.logical_id, limit=255)
        self.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=_text(ctx.props["DashboardBody"]))
        ctx.set(name)

    def _ssm_parameter(self, ctx: _Ctx) -> None:
        props = ctx.props
        name = props.get("Name") or f"CFN-{ctx.stack.name}-{ctx.logical_id}"
        self.client("ssm").put_parameter(Name=name, Value=_text(props["Value"]), Type=props.get("Type", "String"),
                                         Overwrite=True)
        ctx.set(name, Type=props.get("Type", "String"), Value=_text(props["Value"]))

    def _s3_bucket(self, ctx: _Ctx) -> None:
        props = ctx.props
        name = props.get("BucketName") or _physical_name(ctx.stack.name, ctx.logical_id, limit=63).lower()
        s3 = self.client("s3")
        create: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        s3.create_bucket(**create)
        if "BucketEncryption" in props:
            s3.put_bucket_encryption(
                Bucket=name, ServerSideEncryptionConfiguration=_s3_encryption(props["BucketEncryption"])
            )
        if "VersioningConfiguration" in props:
            status = props["VersioningConfiguration"]["Status"]
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
        if "LifecycleConfiguration" in props:
            rules = [_s3_lifecycle_rule(rule) for rule in props["LifecycleConfiguration"].get("Rules", [])]
            s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "OwnershipControls" in props:
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
        if props.get("Tags"):
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": props["Tags"]})
        suffix = "amazonaws.com"
        ctx.set(name, Arn=f"arn:aws:s3:::{name}", DomainName=f"{name}.s3.{suffix}",
                RegionalDomainName=f"{name}.s3.{self.region}.{suffix}",
                DualStackDomainName=f"{name}.s3.dualstack.{self.region}.{suffix}",
                WebsiteURL=f"http://{name}.s3-website-{self.region}.{suffix}")

    def _s3_bucket_policy(self, ctx: _Ctx) -> None:
        document = ctx.props["PolicyDocument"]
        if isinstance(document, str):
            document = json.loads(document)
        # moto 5.2.5 evaluates a bucket policy's statements without their Condition: the TLS-only statement
        # (Deny s3:* if aws:SecureTransport is false) would deny every request. The local endpoint is plain HTTP on
        # localhost, so that statement cannot hold locally anyway; it is left out here (the template keeps it).
        statements = [s for s in document.get("Statement", []) if not _denies_insecure_transport(s)]
        if statements:
            policy = {**document, "Statement": statements}
            self.client("s3").put_bucket_policy(Bucket=ctx.props["Bucket"], Policy=json.dumps(policy))
        ctx.set(f"{ctx.stack.name}-{ctx.logical_id}")


def _denies_insecure_transport(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition") or {}
    return statement.get("Effect") == "Deny" and set(condition) == {"Bool"} and set(condition["Bool"]) == {
        "aws:SecureTransport"
    }


def _s3_encryption(encryption: dict[str, Any]) -> dict[str, Any]:
    """``BucketEncryption`` of a template as ``PutBucketEncryption`` takes it (``KMSMasterKeyID`` keeps its name)."""
    rules = []
    for rule in encryption.get("ServerSideEncryptionConfiguration", []):
        converted: dict[str, Any] = {}
        if "ServerSideEncryptionByDefault" in rule:
            converted["ApplyServerSideEncryptionByDefault"] = dict(rule["ServerSideEncryptionByDefault"])
        if "BucketKeyEnabled" in rule:
            converted["BucketKeyEnabled"] = _text(rule["BucketKeyEnabled"]) == "true"
        rules.append(converted)
    return {"Rules": rules}


def _s3_lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One lifecycle rule of a template (``ExpirationInDays``, ``Id``, ``Prefix``...) in the API's shape."""
    converted: dict[str, Any] = {"Status": rule.get("Status", "Enabled")}
    if "Id" in rule:
        converted["ID"] = rule["Id"]
    converted["Filter"] = {"Prefix": rule["Prefix"]} if "Prefix" in rule else {"Prefix": ""}
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "ExpiredObjectDeleteMarker" in rule:
        converted["Expiration"] = {"ExpiredObjectDeleteMarker": _text(rule["ExpiredObjectDeleteMarker"]) == "true"}
    if "NoncurrentVersionExpiration" in rule:
        converted["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
        }
    elif "NoncurrentVersionExpirationInDays" in rule:
        converted["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(rule["NoncurrentVersionExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        converted["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        }
    return converted


@dataclass
class _Ctx:
    assembly: CloudAssembly
    stack: StackArtifact
    deployed: DeployedStack
    logical_id: str
    resource: dict[str, Any]
    props: dict[str, Any]

    def set(self, ref: Any, **attrs: Any) -> None:
        self.deployed.refs[self.logical_id] = ref
        for name, value in attrs.items():
            self.deployed.attrs[(self.logical_id, name)] = value


def _resource_order(resources: dict[str, Any]) -> list[str]:
    """Logical ids with every resource after the ones it references or depends on."""
    deps: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        if isinstance(depends_on, str):
            depends_on = [depends_on]
        found = references(resource.get("Properties", {})) | set(depends_on)
        deps[logical_id] = {d for d in found if d in resources}
    ordered: list[str] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in done:
            return
        if logical_id in visiting:
            raise TemplateError(f"circular reference through {logical_id}")
        visiting.add(logical_id)
        for dep in sorted(deps[logical_id]):
            visit(dep)
        visiting.discard(logical_id)
        done.add(logical_id)
        ordered.append(logical_id)

    for logical_id in resources:
        visit(logical_id)
    return ordered
