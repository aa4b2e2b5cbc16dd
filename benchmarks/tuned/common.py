"""What the tuned consumers share: the documentation's batch handler without the idempotency wrapper, the
documentation modules loaded per function, and reply ids derived from the request.

Example:
    >>> request = {"source": "/client", "id": "r-1"}
    >>> derived_id(request, "/quotes/express") == derived_id(request, "/quotes/express")
    True
    >>> derived_id(request, "/quotes/express") == derived_id(request, "/quotes/economy")
    False
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

import chaos.naive
from chaos.naive.common import reply

_instances = itertools.count(1)
REPLY_NAMESPACE = uuid.UUID("6b1f2c9e-3f4a-5b6c-8d7e-9f0a1b2c3d4e")


def docs_module(name: str) -> ModuleType:
    """A fresh instance of ``chaos.naive.<name>``, imported with the calling function's environment.

    The documentation modules read their environment and make their clients at import, as the samples do; Lambda
    gives each function its own process, while the local cloud runs functions as threads of one, so each tuned
    function imports its own instance (under a private name) instead of sharing one made with another function's
    environment.
    """
    source = Path(chaos.naive.__file__).parent / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"benchmarks_tuned_docs_{name}_{next(_instances)}", source)
    if spec is None or spec.loader is None:
        raise ImportError(f"no documentation consumer chaos/naive/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def handler(process: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The documentation's FIFO batch handler, each record's CloudEvent handed to ``process`` as it is."""

    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        def record_handler(record: SQSRecord) -> Any:
            return process(json.loads(record.body))

        return dict(
            process_partial_response(
                event=event, record_handler=record_handler, processor=SqsFifoPartialProcessor(), context=context
            )
        )

    return lambda_handler


def derived_id(request: dict[str, Any], source: str) -> str:
    """The id of ``source``'s reply to ``request``: the same for every delivery of the request."""
    return str(uuid.uuid5(REPLY_NAMESPACE, f"{source}|{request['source']}|{request['id']}"))


def reply_once(sqs: Any, request: dict[str, Any], source: str, outcome: dict[str, Any]) -> None:
    """The documentation's reply (:func:`chaos.naive.common.reply`), sent under an id derived from the request, so
    that a redelivered request sends the same reply again (FIFO deduplication drops it within five minutes; after
    that, the reply router overwrites the same item)."""
    reply(_DerivedReplyId(sqs, derived_id(request, source)), request, source, outcome)


class _DerivedReplyId:
    """An SQS client for :func:`chaos.naive.common.reply` that sends its reply with the CloudEvent ``id`` and the
    deduplication id set to ``reply_id`` (the reply is otherwise the documentation's, to the letter)."""

    def __init__(self, sqs: Any, reply_id: str) -> None:
        self._sqs = sqs
        self._reply_id = reply_id

    def send_message(self, *, MessageBody: str, **request: Any) -> Any:  # noqa: N803 - boto3's parameter names
        event = json.loads(MessageBody)
        event["id"] = self._reply_id
        request["MessageDeduplicationId"] = self._reply_id
        return self._sqs.send_message(MessageBody=json.dumps(event), **request)
