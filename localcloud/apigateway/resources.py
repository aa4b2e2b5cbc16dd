"""``AWS::ApiGatewayV2::Api``, ``Stage``, ``Integration`` and ``Route`` (HTTP APIs), created in moto.

Example::

    Api().create(ctx)   # create_api; Ref = the API id, GetAtt ApiEndpoint = the local URL of the API
"""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

from localcloud.apigateway.router import api_endpoint
from localcloud.cloudformation.resources.base import ResourceContext, ResourceType, is_true, text


def _endpoint_of(ctx: ResourceContext) -> str | None:
    """The local cloud's endpoint URL (None in process, where clients talk to moto directly)."""
    url = str(ctx.client("apigatewayv2").meta.endpoint_url)
    return None if "amazonaws.com" in url else url.rstrip("/")


class _HttpApiResource(ResourceType):
    """One part of an HTTP API: created with ``create_<part>``, updated in place with ``update_<part>`` (on its id and
    the same arguments), deleted with ``delete_<part>`` (a part already gone is no error). A declaration says which
    part (:attr:`part`, :attr:`id_name`) and how the template's properties read (:meth:`arguments`)."""

    part: ClassVar[str]
    """The name in the ``apigatewayv2`` client's ``create_<part>`` / ``update_<part>`` / ``delete_<part>``."""
    id_name: ClassVar[str]
    """The parameter and response field that carries the part's id (its ``Ref``)."""

    def arguments(self, ctx: ResourceContext) -> dict[str, Any]:
        """The ``create_<part>`` arguments the template's properties give."""
        raise NotImplementedError

    def create(self, ctx: ResourceContext) -> None:
        client = ctx.client("apigatewayv2")
        args = self.arguments(ctx)
        if ctx.previous is not None and not ctx.replacing:
            physical_id = str(ctx.previous.physical_id)
            self.update_in_place(client, ctx, physical_id, args)
        else:
            physical_id = str(getattr(client, f"create_{self.part}")(**args)[self.id_name])
        ctx.set(physical_id, **self.attributes(ctx, physical_id))

    def update_in_place(self, client: Any, ctx: ResourceContext, physical_id: str, args: dict[str, Any]) -> None:
        getattr(client, f"update_{self.part}")(**{**args, self.id_name: physical_id})

    def attributes(self, ctx: ResourceContext, physical_id: str) -> dict[str, Any]:
        """The part's ``Fn::GetAtt`` attributes (none but the API's)."""
        return {}

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        client = ctx.client("apigatewayv2")
        ids = {self.id_name: ctx.previous.physical_id}
        if self.id_name != "ApiId":
            ids["ApiId"] = ctx.props["ApiId"]
        with contextlib.suppress(client.exceptions.NotFoundException):
            getattr(client, f"delete_{self.part}")(**ids)


class Api(_HttpApiResource):
    replace_on = frozenset({"ProtocolType"})
    part, id_name = "api", "ApiId"

    def arguments(self, ctx: ResourceContext) -> dict[str, Any]:
        protocol = ctx.props.get("ProtocolType", "HTTP")
        if protocol != "HTTP":
            raise ValueError(f"{ctx.logical_id}: only HTTP APIs are emulated (got {protocol})")
        return {"Name": text(ctx.props.get("Name", ctx.logical_id)), "ProtocolType": "HTTP",
                "Description": text(ctx.props.get("Description", ""))}

    def update_in_place(self, client: Any, ctx: ResourceContext, physical_id: str, args: dict[str, Any]) -> None:
        client.update_api(ApiId=physical_id, Name=text(ctx.props.get("Name", physical_id)),
                          Description=args["Description"])

    def attributes(self, ctx: ResourceContext, physical_id: str) -> dict[str, Any]:
        return {"ApiId": physical_id, "ApiEndpoint": api_endpoint(_endpoint_of(ctx), physical_id, ctx.region)}


class Stage(_HttpApiResource):
    replace_on = frozenset({"ApiId", "StageName"})
    part, id_name = "stage", "StageName"

    def arguments(self, ctx: ResourceContext) -> dict[str, Any]:
        props = ctx.props
        args: dict[str, Any] = {"ApiId": props["ApiId"], "StageName": text(props["StageName"]),
                                "AutoDeploy": is_true(props.get("AutoDeploy", False))}
        if props.get("AccessLogSettings"):
            args["AccessLogSettings"] = {k: text(v) for k, v in props["AccessLogSettings"].items()}
        return args

    def update_in_place(self, client: Any, ctx: ResourceContext, physical_id: str, args: dict[str, Any]) -> None:
        """A stage is created again with the new settings (its name is its id)."""
        with contextlib.suppress(client.exceptions.NotFoundException):
            client.delete_stage(ApiId=args["ApiId"], StageName=args["StageName"])
        client.create_stage(**args)


class Integration(_HttpApiResource):
    replace_on = frozenset({"ApiId"})
    part, id_name = "integration", "IntegrationId"

    def arguments(self, ctx: ResourceContext) -> dict[str, Any]:
        props = ctx.props
        return {"ApiId": props["ApiId"], "IntegrationType": text(props["IntegrationType"]),
                "IntegrationUri": text(props.get("IntegrationUri", "")),
                "PayloadFormatVersion": text(props.get("PayloadFormatVersion", "2.0"))}


class Route(_HttpApiResource):
    replace_on = frozenset({"ApiId"})
    part, id_name = "route", "RouteId"

    def arguments(self, ctx: ResourceContext) -> dict[str, Any]:
        props = ctx.props
        return {"ApiId": props["ApiId"], "RouteKey": text(props["RouteKey"]), "Target": text(props.get("Target", "")),
                "AuthorizationType": text(props.get("AuthorizationType", "NONE"))}
