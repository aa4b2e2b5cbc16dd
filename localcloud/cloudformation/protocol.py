"""The AWS query protocol as CloudFormation speaks it: form-encoded requests, XML responses and errors.

Example::

    members(params, "Parameters")   # [{"ParameterKey": "Stage", "ParameterValue": "dev"}] from Parameters.member.1.*
    xml_response("DescribeStacks", {"Stacks": [...]}, request_id)
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
_MEMBER = re.compile(r"^(?P<name>[A-Za-z]+)\.member\.(?P<index>\d+)(?:\.(?P<field>.+))?$")


class QueryError(Exception):
    """An API error: ``code`` (``ValidationError``, ``AlreadyExistsException``, ...), HTTP status, message."""

    def __init__(self, code: str, message: str, *, status: int = 400, sender: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender


def members(params: Mapping[str, str], name: str) -> list[Any]:
    """The list parameter ``name``: ``name.member.N`` values, or ``name.member.N.Field`` dicts, in order.

    Example::

        members({"Capabilities.member.1": "CAPABILITY_IAM"}, "Capabilities")   # ["CAPABILITY_IAM"]
    """
    items: dict[int, Any] = {}
    for key, value in params.items():
        match = _MEMBER.match(key)
        if match is None or match["name"] != name:
            continue
        index = int(match["index"])
        if match["field"] is None:
            items[index] = value
        else:
            entry = items.setdefault(index, {})
            if isinstance(entry, dict):
                entry[match["field"]] = value
    return [items[index] for index in sorted(items)]


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return escape(str(value))


def to_xml(name: str, value: Any) -> str:
    """``value`` as the XML element ``name``: dicts become child elements, lists ``<member>`` entries; None is
    left out."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        inner = "".join(to_xml(key, item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        inner = "".join(to_xml("member", item) for item in value)
    else:
        inner = _value(value)
    return f"<{name}>{inner}</{name}>"


def xml_response(action: str, result: Mapping[str, Any], *, request_id: str | None = None) -> Response:
    """The successful response of ``action`` carrying ``result``."""
    rid = request_id or str(uuid.uuid4())
    body = (
        f'<{action}Response xmlns="{NAMESPACE}">{to_xml(f"{action}Result", dict(result))}'
        f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata></{action}Response>"
    )
    return Response(body, status=200, content_type="text/xml", headers={"x-amzn-RequestId": rid})


def xml_error(error: QueryError, *, request_id: str | None = None) -> Response:
    """The error response for ``error``."""
    rid = request_id or str(uuid.uuid4())
    body = (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{"Sender" if error.sender else "Receiver"}</Type>'
        f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message></Error>"
        f"<RequestId>{rid}</RequestId></ErrorResponse>"
    )
    return Response(body, status=error.status, content_type="text/xml", headers={"x-amzn-RequestId": rid})
