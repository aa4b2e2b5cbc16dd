"""``AWS::KMS::Key`` and ``AWS::KMS::Alias``.

Example::

    Key().create(ctx)   # create_key with the key policy, then key rotation when asked for
"""

from __future__ import annotations

from typing import Any

from localcloud.cloudformation.resources.base import ResourceContext, ResourceType, text

PENDING_WINDOW_DAYS = 7
"""The shortest waiting period KMS allows before a deleted key is gone."""


class Key(ResourceType):
    replace_on = frozenset({"KeySpec", "KeyUsage"})

    def create(self, ctx: ResourceContext) -> None:
        args: dict[str, Any] = {}
        if "KeyPolicy" in ctx.props:
            args["Policy"] = text(ctx.props["KeyPolicy"])
        for key in ("Description", "KeyUsage", "KeySpec"):
            if key in ctx.props:
                args[key] = ctx.props[key]
        kms = ctx.client("kms")
        meta = kms.create_key(**args)["KeyMetadata"]
        if ctx.props.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=meta["KeyId"])
        ctx.set(meta["KeyId"], Arn=meta["Arn"], KeyId=meta["KeyId"])

    def update(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        key_id = ctx.previous.physical_id
        kms = ctx.client("kms")
        if "KeyPolicy" in ctx.props and ctx.props["KeyPolicy"] != ctx.previous.props.get("KeyPolicy"):
            kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=text(ctx.props["KeyPolicy"]))
        if "Description" in ctx.props:
            kms.update_key_description(KeyId=key_id, Description=ctx.props["Description"])
        if ctx.props.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=key_id)
        else:
            kms.disable_key_rotation(KeyId=key_id)
        ctx.set(key_id, **ctx.previous.attrs)

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        ctx.client("kms").schedule_key_deletion(KeyId=ctx.previous.physical_id, PendingWindowInDays=PENDING_WINDOW_DAYS)


class Alias(ResourceType):
    replace_on = frozenset({"AliasName"})

    def create(self, ctx: ResourceContext) -> None:
        target = str(ctx.props["TargetKeyId"]).rsplit("/", 1)[-1]
        ctx.client("kms").create_alias(AliasName=ctx.props["AliasName"], TargetKeyId=target)
        ctx.set(ctx.props["AliasName"])

    def update(self, ctx: ResourceContext) -> None:
        target = str(ctx.props["TargetKeyId"]).rsplit("/", 1)[-1]
        ctx.client("kms").update_alias(AliasName=ctx.props["AliasName"], TargetKeyId=target)
        ctx.set(ctx.props["AliasName"])

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        ctx.client("kms").delete_alias(AliasName=ctx.previous.physical_id)
