"""``AWS::SQS::Queue`` and ``AWS::SQS::QueuePolicy``.

Example::

    Queue().create(ctx)   # create_queue with every template property as a queue attribute
"""

from __future__ import annotations

import contextlib
from typing import Any

from localcloud.cloudformation.resources.base import ResourceContext, ResourceType, is_true, text

_NOT_ATTRIBUTES = ("QueueName", "Tags")


def _attributes(props: dict[str, Any]) -> dict[str, str]:
    """The queue's attributes; ``FifoQueue: false`` is left out (SQS refuses the attribute on a standard queue,
    CloudFormation creates a standard queue for it)."""
    return {key: text(value) for key, value in props.items()
            if key not in _NOT_ATTRIBUTES and not (key == "FifoQueue" and not is_true(value))}


class Queue(ResourceType):
    replace_on = frozenset({"QueueName", "FifoQueue"})
    name_property = "QueueName"

    def create(self, ctx: ResourceContext) -> None:
        props = ctx.props
        suffix = ".fifo" if is_true(props.get("FifoQueue", False)) else ""
        name = ctx.physical_name("QueueName", limit=80, suffix=suffix)
        tags = {t["Key"]: t["Value"] for t in props.get("Tags", [])}
        url = ctx.client("sqs").create_queue(QueueName=name, Attributes=_attributes(props),
                                             **({"tags": tags} if tags else {}))["QueueUrl"]
        self._record(ctx, name, url)

    def update(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        url = ctx.previous.physical_id
        old, new = _attributes(ctx.previous.props), _attributes(ctx.props)
        changed = {key: value for key, value in new.items() if old.get(key) != value}
        # A removed attribute goes back to its default ("" clears a policy).
        changed.update({key: "" for key in old if key not in new and key in ("RedrivePolicy", "RedriveAllowPolicy")})
        if changed:
            ctx.client("sqs").set_queue_attributes(QueueUrl=url, Attributes=changed)
        self._record(ctx, ctx.previous.name, url)

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        sqs = ctx.client("sqs")
        with contextlib.suppress(sqs.exceptions.QueueDoesNotExist):
            sqs.delete_queue(QueueUrl=ctx.previous.physical_id)
        ctx.deployment.queues.pop(ctx.previous.attrs.get("Arn", ""), None)

    @staticmethod
    def _record(ctx: ResourceContext, name: str, url: str) -> None:
        arn = f"arn:aws:sqs:{ctx.region}:{ctx.account_id}:{name}"
        ctx.name = name
        ctx.deployment.queues[arn] = url
        ctx.set(url, Arn=arn, QueueName=name, QueueUrl=url)


class QueuePolicy(ResourceType):
    def create(self, ctx: ResourceContext) -> None:
        sqs = ctx.client("sqs")
        for url in ctx.props["Queues"]:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": text(ctx.props["PolicyDocument"])})
        ctx.set(ctx.previous.physical_id if ctx.previous else f"{ctx.stack.name}-{ctx.logical_id}")

    def delete(self, ctx: ResourceContext) -> None:
        sqs = ctx.client("sqs")
        for url in ctx.props.get("Queues", []):
            with contextlib.suppress(sqs.exceptions.QueueDoesNotExist):
                sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
