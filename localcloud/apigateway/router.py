"""HTTP API requests to their route's function, with the payload format 2.0 event and response (see the package)."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from localcloud.cloud import LocalCloud

log = logging.getLogger("localcloud.apigateway")

EXECUTE_API_PREFIX = "/_aws/execute-api"
"""Where a local cloud server serves its HTTP APIs: ``<endpoint>/_aws/execute-api/<api id>/<path>``."""
_TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/xml", "application/javascript",
               "application/x-www-form-urlencoded")
NOT_FOUND = (404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
INTERNAL_ERROR = (500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}')


def api_endpoint(endpoint_url: str | None, api_id: str, region: str) -> str:
    """An API's ``ApiEndpoint``: under the local server's endpoint, or AWS's form in process.

    Example::

        api_endpoint("http://localhost:4566", "abc123", "us-east-1")  # "http://localhost:4566/_aws/execute-api/abc123"
    """
    if endpoint_url:
        return f"{endpoint_url.rstrip('/')}{EXECUTE_API_PREFIX}/{api_id}"
    return f"https://{api_id}.execute-api.{region}.amazonaws.com"


def split_api_url(url: str) -> tuple[str, str, str] | None:
    """(api id, path, query string) of a URL of an HTTP API, in either form; None if it is not one."""
    parts = urlsplit(url)
    if parts.path.startswith(EXECUTE_API_PREFIX + "/"):
        rest = parts.path[len(EXECUTE_API_PREFIX) + 1:]
        api_id, _, path = rest.partition("/")
        return api_id, "/" + path, parts.query
    host = parts.hostname or ""
    if ".execute-api." in host:
        return host.split(".", 1)[0], parts.path or "/", parts.query
    return None


@dataclass(frozen=True)
class _Route:
    key: str
    function_name: str
    authorization: str


def _match(route_key: str, method: str, path: str) -> dict[str, str] | None:
    """Path parameters if ``route_key`` (``METHOD /a/{b}/{c+}``, ``ANY ...``) matches, else None."""
    route_method, _, route_path = route_key.partition(" ")
    if route_method not in ("ANY", method):
        return None
    wanted = [p for p in route_path.split("/") if p]
    given = [p for p in path.split("/") if p]
    parameters: dict[str, str] = {}
    for index, segment in enumerate(wanted):
        if segment.startswith("{") and segment.endswith("+}"):
            if index >= len(given):
                return None
            parameters[segment[1:-2]] = "/".join(given[index:])
            return parameters
        if index >= len(given):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            parameters[segment[1:-1]] = given[index]
        elif segment != given[index]:
            return None
    return parameters if len(given) == len(wanted) else None


class HttpApiRouter:
    """Routes requests of the deployed HTTP APIs to their functions (read from the deployment at each request)."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud

    def _routes(self, api_id: str) -> list[_Route] | None:
        """The API's routes, or None if no deployed stack has this API."""
        found = False
        routes, integrations = [], {}
        for stack in list(self.cloud.deployment.stacks.values()):
            for state in list(stack.resources.values()):
                if state.type == "AWS::ApiGatewayV2::Api" and state.physical_id == api_id:
                    found = True
                elif state.type == "AWS::ApiGatewayV2::Integration" and state.props.get("ApiId") == api_id:
                    integrations[str(state.physical_id)] = str(state.props.get("IntegrationUri", ""))
                elif state.type == "AWS::ApiGatewayV2::Route" and state.props.get("ApiId") == api_id:
                    routes.append(state.props)
        if not found:
            return None
        result = []
        for props in routes:
            integration = str(props.get("Target", "")).removeprefix("integrations/")
            uri = integrations.get(integration, "")
            function_name = uri.split(":function:", 1)[-1].split(":", 1)[0] if ":function:" in uri else ""
            result.append(_Route(str(props["RouteKey"]), function_name, str(props.get("AuthorizationType", "NONE"))))
        return result

    def invoke(self, method: str, url: str, headers: Mapping[str, str], body: bytes, *,
               source_ip: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
        """Serve one request to ``url`` (an API's URL in either form): status, headers and body of the response."""
        target = split_api_url(url)
        if target is None:
            return NOT_FOUND
        api_id, path, query = target
        routes = self._routes(api_id)
        if routes is None:
            return NOT_FOUND
        method = method.upper()
        matched = None
        for route in sorted(routes, key=lambda r: (r.key == "$default", r.key.count("{"), -len(r.key))):
            parameters = {} if route.key == "$default" else _match(route.key, method, path)
            if parameters is not None:
                matched = (route, parameters)
                break
        if matched is None:
            return NOT_FOUND
        route, parameters = matched
        function = self.cloud.functions.get(route.function_name)
        if function is None:
            return INTERNAL_ERROR
        event = self._event(api_id, route, method, path, query, headers=headers, body=body, parameters=parameters,
                            source_ip=source_ip)
        result = function.invoke(event)
        if not result.ok:
            log.warning("%s %s: %s failed: %s", method, path, route.function_name, result.error)
            return INTERNAL_ERROR
        return _response(result.response)

    def _event(self, api_id: str, route: _Route, method: str, path: str, query: str, *,
               headers: Mapping[str, str], body: bytes, parameters: dict[str, str],
               source_ip: str) -> dict[str, Any]:
        lowered: dict[str, str] = {}
        for name, value in headers.items():
            key = name.lower()
            lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
        content_type = lowered.get("content-type", "").lower()
        text = not body or content_type.startswith(_TEXT_TYPES) or content_type.endswith("+json")
        encoded: str | None
        if not body:
            encoded, is_base64 = None, False
        elif text:
            try:
                encoded, is_base64 = body.decode("utf-8"), False
            except UnicodeDecodeError:
                encoded, is_base64 = base64.b64encode(body).decode(), True
        else:
            encoded, is_base64 = base64.b64encode(body).decode(), True
        now = time.time()
        context: dict[str, Any] = {
            "accountId": self.cloud.account_id,
            "apiId": api_id,
            "domainName": lowered.get("host", f"{api_id}.execute-api.{self.cloud.region}.amazonaws.com"),
            "domainPrefix": api_id,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": lowered.get("user-agent", "")},
            "requestId": str(uuid.uuid4()),
            "routeKey": route.key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        }
        if route.authorization == "AWS_IAM":
            access_key = _access_key(lowered.get("authorization", "")) or "anonymous"
            context["authorizer"] = {"iam": {
                "accessKey": access_key, "accountId": self.cloud.account_id, "callerId": access_key,
                "userArn": f"arn:aws:iam::{self.cloud.account_id}:user/{access_key}", "userId": access_key,
            }}
        cookies = [c.strip() for c in lowered.pop("cookie", "").split(";") if c.strip()]
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.key,
            "rawPath": path,
            "rawQueryString": query,
            "headers": lowered,
            "requestContext": context,
            "isBase64Encoded": is_base64,
        }
        if cookies:
            event["cookies"] = cookies
        if query:
            event["queryStringParameters"] = dict(parse_qsl(query, keep_blank_values=True))
        if parameters:
            event["pathParameters"] = parameters
        if encoded is not None:
            event["body"] = encoded
        return event


def _access_key(authorization: str) -> str | None:
    """The access key id of a SigV4 ``Authorization`` header."""
    for part in authorization.split(" ", 1)[-1].split(","):
        name, _, value = part.strip().partition("=")
        if name == "Credential":
            return value.split("/", 1)[0] or None
    return None


def _response(payload: Any) -> tuple[int, dict[str, str], bytes]:
    """A payload 2.0 function result as HTTP: a dict with ``statusCode`` as given; anything else a 200 JSON body."""
    if isinstance(payload, dict) and "statusCode" in payload:
        headers = {str(k).lower(): str(v) for k, v in (payload.get("headers") or {}).items()}
        body = payload.get("body") or ""
        data = base64.b64decode(body) if payload.get("isBase64Encoded") else str(body).encode("utf-8")
        try:
            status = int(payload["statusCode"])
        except (TypeError, ValueError):
            return INTERNAL_ERROR
        return status, headers, data
    return 200, {"content-type": "application/json"}, json.dumps(payload).encode("utf-8")


class HttpApiProvider:
    """The endpoint's provider of ``/_aws/execute-api/...`` (and of requests signed for ``execute-api``)."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.router = HttpApiRouter(cloud)

    def handle(self, request: Request) -> Response | None:
        status, headers, body = self.router.invoke(
            request.method, request.url, dict(request.headers.items()), request.get_data(cache=True),
            source_ip=request.remote_addr or "127.0.0.1",
        )
        response = Response(body, status=status)
        for name, value in headers.items():
            response.headers[name] = value
        return response
