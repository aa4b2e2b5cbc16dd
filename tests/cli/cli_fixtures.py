from __future__ import annotations

from typing import Any


def outputs_for(queues: dict[str, tuple[str | None, str | None]] | None = None) -> dict[str, str]:
    """A full set of the outputs a client needs, plus the given ``{name: (queue url, dlq url)}``."""
    outputs = {
        "OrdersCommandQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/orders-command.fifo",
        "OrdersCommandDeadLetterQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/orders-command-dlq.fifo",
        "OrderEventsTopicArn": "arn:aws:sns:us-east-1:123456789012:order-events.fifo",
        "QuoteRequestsTopicArn": "arn:aws:sns:us-east-1:123456789012:quote-requests.fifo",
        "ReplyQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/reply.fifo",
        "ReplyTableName": "replies",
    }
    for name, (url, dlq) in (queues or {}).items():
        if url:
            outputs[f"{name}QueueUrl"] = url
        if dlq:
            outputs[f"{name}DeadLetterQueueUrl"] = dlq
    return outputs


def cfn_stack(outputs: dict[str, str]) -> dict[str, Any]:
    return {"Stacks": [{"Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}]}
