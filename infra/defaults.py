"""Secure defaults shared by the constructs: customer-managed keys and DynamoDB tables.

Example:
    >>> key = customer_managed_key(construct, "Encrypts the SQS FIFO queue orders.fifo")  # doctest: +SKIP
    >>> table = secure_table(construct, partition_key="id", ttl_attribute="expiration")  # doctest: +SKIP
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct


def customer_managed_key(scope: Construct, description: str) -> kms.Key:
    """A rotating customer-managed key ``Key`` in ``scope`` (SNS can deliver to queues only under such a key).

    Example:
        >>> key = customer_managed_key(topic, "Encrypts the SNS FIFO topic order-events.fifo")  # doctest: +SKIP
    """
    return kms.Key(
        scope,
        "Key",
        description=description,
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.DESTROY,
        pending_window=Duration.days(7),
    )


def secure_table(
    scope: Construct,
    *,
    partition_key: str,
    ttl_attribute: str,
    sort_key: str | None = None,
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
) -> dynamodb.Table:
    """An on-demand table ``Table`` in ``scope``: string keys, TTL, point-in-time recovery, encrypted at rest.

    Encryption uses the AWS-managed key (``aws/dynamodb``): only in-account roles reach the tables, through
    DynamoDB, and no other service reads their data, so a customer-managed key would add key-policy management and
    ``kms:*`` grants on every consumer without narrowing who can read the items.

    Example:
        >>> table = secure_table(store, partition_key="id", ttl_attribute="expiration")  # doctest: +SKIP
    """
    return dynamodb.Table(
        scope,
        "Table",
        partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
        sort_key=None if sort_key is None else dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        time_to_live_attribute=ttl_attribute,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        removal_policy=removal_policy,
    )
