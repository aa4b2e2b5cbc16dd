"""The runtime's fast paths decide exactly as what they replace: ``time`` read through ``fromisoformat`` only where it
equals dateutil's ``isoparse`` (what the CloudEvents SDK reads with), the attribute rules checked in one pass only
where the full check would pass, and name-based ids built from their digest as ``uuid.uuid5`` builds them."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from dateutil.parser import isoparse
from hypothesis import given, settings
from hypothesis import strategies as st

from messaging import codec
from messaging.envelope import name_based_id
from messaging.errors import InvalidAttribute, UnsupportedSchemaVersion

pytestmark = pytest.mark.unit


def two(low: int, high: int) -> st.SearchStrategy[str]:
    """Two digits from ``low`` to ``high``, the edges (a field's first, last and first invalid values) often."""
    edges = sorted({low, 1, 9, 12, 23, 24, 28, 29, 30, 31, 59, 60, high} & set(range(low, high + 1)))
    return st.one_of(st.sampled_from(edges), st.integers(low, high)).map(lambda n: f"{n:02d}")


timestamps = st.builds(
    lambda y, mo, d, h, mi, s, frac, zone: f"{y}-{mo}-{d}T{h}:{mi}:{s}{frac}{zone}",
    st.sampled_from(["0001", "1999", "2026", "9999"]),
    two(0, 13), two(0, 32), two(0, 25), two(0, 61), two(0, 61),
    st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=8).map(lambda f: f".{f}")),
    st.one_of(st.sampled_from(["Z", "z", "+00:00", "-00:00", ""]),
              st.builds(lambda sign, h, m: f"{sign}{h}:{m}", st.sampled_from("+-"), two(0, 25), two(0, 61))),
)


def outcome(parse: Any, text: str) -> Any:
    try:
        moment = parse(text)
    except (ValueError, TypeError, OverflowError) as exc:
        return type(exc).__name__
    return (moment, moment.utcoffset(), moment.isoformat())


@settings(max_examples=400, deadline=None)
@given(timestamps)
def test_time_is_read_as_isoparse_reads_it(text: str) -> None:
    assert outcome(codec.parse_time, text) == outcome(isoparse, text)


def full_check(document: dict[str, Any]) -> Any:
    """What the full rules say of ``document``: None (valid) or the error's type and field."""
    try:
        original, codec._plainly_valid = codec._plainly_valid, lambda _: False  # type: ignore[assignment]
        try:
            codec._check_attributes(document)
        finally:
            codec._plainly_valid = original
    except (InvalidAttribute, UnsupportedSchemaVersion) as exc:
        return (type(exc).__name__, exc.field)
    return None


def fast_check(document: dict[str, Any]) -> Any:
    try:
        codec._check_attributes(document)
    except (InvalidAttribute, UnsupportedSchemaVersion) as exc:
        return (type(exc).__name__, exc.field)
    return None


values = st.one_of(
    st.text(max_size=20),
    st.text(min_size=250, max_size=600),
    st.sampled_from(["", "1", "1.2", "2", "/orders", "a\x00b", "ok\x7f", "https://q/a.fifo", "x y"]),
    st.integers(),
    st.none(),
)
names = st.sampled_from(sorted({*codec.MAX_LENGTHS, *codec._STRING_ATTRIBUTES, "partitionkey", "custom", "time"}))


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(names, values, max_size=8), st.sampled_from(["/orders", "", "not a uri {}", 5]))
def test_the_one_pass_attribute_check_decides_as_the_full_rules(extra: dict[str, Any], source: Any) -> None:
    document = {"id": "m-1", "type": "orders.CreateOrder", **extra, "source": source}
    assert fast_check(document) == full_check(document)


@settings(max_examples=300, deadline=None)
@given(st.uuids(), st.text(max_size=300))
def test_a_name_based_id_is_the_uuid5_of_its_name(namespace: uuid.UUID, name: str) -> None:
    assert name_based_id(namespace, name) == str(uuid.uuid5(namespace, name))


def decoded(document: dict[str, Any], *, fast: bool) -> Any:
    """What the codec decodes ``document`` to (the envelope, or the error's type and field), with or without the
    shortcut past the SDK's ``CloudEvent``."""
    original = codec._sdk_would_accept
    if not fast:
        codec._sdk_would_accept = lambda _: False  # type: ignore[assignment]
    try:
        return codec.CloudEventJsonCodec().decode(json.dumps(document))
    except (InvalidAttribute, UnsupportedSchemaVersion) as exc:
        return (type(exc).__name__, exc.field)
    finally:
        codec._sdk_would_accept = original


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["subject", "dataschema", "datacontenttype", "traceparent", "correlationid", "replyto",
                         "Ext", "ext1", "time", "kind"]),
        st.one_of(st.sampled_from(["", "x", "application/json", "reply", "2026-12-01T08:30:00Z",
                                   "2026-12-01T08:30:00", "2026-12-01T24:00:00+01:00"]), st.text(max_size=3),
                  st.sampled_from([5, 0, True, None, [], {"a": 1}, 1.5])),
        max_size=5,
    )
)
def test_decoding_past_the_sdk_decides_as_the_sdk(extra: dict[str, Any]) -> None:
    # Given a CloudEvent with any mix of optional attributes, unknown extensions, odd times, empty strings
    document = {"specversion": "1.0", "id": "m-1", "source": "/s", "type": "t", "kind": "command",
                "time": "2026-12-01T08:30:00.125Z", "data": {"a": 1}, **extra}
    # When it is decoded with and without the shortcut, Then the outcome is the same (envelope or error)
    assert decoded(document, fast=True) == decoded(document, fast=False)
