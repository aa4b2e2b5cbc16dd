"""The claim-check bucket: where a message's ``data`` waits while the message itself is too large for SNS/SQS.

Producers (requesters, the CLI) write ``claims/<digest of source and id>``; consumers read it back by the message's
``dataref``. The objects are copies of message payloads that live only as long as a message can come back, so the
bucket expires them (:data:`CLAIM_LIFETIME`) and keeps old versions one day.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Fn, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.compliance import acknowledge
from infra.consumer_function import ConsumerFunction
from infra.defaults import customer_managed_key

KEY_PREFIX = "claims/"
BUCKET_NAME = "messaging-claims-${AWS::AccountId}-${AWS::Region}"
"""Fixed per account and region (like the queue and topic names): consumers in other stacks name the bucket and its
objects without a cross-stack import, so their grants and ``CLAIM_CHECK_BUCKET`` read the same everywhere."""
_OBJECTS = f"arn:${{AWS::Partition}}:s3:::{BUCKET_NAME}/{KEY_PREFIX}*"
CLAIM_LIFETIME = Duration.days(30)
"""How long a claim-checked payload is kept: longer than every way its message can come back - the dedup record
(1 hour) and the reply (1 day), SQS retries, the source queue's retention (4 days) plus the dead-letter queue's
(14 days, counted again from the move for a FIFO queue), and a redrive after that."""
READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
WRITE_ACTIONS = ("s3:PutObject",)


class ClaimCheckBucket(Construct):
    """An S3 bucket for claim checks: customer-managed KMS key (bucket key on), TLS only, versioned, public access
    blocked, ACLs disabled, objects expiring after :data:`CLAIM_LIFETIME`; output ``ClaimCheckBucketName``.

    Least privilege: :meth:`grant_read` for consumers (read objects under ``claims/``, decrypt),
    :meth:`grant_write` for producers (put objects under ``claims/``, create data keys); nobody may delete or list.

    Example:
        >>> claims = ClaimCheckBucket(core_stack, "Claims")  # doctest: +SKIP
        >>> claims.grant_read(orders_function)  # doctest: +SKIP
        >>> claims.grant_write(client_role)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        output_name: str = "ClaimCheckBucketName",
        lifetime: Duration = CLAIM_LIFETIME,
    ) -> None:
        super().__init__(scope, construct_id)
        self.lifetime = lifetime
        self.key = customer_managed_key(self, "Encrypts the claim-check bucket (payloads of large messages)")
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=Fn.sub(BUCKET_NAME),
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-claims",
                    expiration=lifetime,
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        CfnOutput(self, "Name", value=self.bucket.bucket_name).override_logical_id(output_name)
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "Claim checks are short-lived copies of message payloads, written and read only by the roles this "
            "construct grants (object-level calls are recorded by CloudTrail data events where the account enables "
            "them); server access logs would need a second bucket holding object keys for 30 days to audit the first.",
        )

    @property
    def bucket_name(self) -> str:
        """The bucket name (an ``Fn::Sub`` of the account and region, valid in any stack of the app)."""
        return Fn.sub(BUCKET_NAME)

    @staticmethod
    def _objects() -> str:
        return Fn.sub(_OBJECTS)

    @staticmethod
    def _acknowledge_objects_wildcard(grantee: iam.IRole, reason: str) -> None:
        # cdk-nag names the resource as it flattens the Fn::Sub: "${X}" becomes "<X>".
        flattened = _OBJECTS.replace("${", "<").replace("}", ">")
        acknowledge(grantee, f"AwsSolutions::AwsSolutions-IAM5[Resource::{flattened}]", reason)

    def grant_read(self, consumer: ConsumerFunction) -> None:
        """Let ``consumer`` resolve ``dataref``: read claims and decrypt them; sets ``CLAIM_CHECK_BUCKET``.

        Example:
            >>> claims.grant_read(orders_function)  # doctest: +SKIP
        """
        iam.Grant.add_to_principal(grantee=consumer.role, actions=list(READ_ACTIONS), resource_arns=[self._objects()])
        iam.Grant.add_to_principal(grantee=consumer.role, actions=["kms:Decrypt"], resource_arns=[self.key.key_arn])
        consumer.add_environment("CLAIM_CHECK_BUCKET", self.bucket_name)
        self._acknowledge_objects_wildcard(
            consumer.role,
            "Claim checks are objects keyed by the digest of their message's identity: a consumer reads whichever "
            "object a message's dataref names, so the grant covers the claims/ prefix of this one bucket, read only.",
        )

    def grant_write(self, producer: iam.IRole) -> None:
        """Let ``producer`` (a requester's role) store claims: put objects under ``claims/`` encrypted with the key.

        Example:
            >>> claims.grant_write(client_role)  # doctest: +SKIP
        """
        iam.Grant.add_to_principal(grantee=producer, actions=list(WRITE_ACTIONS), resource_arns=[self._objects()])
        iam.Grant.add_to_principal(grantee=producer, actions=["kms:GenerateDataKey"], resource_arns=[self.key.key_arn])
        self._acknowledge_objects_wildcard(
            producer,
            "A producer writes one object per large message, keyed by the digest of the message's identity: the grant "
            "covers the claims/ prefix of this one bucket, put only.",
        )
