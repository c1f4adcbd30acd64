"""Stores (and warehouses), how each system names them, and a person's screen preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models


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
