"""The canonical model: one customer, one order, one timeline, whatever system said it.

Rows that come from upstream carry ``source`` (which system said it) and
``synced_at`` (when OmniDesk last heard it), and are unique on
``(source, external_id)`` so a re-sync is an upsert, never a duplicate.

One module per context, every model re-exported here: ``from orders.models import Order``
stays the way to import them (the app label, and so every migration, is unchanged).
"""

from __future__ import annotations

from .base import PICKUP_DONE, Lifecycle, SourcedModel
from .counter import Handover, Pickup, PickupLine, PickupPush
from .customers import Customer, CustomerIdentity, CustomerLink, CustomerMerge, CustomerName, revealing_source
from .desk import AccessLog, ApiToken, Interaction, Note
from .flags import READY_FOR_PICKUP, CustomerMessage, DetectionRule, Flag, MessageTemplate
from .fulfilment import Picking, PickingLine, PickingPackage, Shipment, StockLevel, TrackingEvent
from .orders import (
    Order,
    OrderKey,
    OrderLine,
    OrderRecord,
    Payment,
    Return,
    is_measured,
    quantity_json,
    quantity_of,
    quantity_text,
    quantity_value,
)
from .stores import StaffPreference, Store, StoreAlias
from .timeline import TimelineEvent

__all__ = [
    "is_measured",
    "quantity_json",
    "quantity_of",
    "quantity_text",
    "quantity_value",
    "AccessLog",
    "ApiToken",
    "Customer",
    "CustomerIdentity",
    "CustomerLink",
    "CustomerMerge",
    "CustomerMessage",
    "CustomerName",
    "DetectionRule",
    "Flag",
    "Handover",
    "Interaction",
    "Lifecycle",
    "MessageTemplate",
    "Note",
    "Order",
    "OrderKey",
    "OrderLine",
    "OrderRecord",
    "Payment",
    "Picking",
    "PickingLine",
    "PickingPackage",
    "Pickup",
    "PICKUP_DONE",
    "PickupLine",
    "PickupPush",
    "READY_FOR_PICKUP",
    "Return",
    "revealing_source",
    "Shipment",
    "SourcedModel",
    "StaffPreference",
    "StockLevel",
    "Store",
    "StoreAlias",
    "TimelineEvent",
    "TrackingEvent",
]
