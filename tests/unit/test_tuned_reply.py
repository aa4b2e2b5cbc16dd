"""The tuned baseline's reply: the documentation's reply (chaos.naive.common.reply) under an id derived from the
request, so that a redelivered request sends the very same reply."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks.tuned.common import derived_id, reply_once

pytestmark = pytest.mark.unit

REPLY_QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/replies.fifo"
REQUEST = {"specversion": "1.0", "id": "r-1", "source": "/client", "type": "quotes.RequestQuote",
           "partitionkey": "c-1", "replyto": REPLY_QUEUE, "data": {}}


class RecordingSqs:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_message(self, **request: Any) -> dict[str, Any]:
        self.sent.append(request)
        return {"MessageId": f"m-{len(self.sent)}"}


def test_a_redelivered_request_sends_the_same_reply_under_the_derived_id() -> None:
    # Given an SQS client that records what is sent
    sqs = RecordingSqs()
    # When the same request is answered twice (a redelivery)
    for _ in range(2):
        reply_once(sqs, REQUEST, "/quotes/express", {"outcome": "success", "result": {"price": 3}})
    # Then both replies carry the id derived from the request, as body id and deduplication id
    first, second = sqs.sent
    reply_id = derived_id(REQUEST, "/quotes/express")
    for sent in (first, second):
        body = json.loads(sent["MessageBody"])
        assert (body["id"], sent["MessageDeduplicationId"]) == (reply_id, reply_id)
        assert sent["QueueUrl"] == REPLY_QUEUE and sent["MessageGroupId"] == "c-1"
        # And the rest is the documentation's reply: kind, type, correlation id, outcome
        assert (body["kind"], body["type"], body["correlationid"]) == ("reply", "quotes.RequestQuote.Reply", "r-1")
        assert body["data"] == {"outcome": "success", "result": {"price": 3}}
    assert json.loads(first["MessageBody"]).keys() == json.loads(second["MessageBody"]).keys()


def test_a_request_without_replyto_gets_no_reply() -> None:
    # Given a request that asks for no reply
    sqs = RecordingSqs()
    # When it is answered, Then nothing is sent
    reply_once(sqs, {**REQUEST, "replyto": None}, "/quotes/express", {"outcome": "success"})
    assert sqs.sent == []


def test_each_responder_replies_under_an_id_of_its_own() -> None:
    # Given two responders answering one request
    sqs = RecordingSqs()
    reply_once(sqs, REQUEST, "/quotes/express", {"outcome": "success"})
    reply_once(sqs, REQUEST, "/quotes/economy", {"outcome": "success"})
    # Then their replies do not deduplicate each other
    assert sqs.sent[0]["MessageDeduplicationId"] != sqs.sent[1]["MessageDeduplicationId"]
