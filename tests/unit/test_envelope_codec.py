"""Envelope <-> CloudEvents JSON: round trip (property-based) and strict decoding with typed errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
