"""The local cloud's endpoint: one HTTP server where the local cloud answers the APIs it owns and moto the rest.

moto's server app dispatches by service (the SigV4 credential scope, ``X-Amz-Target``, the query ``Action``,
REST paths). The :class:`Gateway` in front of it reads the service a request is signed for and hands requests of
the services the local cloud implements itself (Lambda's function and event-source-mapping calls, CloudFormation)
to their provider; a provider may also decline a request, which then goes to moto like every other one. Unsigned
requests under a path prefix of its own (the web console's ``/_console/``) go to that prefix's provider.

Example::

    server = EndpointServer("localhost", 4566, {"cloudformation": CloudFormationApi(cloud)})
    server.start()
    ...
    server.stop()
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

log = logging.getLogger("localcloud.gateway")

WSGIEnvironment = dict[str, Any]


class ApiProvider(Protocol):
    """An API the local cloud answers itself."""

    def handle(self, request: Request) -> Response | None:
        """The response, or None to let moto answer the request."""
        ...


def signing_service(environ: Mapping[str, Any]) -> str | None:
    """The service a SigV4-signed request is for (the credential scope's service), else None.

    Example::

        signing_service({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/lambda/aws4_request, "
                         "SignedHeaders=host, Signature=x"})   # "lambda"
    """
    authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
    if not authorization.startswith("AWS4-"):
        return None
    for part in authorization.split(" ", 1)[-1].split(","):
        name, _, value = part.strip().partition("=")
        if name == "Credential":
            scope = value.split("/")
            return scope[3].lower() if len(scope) == 5 else None
    return None


class Gateway:
    """WSGI app: requests of the local cloud's own APIs to their providers, everything else to moto."""

    def __init__(self, providers: Mapping[str, ApiProvider], backend: Any = None, *,
                 routes: Mapping[str, ApiProvider] | None = None) -> None:
        """``routes``: path prefix (``/_console``) -> the provider of the unsigned requests under it."""
        self.providers = dict(providers)
        self.routes = dict(routes or {})
        self.backend = backend if backend is not None else DomainDispatcherApplication(create_backend_app)

    def _route(self, environ: WSGIEnvironment) -> ApiProvider | None:
        service = signing_service(environ)
        if service is not None:
            return self.providers.get(service)
        path = str(environ.get("PATH_INFO", ""))
        return next((p for prefix, p in self.routes.items() if path == prefix or path.startswith(prefix + "/")), None)

    def __call__(self, environ: WSGIEnvironment, start_response: Any) -> Iterable[bytes]:
        provider = self._route(environ)
        if provider is not None:
            request = Request(environ)
            body = request.get_data(cache=True)
            try:
                response = provider.handle(request)
            except Exception:
                log.exception("%s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
                response = Response('{"message": "internal error of the local cloud"}', status=500,
                                    content_type="application/json")
            if response is not None:
                return response(environ, start_response)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        try:
            result: Iterable[bytes] = self.backend(environ, start_response)
        except Exception:
            log.exception("%s %s failed in moto", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            return internal_error(environ)(environ, start_response)
        return result


def internal_error(environ: Mapping[str, Any]) -> Response:
    """An AWS API's answer to a request it failed on, in the request's protocol, never an HTML page: JSON protocols
    (``X-Amz-Target`` or an ``application/x-amz-json`` body) get ``{"__type": "InternalFailure", ...}``, query and
    REST-XML ones an ``ErrorResponse`` document; status 500, which the SDKs retry
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html).

    Example::

        internal_error({"HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage"}).status_code   # 500
    """
    message = "The request processing has failed because of an unknown error, exception or failure."
    content_type = str(environ.get("CONTENT_TYPE", ""))
    if environ.get("HTTP_X_AMZ_TARGET") or content_type.startswith("application/x-amz-json"):
        return Response(json.dumps({"__type": "InternalFailure", "message": message}), status=500,
                        content_type=content_type or "application/x-amz-json-1.0",
                        headers={"x-amzn-query-error": "InternalFailure;Receiver"})
    body = (f"<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>{message}</Message>"
            "</Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>")
    return Response(body, status=500, content_type="text/xml")


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without the access log line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No access log (``--verbose`` servers keep werkzeug's)."""


class EndpointServer:
    """A threaded HTTP server on ``host:port`` serving a :class:`Gateway` in front of moto."""

    def __init__(self, host: str, port: int, providers: Mapping[str, ApiProvider], *,
                 access_log: bool = False, routes: Mapping[str, ApiProvider] | None = None) -> None:
        self.host = host
        self.access_log = access_log
        self.port = port
        self.gateway = Gateway(providers, routes=routes)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The endpoint URL (``http://localhost:4566``)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Bind and serve in a background thread."""
        self._server = make_server(self.host, self.port, self.gateway, threaded=True,
                                   request_handler=MotoRequestHandler if self.access_log else _QuietRequestHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="endpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
