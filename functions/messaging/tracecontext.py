"""W3C Trace Context on the wire: the ``traceparent`` attribute (CloudEvents distributed tracing extension).

Every message carries ``traceparent`` = ``00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>``. A client starts a
trace (:func:`new_traceparent`) unless it is given one; a consumer continues the trace of the message it handles
(:func:`continue_trace`): the events and the reply it sends carry the same trace id, with a parent id derived from the
consumer and the message, so a redelivery sends byte-identical messages. A message without a valid ``traceparent`` (an
older producer) starts a trace derived from its identity, the same on every delivery.

Example:
    >>> parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    >>> child = continue_trace(parent, "/orders\\n/web\\nm-1")
    >>> trace_id_of(child) == trace_id_of(parent) == "4bf92f3577b34da6a3ce929d0e0e4736"
    True
    >>> child == continue_trace(parent, "/orders\\n/web\\nm-1") != parent
    True
    >>> trace_id_of("not a traceparent") is None
    True
"""

from __future__ import annotations

import hashlib
import re
import secrets

TRACEPARENT = re.compile(r"^00-(?P<trace>[0-9a-f]{32})-(?P<parent>[0-9a-f]{16})-(?P<flags>[0-9a-f]{2})$")
"""Version 00 of the W3C ``traceparent`` header; an all-zero trace or parent id is invalid."""
_SAMPLED = "01"


def is_valid(traceparent: str | None) -> bool:
    """True if ``traceparent`` is a version-00 W3C trace parent with non-zero ids.

    Example:
        >>> is_valid("00-00000000000000000000000000000000-00f067aa0ba902b7-01")
        False
    """
    match = TRACEPARENT.match(traceparent or "")
    return match is not None and set(match["trace"]) != {"0"} and set(match["parent"]) != {"0"}


def trace_id_of(traceparent: str | None) -> str | None:
    """The 32-hex trace id of a valid ``traceparent``, else ``None``."""
    return traceparent[3:35] if traceparent is not None and is_valid(traceparent) else None


def new_traceparent() -> str:
    """A new sampled trace: random trace and parent ids."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-{_SAMPLED}"


def continue_trace(traceparent: str | None, seed: str) -> str:
    """The ``traceparent`` of what is sent while handling a message: the message's trace id (or one derived from
    ``seed`` when it has no valid trace parent), a parent id derived from ``seed`` (the consumer and the message),
    the message's flags."""
    digest = hashlib.sha256(seed.encode("utf-8")).hexdigest()
    span = digest[:16] if set(digest[:16]) != {"0"} else "0000000000000001"
    match = TRACEPARENT.match(traceparent or "")
    if match is None or not is_valid(traceparent):
        return f"00-{digest[16:48]}-{span}-{_SAMPLED}"
    return f"00-{match['trace']}-{span}-{match['flags']}"


def xray_trace_id(trace_id: str) -> str:
    """The X-Ray spelling of a W3C trace id (``1-<8 hex>-<24 hex>``): X-Ray reads the first 8 hex digits as the
    epoch second the trace started.

    Example:
        >>> xray_trace_id("4bf92f3577b34da6a3ce929d0e0e4736")
        '1-4bf92f35-77b34da6a3ce929d0e0e4736'
    """
    return f"1-{trace_id[:8]}-{trace_id[8:]}"
