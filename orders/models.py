"""The canonical model: one customer, one order, one timeline, whatever system said it.

Rows that come from upstream carry ``source`` (which system said it) and
``synced_at`` (when OmniDesk last heard it), and are unique on
``(source, external_id)`` so a re-sync is an upsert, never a duplicate.
"""

from __future__ import annotations

from django.conf import settings
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


class Store(models.Model):
    """A store or warehouse: where orders are picked up, fulfilled from, or sold."""

    class Kind(models.TextChoices):
        STORE = "store", "Store"
        WAREHOUSE = "warehouse", "Warehouse"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.STORE)
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA zone used to show this store's times.")
    address = models.TextField(blank=True, default="")
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="stores",
        help_text="Store staff who may see and act on this store's orders.",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class StaffPreference(models.Model):
    """What one member of staff chose for their own screens (Settings, from their name in the top bar)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="IANA zone every time on this person's screens is shown in; empty: each order's store's zone "
        "(the retailer's TIME_ZONE for an order with no store). Customer e-mails always use the store's.",
    )

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class StoreAlias(models.Model):
    """How an upstream system names a store (a Shopify location id, a Square location id, an Odoo warehouse)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="aliases")
    source = models.ForeignKey("integrations.Source", on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=128)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="storealias_unique")]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id} → {self.store.code}"


class Customer(models.Model):
    """One person, however many systems know them."""

    name = models.CharField(max_length=200, blank=True, default="")
    email = models.EmailField(max_length=254, blank=True, default="", help_text="Primary e-mail (normalised).")
    phone = models.CharField(max_length=32, blank=True, default="", help_text="Primary phone in E.164.")
    loyalty_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["email"]),
            models.Index(fields=["phone"]),
            models.Index(fields=["loyalty_id"]),
        ]

    def __str__(self) -> str:
        return self.name or self.email or f"Customer {self.pk}"


class CustomerName(models.Model):
    """One distinct customer name as search compares it (accents off, lower case), for search by name.

    Namesakes are common (many Ann Lees, many José Garcías), so the typo-tolerant
    trigram search walks the few distinct names, nearest first, and then fetches each
    name's customers through a plain index (``orders.search``). Written only by a
    database trigger on ``orders_customer`` (migration ``0008_customer_names``), so every
    way a customer's name is written — the sync's bulk upserts, COPY, the admin, a merge
    reversed — keeps it current. Names nobody carries any more stay (they find nobody).
    """

    folded = models.TextField(primary_key=True)

    def __str__(self) -> str:
        return self.folded


def revealing_source(help_text: str) -> models.ForeignKey:
    """The system whose record showed two customers to be (maybe) one person; kept if the source is deleted."""
    return models.ForeignKey(
        "integrations.Source",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        help_text=help_text,
    )


class CustomerMerge(models.Model):
    """Two customers found to be one person, folded together; a supervisor can reverse it.

    Records what moved (identities, orders, notes, timeline events) and the merged
    customer as it was, so reversing restores exactly that under its old id. A reversed
    pair is never merged automatically again.
    """

    survivor = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges")
    merged_customer_id = models.BigIntegerField(help_text="The id the merged customer had (restored on reversal).")
    merged_snapshot = models.JSONField(
        default=dict, help_text="Name, e-mail, phone and loyalty id of the merged customer."
    )
    key = models.CharField(max_length=300, help_text="What they shared, e.g. 'email:ann@example.com', or 'manual'.")
    source = revealing_source("The system whose record revealed the match.")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who merged them (empty: matched automatically).",
    )
    moved = models.JSONField(default=dict, help_text="Ids that moved to the survivor, per kind.")
    created_at = models.DateTimeField(default=timezone.now)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["merged_customer_id"])]

    def __str__(self) -> str:
        return f"Customer {self.merged_customer_id} into {self.survivor_id} ({self.key})"


class CustomerLink(models.Model):
    """Two customers that may be one person: a single unverified key (a guest order's phone, a CRM
    contact's e-mail) points from one to the other. Never merged automatically; a supervisor, or an
    agent who verified the caller on this call, confirms (they are merged) or rejects (never again).
    """

    class Decision(models.TextChoices):
        OPEN = "open", "Open"
        REJECTED = "rejected", "Not the same person"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=300, help_text="The one key they share, e.g. 'phone:+15551234567'.")
    source = revealing_source("The system whose record suggested the link.")
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "other"], name="customerlink_unique"),
            models.CheckConstraint(condition=models.Q(customer__lt=models.F("other")), name="customerlink_ordered"),
        ]
        indexes = [models.Index(fields=["other"])]

    def __str__(self) -> str:
        return f"Customer {self.customer_id} ~ {self.other_id} ({self.key})"


class CustomerIdentity(SourcedModel):
    """A customer as one upstream system knows them (Shopify customer, Square customer, HubSpot contact)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    name = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="", help_text="As the source wrote it.")
    email_normalised = models.CharField(max_length=254, blank=True, default="", db_index=True)
    phone = models.CharField(max_length=64, blank=True, default="", help_text="As the source wrote it.")
    phone_e164 = models.CharField(max_length=32, blank=True, default="", db_index=True)
    loyalty_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    email_verified = models.BooleanField(
        default=False,
        db_default=False,  # rows COPYed without it (the benchmark's data) are unverified
        help_text="The system vouches for this e-mail (a verified storefront account, a POS customer record). "
        "Unverified e-mails (guest orders, CRM contacts) link customers only with a second key that agrees.",
    )
    phone_verified = models.BooleanField(
        default=False, db_default=False, help_text="The system vouches for this phone (a POS customer record)."
    )
    source_updated_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "customer identities"
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="customeridentity_unique")]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


class Order(models.Model):
    """One order, correlated across every system that knows it."""

    class Channel(models.TextChoices):
        WEB = "web", "Web"
        STORE = "store", "In store"
        PHONE = "phone", "Phone"

    class Fulfilment(models.TextChoices):
        SHIP = "ship", "Ship to customer"
        PICKUP = "pickup", "Pickup in store"
        DELIVERY = "delivery", "Scheduled delivery"
        CARRY_OUT = "carry_out", "Taken at the till"

    number = models.CharField(
        max_length=64,
        db_index=True,
        help_text="The number the customer knows (the origin system's).",
    )
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    origin_source = models.ForeignKey(
        "integrations.Source",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The system the order was placed in.",
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    fulfilment = models.CharField(max_length=16, choices=Fulfilment.choices, default=Fulfilment.SHIP)
    store = models.ForeignKey(
        Store,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        help_text="Pickup store, or the store of an in-store sale.",
    )
    status = models.CharField(max_length=24, choices=Lifecycle.choices, default=Lifecycle.PLACED)
    placed_at = models.DateTimeField(null=True, blank=True)
    promised_by = models.DateTimeField(null=True, blank=True, help_text="Promised pickup / delivery date.")
    currency = models.CharField(max_length=3, default="USD")
    total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    email = models.CharField(max_length=254, blank=True, default="", help_text="E-mail given with the order.")
    phone = models.CharField(max_length=64, blank=True, default="", help_text="Phone given with the order.")
    contact_name = models.CharField(
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text="Name given with the order: what the counter compares, never a name gained by a customer merge.",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-placed_at"]),
            models.Index(fields=["store", "status"]),
            models.Index(fields=["status"]),
            # What an SKU sold for in a channel around a day (S13: the pane's "online that day", the header's
            # "paid more in store"): the channel's orders of that week, not a scan of every order.
            models.Index(fields=["channel", "placed_at"], name="order_channel_placed"),
            models.Index(
                fields=["store", "promised_by"],
                condition=models.Q(fulfilment="pickup") & ~models.Q(status__in=PICKUP_DONE),
                name="order_open_pickup",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderRecord(SourcedModel):
    """The order as one system knows it: its id and number there, its status there."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="records")
    external_number = models.CharField(max_length=64, blank=True, default="", db_index=True)
    references = models.JSONField(
        default=list,
        blank=True,
        help_text="Other systems' numbers this record names (e.g. the ERP's origin).",
    )
    raw_status = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=24, choices=Lifecycle.choices, default=Lifecycle.PLACED)
    source_updated_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    fields = models.JSONField(
        default=dict,
        blank=True,
        help_text="What this system says of the order's own fields (number, customer, promise …); the order's "
        "fields are derived from every system's, by precedence (orders.correlate.orders_fields_refresh).",
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="orderrecord_unique")]
        # Search by any system's own id (a POS order id) without knowing the system.
        indexes = [models.Index(fields=["external_id"], name="orderrecord_external_id")]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_number or self.external_id}"


class OrderKey(models.Model):
    """A number that identifies one order across systems (the web order name the ERP and the POS repeat).

    Unique: whichever system is synced first creates the order with its keys, and a
    later record naming one of those keys lands on the same order.
    """

    key = models.CharField(max_length=64)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="keys")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key"], name="orderkey_unique")]

    def __str__(self) -> str:
        return self.key


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
    tracking_number = models.CharField(max_length=64, blank=True, default="")
    carrier = models.CharField(max_length=64, blank=True, default="")
    source_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["scheduled_at", "id"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="picking_unique")]
        indexes = [
            # Orphan linking (orders/correlate.py): pickings waiting for their sale order, by its id or its name.
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
            models.Index(fields=["tracking_number"], condition=~models.Q(tracking_number=""), name="picking_tracking"),
        ]

    def __str__(self) -> str:
        return self.name or self.external_id


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

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class OrderLine(SourcedModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True, default="")
    quantity = models.IntegerField(default=1)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    fulfilment_location = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="orderline_unique")]
        indexes = [models.Index(fields=["sku"])]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class Payment(SourcedModel):
    """A movement of money on an order: authorisation, capture/sale, refund or void."""

    class Kind(models.TextChoices):
        AUTHORIZATION = "authorization", "Authorisation"
        CAPTURE = "capture", "Capture"
        SALE = "sale", "Sale"
        REFUND = "refund", "Refund"
        VOID = "void", "Void"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCESS = "success", "Succeeded"
        FAILURE = "failure", "Failed"

    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="payments")
    order_external_id = models.CharField(
        max_length=128,
        blank=True,
        default="",
        help_text="The order's id in this source; links the payment when the order arrives later.",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUCCESS)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    gateway = models.CharField(max_length=64, blank=True, default="")
    card_brand = models.CharField(max_length=32, blank=True, default="")
    card_last4 = models.CharField(
        max_length=4, blank=True, default="", help_text="Only the last four digits are ever stored."
    )
    receipt_number = models.CharField(max_length=64, blank=True, default="", db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["processed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="payment_unique")]
        indexes = [
            # Orphan linking: payments waiting for their order, by its id.
            models.Index(
                fields=["source", "order_external_id"],
                condition=models.Q(order__isnull=True),
                name="payment_unlinked_order_ext",
            ),
            # Search: "card ending 4242" together with a name or a date.
            models.Index(fields=["card_last4"], condition=~models.Q(card_last4=""), name="payment_card_last4"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"


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


class Return(SourcedModel):
    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        RECEIVED = "received", "Received"
        REFUNDED = "refunded", "Refunded"
        REJECTED = "rejected", "Rejected"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    line_skus = models.JSONField(default=list, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    requested_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="return_unique")]

    def __str__(self) -> str:
        return f"Return {self.external_id} ({self.status})"


class StockLevel(SourcedModel):
    """On-hand quantity of one SKU at one location, as one system counts it."""

    sku = models.CharField(max_length=64)
    location = models.ForeignKey(Store, null=True, blank=True, on_delete=models.CASCADE, related_name="stock")
    location_external_id = models.CharField(max_length=128, blank=True, default="")
    bin = models.CharField(
        max_length=128, blank=True, default="", help_text="Where on the shelves (the ERP's sub-location), if known."
    )
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="stocklevel_unique")]
        indexes = [models.Index(fields=["sku", "location"])]

    def __str__(self) -> str:
        return f"{self.sku} @ {self.location_id}: {self.on_hand}"


class Note(models.Model):
    """A staff note on a customer or an order, so nobody asks twice."""

    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="notes")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | models.Q(order__isnull=False),
                name="note_has_subject",
            )
        ]

    def __str__(self) -> str:
        return self.body[:60]


class Flag(models.Model):
    """A detected breakdown on an order. Opens when its condition starts, closes when it clears."""

    class Code(models.TextChoices):
        PHANTOM_ORDER = "phantom_order", "Phantom order"
        UNASSIGNED = "unassigned", "Nobody assigned"
        STOCK_SHORTFALL = "stock_shortfall", "Stock shortfall"
        STUCK_SHIPMENT = "stuck_shipment", "Stuck shipment"
        DELIVERY_EXCEPTION = "delivery_exception", "Delivery exception"
        PROMISE_AT_RISK = "promise_at_risk", "Promise at risk"
        PROMISE_MISSED = "promise_missed", "Promise missed"
        RETURN_NOT_REFUNDED = "return_not_refunded", "Return not refunded"
        DUPLICATE_SHIPMENT = "duplicate_shipment", "Duplicate shipment"
        PAYMENT_MISMATCH = "payment_mismatch", "Payment mismatch"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="flags")
    code = models.CharField(max_length=32, choices=Code.choices)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True, default="", help_text="The evidence: which systems disagree and how.")
    evidence = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_flags",
        help_text="Who is working on it (taken from the worklist).",
    )
    snoozed_until = models.DateTimeField(
        null=True, blank=True, help_text="Hidden from the worklist's default view until then (with a reason)."
    )
    snooze_reason = models.CharField(max_length=300, blank=True, default="", db_default="")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Set when a person closed the flag rather than the condition clearing.",
    )
    resolution = models.CharField(
        max_length=300, blank=True, default="", db_default="", help_text="Why a person closed it."
    )
    resolved_while_holding = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Resolved by a person while the condition still held: detection does not reopen it until the "
        "condition has cleared once.",
    )

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "code"],
                condition=models.Q(closed_at__isnull=True),
                name="flag_one_open_per_code",
            )
        ]
        indexes = [models.Index(fields=["code", "closed_at"])]

    def __str__(self) -> str:
        return f"{self.code} on {self.order_id}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class DetectionRule(models.Model):
    """A supervisor's setting for one detection rule: whether it runs, and after how long its condition counts.

    One row per flag code (the migration creates them with the defaults). A rule turned
    off closes its open flags at the next run.
    """

    code = models.CharField(max_length=32, choices=Flag.Code.choices, unique=True)
    enabled = models.BooleanField(default=True, help_text="Off: the rule raises nothing and its open flags close.")
    threshold = models.DurationField(
        null=True,
        blank=True,
        help_text=(
            "How old the condition must be before the flag opens (strictly older). Defaults: phantom order "
            "30 min after it was placed; nobody assigned 2 h after the order was placed; stuck shipment 48 h "
            "after the last carrier scan; return not refunded 7 days after the return was received. "
            "Empty: the default. Other rules have no threshold."
        ),
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.get_code_display()


class TimelineEvent(models.Model):
    """One thing that happened to an order or a customer, in any system.

    ``occurred_at`` is when it happened in its own system (UTC); ``key`` makes
    writing the same event twice a no-op, so re-syncing never duplicates it.
    """

    class Kind(models.TextChoices):
        ORDER_PLACED = "order_placed", "Order placed"
        STATUS_CHANGED = "status_changed", "Status changed"
        SEEN_BY_SYSTEM = "seen_by_system", "Seen by a system"
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"
        SHIPMENT_CREATED = "shipment_created", "Shipment created"
        TRACKING_SCAN = "tracking_scan", "Carrier scan"
        RETURN = "return", "Return"
        NOTE = "note", "Note"
        FLAG_OPENED = "flag_opened", "Flag opened"
        FLAG_CLOSED = "flag_closed", "Flag closed"
        CUSTOMER_LINKED = "customer_linked", "Identity linked"
        CUSTOMERS_MERGED = "customers_merged", "Customers merged"
        MERGE_REVERSED = "merge_reversed", "Merge reversed"
        IDENTITY_VERIFIED = "identity_verified", "Identity verified"
        FLAG_TAKEN = "flag_taken", "Flag taken"
        FLAG_SNOOZED = "flag_snoozed", "Flag snoozed"
        MESSAGE_SENT = "message_sent", "Message to the customer"
        PICKUP = "pickup", "At the counter"

    key = models.CharField(max_length=255)
    # Indexed by the (order, occurred_at) / (customer, occurred_at) composites below.
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    # Not indexed: sources and users are almost never deleted, and no screen lists events by them.
    source = models.ForeignKey(
        "integrations.Source", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    summary = models.CharField(max_length=500)
    subject = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="The upstream thing the event is about (a shipment, a picking), to re-link it when that thing is matched to an order later.",
    )
    data = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [models.UniqueConstraint(fields=["key"], name="timelineevent_unique_key")]
        indexes = [
            models.Index(fields=["subject"], condition=models.Q(order__isnull=True), name="timelineevent_unlinked"),
            models.Index(fields=["order", "occurred_at"]),
            models.Index(fields=["customer", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.summary}"


class Interaction(models.Model):
    """What an agent established on a call, so the next agent does not ask again."""

    class Kind(models.TextChoices):
        IDENTITY_VERIFIED = "identity_verified", "Verified identity on this call"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="interactions")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    method = models.CharField(
        max_length=200, blank=True, default="", help_text="How it was established, e.g. 'order number + postcode'."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["customer", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class AccessLog(models.Model):
    """Who looked at whose personal data, and when. Never the data itself (no search terms, no e-mails)."""

    class Action(models.TextChoices):
        SEARCH = "search", "Searched (results listed)"
        CUSTOMER = "customer", "Opened a customer"
        ORDER = "order", "Opened an order"
        CALLER = "caller", "Caller lookup (screen-pop)"
        API_LOOKUP = "api_lookup", "API lookup"
        API_ORDER = "api_order", "API order"
        PICKUP_BOARD = "pickup_board", "Pickup board"
        PICKUP_ORDER = "pickup_order", "Pickup order (counter)"
        WORKLIST = "worklist", "Worklist"
        ADMIN = "admin", "Admin page"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150, help_text="Kept when the user is deleted.")
    action = models.CharField(max_length=16, choices=Action.choices)
    customer_ids = models.JSONField(default=list, blank=True, help_text="The customers whose data was shown.")
    order_id = models.BigIntegerField(null=True, blank=True)
    page = models.CharField(
        max_length=200, blank=True, default="", help_text="The path opened: ids only, never a search term."
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = "access log entry"
        verbose_name_plural = "access log"

    def __str__(self) -> str:
        return f"{self.username} {self.action} {self.at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A token for the JSON API (telephony screen-pop). Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=8, help_text="The token's first characters, to tell tokens apart.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="Set to revoke the token at once.")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


READY_FOR_PICKUP = "ready_for_pickup"


class MessageTemplate(models.Model):
    """The ready-to-send message for one flag code, or for an order ready for pickup; supervisors edit the wording."""

    code = models.CharField(
        max_length=32,
        choices=[*Flag.Code.choices, (READY_FOR_PICKUP, "Ready for pickup (sent by the store counter)")],
        unique=True,
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(
        help_text="Django template. Variables: customer_name, order_number, promised, projected, carrier, "
        "tracking_number, tracking_url, carrier_status, store_name, store_address, items, cancellable, "
        "trace_recorded. A text that offers to cancel an order that can no longer be cancelled, or says we asked "
        "the carrier when nobody recorded a trace, is refused at sending."
    )
    auto_send = models.BooleanField(
        default=False,
        help_text="Send automatically when the flag opens (otherwise an agent sends it with one click). "
        "The ready-for-pickup message always goes when the last line is picked.",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.get_code_display()


class CustomerMessage(models.Model):
    """A message sent to the customer about one flag, or that the order is ready for pickup.

    At most one per flag, and one ready-for-pickup per order: the same news never goes twice.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (will retry)"

    flag = models.OneToOneField(Flag, null=True, blank=True, on_delete=models.CASCADE, related_name="message")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="messages")
    about = models.CharField(max_length=32, default="", blank=True, help_text="The template it was written from.")
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when sent automatically.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "about"], condition=models.Q(flag__isnull=True), name="message_once_per_order_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"


# --- the store counter (pickup) -----------------------------------------------------------
class Pickup(models.Model):
    """Where a pickup order stands at its store's counter: one row per order, locked by every counter action.

    The row is the lock the counter services take (``select_for_update``), so two clerks
    acting on one order at once are served one after the other.
    """

    class Stage(models.TextChoices):
        NEW = "new", "New"
        PREPARING = "preparing", "Preparing"
        READY = "ready", "Ready"
        COLLECTED = "collected", "Collected"
        REFUSED = "refused", "Refused"

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="pickup")
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.NEW)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Collected or refused.")
    ready_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the customer was told it is ready (set once: never told twice)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The pickup board: what is at the counter now, and what it handed over today.
        indexes = [models.Index(fields=["stage", "closed_at"], name="pickup_stage_closed")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.stage}"


class PickupLine(models.Model):
    """A clerk's check of one order line at the counter: located, picked or missing (how many, why)."""

    class State(models.TextChoices):
        LOCATED = "located", "Located"
        PICKED = "picked", "Picked"
        MISSING = "missing", "Missing"

    pickup = models.ForeignKey(Pickup, on_delete=models.CASCADE, related_name="lines")
    line = models.OneToOneField(OrderLine, on_delete=models.CASCADE, related_name="pickup_check")
    state = models.CharField(max_length=16, choices=State.choices)
    missing_quantity = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=300, blank=True, default="")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["line_id"]

    def __str__(self) -> str:
        return f"{self.line_id}: {self.state}"


class Handover(models.Model):
    """The moment the parcel leaves the counter (or is refused): who, when, how identity was checked.

    At most one per order (a unique constraint), so a double-click or two clerks at once
    record one handover.
    """

    class IdCheck(models.TextChoices):
        ORDER_NUMBER = "order_number", "Order number (from the confirmation)"
        ID_SEEN = "id_seen", "Photo ID seen (its name typed above)"
        PHONE_LAST4 = "phone_last4", "Last four digits of the phone (no longer accepted)"
        EMAIL = "email", "The order e-mail (no longer accepted)"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="handovers")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    collected_by = models.CharField(max_length=200, help_text="The name the person at the counter gave.")
    id_check = models.CharField(max_length=16, choices=IdCheck.choices, blank=True, default="")
    partial = models.BooleanField(default=False)
    lines = models.JSONField(default=list, blank=True, help_text="Ids of the order lines handed over.")
    refused = models.BooleanField(default=False)
    refusal_reason = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order"], name="handover_one_per_order")]

    def __str__(self) -> str:
        return f"{self.order_id} {'refused' if self.refused else 'collected'} {self.at:%Y-%m-%d %H:%M}"


class PickupPush(models.Model):
    """Outbox: a pickup state to push to one system that holds the order, retried until it accepts it.

    Unique per (order, target, state), so the same push is never queued twice.
    """

    class State(models.TextChoices):
        READY = "ready", "Ready for pickup"
        COLLECTED = "collected", "Collected"
        REFUSED = "refused", "Refused"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="pickup_pushes")
    target = models.ForeignKey("integrations.Source", on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=128, help_text="The order's id in the target system.")
    state = models.CharField(max_length=16, choices=State.choices)
    lines = models.JSONField(
        default=list,
        blank=True,
        help_text='What the customer took ([{"sku", "quantity"}]); fewer than the order has after a partial collection.',
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "target", "state"], name="pickuppush_once_per_target_state")
        ]
        indexes = [models.Index(fields=["order"], condition=models.Q(sent_at__isnull=True), name="pickuppush_pending")]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.target_id}: {self.state}"
