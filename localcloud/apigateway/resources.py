"""``AWS::ApiGatewayV2::Api``, ``Stage``, ``Integration`` and ``Route`` (HTTP APIs), created in moto.

Example::

    Api().create(ctx)   # create_api; Ref = the API id, GetAtt ApiEndpoint = the local URL of the API
"""

from __future__ import annotations

import contextlib
from typing import Any

from localcloud.apigateway.router import api_endpoint
from localcloud.cloudformation.resources.base import ResourceContext, ResourceType, is_true, text


def _endpoint_of(ctx: ResourceContext) -> str | None:
    """The local cloud's endpoint URL (None in process, where clients talk to moto directly)."""
    url = str(ctx.client("apigatewayv2").meta.endpoint_url)
    return None if "amazonaws.com" in url else url.rstrip("/")


class Api(ResourceType):
    replace_on = frozenset({"ProtocolType"})

    def create(self, ctx: ResourceContext) -> None:
        props = ctx.props
        if props.get("ProtocolType", "HTTP") != "HTTP":
            raise ValueError(f"{ctx.logical_id}: only HTTP APIs are emulated (got {props.get('ProtocolType')})")
        client = ctx.client("apigatewayv2")
        if ctx.previous is not None and not ctx.replacing:
            api_id = ctx.previous.physical_id
            client.update_api(ApiId=api_id, Name=text(props.get("Name", api_id)),
                              Description=text(props.get("Description", "")))
        else:
            created = client.create_api(Name=text(props.get("Name", ctx.logical_id)), ProtocolType="HTTP",
                                        Description=text(props.get("Description", "")))
            api_id = created["ApiId"]
        endpoint = api_endpoint(_endpoint_of(ctx), api_id, ctx.region)
        ctx.set(api_id, ApiId=api_id, ApiEndpoint=endpoint)

    def update(self, ctx: ResourceContext) -> None:
        self.create(ctx)

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        client = ctx.client("apigatewayv2")
        with contextlib.suppress(client.exceptions.NotFoundException):
            client.delete_api(ApiId=ctx.previous.physical_id)


class Stage(ResourceType):
    replace_on = frozenset({"ApiId", "StageName"})

    def create(self, ctx: ResourceContext) -> None:
        props = ctx.props
        client = ctx.client("apigatewayv2")
        name = text(props["StageName"])
        args: dict[str, Any] = {"ApiId": props["ApiId"], "StageName": name,
                                "AutoDeploy": is_true(props.get("AutoDeploy", False))}
        if props.get("AccessLogSettings"):
            args["AccessLogSettings"] = {k: text(v) for k, v in props["AccessLogSettings"].items()}
        if ctx.previous is not None and not ctx.replacing:
            with contextlib.suppress(client.exceptions.NotFoundException):
                client.delete_stage(ApiId=props["ApiId"], StageName=name)
        client.create_stage(**args)
        ctx.set(name)

    def update(self, ctx: ResourceContext) -> None:
        self.create(ctx)

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        client = ctx.client("apigatewayv2")
        with contextlib.suppress(client.exceptions.NotFoundException):
            client.delete_stage(ApiId=ctx.props["ApiId"], StageName=ctx.previous.physical_id)


class Integration(ResourceType):
    replace_on = frozenset({"ApiId"})

    def create(self, ctx: ResourceContext) -> None:
        props = ctx.props
        args = {"ApiId": props["ApiId"], "IntegrationType": text(props["IntegrationType"]),
                "IntegrationUri": text(props.get("IntegrationUri", "")),
                "PayloadFormatVersion": text(props.get("PayloadFormatVersion", "2.0"))}
        client = ctx.client("apigatewayv2")
        if ctx.previous is not None and not ctx.replacing:
            integration_id = ctx.previous.physical_id
            client.update_integration(IntegrationId=integration_id, **args)
        else:
            integration_id = client.create_integration(**args)["IntegrationId"]
        ctx.set(integration_id)

    def update(self, ctx: ResourceContext) -> None:
        self.create(ctx)

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        client = ctx.client("apigatewayv2")
        with contextlib.suppress(client.exceptions.NotFoundException):
            client.delete_integration(ApiId=ctx.props["ApiId"], IntegrationId=ctx.previous.physical_id)


class Route(ResourceType):
    replace_on = frozenset({"ApiId"})

    def create(self, ctx: ResourceContext) -> None:
        props = ctx.props
        args = {"ApiId": props["ApiId"], "RouteKey": text(props["RouteKey"]),
                "Target": text(props.get("Target", "")),
                "AuthorizationType": text(props.get("AuthorizationType", "NONE"))}
        client = ctx.client("apigatewayv2")
        if ctx.previous is not None and not ctx.replacing:
            route_id = ctx.previous.physical_id
            client.update_route(RouteId=route_id, **args)
        else:
            route_id = client.create_route(**args)["RouteId"]
        ctx.set(route_id)

    def update(self, ctx: ResourceContext) -> None:
        self.create(ctx)

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        client = ctx.client("apigatewayv2")
        with contextlib.suppress(client.exceptions.NotFoundException):
            client.delete_route(ApiId=ctx.props["ApiId"], RouteId=ctx.previous.physical_id)
