"""CloudWatch Logs: the documented filter pattern syntax; stored events bounded per stream.

- :func:`_filter_log_events` - ``FilterLogEvents`` matches events with the CloudWatch Logs filter pattern syntax
  (terms, ``?`` / ``-`` terms, quoted phrases, ``%regex%``, JSON patterns) and refuses an invalid pattern with
  ``InvalidParameterException`` (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html);
  moto 5.2.5 returned every event for a pattern starting with a digit or a brace.
- :func:`_put_log_events` - a stream keeps its newest :data:`MAX_EVENTS_PER_STREAM` events, so a long-running local
  cloud does not grow without bound (CloudWatch expires events by the group's retention; moto never does).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from moto.logs import models as logs_models
from moto.logs.exceptions import InvalidParameterException

from localcloud.logs.patterns import FilterPattern, FilterPatternError
from localcloud.motopatches.core import Patch

MAX_EVENTS_PER_STREAM = 10_000
"""Events a local log stream keeps (the oldest go first)."""
_PATTERN_ARGUMENT = 6
"""Position of ``filter_pattern`` in moto's ``LogsBackend.filter_log_events`` (after the group, streams, start, end,
limit and token)."""


class _PatternFilter:
    """Stands in for moto's ``EventMessageFilter``: same interface, the documented syntax."""

    def __init__(self, pattern: str | None) -> None:
        self._pattern = FilterPattern.parse(pattern)

    def matches(self, message: str) -> bool:
        return self._pattern.matches(message)


def _filter_log_events(original: Any) -> Any:
    @functools.wraps(original)
    def filter_log_events(self: Any, *args: Any, **kwargs: Any) -> Any:
        pattern = kwargs["filter_pattern"] if "filter_pattern" in kwargs else args[_PATTERN_ARGUMENT]
        try:
            FilterPattern.parse(pattern)
        except FilterPatternError as exc:
            raise InvalidParameterException(str(exc)) from exc
        return original(self, *args, **kwargs)

    return filter_log_events


def _put_log_events(original: Any) -> Any:
    @functools.wraps(original)
    def put_log_events(self: Any, log_events: list[dict[str, Any]]) -> Any:
        token = original(self, log_events)
        excess = len(self.events) - MAX_EVENTS_PER_STREAM
        if excess > 0:
            del self.events[:excess]
        return token

    return put_log_events


def patches() -> Iterator[Patch]:
    """The patches of this module."""
    yield logs_models, "EventMessageFilter", _PatternFilter
    yield logs_models.LogsBackend, "filter_log_events", _filter_log_events(logs_models.LogsBackend.filter_log_events)
    yield logs_models.LogStream, "put_log_events", _put_log_events(logs_models.LogStream.put_log_events)
