"""``AWS::Scheduler::ScheduleGroup`` (delayed delivery's schedules live in one).

Example::

    ScheduleGroup().create(ctx)   # create_schedule_group
"""

from __future__ import annotations

import contextlib

from localcloud.cloudformation.resources.base import ResourceContext, ResourceType


class ScheduleGroup(ResourceType):
    replace_on = frozenset({"Name"})
    name_property = "Name"

    def create(self, ctx: ResourceContext) -> None:
        name = ctx.physical_name("Name", limit=64)
        client = ctx.client("scheduler")
        with contextlib.suppress(client.exceptions.ConflictException):
            client.create_schedule_group(Name=name)
        arn = f"arn:aws:scheduler:{ctx.region}:{ctx.account_id}:schedule-group/{name}"
        ctx.set(name, Arn=arn)

    def update(self, ctx: ResourceContext) -> None:
        """Only tags could change in place; the local cloud keeps none."""
        assert ctx.previous is not None
        ctx.name = ctx.previous.name or str(ctx.previous.physical_id)
        ctx.set(ctx.previous.physical_id, **ctx.previous.attrs)

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        client = ctx.client("scheduler")
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            client.delete_schedule_group(Name=ctx.previous.physical_id)
