"""Lambda adapter of the orders HTTP API (API Gateway HTTP API, payload format 2.0, IAM-authorized on AWS).

- ``POST /orders`` with a CreateOrder body and an ``Idempotency-Key`` header: ``202`` with ``{"id", "status",
  "customer_id", "location"}`` and a ``Location`` header; the same key and body again: the same ``202``; the same key
  with another body: ``422``.
- ``GET /orders/requests/{id}``: ``200`` with ``{"status": "pending"}`` or ``{"status": "done", "reply": {...}}``;
  ``404`` for an unknown id.
- Bad input is a problem document (:mod:`orders_api.http`): ``400`` (malformed JSON, wrong types, a missing field,
  a missing or malformed ``Idempotency-Key``), ``413``, ``415``; a transient failure behind it ``503`` with
  ``Retry-After``.

Parse -> model -> one service call -> response; the service (:mod:`orders_api.service`) is made on first use.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from messaging.errors import TransientMessagingError
from messaging.producer import OutboxProducer
from messaging.reply_store import DynamoDbReplyStore
from orders.models import CreateOrder
from orders_api.http import HttpRequest, Problem, response
from orders_api.service import (
    SOURCE,
    DynamoDbRequestRecords,
    KeyReused,
    OrderRequests,
    Settings,
    location_of,
)

logger = Logger(service="orders-api")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
"""1-255 visible ASCII characters (a UUID is the usual choice)."""
_REQUEST_ID = re.compile(r"^[0-9a-f-]{36}$")


@functools.cache
def order_requests() -> OrderRequests:
    settings = Settings.from_env()
    import os  # noqa: PLC0415

    from catalogue import CATALOGUE  # noqa: PLC0415 - loaded with the service, on the first request

    # The commands it stages are checked against the catalogue and name their data version, as the client's do.
    producer = OutboxProducer(os.environ["OUTBOX_TABLE_NAME"], source=SOURCE, catalogue=CATALOGUE)
    return OrderRequests(producer, DynamoDbRequestRecords(), DynamoDbReplyStore(settings.reply_table),
                         settings=settings)


def _field_of(error: ValidationError) -> tuple[str, str]:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "body"
    return where, str(first.get("msg", "invalid value"))


def create_order(request: HttpRequest) -> dict[str, Any]:
    key = request.headers.get("idempotency-key", "").strip()
    if not key:
        raise Problem(400, "missing-idempotency-key", "Idempotency-Key required",
                      "send an Idempotency-Key header (a UUID) so that a retried request is not a second order",
                      field="Idempotency-Key")
    if not IDEMPOTENCY_KEY.match(key):
        raise Problem(400, "invalid-idempotency-key", "Invalid Idempotency-Key",
                      "the Idempotency-Key is 1-255 visible ASCII characters", field="Idempotency-Key")
    body = request.json_body()
    if not isinstance(body, dict):
        raise Problem(400, "invalid-body", "Invalid body", "the body must be a JSON object (a CreateOrder)")
    try:
        order = CreateOrder.model_validate(body)
    except ValidationError as exc:
        where, message = _field_of(exc)
        raise Problem(400, "invalid-body", "Invalid body", f"{where}: {message}", field=where) from exc
    try:
        accepted = order_requests().accept(key, order, caller=request.caller)
    except KeyReused as exc:
        raise Problem(422, "idempotency-key-reused", "Idempotency-Key reused",
                      "this Idempotency-Key was used with another body", field="Idempotency-Key") from exc
    logger.info("http request accepted", extra={
        "cloudevent_id": accepted.id, "cloudevent_type": "orders.CreateOrder", "partitionkey": accepted.customer_id,
        "http_method": request.method, "path": request.path, "duplicate": not accepted.created,
        "request_id": request.request_id,
    })
    return response(202, accepted.body(), headers={"location": location_of(accepted.id)})


def request_status(request: HttpRequest) -> dict[str, Any]:
    request_id = request.path_parameters.get("id", "")
    status = order_requests().status(request_id) if _REQUEST_ID.match(request_id) else None
    if status is None:
        raise Problem(404, "request-not-found", "Request not found", "no order request has this id", field="id")
    return response(200, status.body())


ROUTES = {"POST /orders": create_order, "GET /orders/requests/{id}": request_status}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request: HttpRequest | None = None
    try:
        request = HttpRequest.from_event(event)
        route = ROUTES.get(request.route_key)
        if route is None:
            raise Problem(404, "not-found", "Not found", "no such resource")
        return route(request)
    except Problem as problem:
        return problem.response(request)
    except Exception as exc:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        if not isinstance(exc, TransientMessagingError | ClientError | BotoCoreError):
            raise
        logger.exception("a failure behind the API; the caller retries with the same Idempotency-Key")
        return Problem(503, "unavailable", "Service unavailable", "try again with the same Idempotency-Key",
                       headers={"retry-after": "1"}).response(request)
