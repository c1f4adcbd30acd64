"""Getting an order to the customer: the ERP's pickings, the carriers' parcels and scans, stock counts."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .base import Lifecycle, SourcedModel
from .orders import Order, quantity_text
from .stores import Store


class Picking(SourcedModel):
    """An ERP fulfilment task (an Odoo stock.picking): who prepares the order, when it is scheduled, when done."""

    class Kind(models.TextChoices):
        OUTGOING = "outgoing", "Outgoing (delivery or pickup)"
        INCOMING = "incoming", "Incoming (return)"
        INTERNAL = "internal", "Internal move"

    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="pickings")
    order_reference = models.CharField(
        max_length=64, blank=True, default="", help_text="The ERP's sale order name it belongs to (e.g. S00042)."
    )
    order_external_id = models.CharField(max_length=128, blank=True, default="")
    name = models.CharField(max_length=64, blank=True, default="")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.OUTGOING)
    raw_status = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=24, choices=Lifecycle.choices, default=Lifecycle.IN_ERP)
    assigned_to = models.CharField(
        max_length=128, blank=True, default="", help_text="Who is to prepare it; empty when nobody is assigned."
    )
    location = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    carrier = models.CharField(max_length=64, blank=True, default="")
    source_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["scheduled_at", "id"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="picking_unique")]
        indexes = [
            # Orphan linking (orders/ingest/correlate.py): pickings waiting for their sale order, by its id or its name.
            models.Index(
                fields=["source", "order_external_id"],
                condition=models.Q(order__isnull=True),
                name="picking_unlinked_order_ext",
            ),
            models.Index(
                fields=["source", "order_reference"],
                condition=models.Q(order__isnull=True),
                name="picking_unlinked_order_ref",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.external_id


class PickingPackage(models.Model):
    """One package of a picking, by the tracking number its carrier gave it.

    The ERP names a picking's packages in one field (Odoo's ``carrier_tracking_ref``, comma-joined when
    there are several); each number is a parcel of its own that a carrier tracker finds its order by.
    """

    picking = models.ForeignKey(Picking, on_delete=models.CASCADE, related_name="packages")
    tracking_number = models.CharField(max_length=64, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["picking", "tracking_number"], name="pickingpackage_unique"),
        ]

    def __str__(self) -> str:
        return self.tracking_number


class PickingLine(SourcedModel):
    """One product line of a picking (an Odoo stock.move)."""

    picking = models.ForeignKey(Picking, null=True, blank=True, on_delete=models.CASCADE, related_name="lines")
    picking_external_id = models.CharField(max_length=128, blank=True, default="")
    sku = models.CharField(max_length=64)
    quantity = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    done_quantity = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    state = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="pickingline_unique")]
        indexes = [
            # Orphan linking (orders/ingest/correlate.py): moves that landed before their picking, by its id.
            models.Index(
                fields=["source", "picking_external_id"],
                condition=models.Q(picking__isnull=True),
                name="pickingline_unlinked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class Shipment(SourcedModel):
    """A parcel or delivery: who carries it, its tracking number, its promised window."""

    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(max_length=64, blank=True, default="")
    tracking_number = models.CharField(max_length=64, blank=True, default="", db_index=True)
    tracking_url = models.URLField(max_length=500, blank=True, default="")
    raw_status = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=24, choices=Lifecycle.choices, default=Lifecycle.HANDED_TO_CARRIER)
    line_skus = models.JSONField(
        default=list, blank=True, help_text="SKUs this shipment carries, when the source says."
    )
    shipped_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True, help_text="Scheduled delivery window start.")
    window_end = models.DateTimeField(null=True, blank=True, help_text="Scheduled delivery window end.")
    estimated_delivery = models.DateTimeField(null=True, blank=True, help_text="The carrier's estimate.")
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True, help_text="Time of the last carrier scan.")

    class Meta:
        ordering = ["shipped_at", "id"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="shipment_unique")]
        indexes = [
            # Orphan linking: carrier trackers waiting for the picking or shipment with their tracking number.
            models.Index(
                fields=["tracking_number"], condition=models.Q(order__isnull=True), name="shipment_unlinked_tracking"
            )
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}".strip()


class TrackingEvent(models.Model):
    """One carrier scan."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    source = models.ForeignKey("integrations.Source", on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField()
    status = models.CharField(max_length=64, blank=True, default="")
    message = models.CharField(max_length=500, blank=True, default="")
    location = models.CharField(max_length=255, blank=True, default="")
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "occurred_at", "status", "message"], name="trackingevent_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.status}"


class StockLevel(SourcedModel):
    """On-hand quantity of one SKU at one location, as one system counts it."""

    sku = models.CharField(max_length=64)
    location = models.ForeignKey(Store, null=True, blank=True, on_delete=models.CASCADE, related_name="stock")
    location_external_id = models.CharField(max_length=128, blank=True, default="")
    bin = models.CharField(
        max_length=128, blank=True, default="", help_text="Where on the shelves (the ERP's sub-location), if known."
    )
    on_hand = models.DecimalField(
        max_digits=12,
        decimal_places=3,
        default=0,
        help_text="Units on the shelf: whole for items, a fraction (12.5) for a product counted by measure.",
    )
    reserved = models.IntegerField(default=0)
    counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="stocklevel_unique")]
        indexes = [models.Index(fields=["sku", "location"])]

    def __str__(self) -> str:
        return f"{self.sku} @ {self.location_id}: {quantity_text(self.on_hand)}"
