"""The stacks of the example system (stack ids are also the stack names)."""

from infra.stacks.core import MessagingCoreStack
from infra.stacks.monitoring import MonitoringStack
from infra.stacks.orders import OrdersStack
from infra.stacks.quotes import QuotesStack
from infra.stacks.subscriber import SubscriberStack

__all__ = ["MessagingCoreStack", "MonitoringStack", "OrdersStack", "QuotesStack", "SubscriberStack"]
