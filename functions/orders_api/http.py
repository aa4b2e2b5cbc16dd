"""API Gateway HTTP API (payload format 2.0) plumbing: reading a request, RFC 9457 problem documents, responses.

Every refusal is a :class:`Problem` (``application/problem+json`` with ``type``, ``title``, ``status``, ``detail``,
``instance`` and, where one field is at fault, ``field``); its texts are fixed or name the input, never an exception's.

Example:
    >>> event = {"rawPath": "/orders", "headers": {"content-type": "text/plain"}, "body": "x",
    ...          "requestContext": {"http": {"method": "POST"}, "requestId": "r-1"}}
    >>> request = HttpRequest.from_event(event)
    >>> try:
    ...     request.json_body()
    ... except Problem as problem:
    ...     response = problem.response(request)
    >>> response["statusCode"], response["headers"]["content-type"], json.loads(response["body"])["title"]
    (415, 'application/problem+json', 'Unsupported media type')
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_BODY_BYTES = 64 * 1024
"""The largest request body accepted (413 above it): a CreateOrder of 100 lines is about 8 KiB."""
PROBLEM_TYPE = "urn:fifo-messaging:problem:"
JSON_TYPES = ("application/json",)


class Problem(Exception):  # noqa: N818 - an RFC 9457 problem, named as the RFC does
    """An HTTP error answered as an RFC 9457 problem document."""

    def __init__(self, status: int, slug: str, title: str, detail: str, *, field: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.field = field
        self.headers = dict(headers or {})

    def document(self, instance: str) -> dict[str, Any]:
        """The problem document (RFC 9457 members plus ``field``)."""
        document: dict[str, Any] = {
            "type": PROBLEM_TYPE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.field is not None:
            document["field"] = self.field
        return document

    def response(self, request: HttpRequest | None) -> dict[str, Any]:
        """The payload 2.0 response of this problem."""
        instance = request.path if request is not None else "/"
        return response(self.status, self.document(instance), content_type="application/problem+json",
                        headers=self.headers)


def response(status: int, body: Any, *, content_type: str = "application/json",
             headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A payload 2.0 response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"content-type": content_type, **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


@dataclass(frozen=True)
class HttpRequest:
    """The parts of a payload 2.0 event the adapter reads; header names are lower-case, as API Gateway sends them."""

    method: str
    path: str
    route_key: str
    headers: Mapping[str, str]
    path_parameters: Mapping[str, str]
    body: bytes
    request_id: str
    caller: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> HttpRequest:
        """Read an event; a body that is not valid base64 (when flagged so) is a 400 problem."""
        context = event.get("requestContext") or {}
        raw = event.get("body") or ""
        if event.get("isBase64Encoded"):
            try:
                body = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise Problem(400, "malformed-body", "Malformed body", "the body is not valid base64") from exc
        else:
            body = raw.encode("utf-8", "surrogatepass")
        iam = ((context.get("authorizer") or {}).get("iam") or {})
        return cls(
            method=str((context.get("http") or {}).get("method", "")).upper(),
            path=str(event.get("rawPath") or "/"),
            route_key=str(event.get("routeKey") or ""),
            headers={str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()},
            path_parameters={str(k): str(v) for k, v in (event.get("pathParameters") or {}).items()},
            body=body,
            request_id=str(context.get("requestId") or ""),
            caller=str(iam.get("userArn") or iam.get("userId") or "anonymous"),
        )

    def json_body(self) -> Any:
        """The body parsed as JSON: 415 unless the media type is JSON, 413 above :data:`MAX_BODY_BYTES`, 400 when it
        is not JSON (or not UTF-8)."""
        media_type = self.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        structured = media_type.startswith("application/") and media_type.endswith("+json")
        if media_type not in JSON_TYPES and not structured:
            raise Problem(415, "unsupported-media-type", "Unsupported media type",
                          "send the body as application/json", headers={"accept-post": "application/json"})
        if len(self.body) > MAX_BODY_BYTES:
            raise Problem(413, "body-too-large", "Request body too large",
                          f"the body is {len(self.body):,} bytes; the limit is {MAX_BODY_BYTES:,}")
        try:
            return json.loads(self.body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise Problem(400, "malformed-json", "Malformed JSON", "the body is not UTF-8 text") from exc
        except (ValueError, RecursionError) as exc:
            raise Problem(400, "malformed-json", "Malformed JSON", "the body is not valid JSON") from exc
