"""``AWS::Logs::LogGroup``.

Example::

    LogGroup().create(ctx)   # create_log_group (kept if it exists), then the retention policy
"""

from __future__ import annotations

import contextlib

from localcloud.cloudformation.resources.base import ResourceContext, ResourceType


class LogGroup(ResourceType):
    replace_on = frozenset({"LogGroupName"})
    name_property = "LogGroupName"

    def create(self, ctx: ResourceContext) -> None:
        name = ctx.physical_name("LogGroupName", limit=512)
        logs = ctx.client("logs")
        if ctx.previous is None:
            # A function that already logged may have created it, as Lambda does.
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in ctx.props:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(ctx.props["RetentionInDays"]))
        elif ctx.previous is not None and "RetentionInDays" in ctx.previous.props:
            logs.delete_retention_policy(logGroupName=name)
        ctx.set(name, Arn=f"arn:aws:logs:{ctx.region}:{ctx.account_id}:log-group:{name}:*")

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        logs = ctx.client("logs")
        with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
            logs.delete_log_group(logGroupName=ctx.previous.physical_id)
