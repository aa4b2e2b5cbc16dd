"""The message catalogue of the example system: every message type, its kind, model, channel, shard key, data version.

``SHARD_KEYS`` says which ``data`` field each type's ``partitionkey`` must equal: consumers reject a message whose
``partitionkey`` is another value (``partitionkey_mismatch``); clients fill the ``partitionkey`` from it when none is
given. ``CATALOGUE`` (:class:`messaging.contracts.Catalogue`) declares each type: consumers read ``data`` with it
(tolerant reader, versions, upcasters, strict types), clients and the CLI check what they send against it, and
``make contracts`` generates ``contracts/asyncapi.yaml`` and ``contracts/schemas/`` from it. The services' models are
declared with pydantic's ``defer_build``: a model's validator is built on its first use, so a consumer that loads the
catalogue builds only the types it reads.

Example:
    >>> SHARD_KEYS["orders.CreateOrder"], SHARD_KEYS["billing.SettlementReport"]
    ('customer_id', 'provider')
    >>> CATALOGUE["orders.OrderCreated"].dataschema
    'urn:fifo-messaging:schema:orders.OrderCreated:2.0'
"""

from __future__ import annotations

from typing import Any

import billing.models
import inventory.models
import messaging.contracts
import order_saga.models
import orders.models
import quotes.models
from billing.models import SHARD_KEYS as BILLING
from inventory.models import SHARD_KEYS as INVENTORY
from orders.models import SHARD_KEYS as ORDERS

SHARD_KEYS: dict[str, str] = {**ORDERS, **BILLING, **INVENTORY}

Kind = messaging.contracts.Kind
COMMAND, EVENT, DOCUMENT = Kind.COMMAND, Kind.EVENT, Kind.DOCUMENT


def _declared(
    name: str, kind: Kind, model: messaging.contracts.ModelClass, channel: str, **rules: Any
) -> messaging.contracts.MessageType:
    """A catalogue entry with the shard key its service declares in ``SHARD_KEYS``."""
    return messaging.contracts.MessageType(name, kind, model, channel=channel, shard_key=SHARD_KEYS.get(name), **rules)


CATALOGUE = messaging.contracts.Catalogue(
    _declared("orders.CreateOrder", COMMAND, orders.models.CreateOrder, "orders-commands"),
    _declared("orders.CancelOrder", COMMAND, orders.models.CancelOrder, "orders-commands"),
    _declared(
        "orders.OrderCreated",
        EVENT,
        orders.models.OrderCreated,
        "order-events",
        version=orders.models.ORDER_CREATED_VERSION,
        upcasters={1: orders.models.order_created_v1_to_v2},
    ),
    _declared("orders.OrderCancelled", EVENT, orders.models.OrderCancelled, "order-events"),
    # A provider's settlement report is strict: a field Billing does not know could change what the amounts mean,
    # so an unknown field is refused (invalid_payload) rather than ignored.
    _declared("billing.SettlementReport", DOCUMENT, billing.models.SettlementReport, "billing", strict=True),
    _declared("quotes.RequestQuote", COMMAND, quotes.models.RequestQuote, "quote-requests"),
    # The order saga (orders.PlaceOrder starts it) and the commands it sends its participants, which anyone may
    # also send to set a scenario up (credit limits, stock).
    _declared("orders.PlaceOrder", COMMAND, order_saga.models.PlaceOrder, "order-sagas"),
    _declared("billing.SetCreditLimit", COMMAND, billing.models.SetCreditLimit, "billing-commands"),
    _declared("billing.ReserveCredit", COMMAND, billing.models.ReserveCredit, "billing-commands"),
    _declared("billing.ReleaseCredit", COMMAND, billing.models.ReleaseCredit, "billing-commands"),
    _declared("inventory.Restock", COMMAND, inventory.models.Restock, "inventory-commands"),
    _declared("inventory.ReserveStock", COMMAND, inventory.models.ReserveStock, "inventory-commands"),
    _declared("inventory.ReleaseStock", COMMAND, inventory.models.ReleaseStock, "inventory-commands"),
)
