"""One order and each system's record of it: its keys, lines, payments and returns."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone

from .base import PICKUP_DONE, Lifecycle, SourcedModel
from .customers import Customer
from .stores import Store


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
            # The admin's list of every order, newest first (the model's ordering), read backwards: 100 rows, not a
            # sort of the whole table (1.0 s on the bench database's million orders).
            models.Index(fields=["placed_at", "id"], name="order_placed"),
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


class OrderLine(SourcedModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True, default="")
    quantity = models.DecimalField(
        max_digits=12,
        decimal_places=3,
        default=1,
        help_text="How many were bought: whole for items, a fraction (2.5) for an item sold by measure (in the unit).",
    )
    unit = models.CharField(
        max_length=32,
        blank=True,
        default="",
        help_text='The unit the quantity is measured in when the system sells by measure ("ft", "m", "kg", "lb", or '
        "the seller's own abbreviation); blank for items counted one by one.",
    )
    unit_price = models.DecimalField(
        max_digits=12, decimal_places=2, default=0, help_text="Price of one of the unit (one item, one ft, one kg)."
    )
    fulfilment_location = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="orderline_unique")]
        indexes = [models.Index(fields=["sku"])]

    def __str__(self) -> str:
        return quantity_of(self.quantity, self.unit, self.sku)

    @property
    def measured(self) -> bool:
        """Sold by measure (a unit, or a fraction): one piece cut to length or weighed, not items to count."""
        return is_measured(self.quantity, self.unit)

    @property
    def pieces(self) -> int:
        """What a clerk hands over: the items of a counted line, one piece for a line sold by measure."""
        return 1 if self.measured else int(self.quantity)

    @property
    def amount(self) -> str:
        """The quantity as a person reads it: "2", "2.5 ft", "1 kg" (no trailing zeros)."""
        return f"{quantity_text(self.quantity)} {self.unit}".rstrip()

    @property
    def described(self) -> str:
        """ "2 × Mug", "2.5 ft of Manila rope": the line as the desk and the counter say it."""
        return quantity_of(self.quantity, self.unit, self.name or self.sku)


def is_measured(quantity, unit: str) -> bool:
    """Sold by measure: a unit is named, or the quantity is a fraction."""
    return bool(unit) or quantity != int(quantity)


def quantity_text(quantity) -> str:
    """``Decimal("2.500")`` -> "2.5", ``Decimal("3.000")`` -> "3": a quantity without trailing zeros."""
    return format(Decimal(quantity).normalize(), "f") if quantity else "0"


def quantity_value(quantity) -> int | Decimal:
    """A whole quantity as ``int`` (as it always was), a fraction as an exact ``Decimal`` without trailing zeros."""
    quantity = Decimal(str(quantity))
    return int(quantity) if quantity == quantity.to_integral_value() else Decimal(quantity_text(quantity))


def quantity_json(quantity) -> int | str:
    """A quantity for a JSON field (flag evidence, a push's lines): an integer when whole, else a string ("2.5")."""
    value = quantity_value(quantity)
    return value if isinstance(value, int) else str(value)


def quantity_of(quantity, unit: str, what: str) -> str:
    """ "2 × MUG-01", "2.5 ft of ROPE-12", "1.25 × CHEESE" (a fraction with no unit named)."""
    return f"{quantity_text(quantity)} {unit} of {what}" if unit else f"{quantity_text(quantity)} × {what}"


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
    manual = models.BooleanField(
        default=False,
        help_text="Through the shop's manual payment method (Shopify's manualPaymentGateway: pay in store, cash on "
        "delivery, bank deposit): money the shop records by hand. Pending on a pickup not collected yet, it is taken "
        "at the counter before handover.",
    )
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


class Return(SourcedModel):
    """Goods coming back, as one system reports them; one reported before its order waits for it (``order`` empty)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        RECEIVED = "received", "Received"
        REFUNDED = "refunded", "Refunded"
        REJECTED = "rejected", "Rejected"

    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="returns")
    order_external_id = models.CharField(
        max_length=128,
        blank=True,
        default="",
        help_text="The returned order's id in this source; links a return reported before its order (a Square "
        "return order landing before the sale) when the order arrives.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    line_skus = models.JSONField(default=list, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    requested_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="return_unique")]
        indexes = [
            # Orphan linking: returns waiting for their order, by its id.
            models.Index(
                fields=["source", "order_external_id"],
                condition=models.Q(order__isnull=True),
                name="return_unlinked_order_ext",
            ),
        ]

    def __str__(self) -> str:
        return f"Return {self.external_id} ({self.status})"
