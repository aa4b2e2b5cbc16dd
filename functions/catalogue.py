"""The message catalogue of the example system: which ``data`` field each type's ``partitionkey`` must equal.

Consumers reject a message whose ``partitionkey`` is another value (``partitionkey_mismatch``); clients fill the
``partitionkey`` from it when none is given (``MessagingClient(shard_keys=SHARD_KEYS)``, what the CLI does).

Example:
    >>> SHARD_KEYS["orders.CreateOrder"], SHARD_KEYS["billing.SettlementReport"]
    ('customer_id', 'provider')
"""

from __future__ import annotations

from billing.models import SHARD_KEYS as BILLING
from inventory.models import SHARD_KEYS as INVENTORY
from orders.models import SHARD_KEYS as ORDERS

SHARD_KEYS: dict[str, str] = {**ORDERS, **BILLING, **INVENTORY}
