"""Notification logic: render the order confirmation and keep it in the outbox of sent notifications.

Example:
    >>> outbox = InMemoryNotificationOutbox()
    >>> NotificationService(outbox).order_confirmed("c-1", "o-1", "19.00", "EUR").text
    'Thank you! Order o-1 is confirmed: 19.00 EUR.'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from messaging import unit_of_work
from messaging.aws import DynamoDbTableAdapter


@dataclass(frozen=True)
class Notification:
    customer_id: str
    order_id: str
    channel: str
    text: str


class NotificationOutbox(Protocol):
    def deliver(self, notification: Notification) -> None: ...


class NotificationService:
    def __init__(self, outbox: NotificationOutbox) -> None:
        self._outbox = outbox

    def order_confirmed(self, customer_id: str, order_id: str, total: str, currency: str) -> Notification:
        notification = Notification(
            customer_id=customer_id,
            order_id=order_id,
            channel="email",
            text=f"Thank you! Order {order_id} is confirmed: {total} {currency}.",
        )
        self._outbox.deliver(notification)
        return notification


class DynamoDbNotificationOutbox(DynamoDbTableAdapter):
    """Sent notifications in the notifications state table: ``pk = CUSTOMER#<id>``, ``sk = NOTIFICATION#<order_id>``.

    One confirmation per order: the key comes from the event's content, so the dedup record rides on the entry.
    """

    def deliver(self, notification: Notification) -> None:
        unit_of_work.current().create(
            self.table_name,
            {
                "pk": {"S": f"CUSTOMER#{notification.customer_id}"},
                "sk": {"S": f"NOTIFICATION#{notification.order_id}"},
                "channel": {"S": notification.channel},
                "text": {"S": notification.text},
            },
            keyed_by_message=True,
        )


class InMemoryNotificationOutbox:
    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def deliver(self, notification: Notification) -> None:
        self.sent.append(notification)
