"""``AWS::DynamoDB::Table`` and ``AWS::DynamoDB::GlobalTable`` (one region: the local one).

Example::

    Table().create(ctx)   # create_table, then TTL and point-in-time recovery as the template says
"""

from __future__ import annotations

import contextlib
from typing import Any

from localcloud.cloudformation.resources.base import ResourceContext, ResourceType

_THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


def _pitr(props: dict[str, Any]) -> dict[str, Any] | None:
    spec: dict[str, Any] | None = props.get("PointInTimeRecoverySpecification") or next(
        (r.get("PointInTimeRecoverySpecification") for r in props.get("Replicas", [])
         if r.get("PointInTimeRecoverySpecification")), None
    )
    return spec


class Table(ResourceType):
    replace_on = frozenset({"TableName", "KeySchema", "LocalSecondaryIndexes"})
    name_property = "TableName"

    def create(self, ctx: ResourceContext) -> None:
        props = ctx.props
        name = ctx.physical_name("TableName", limit=255)
        global_table = ctx.resource_type == "AWS::DynamoDB::GlobalTable"
        billing = props.get("BillingMode", "PAY_PER_REQUEST" if global_table else "PROVISIONED")
        args: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": billing,
        }
        if billing == "PROVISIONED":
            args["ProvisionedThroughput"] = props.get("ProvisionedThroughput", _THROUGHPUT)
        indexes = []
        for index in props.get("GlobalSecondaryIndexes", []):
            spec = {k: index[k] for k in ("IndexName", "KeySchema", "Projection") if k in index}
            if billing == "PROVISIONED":
                spec["ProvisionedThroughput"] = index.get("ProvisionedThroughput", _THROUGHPUT)
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
        table = ctx.client("dynamodb").create_table(**args)["TableDescription"]
        self._settings(ctx, name, None)
        attrs = {"Arn": table["TableArn"]}
        if table.get("LatestStreamArn"):
            attrs["StreamArn"] = table["LatestStreamArn"]
        ctx.set(name, **attrs)

    def update(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        ctx.name = ctx.previous.name
        self._settings(ctx, ctx.previous.physical_id, ctx.previous.props)
        ctx.set(ctx.previous.physical_id, **ctx.previous.attrs)

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        dynamodb = ctx.client("dynamodb")
        with contextlib.suppress(dynamodb.exceptions.ResourceNotFoundException):
            dynamodb.delete_table(TableName=ctx.previous.physical_id)

    @staticmethod
    def _settings(ctx: ResourceContext, name: str, old: dict[str, Any] | None) -> None:
        """Time to live and point-in-time recovery, applied when new or changed."""
        dynamodb = ctx.client("dynamodb")
        ttl = ctx.props.get("TimeToLiveSpecification")
        if ttl != (old or {}).get("TimeToLiveSpecification") and ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
            )
        pitr = _pitr(ctx.props)
        if pitr != (_pitr(old) if old is not None else None) and pitr is not None:
            dynamodb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={
                    "PointInTimeRecoveryEnabled": bool(pitr.get("PointInTimeRecoveryEnabled"))
                },
            )
