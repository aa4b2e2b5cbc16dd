"""Helpers of the local-cloud conformance suite."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any


def body(tag: str, n: int = 0, **fields: Any) -> str:
    return json.dumps({"tag": tag, "n": n, **fields})


def send(sqs: Any, url: str, tag: str, n: int, group: str, **fields: Any) -> dict[str, Any]:
    """Send one tagged message to a FIFO queue (dedup id derived from tag and n)."""
    response: dict[str, Any] = sqs.send_message(
        QueueUrl=url,
        MessageBody=body(tag, n, **fields),
        MessageGroupId=group,
        MessageDeduplicationId=hashlib.sha256(f"{tag}/{n}".encode()).hexdigest(),
    )
    return response


def receive_all(sqs: Any, url: str, *, attempts: int = 3, **kwargs: Any) -> list[dict[str, Any]]:
    """Receive until a call returns nothing."""
    messages: list[dict[str, Any]] = []
    for _ in range(attempts):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"],
                                  MessageAttributeNames=["All"], **kwargs).get("Messages", [])
        if not got:
            break
        messages.extend(got)
    return messages


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``predicate`` until truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout}s")
