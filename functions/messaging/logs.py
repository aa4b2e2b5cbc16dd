"""The consumers' log lines: Powertools Logger JSON with only what a line says for itself.

CloudWatch Logs bills every byte it ingests, and a consumer writes a line per message. :func:`consumer_logger` is a
Powertools ``Logger`` whose formatter (:class:`LeanFormatter`) leaves out what every line would repeat for nothing:
``location`` (the consumer's own source line), ``timestamp`` (CloudWatch Logs stamps each event itself; ``trace``
and the console read that stamp) and ``xray_trace_id`` of an invocation X-Ray does not record. A line keeps
``level``, ``message``, ``service`` and its keys; an exception keeps ``exception`` and ``exception_name``.

The keys of a message's lines (:func:`message_keys`) are what ``fifo-messaging trace``, the console's journey page
and the dead-letter tools look a message up by: ``sqs_message_id``, ``cloudevent_id``, ``cloudevent_type``, the W3C
``trace_id`` and, on a message that answers another (a reply), ``correlationid``. A request's own id is its
correlation id, so its lines carry it once, as ``cloudevent_id``.

Example:
    >>> import io, json
    >>> stream = io.StringIO()
    >>> logger = consumer_logger("doc-orders", stream=stream)
    >>> logger.info("message processed", extra=processed_keys("command", duplicate=False, sent={"reply_id": "r-1"}))
    >>> json.loads(stream.getvalue())
    {'level': 'INFO', 'message': 'message processed', 'service': 'doc-orders', 'kind': 'command', 'reply_id': 'r-1'}
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import RESERVED_LOG_ATTRS, LambdaPowertoolsFormatter

from messaging.settings import tracing_active

if TYPE_CHECKING:
    from messaging.envelope import Envelope

_LEFT_OUT = ("location", "timestamp")
_RESERVED = frozenset(RESERVED_LOG_ATTRS)
"""The log record's own attributes (a tuple in Powertools: looked up for every attribute of every record)."""


class _RecordFields(dict[str, Any]):
    """A log record's attributes for ``%(name)s`` keys; ``asctime`` is formatted only when a key asks for it."""

    def __init__(self, record: logging.LogRecord, formatter: LeanFormatter) -> None:
        super().__init__(record.__dict__)
        self._record, self._formatter = record, formatter

    def __missing__(self, key: str) -> Any:
        if key == "asctime":
            return self._formatter.formatTime(self._record)
        raise KeyError(key)


class LeanFormatter(LambdaPowertoolsFormatter):
    """A ``LambdaPowertoolsFormatter`` without ``location`` and ``timestamp``, with ``xray_trace_id`` only while X-Ray
    records the invocation (:func:`~messaging.settings.tracing_active`), and a plain-text message taken as it is
    (Powertools tries every message as JSON first).

    :meth:`format` builds the same document as Powertools' (its keys, the thread's keys, the record's extra keys,
    the message, the exception fields, None values left out) in one pass, without copying the record twice and
    formatting a time no key shows: a consumer writes a line per message.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.remove_keys(_LEFT_OUT)
        if "json_serializer" not in kwargs and self.json_indent is None:
            # What Powertools' serializer writes, from one encoder (json.dumps with options builds one per line).
            encoder = json.JSONEncoder(default=self.json_default, separators=(",", ":"), ensure_ascii=False)
            self.json_serializer = encoder.encode

    def format(self, record: logging.LogRecord) -> str:
        fields: _RecordFields | None = None
        log: dict[str, Any] = {}
        for keys in (self.log_format, self.thread_safe_get_current_keys()):
            for key, value in keys.items():
                if value and key in _RESERVED:
                    if not isinstance(value, str):
                        raise ValueError(
                            "Logging keys that override reserved log attributes need to be type 'str', "
                            f"instead got '{type(value).__name__}'"
                        )
                    fields = fields if fields is not None else _RecordFields(record, self)
                    log[key] = value % fields
                else:
                    log[key] = value
        for key, value in record.__dict__.items():
            if key not in _RESERVED:
                log[key] = value
        log["message"] = self._extract_log_message(record)
        exception, exception_name, notes = self._extract_log_exception(record)
        if exception_name is not None:
            log.setdefault("exception", exception)
            log.setdefault("exception_name", exception_name)
            log.setdefault("exception_notes", notes)
        if self.serialize_stacktrace:
            log["stack_trace"] = self._serialize_stacktrace(record)
        log["xray_trace_id"] = self._get_latest_trace_id()
        return self.serialize({key: value for key, value in log.items() if value is not None})

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - stdlib's name
        """No line shows the time (CloudWatch Logs stamps each event), unless a key asks for ``%(asctime)s``."""
        if "timestamp" in self.log_format:
            return super().formatTime(record, datefmt)
        return ""

    def _extract_log_message(self, log_record: logging.LogRecord) -> Any:
        message = log_record.msg
        if isinstance(message, str) and not log_record.args and not message.startswith(("{", "[")):
            return message  # not JSON: no decode attempt (and its exception) per line
        return super()._extract_log_message(log_record)

    def _get_latest_trace_id(self) -> str | None:
        return super()._get_latest_trace_id() if tracing_active() else None


def consumer_logger(service: str, *, stream: IO[str] | None = None) -> Logger:
    """The Powertools ``Logger`` of a consumer of ``service``, writing lean lines (:class:`LeanFormatter`).

    Powertools shares one logging logger per service name: the formatter is the one of the first ``Logger`` made
    under that name in the process (in Lambda, the consumer's).
    """
    return Logger(service=service, stream=stream, logger_formatter=LeanFormatter())


def message_keys(envelope: Envelope, trace_id: str | None) -> dict[str, Any]:
    """The keys every log line of a decoded message carries (besides ``sqs_message_id``, set before decoding)."""
    keys: dict[str, Any] = {"cloudevent_id": envelope.id, "cloudevent_type": envelope.type, "trace_id": trace_id}
    if envelope.correlationid is not None:
        keys["correlationid"] = envelope.correlationid
    return keys


def processed_keys(kind: str, *, duplicate: bool, sent: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of a message's one ``message processed`` line (its journey's record): its ``kind``,
    ``duplicate: true`` for a redelivery that replayed the stored outcome (absent otherwise), and what it sent
    (``event_ids``, ``reply_id`` and ``outcome``, ``sent_ids``)."""
    keys: dict[str, Any] = {"kind": kind}
    if duplicate:
        keys["duplicate"] = True
    keys.update(sent)
    return keys
