"""The codec between :class:`~messaging.envelope.Envelope` and the wire form: CloudEvents 1.0 structured JSON.

The CloudEvents SDK validates the required attributes and extension names; this module adds the rules of our
contract (``kind``, string extensions, a JSON object body, ``correlationid`` on replies, the schema version, bounded
attribute lengths, ``source`` a URI-reference, at most :data:`MAX_NESTING` levels of nesting, valid UTF-8 text) and
raises a typed :class:`~messaging.errors.InvalidMessage` naming the offending field.

Example:
    >>> from messaging.envelope import command
    >>> codec = CloudEventJsonCodec()
    >>> cmd = command("orders.CreateOrder", {"sku": "book"}, source="/web", partitionkey="c-1")
    >>> codec.decode(codec.encode(cmd)) == cmd
    True
    >>> codec.decode("not json")
    Traceback (most recent call last):
    ...
    messaging.errors.NotJson: body is not JSON: Expecting value: line 1 column 1 (char 0)
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cloudevents.core.exceptions import BaseCloudEventException, CloudEventValidationError
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from dateutil.parser import isoparse

from messaging.envelope import SCHEMA_VERSION, Envelope, Kind
from messaging.errors import InvalidAttribute, InvalidEncoding, NotCloudEvent, NotJson, UnsupportedSchemaVersion

SPEC_VERSION = "1.0"
_STANDARD = {"specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time", "data"}
_OURS = {"kind", "partitionkey", "replyto", "correlationid", "schemaversion", "dataref", "traceparent", "tracestate"}
_STRING_ATTRIBUTES = tuple(sorted(_OURS | {"subject", "dataschema"}))
_JSON_CONTENT_TYPES = ("application/json",)

MAX_LENGTHS = {
    "id": 256,
    "source": 512,
    "type": 256,
    "subject": 256,
    "correlationid": 256,
    "replyto": 1024,
    "dataref": 1024,
    "datacontenttype": 128,
    "schemaversion": 16,
    "kind": 16,
    "dataschema": 512,
    "traceparent": 55,
    "tracestate": 512,
}
"""Longest accepted value (characters) of each attribute: ``source|id`` must fit a DynamoDB sort key (1,024 bytes)
and every attribute a log line. ``partitionkey`` has its own rule (:func:`messaging.fifo.validate_partition_key`)."""
MAX_NESTING = 32
"""Deepest accepted nesting of objects and arrays in a message (the envelope counts as the first level)."""
_URI_REFERENCE = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f]")
"""C0 controls and DEL: refused in plain-text attributes."""
_PLAIN_TEXT = (
    "id", "type", "kind", "schemaversion", "datacontenttype", "correlationid", "subject", "dataschema", "traceparent",
    "tracestate",
)
"""Attributes that go into log lines and SQS/SNS message attributes (which refuse most control characters)."""


ENCODED_MEMO = 64
"""How many recent encodings the codecs keep (a message's events and reply are encoded once, used up to three times).
The memo holds each envelope it names (an id is not reused while it is there), so at most that many envelopes stay
alive a little longer. An envelope is frozen; its ``data`` must not be changed once it has been encoded."""
_ENCODED: OrderedDict[int, tuple[Envelope, str]] = OrderedDict()
_ENCODED_LOCK = threading.Lock()


class CloudEventJsonCodec:
    """Encodes envelopes to CloudEvents JSON (structured mode) and decodes them back, strictly."""

    content_type = "application/cloudevents+json"
    schema_version = SCHEMA_VERSION

    def encode(self, envelope: Envelope) -> str:
        """The wire JSON of ``envelope``. An envelope is encoded once: its size is checked, its outcome stored and it
        is sent from the same text (codecs share the last :data:`ENCODED_MEMO` encodings, by identity)."""
        remembered = _ENCODED.get(id(envelope))
        if remembered is not None and remembered[0] is envelope:
            return remembered[1]
        wire = self._encode(envelope)
        with _ENCODED_LOCK:  # consumers of the local cloud share it across threads
            while len(_ENCODED) >= ENCODED_MEMO:
                _ENCODED.popitem(last=False)
            _ENCODED[id(envelope)] = (envelope, wire)
        return wire

    def _encode(self, envelope: Envelope) -> str:
        attributes: dict[str, Any] = {
            "specversion": SPEC_VERSION,
            "id": envelope.id,
            "source": envelope.source,
            "type": envelope.type,
            "datacontenttype": envelope.datacontenttype,
            "time": envelope.time,
            "kind": envelope.kind.value,
            "schemaversion": SCHEMA_VERSION,
        }
        for name in ("partitionkey", "replyto", "correlationid", "subject", "dataref", "dataschema", "traceparent",
                     "tracestate"):
            value = getattr(envelope, name)
            if value is not None:
                attributes[name] = value
        for name, value in envelope.extensions.items():
            attributes.setdefault(name, value)
        _check_attributes(attributes)
        _check_sdk_rules(attributes, envelope.extensions)
        attributes["time"] = rfc3339(envelope.time)
        if envelope.data is not None:
            data = dict(envelope.data)
            json_data = JSONFormat.JSON_CONTENT_TYPE_PATTERN.match(envelope.datacontenttype)
            attributes["data"] = data if json_data else str(data)
        # What ``JSONFormat.write`` of the SDK writes, byte for byte (a test holds them equal), without building and
        # validating a second object per message: the rules the SDK checks are checked above.
        return json.dumps(attributes)

    def decode(self, raw: str | bytes) -> Envelope:
        text, document = _parse(raw, "body")
        if not isinstance(document, dict):
            raise NotCloudEvent(f"body is JSON {type(document).__name__}, not a CloudEvent object")
        if not _shallow_and_plain(text, MAX_NESTING):
            _check_structure(document)
        missing = [name for name in ("specversion", "id", "source", "type") if name not in document]
        if missing:
            raise NotCloudEvent(f"not a CloudEvent: missing {', '.join(missing)}", field=missing[0])
        if document.get("specversion") != SPEC_VERSION:
            raise InvalidAttribute(
                f"specversion must be {SPEC_VERSION!r}, not {document.get('specversion')!r}", field="specversion"
            )
        if "data_base64" in document:
            raise InvalidAttribute(
                "binary data (data_base64) is not supported: data must be a JSON object", field="data"
            )
        _check_attributes(document)
        attributes = {name: value for name, value in document.items() if name != "data"}
        try:
            # What the SDK's JSONFormat.read does with a 1.0 event (data_base64 is refused above), from the document
            # parsed once: ``time`` through the same ISO 8601 parser, then the SDK's validation of the attributes.
            if "time" in attributes:
                attributes["time"] = parse_time(attributes["time"])
            if _sdk_would_accept(attributes):
                return _to_envelope(attributes, document.get("data"))
            cloud_event = CloudEvent(attributes, document.get("data"))
        except CloudEventValidationError as exc:
            raise _invalid(exc) from exc
        except (BaseCloudEventException, ValueError, TypeError, OverflowError) as exc:
            field = getattr(exc, "attribute_name", None) or ("time" if "time" in document else None)
            if field == "time":
                shown = str(document.get("time"))[:64]
                raise InvalidAttribute(f"time {shown!r} is not an RFC 3339 timestamp ({exc})", field=field) from exc
            raise InvalidAttribute(f"invalid CloudEvent: {exc}", field=field) from exc
        return _to_envelope(cloud_event.get_attributes(), document.get("data"))

    def decode_data(self, raw: str | bytes) -> dict[str, Any]:
        """``data`` kept apart from its envelope (a claim check): a JSON object, checked like the data of a body.

        Example:
            >>> CloudEventJsonCodec().decode_data(b'{"rows": [1, 2]}')
            {'rows': [1, 2]}
        """
        text, data = _parse(raw, "data")
        if not isinstance(data, dict):
            raise InvalidAttribute(f"data must be a JSON object, not {type(data).__name__}", field="data")
        if not _shallow_and_plain(text, MAX_NESTING - 1):
            _check_structure(data, depth=2, top="data")
        return data


def _parse(raw: str | bytes, what: str) -> tuple[str, Any]:
    """``raw`` as text and its JSON; ``raw`` must be UTF-8 text: typed errors for bytes that are not, lone
    surrogates, bad JSON."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidEncoding(f"{what} is not UTF-8: invalid byte at position {exc.start}", field=what) from exc
    if _SURROGATE.search(raw):
        raise InvalidEncoding(f"{what} is not UTF-8: it holds lone surrogates", field=what)
    try:
        return raw, json.loads(raw)
    except RecursionError as exc:
        raise NotJson(f"{what} is nested too deeply to parse") from exc
    except ValueError as exc:
        raise NotJson(f"{what} is not JSON: {exc}") from exc


_RULES = {
    name: (MAX_LENGTHS.get(name), name in _PLAIN_TEXT) for name in {*_STRING_ATTRIBUTES, *MAX_LENGTHS, *_PLAIN_TEXT}
}
"""Each ruled attribute's longest length and whether it is plain text, for :func:`_plainly_valid`."""
_SCHEMA_MAJOR = SCHEMA_VERSION.split(".", 1)[0]


def _plainly_valid(document: Mapping[str, Any]) -> bool:
    """True when :func:`_check_attributes` would accept ``document``, checked in one pass over the attributes it
    has; False when unsure (a rule may fail: the full check then names the first one in its own order)."""
    texts = []
    for name, value in document.items():
        rule = _RULES.get(name)
        if rule is None:
            continue
        if not isinstance(value, str):
            return False
        limit, plain = rule
        if limit is not None and len(value) > limit:
            return False
        if plain:
            texts.append(value)
    return (
        CONTROL_CHARACTERS.search(" ".join(texts)) is None  # one search over every plain-text value (space is none)
        and all(document.get(name) for name in ("id", "source", "type"))
        and str(document.get("schemaversion", SCHEMA_VERSION)).split(".", 1)[0] == _SCHEMA_MAJOR
        and _URI_REFERENCE.match(document["source"]) is not None
    )


_KNOWN = frozenset(_STANDARD | _OURS) - {"data"}
_NON_EMPTY_OPTIONAL = ("subject", "datacontenttype", "dataschema")


def _sdk_would_accept(attributes: Mapping[str, Any]) -> bool:
    """True when the SDK's ``CloudEvent`` would accept ``attributes`` as they are, known after
    :func:`_check_attributes` passed and ``specversion`` was checked: only attributes of the contract (whose names
    the SDK's extension rule accepts), a timezone-aware ``time`` and optional attributes that are non-empty strings.
    The decoder then skips building a ``CloudEvent`` per message; anything else (an unknown extension, no ``time``,
    which the SDK fills in) goes through the SDK."""
    moment = attributes.get("time")
    return (
        isinstance(moment, datetime)
        and moment.tzinfo is not None
        and _KNOWN.issuperset(attributes)
        and all(isinstance(attributes[name], str) and attributes[name] for name in _NON_EMPTY_OPTIONAL
                if name in attributes)
    )


def _check_attributes(document: Mapping[str, Any]) -> None:
    """The contract's rules on attribute values: required strings non-empty, the schema version, string
    extensions, bounded lengths, ``source`` a URI-reference."""
    if _plainly_valid(document):
        return
    for name in ("id", "source", "type"):
        if not isinstance(document[name], str) or not document[name]:
            raise InvalidAttribute(f"{name} must be a non-empty string", field=name)
    _check_schema_version(document.get("schemaversion", SCHEMA_VERSION))
    for name in _STRING_ATTRIBUTES:
        if name in document and not isinstance(document[name], str):
            raise InvalidAttribute(f"{name} must be a string", field=name)
    for name, limit in MAX_LENGTHS.items():
        value = document.get(name)
        if isinstance(value, str) and len(value) > limit:
            raise InvalidAttribute(f"{name} is longer than {limit} characters", field=name)
    for name in _PLAIN_TEXT:
        value = document.get(name)
        if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
            raise InvalidAttribute(f"{name} holds control characters", field=name)
    if not _URI_REFERENCE.match(document["source"]):
        raise InvalidAttribute("source must be a URI-reference (RFC 3986)", field="source")


_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)", re.ASCII
)
"""The common form of an RFC 3339 ``time``, which ``datetime.fromisoformat`` reads as ``isoparse`` does."""


def parse_time(text: Any) -> datetime:
    """``time`` read as the CloudEvents SDK reads it (dateutil's ``isoparse``, which raises ``ValueError`` or
    ``TypeError`` for what is not a timestamp); the common RFC 3339 form through ``datetime.fromisoformat``, which
    gives the same value about thirty times faster.

    Example:
        >>> parse_time("2026-12-01T08:30:00.125Z") == isoparse("2026-12-01T08:30:00.125Z")
        True
        >>> parse_time("2026-12-01T24:00:00Z")  # what only isoparse reads: midnight of the next day
        datetime.datetime(2026, 12, 2, 0, 0, tzinfo=tzutc())
    """
    if isinstance(text, str) and _RFC3339.fullmatch(text):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass  # a day or an hour out of range: isoparse decides (and words the error)
    return isoparse(text)


def rfc3339(moment: datetime) -> str:
    """``moment`` as the CloudEvents SDK writes ``time``: ISO 8601, ``Z`` for UTC.

    Example:
        >>> from datetime import UTC
        >>> rfc3339(datetime(2026, 12, 1, 8, 30, 0, 125000, tzinfo=UTC))
        '2026-12-01T08:30:00.125000Z'
    """
    text = moment.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def _check_sdk_rules(attributes: Mapping[str, Any], extensions: Mapping[str, Any]) -> None:
    """What the SDK's ``CloudEvent`` refuses beyond :func:`_check_attributes`: a naive ``time``, an empty ``subject``
    or ``datacontenttype``, and (checked by the SDK's own validator) extension names that are not allowed."""
    moment = attributes["time"]
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidAttribute("time must be a timezone-aware datetime", field="time")
    for name in ("subject", "datacontenttype"):
        if name in attributes and not attributes[name]:
            raise InvalidAttribute(f"{name} must not be empty", field=name)
    if extensions:
        errors = CloudEvent._validate_extension_attributes(dict(attributes))  # the SDK's own rule
        if errors:
            raise _invalid(CloudEventValidationError(errors=errors))


def _shallow_and_plain(text: str, levels: int) -> bool:
    r"""True when the JSON ``text`` cannot nest deeper than ``levels`` (it holds no more opening brackets than that)
    nor decode to a lone surrogate (it holds no ``\uD800``-``\uDFFF`` escape): :func:`_check_structure` would pass.

    Example:
        >>> _shallow_and_plain('{"a": [1, {"b": "\\u00e9"}]}', 3), _shallow_and_plain('{"a": "\\ud800"}', 3)
        (True, False)
        >>> _shallow_and_plain('{"a": [[1]]}', 2)
        False
    """
    return text.count("{") + text.count("[") <= levels and _ESCAPED_SURROGATE.search(text) is None


def _check_structure(document: dict[str, Any], *, depth: int = 1, top: str | None = None) -> None:
    """Raise if any string holds lone surrogates (text that is not valid UTF-8) or nesting exceeds MAX_NESTING;
    the error names the top-level attribute it was found under."""
    pending: list[tuple[Any, int, str | None]] = [(document, depth, top)]
    while pending:
        value, depth, top = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise InvalidEncoding("a string is not valid UTF-8 (lone surrogate escape)", field=top)
        elif isinstance(value, dict | list):
            if depth > MAX_NESTING:
                raise InvalidAttribute(f"nested deeper than {MAX_NESTING} levels", field=top)
            items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
            for key, item in items:
                if isinstance(key, str) and _SURROGATE.search(key):
                    raise InvalidEncoding("a key is not valid UTF-8 (lone surrogate escape)", field=top)
                pending.append((item, depth + 1, top if top is not None else key))


def _check_schema_version(version: Any) -> None:
    if not isinstance(version, str):
        raise InvalidAttribute("schemaversion must be a string", field="schemaversion")
    if version.split(".", 1)[0] != SCHEMA_VERSION.split(".", 1)[0]:
        raise UnsupportedSchemaVersion(
            f"schemaversion {version!r} is not supported (this consumer reads {SCHEMA_VERSION})", field="schemaversion"
        )


def _to_envelope(attributes: Mapping[str, Any], data: Any) -> Envelope:
    kind_value = attributes.get("kind")
    try:
        kind = Kind(kind_value if isinstance(kind_value, str) else "")
    except ValueError:
        allowed = ", ".join(k.value for k in Kind)
        raise InvalidAttribute(f"kind must be one of {allowed}, not {kind_value!r}", field="kind") from None
    content_type = attributes.get("datacontenttype") or "application/json"
    if content_type.split(";", 1)[0].strip().lower() not in _JSON_CONTENT_TYPES:
        raise InvalidAttribute(
            f"datacontenttype must be application/json, not {content_type!r}", field="datacontenttype"
        )
    if data is not None and not isinstance(data, dict):
        raise InvalidAttribute(f"data must be a JSON object, not {type(data).__name__}", field="data")
    dataref = attributes.get("dataref")
    if dataref is not None and data is not None:
        raise InvalidAttribute("dataref and data are exclusive: data lives where dataref points", field="dataref")
    if kind is Kind.REPLY and not attributes.get("correlationid"):
        raise InvalidAttribute("a reply needs correlationid (the id of the request it answers)", field="correlationid")
    time = attributes.get("time")
    if not isinstance(time, datetime):
        raise InvalidAttribute("time is required (RFC 3339)", field="time")
    if time.tzinfo is None:
        raise InvalidAttribute("time must carry a UTC offset (RFC 3339)", field="time")
    extensions = {k: v for k, v in attributes.items() if k not in _STANDARD and k not in _OURS}
    return Envelope(
        type=attributes["type"],
        source=attributes["source"],
        kind=kind,
        data=data,
        id=attributes["id"],
        time=time,
        partitionkey=attributes.get("partitionkey"),
        replyto=attributes.get("replyto"),
        correlationid=attributes.get("correlationid"),
        subject=attributes.get("subject"),
        datacontenttype=content_type,
        dataref=dataref,
        extensions=extensions,
        dataschema=attributes.get("dataschema"),
        traceparent=attributes.get("traceparent"),
        tracestate=attributes.get("tracestate"),
    )


def _invalid(exc: CloudEventValidationError) -> InvalidAttribute:
    field = next(iter(exc.errors), None)
    return InvalidAttribute(str(exc), field=field)
