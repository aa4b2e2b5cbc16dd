"""The example system: every stack of DESIGN.md wired together."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, Stack

from infra.compliance import add_nag_gate
from infra.consumer_function import ConsumerFunction
from infra.monitoring import MonitoredFunction, MonitoredQueue
from infra.outbox_monitoring import MonitoredOutbox, OutboxMonitor
from infra.saga_monitoring import SagaDashboardRow
from infra.service_queue import ServiceQueue
from infra.services import SERVICES, ServiceStack, stack_base_name
from infra.stack_registry import StackRegistration
from infra.stacks import MessagingCoreStack, MonitoringStack, OrdersStack, QuotesStack, SubscriberStack
from infra.stacks.billing_credit import BillingCreditStack
from infra.stacks.order_saga import OrderSagaStack
from infra.stage import stack_name, stage_of

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def cdk_context() -> dict[str, Any]:
    """The context of ``cdk.json`` (feature flags), for apps synthesized without the CDK CLI.

    The CLI passes this context to ``app.py`` itself; ``python app.py`` (the local cloud, tests) must apply it too,
    or it would synthesize other templates than ``cdk synth`` does.

    Example:
        >>> cdk_context()["@aws-cdk/aws-iam:minimizePolicies"]
        True
    """
    context: dict[str, Any] = json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]
    return context


@dataclass(frozen=True)
class System:
    """The stacks of the example system, the stacks of the services added with ``make service`` (by service name),
    and every service queue and consumer function of them all (what the Monitoring stack watches)."""

    core: MessagingCoreStack
    orders: OrdersStack
    billing: SubscriberStack
    notifications: SubscriberStack
    quotes: QuotesStack
    monitoring: MonitoringStack
    services: dict[str, ServiceStack]
    queues: tuple[ServiceQueue, ...]
    functions: tuple[ConsumerFunction, ...]
    billing_credit: BillingCreditStack
    order_saga: OrderSagaStack


def build_system(app: App, *, nag: bool = True) -> System:
    """Add the example system's stacks (environment-agnostic) to ``app``, gated by cdk-nag unless ``nag=False``.

    The CDK context ``stage`` (``cdk deploy -c stage=dev``) makes them ``dev-MessagingCore``, ... with prefixed
    physical names (see :mod:`infra.stage`); without it the names are unprefixed.

    Example:
        >>> system = build_system(App())  # doctest: +SKIP
        >>> system.orders.stack_name  # doctest: +SKIP
        'Orders'
    """
    stage = stage_of(app)
    core = MessagingCoreStack(
        app,
        stack_name(stage, "MessagingCore"),
        description="FIFO messaging: alarm topic and reply channel (reply queue, router, table)",
    )
    orders = OrdersStack(
        app,
        stack_name(stage, "Orders"),
        replies=core.replies,
        description="FIFO messaging example: orders service and order-events topic",
    )
    billing = SubscriberStack(
        app,
        stack_name(stage, "Billing"),
        topic=orders.events,
        service="billing",
        event_types=["orders.OrderCreated", "orders.OrderCancelled"],
        description="FIFO messaging example: billing, subscriber of order events",
    )
    notifications = SubscriberStack(
        app,
        stack_name(stage, "Notifications"),
        topic=orders.events,
        service="notifications",
        event_types=["orders.OrderCreated"],
        description="FIFO messaging example: notifications, subscriber of order events",
    )
    quotes = QuotesStack(
        app,
        stack_name(stage, "Quotes"),
        replies=core.replies,
        description="FIFO messaging example: scatter-gather quote responders",
    )
    services = {
        name: stack_class(
            app,
            stack_name(stage, stack_base_name(name)),
            replies=core.replies,
            description=f"FIFO messaging: the {name} service",
        )
        for name, stack_class in sorted(SERVICES.items())
    }
    billing_credit = BillingCreditStack(
        app,
        stack_name(stage, "BillingCredit"),
        replies=core.replies,
        description="FIFO messaging example: billing's credit commands (limits, reservations)",
    )
    inventory = services["inventory"]
    order_saga = OrderSagaStack(
        app,
        stack_name(stage, "OrderSaga"),
        queue=core.order_sagas,
        delayed=core.delayed,
        replies=core.replies,
        participants={
            "BILLING_COMMAND": (billing_credit.queue, billing_credit.function),
            "INVENTORY_COMMAND": (inventory.queues[0], inventory.functions[0]),
        },
        alarm_topic=core.alarms.topic,
        description="FIFO messaging example: the order saga's orchestrator (orders.PlaceOrder)",
    )
    added_functions = [function for service in services.values() for function in service.functions]
    # Consumers that receive what clients send read its claim checks (the added services take commands from
    # clients); notifications and the reply router get only what the services themselves produce, which is never
    # claim-checked.
    saga_functions = (billing_credit.function, order_saga.function)
    for reader in (orders.function, billing.function, *quotes.functions.values(), *saga_functions, *added_functions):
        core.claims.grant_read(reader)
    # Queues that take scheduled messages (delivered later through EventBridge Scheduler).
    core.delayed.allow(orders.queue)
    queues = (
        core.replies.queue,
        orders.queue,
        billing.queue,
        notifications.queue,
        *quotes.queues.values(),
        core.order_sagas,
        billing_credit.queue,
        *(queue for service in services.values() for queue in service.queues),
    )
    not_consumers = (orders.api_function, orders.outbox.relay)  # they consume no queue: no messaging metrics
    functions = (
        core.replies.router,
        orders.function,
        *not_consumers,
        billing.function,
        notifications.function,
        *quotes.functions.values(),
        *saga_functions,
        *added_functions,
    )
    monitoring = MonitoringStack(
        app,
        stack_name(stage, "Monitoring"),
        description="FIFO messaging: dashboard and alarms over every queue and function",
        alarm_topic=core.alarms.topic,
        queues=[MonitoredQueue.of(queue) for queue in queues],
        functions=[MonitoredFunction.of(f, messaging_metrics=f not in not_consumers) for f in functions],
    )
    OutboxMonitor(monitoring, "OrdersOutbox", outbox=MonitoredOutbox.of("orders", orders.outbox),
                  alarm_topic=core.alarms.topic, dashboard=monitoring.monitor.dashboard)
    SagaDashboardRow(monitoring, "OrderSagas", service_name=order_saga.function.service_name,
                     dashboard=monitoring.monitor.dashboard)
    for stack in [child for child in app.node.children if isinstance(child, Stack)]:
        StackRegistration(stack)  # every stack of the system (added services too), found by clients
    if nag:
        add_nag_gate(app)
    return System(core, orders, billing, notifications, quotes, monitoring, services, queues, functions,
                  billing_credit, order_saga)
