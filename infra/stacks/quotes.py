"""Quotes: scatter-gather. A quote-requests topic fanned out to three responders, each replying on its own."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from infra.consumer_function import ConsumerFunction
from infra.event_topic import EventTopic
from infra.reply_channel import ReplyChannel
from infra.service_queue import ServiceQueue

QUOTES_HANDLER = "quotes.handler.lambda_handler"
RESPONDERS = ("standard", "express", "economy")


class QuotesStack(Stack):
    """Topic ``QuoteRequestsTopicArn``; per responder a queue ``Quote<Name>`` and a function.

    Responders keep no dedup records: a quote is a pure function of the request (its reply id is derived from the
    request, so the reply store keeps one reply per responder however often a request is delivered).

    Example:
        >>> quotes = QuotesStack(app, "Quotes", replies=core.replies)  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, *, replies: ReplyChannel, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.requests = EventTopic(
            self, "QuoteRequests", topic_name="quote-requests", output_name="QuoteRequestsTopicArn"
        )
        self.queues: dict[str, ServiceQueue] = {}
        self.functions: dict[str, ConsumerFunction] = {}
        for responder in RESPONDERS:
            title = responder.capitalize()
            queue = ServiceQueue(self, f"{title}Queue", name=f"Quote{title}", queue_name=f"quotes-{responder}")
            function = ConsumerFunction(
                self,
                f"{title}Responder",
                function_name=f"quotes-{responder}",
                handler=QUOTES_HANDLER,
                service_name=f"quotes-{responder}",
                environment={"QUOTE_RESPONDER_NAME": responder},
            )
            function.consume(queue)
            replies.allow_replies_from(function)
            self.requests.subscribe_queue(queue, ["quotes.RequestQuote"], ["command"])
            self.queues[responder] = queue
            self.functions[responder] = function
