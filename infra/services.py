"""The services added with ``make service NAME=...``: the stack class of each, by service name.

:func:`infra.system.build_system` adds one stack per entry (named after the service, ``Inventory`` for
``inventory``), lets its functions read claim checks and puts its queues and functions under the Monitoring stack.
``make service`` adds the import and the entry below (both kept sorted); delete them, with the service's files, to
remove a service.

Example:
    >>> all(name.isidentifier() and name.islower() for name in SERVICES)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from constructs import Construct

from infra.consumer_function import ConsumerFunction
from infra.reply_channel import ReplyChannel
from infra.service_queue import ServiceQueue
from infra.stacks.inventory import InventoryStack


class ServiceStack(Protocol):
    """What the system needs of an added service's stack: its name, and the queues and functions to monitor."""

    @property
    def stack_name(self) -> str: ...

    @property
    def queues(self) -> Sequence[ServiceQueue]: ...

    @property
    def functions(self) -> Sequence[ConsumerFunction]: ...


class ServiceStackClass(Protocol):
    """The constructor of an added service's stack (``InventoryStack(app, "Inventory", replies=..., ...)``)."""

    def __call__(
        self, scope: Construct, construct_id: str, *, replies: ReplyChannel, description: str
    ) -> ServiceStack: ...


def stack_base_name(service: str) -> str:
    """The stack of a service, before any stage prefix: its name in CamelCase.

    Example:
        >>> stack_base_name("stock_room")
        'StockRoom'
    """
    return "".join(part.capitalize() for part in service.split("_"))


SERVICES: dict[str, ServiceStackClass] = {
    "inventory": InventoryStack,
}
