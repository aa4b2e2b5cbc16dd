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

import logging
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from messaging.settings import tracing_active

if TYPE_CHECKING:
    from messaging.envelope import Envelope

_LEFT_OUT = ("location", "timestamp")


class LeanFormatter(LambdaPowertoolsFormatter):
    """A ``LambdaPowertoolsFormatter`` without ``location`` and ``timestamp``, with ``xray_trace_id`` only while X-Ray
    records the invocation (:func:`~messaging.settings.tracing_active`), and a plain-text message taken as it is
    (Powertools tries every message as JSON first)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.remove_keys(_LEFT_OUT)

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
