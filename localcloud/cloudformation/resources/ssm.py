"""``AWS::SSM::Parameter`` (the CDK bootstrap version lives in one).

Example::

    Parameter().create(ctx)   # put_parameter, overwriting
"""

from __future__ import annotations

import contextlib

from localcloud.cloudformation.resources.base import ResourceContext, ResourceType, text


class Parameter(ResourceType):
    replace_on = frozenset({"Name"})
    name_property = "Name"

    def create(self, ctx: ResourceContext) -> None:
        props = ctx.props
        if props.get("Name"):
            name = str(props["Name"])
        elif ctx.previous is not None and not ctx.replacing:
            name = ctx.previous.physical_id
        else:
            name = ctx.physical_name("Name", limit=2048)
            name = f"CFN-{name}"
        ctx.name = name
        kind = props.get("Type", "String")
        args = {"Name": name, "Value": text(props["Value"]), "Type": kind, "Overwrite": True}
        if props.get("Description"):
            args["Description"] = props["Description"]
        ctx.client("ssm").put_parameter(**args)
        ctx.set(name, Type=kind, Value=text(props["Value"]))

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        ssm = ctx.client("ssm")
        with contextlib.suppress(ssm.exceptions.ParameterNotFound):
            ssm.delete_parameter(Name=ctx.previous.physical_id)
