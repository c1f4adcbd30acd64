"""What every canonical row builds on: the order lifecycle and the upstream fact's columns."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Lifecycle(models.TextChoices):
    """One normalised order lifecycle; every system's vocabulary maps onto it."""

    PLACED = "placed", "Placed"
    PAID = "paid", "Paid"
    IN_ERP = "in_erp", "Received by ERP"
    ASSIGNED = "assigned", "Assigned"
    PICKED = "picked", "Picked"
    PACKED = "packed", "Packed"
    READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
    HANDED_TO_CARRIER = "handed_to_carrier", "Handed to carrier"
    IN_TRANSIT = "in_transit", "In transit"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERY_PROBLEM = "delivery_problem", "Delivery problem"  # the carrier reports a failure or an error
    RETURNING = "returning", "Returning to sender"  # the carrier is sending the parcel back
    DELIVERED = "delivered", "Delivered"
    COLLECTED = "collected", "Collected"
    CANCELLED = "cancelled", "Cancelled"
    RETURN_REQUESTED = "return_requested", "Return requested"
    RETURNED = "returned", "Returned"
    REFUNDED = "refunded", "Refunded"


# A pickup order in one of these upstream statuses is done: the pickup board reads only the others
# (and what its counter did today), through the partial index ``order_open_pickup``.
PICKUP_DONE = ["cancelled", "collected", "delivered", "refunded", "return_requested", "returned"]


class SourcedModel(models.Model):
    """A fact that came from one upstream system."""

    # Indexed by each model's (source, external_id) unique constraint.
    source = models.ForeignKey("integrations.Source", on_delete=models.PROTECT, related_name="+", db_index=False)
    external_id = models.CharField(max_length=128)
    synced_at = models.DateTimeField(
        default=timezone.now, help_text="When OmniDesk last received this from its source."
    )
    content_hash = models.CharField(max_length=64, blank=True, default="", editable=False)

    class Meta:
        abstract = True
