"""``AWS::S3::Bucket`` and ``AWS::S3::BucketPolicy`` (the CDK bootstrap's asset bucket is one).

Bucket policies are applied without their conditional ``Deny`` statements (see :func:`enforceable_policy`).
Applied from the template: the bucket, default encryption, versioning, the public access block, lifecycle rules
(expiration, noncurrent-version expiration, aborting incomplete uploads) and tags. Not applied: notification,
logging, replication, CORS, website and object-lock settings (nothing local reads them).

Example::

    Bucket().create(ctx)   # create_bucket, then the settings above
"""

from __future__ import annotations

import contextlib
from typing import Any

from localcloud.cloudformation.resources.base import ResourceContext, ResourceType, is_true, text

_PUBLIC_ACCESS_BLOCK = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


def lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the shape of the S3 API.

    Example::

        lifecycle_rule({"Id": "old", "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 30}})
    """
    shaped: dict[str, Any] = {"Status": rule.get("Status", "Enabled"), "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Id" in rule:
        shaped["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        shaped["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        shaped["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
        }
    elif "NoncurrentVersionExpirationInDays" in rule:
        shaped["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(rule["NoncurrentVersionExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        shaped["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        }
    return shaped


class Bucket(ResourceType):
    replace_on = frozenset({"BucketName"})
    name_property = "BucketName"

    def create(self, ctx: ResourceContext) -> None:
        name = ctx.physical_name("BucketName", limit=63).lower()
        s3 = ctx.client("s3")
        if ctx.previous is None or ctx.replacing:
            args: dict[str, Any] = {"Bucket": name}
            if ctx.region != "us-east-1":
                args["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
            s3.create_bucket(**args)
        self._settings(ctx, name)
        ctx.set(
            name,
            Arn=f"arn:aws:s3:::{name}",
            DomainName=f"{name}.s3.amazonaws.com",
            RegionalDomainName=f"{name}.s3.{ctx.region}.amazonaws.com",
            DualStackDomainName=f"{name}.s3.dualstack.{ctx.region}.amazonaws.com",
            WebsiteURL=f"http://{name}.s3-website-{ctx.region}.amazonaws.com",
        )

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        ctx.client("s3").delete_bucket(Bucket=ctx.previous.physical_id)

    @staticmethod
    def _settings(ctx: ResourceContext, name: str) -> None:
        props = ctx.props
        s3 = ctx.client("s3")
        encryption = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration")
        if encryption:
            rules = [{"ApplyServerSideEncryptionByDefault": r.get("ServerSideEncryptionByDefault", {}),
                      **({"BucketKeyEnabled": is_true(r["BucketKeyEnabled"])} if "BucketKeyEnabled" in r else {})}
                     for r in encryption]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        versioning = props.get("VersioningConfiguration")
        if versioning:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})
        block = props.get("PublicAccessBlockConfiguration")
        if block:
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
                key: is_true(block.get(key, False)) for key in _PUBLIC_ACCESS_BLOCK
            })
        rules = props.get("LifecycleConfiguration", {}).get("Rules")
        if rules:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": [lifecycle_rule(r) for r in rules]}
            )
        if "OwnershipControls" in props:
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
        if props.get("Tags"):
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": props["Tags"]})


def enforceable_policy(document: dict[str, Any]) -> dict[str, Any]:
    """The bucket policy without its conditional ``Deny`` statements.

    moto evaluates bucket policies on object requests but not the request's condition keys, so a conditional deny
    denies every request: the TLS-only statement (``aws:SecureTransport`` false) of the CDK bootstrap bucket would
    refuse every upload to the local plain-HTTP endpoint. Unconditional statements are kept.

    Example::

        enforceable_policy({"Statement": [{"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                           "Action": "s3:*", "Principal": "*", "Resource": "*"}]})["Statement"]  # []
    """
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = [s for s in statements if not (s.get("Effect") == "Deny" and s.get("Condition"))]
    return {**document, "Statement": kept}


class BucketPolicy(ResourceType):
    replace_on = frozenset({"Bucket"})

    def create(self, ctx: ResourceContext) -> None:
        policy = enforceable_policy(ctx.props["PolicyDocument"])
        s3 = ctx.client("s3")
        if policy["Statement"]:
            s3.put_bucket_policy(Bucket=ctx.props["Bucket"], Policy=text(policy))
        else:
            with contextlib.suppress(s3.exceptions.ClientError):
                s3.delete_bucket_policy(Bucket=ctx.props["Bucket"])
        ctx.set(ctx.props["Bucket"])

    def delete(self, ctx: ResourceContext) -> None:
        s3 = ctx.client("s3")
        with contextlib.suppress(s3.exceptions.NoSuchBucket):
            s3.delete_bucket_policy(Bucket=ctx.props["Bucket"])
