"""``AWS::SNS::Topic``, ``AWS::SNS::TopicPolicy`` and ``AWS::SNS::Subscription``.

Example::

    Subscription().create(ctx)   # subscribe, then FilterPolicyScope, FilterPolicy, RawMessageDelivery, ...
"""

from __future__ import annotations

from typing import Any

from localcloud.cloudformation.resources.base import ResourceContext, ResourceType, is_true, text

_TOPIC_ATTRIBUTES = ("FifoTopic", "ContentBasedDeduplication", "KmsMasterKeyId", "DisplayName", "SignatureVersion",
                     "TracingConfig", "DeliveryPolicy", "ArchivePolicy", "FifoThroughputScope")
# FilterPolicyScope first: moto validates the policy against the scope already set.
_SUBSCRIPTION_ATTRIBUTES = ("FilterPolicyScope", "FilterPolicy", "RawMessageDelivery", "RedrivePolicy",
                            "DeliveryPolicy", "SubscriptionRoleArn")


def _topic_attributes(props: dict[str, Any]) -> dict[str, str]:
    return {key: text(props[key]) for key in _TOPIC_ATTRIBUTES if key in props}


class Topic(ResourceType):
    replace_on = frozenset({"TopicName", "FifoTopic"})
    name_property = "TopicName"

    def create(self, ctx: ResourceContext) -> None:
        props = ctx.props
        suffix = ".fifo" if is_true(props.get("FifoTopic", False)) else ""
        name = ctx.physical_name("TopicName", limit=256, suffix=suffix)
        sns = ctx.client("sns")
        arn = sns.create_topic(Name=name, Attributes=_topic_attributes(props))["TopicArn"]
        for subscription in props.get("Subscription", []):
            sns.subscribe(TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])
        ctx.set(arn, TopicArn=arn, TopicName=name)

    def update(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        arn = ctx.previous.physical_id
        old, new = _topic_attributes(ctx.previous.props), _topic_attributes(ctx.props)
        sns = ctx.client("sns")
        for key, value in new.items():
            if old.get(key) != value and key != "FifoTopic":
                sns.set_topic_attributes(TopicArn=arn, AttributeName=key, AttributeValue=value)
        ctx.name = ctx.previous.name
        ctx.set(arn, **ctx.previous.attrs)

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        ctx.client("sns").delete_topic(TopicArn=ctx.previous.physical_id)


class TopicPolicy(ResourceType):
    def create(self, ctx: ResourceContext) -> None:
        sns = ctx.client("sns")
        for topic in ctx.props["Topics"]:
            sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                                     AttributeValue=text(ctx.props["PolicyDocument"]))
        ctx.set(ctx.previous.physical_id if ctx.previous else f"{ctx.stack.name}-{ctx.logical_id}")


class Subscription(ResourceType):
    replace_on = frozenset({"TopicArn", "Protocol", "Endpoint"})

    def create(self, ctx: ResourceContext) -> None:
        props = ctx.props
        sns = ctx.client("sns")
        arn = sns.subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"],
                            ReturnSubscriptionArn=True)["SubscriptionArn"]
        for key in _SUBSCRIPTION_ATTRIBUTES:
            if key in props:
                sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName=key, AttributeValue=text(props[key]))
        ctx.set(arn)

    def update(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        arn = ctx.previous.physical_id
        sns = ctx.client("sns")
        for key in _SUBSCRIPTION_ATTRIBUTES:
            if key in ctx.props and ctx.props[key] != ctx.previous.props.get(key):
                sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName=key,
                                                AttributeValue=text(ctx.props[key]))
        ctx.set(arn)

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        ctx.client("sns").unsubscribe(SubscriptionArn=ctx.previous.physical_id)
