"""Envelope <-> CloudEvents JSON: round trip (property-based) and strict decoding with typed errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cloudevents.core.exceptions import CloudEventValidationError
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from messaging import codec as codec_module
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope, Kind, ReplyOutcome, command, reply_to
from messaging.errors import (
    InvalidAttribute,
    InvalidEncoding,
    InvalidMessage,
    NotCloudEvent,
    NotJson,
    PermanentMessageError,
    UnsupportedSchemaVersion,
)

pytestmark = pytest.mark.unit
codec = CloudEventJsonCodec()

_text = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=40)  # attributes: no controls
_source = st.from_regex(r"\A(/[A-Za-z0-9._~-]{1,12}){1,3}\Z") | st.from_regex(
    r"\Aurn:[a-z]{1,8}:[A-Za-z0-9-]{1,20}(%[0-9A-F]{2})?\Z"
)
_key = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=128)
_json_scalar = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=30)
_json = st.recursive(
    _json_scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
_extension_names = st.from_regex(r"\A[a-z][a-z0-9]{0,15}\Z").filter(
    lambda name: (
        name
        not in {
            "kind",
            "partitionkey",
            "replyto",
            "correlationid",
            "schemaversion",
            "subject",
            "time",
            "id",
            "source",
            "type",
            "specversion",
            "datacontenttype",
            "dataschema",
            "data",
        }
    )
)
_times = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(9999, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]),
).map(lambda t: t.replace(microsecond=(t.microsecond // 1000) * 1000))


@st.composite
def envelopes(draw: st.DrawFn) -> Envelope:
    kind = draw(st.sampled_from(list(Kind)))
    return Envelope(
        type=draw(_text),
        source=draw(_source),
        kind=kind,
        data=draw(st.none() | st.dictionaries(st.text(max_size=12), _json, max_size=5)),
        id=draw(_text),
        time=draw(_times),
        partitionkey=draw(st.none() | _key),
        replyto=draw(st.none() | _text),
        correlationid=draw(_text) if kind is Kind.REPLY else draw(st.none() | _text),
        subject=draw(st.none() | _text),
        extensions=draw(st.dictionaries(_extension_names, st.text(min_size=1, max_size=20), max_size=3)),
    )


@settings(max_examples=150, deadline=None)
@given(envelopes())
def test_every_envelope_survives_the_json_round_trip(envelope: Envelope) -> None:
    # Given any envelope of any kind, with or without optional attributes, unicode data and extensions
    # When it is encoded to the wire form and decoded back
    wire = codec.encode(envelope)
    decoded = codec.decode(wire)
    # Then nothing is lost or changed, and the wire form is a CloudEvents 1.0 JSON object with our schema version
    assert decoded == envelope
    document = json.loads(wire)
    assert document["specversion"] == "1.0"
    assert document["schemaversion"] == "1"
    assert document["kind"] == envelope.kind.value


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(max_size=12), _json, max_size=5), _key)
def test_a_reply_round_trips_with_its_outcome_and_correlation(result: dict[str, Any], key: str) -> None:
    # Given a command and its success reply
    request = command("orders.CreateOrder", {}, source="/web", partitionkey=key)
    reply = reply_to(request, ReplyOutcome.success(result), source="/orders")
    # When the reply travels through the codec
    decoded = codec.decode(codec.encode(reply))
    # Then it still answers the request with the same outcome
    assert decoded.correlationid == request.id
    assert ReplyOutcome.from_data(decoded.data) == ReplyOutcome.success(result)


def _valid() -> dict[str, Any]:
    return json.loads(codec.encode(command("orders.CreateOrder", {"sku": "x"}, source="/web", partitionkey="c-1")))


def _without(name: str) -> dict[str, Any]:
    document = _valid()
    del document[name]
    return document


def _with(**changes: Any) -> dict[str, Any]:
    return {**_valid(), **changes}


def test_a_message_without_schemaversion_is_read_as_version_1() -> None:
    # Given a CloudEvent of a sender that predates the schemaversion extension (the contract reads it as "1")
    document = _without("schemaversion")
    # When it is decoded / Then it is accepted like any version-1 message
    envelope = codec.decode(json.dumps(document))
    assert (envelope.id, envelope.data) == (document["id"], {"sku": "x"})
    assert json.loads(codec.encode(envelope))["schemaversion"] == "1"


@pytest.mark.parametrize(
    ("body", "error", "field"),
    [
        ("{not json", NotJson, None),
        (b"\xff\xfe", InvalidEncoding, "body"),
        ("[1, 2]", NotCloudEvent, None),
        (json.dumps(_without("id")), NotCloudEvent, "id"),
        (json.dumps(_without("source")), NotCloudEvent, "source"),
        (json.dumps(_without("type")), NotCloudEvent, "type"),
        (json.dumps(_with(specversion="0.3")), InvalidAttribute, "specversion"),
        (json.dumps(_with(id="")), InvalidAttribute, "id"),
        (json.dumps(_with(kind="query")), InvalidAttribute, "kind"),
        (json.dumps(_without("kind")), InvalidAttribute, "kind"),
        (json.dumps(_with(data=[1, 2])), InvalidAttribute, "data"),
        (json.dumps(_with(data_base64="AAA=")), InvalidAttribute, "data"),
        (json.dumps(_with(time="yesterday")), InvalidAttribute, "time"),
        (json.dumps(_with(schemaversion="2")), UnsupportedSchemaVersion, "schemaversion"),
        (json.dumps(_with(partitionkey=42)), InvalidAttribute, "partitionkey"),
        (json.dumps(_with(kind="reply")), InvalidAttribute, "correlationid"),
        (json.dumps(_with(datacontenttype="text/plain")), InvalidAttribute, "datacontenttype"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 20 else None,
)
def test_the_codec_rejects_bad_input_with_a_typed_error_naming_the_field(
    body: str | bytes, error: type[InvalidMessage], field: str | None
) -> None:
    # Given a body that breaks one rule of the wire contract
    # When it is decoded
    with pytest.raises(error) as raised:
        codec.decode(body)
    # Then the typed, permanent error names the offending field
    assert isinstance(raised.value, PermanentMessageError)
    assert raised.value.field == field
    assert raised.value.code == error.code


_nested_json = st.recursive(
    st.none() | st.integers() | st.text(alphabet=st.characters(codec="utf-8"), max_size=4)
    | st.sampled_from(["\ud800", "a\udfffb", "[{", "\\ud800"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(_nested_json, st.integers(min_value=1, max_value=6))
def test_the_fast_structure_check_never_passes_what_the_full_walk_refuses(value: Any, levels: int) -> None:
    # Given any JSON value (deep, with lone surrogates escaped in its text, brackets inside strings) and a depth bound
    text = json.dumps({"data": value})
    document = json.loads(text)
    # When the cheap check on the text says it is shallow and plain
    if not codec_module._shallow_and_plain(text, levels):
        return
    # Then the full walk with the same bound accepts it too
    saved = codec_module.MAX_NESTING
    codec_module.MAX_NESTING = levels
    try:
        codec_module._check_structure(document)
    finally:
        codec_module.MAX_NESTING = saved


def test_an_envelope_is_encoded_once_however_often_it_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a codec that counts the encodings it really performs
    performed: list[str] = []
    real = CloudEventJsonCodec._encode

    def counting(self: CloudEventJsonCodec, envelope: Envelope) -> str:
        performed.append(envelope.id)
        return real(self, envelope)

    monkeypatch.setattr(CloudEventJsonCodec, "_encode", counting)
    cmd = command("orders.CreateOrder", {"sku": "book"}, source="/web", partitionkey="c-1")
    # When the envelope is encoded three times by two codecs (its size checked, its outcome stored, it is sent)
    wires = {codec.encode(cmd), CloudEventJsonCodec().encode(cmd), codec.encode(cmd)}
    # Then one encoding served all three, and an equal but distinct envelope is encoded afresh
    assert len(wires) == 1 and performed == [cmd.id]
    twin = Envelope(**{name: getattr(cmd, name) for name in Envelope.__slots__})  # type: ignore[attr-defined]
    assert codec.encode(twin) == wires.pop() and performed == [cmd.id, cmd.id]


def _written_by_the_sdk(envelope: Envelope) -> str:
    """The reference: the envelope's attributes as a CloudEvents SDK ``CloudEvent``, written by its ``JSONFormat``."""
    attributes: dict[str, Any] = {
        "specversion": "1.0", "id": envelope.id, "source": envelope.source, "type": envelope.type,
        "datacontenttype": envelope.datacontenttype, "time": envelope.time, "kind": envelope.kind.value,
        "schemaversion": "1",
    }
    for name in ("partitionkey", "replyto", "correlationid", "subject", "dataref"):
        if getattr(envelope, name) is not None:
            attributes[name] = getattr(envelope, name)
    for name, value in envelope.extensions.items():
        attributes.setdefault(name, value)
    data = dict(envelope.data) if envelope.data is not None else None
    return JSONFormat().write(CloudEvent(attributes, data)).decode("utf-8")


@settings(max_examples=200, deadline=None)
@given(envelopes())
def test_the_wire_form_is_what_the_cloudevents_sdk_writes_byte_for_byte(envelope: Envelope) -> None:
    # Given any valid envelope
    # When the codec encodes it (without building an SDK object per message)
    wire = CloudEventJsonCodec()._encode(envelope)
    # Then the text is exactly what the SDK's JSON format writes for the same CloudEvent
    assert wire == _written_by_the_sdk(envelope)


@pytest.mark.parametrize(
    "change",
    [
        {"time": datetime(2026, 1, 1, 12, 0)},  # naive: no timezone
        {"subject": ""},
        {"datacontenttype": ""},
        {"extensions": {"data": "x"}},
        {"extensions": {"Bad-Name": "x"}},
        {"extensions": {"bad name": "x"}},
    ],
    ids=["naive-time", "empty-subject", "empty-datacontenttype", "extension-data", "extension-case", "extension-space"],
)
def test_what_the_sdk_refuses_to_write_the_codec_refuses_with_a_typed_error(change: dict[str, Any]) -> None:
    # Given an envelope the CloudEvents SDK refuses to build
    cmd = command("orders.CreateOrder", {"sku": "book"}, source="/web", partitionkey="c-1")
    bad = Envelope(**{**{name: getattr(cmd, name) for name in Envelope.__slots__}, **change})  # type: ignore[attr-defined]
    with pytest.raises(CloudEventValidationError):
        _written_by_the_sdk(bad)
    # When the codec encodes it, Then it raises the contract's typed error instead of writing it
    with pytest.raises(InvalidAttribute):
        CloudEventJsonCodec().encode(bad)
