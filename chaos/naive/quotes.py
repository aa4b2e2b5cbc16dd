"""Baseline quote responder (Powertools documentation pattern): compute the quote, send the reply."""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from chaos.naive.common import handler, reply
from quotes.models import RequestQuote
from quotes.service import QuoteService

RESPONDER = os.environ["QUOTE_RESPONDER_NAME"]
sqs = boto3.client("sqs")
service = QuoteService(RESPONDER)
persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE_NAME"])


def process(message: dict[str, Any]) -> dict[str, Any]:
    if message.get("type") != "quotes.RequestQuote":
        raise ValueError(f"unknown message type {message.get('type')!r}")
    request = RequestQuote.model_validate(message["data"])
    outcome = {"outcome": "success", "result": service.quote(request).model_dump(mode="json")}
    reply(sqs, message, f"/quotes/{RESPONDER}", outcome)
    return outcome


lambda_handler = handler(process, persistence)
