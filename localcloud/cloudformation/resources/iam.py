"""``AWS::IAM::Role``, ``AWS::IAM::Policy`` and ``AWS::IAM::ManagedPolicy``.

Permissions are stored, not enforced (moto does not enforce them either).

Example::

    Role().create(ctx)   # create_role, inline policies, managed policies attached
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from localcloud.cloudformation.resources.base import ResourceContext, ResourceType, text

log = logging.getLogger("localcloud.cloudformation.resources.iam")


class Role(ResourceType):
    replace_on = frozenset({"RoleName", "Path"})
    name_property = "RoleName"

    def create(self, ctx: ResourceContext) -> None:
        props = ctx.props
        name = ctx.physical_name("RoleName", limit=64)
        iam = ctx.client("iam")
        args = {"RoleName": name, "AssumeRolePolicyDocument": text(props["AssumeRolePolicyDocument"])}
        for key in ("Path", "Description", "MaxSessionDuration", "PermissionsBoundary"):
            if key in props:
                args[key] = props[key]
        role = iam.create_role(**args)["Role"]
        self._policies(ctx, name)
        ctx.set(name, Arn=role["Arn"], RoleId=role["RoleId"])

    def update(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        name = ctx.previous.physical_id
        ctx.name = ctx.previous.name
        iam = ctx.client("iam")
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=text(ctx.props["AssumeRolePolicyDocument"]))
        kept = {p["PolicyName"] for p in ctx.props.get("Policies", [])}
        for policy in ctx.previous.props.get("Policies", []):
            if policy["PolicyName"] not in kept:
                iam.delete_role_policy(RoleName=name, PolicyName=policy["PolicyName"])
        for arn in set(ctx.previous.props.get("ManagedPolicyArns", [])) - set(ctx.props.get("ManagedPolicyArns", [])):
            iam.detach_role_policy(RoleName=name, PolicyArn=arn)
        self._policies(ctx, name)
        ctx.set(name, **ctx.previous.attrs)

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        name = ctx.previous.physical_id
        iam = ctx.client("iam")
        try:
            for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
            for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
            iam.delete_role(RoleName=name)
        except iam.exceptions.NoSuchEntityException:
            pass

    @staticmethod
    def _policies(ctx: ResourceContext, name: str) -> None:
        iam = ctx.client("iam")
        for policy in ctx.props.get("Policies", []):
            iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                                PolicyDocument=text(policy["PolicyDocument"]))
        for policy_arn in ctx.props.get("ManagedPolicyArns", []):
            try:
                iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
            except iam.exceptions.NoSuchEntityException:
                # moto loads AWS managed policies only on request; permissions are not enforced locally anyway.
                log.debug("managed policy %s not known to moto; not attached to %s", policy_arn, name)


_PRINCIPALS = (("Roles", "role"), ("Users", "user"), ("Groups", "group"))


class Policy(ResourceType):
    """An inline policy put on roles, users and groups."""

    def create(self, ctx: ResourceContext) -> None:
        props = ctx.props
        iam = ctx.client("iam")
        document = text(props["PolicyDocument"])
        if ctx.previous is not None:
            self._remove(ctx, ctx.previous.props, keep=props)
        for role in props.get("Roles", []):
            iam.put_role_policy(RoleName=role, PolicyName=props["PolicyName"], PolicyDocument=document)
        for user in props.get("Users", []):
            iam.put_user_policy(UserName=user, PolicyName=props["PolicyName"], PolicyDocument=document)
        for group in props.get("Groups", []):
            iam.put_group_policy(GroupName=group, PolicyName=props["PolicyName"], PolicyDocument=document)
        ctx.set(f"{ctx.stack.name}-{props['PolicyName']}"[:128])

    def delete(self, ctx: ResourceContext) -> None:
        self._remove(ctx, ctx.props, keep=None)

    @staticmethod
    def _remove(ctx: ResourceContext, old: dict[str, Any], keep: dict[str, Any] | None) -> None:
        """Delete the old policy from the principals that no longer have it (all of them when ``keep`` is None)."""
        iam = ctx.client("iam")
        name = old["PolicyName"]
        for key, kind in _PRINCIPALS:
            now = set(keep.get(key, [])) if keep is not None and keep.get("PolicyName") == name else set()
            for principal in set(old.get(key, [])) - now:
                try:
                    if kind == "role":
                        iam.delete_role_policy(RoleName=principal, PolicyName=name)
                    elif kind == "user":
                        iam.delete_user_policy(UserName=principal, PolicyName=name)
                    else:
                        iam.delete_group_policy(GroupName=principal, PolicyName=name)
                except iam.exceptions.NoSuchEntityException:
                    pass


class ManagedPolicy(ResourceType):
    replace_on = frozenset({"ManagedPolicyName", "Path"})
    name_property = "ManagedPolicyName"

    def create(self, ctx: ResourceContext) -> None:
        props = ctx.props
        name = ctx.physical_name("ManagedPolicyName", limit=128)
        iam = ctx.client("iam")
        arn = iam.create_policy(PolicyName=name, PolicyDocument=text(props["PolicyDocument"]),
                                Path=props.get("Path", "/"))["Policy"]["Arn"]
        for role in props.get("Roles", []):
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        ctx.set(arn, PolicyArn=arn)

    def update(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        arn = ctx.previous.physical_id
        ctx.name = ctx.previous.name
        iam = ctx.client("iam")
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        for version in versions:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=text(ctx.props["PolicyDocument"]), SetAsDefault=True)
        for role in set(ctx.previous.props.get("Roles", [])) - set(ctx.props.get("Roles", [])):
            iam.detach_role_policy(RoleName=role, PolicyArn=arn)
        for role in ctx.props.get("Roles", []):
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        ctx.set(arn, PolicyArn=arn)

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        arn = ctx.previous.physical_id
        iam = ctx.client("iam")
        for role in ctx.props.get("Roles", []):
            with contextlib.suppress(iam.exceptions.NoSuchEntityException):
                iam.detach_role_policy(RoleName=role, PolicyArn=arn)
        iam.delete_policy(PolicyArn=arn)
