"""Every page renders with any optional relation empty: a note without an order, an order without a store, …

The test walks the models' nullable foreign keys. For each one it builds a small retailer
with a row of every kind, empties that relation on every row, and opens every staff
page and the admin pages of that model: none may fail.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.admin import site
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from integrations.models import DeadLetter, RawRecord, SyncRun, WebhookDelivery
from orders.counter.services import pickup_line_check
from orders.desk.services import note_write
from orders.flags.actions import flag_resolve, flag_take
from orders.models import (
    AccessLog,
    Customer,
    CustomerLink,
    CustomerMerge,
    CustomerMessage,
    Flag,
    Handover,
    Interaction,
    Lifecycle,
    Order,
    Picking,
    PickingLine,
    Return,
    StockLevel,
)
from tests.factories import agent, clerk_of, supervisor
from tests.orders import scene as scenes

pytestmark = pytest.mark.django_db


def nullable_relations() -> list[tuple[str, str]]:
    return [
        (model._meta.label, field.name)
        for app in ("orders", "integrations")
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.concrete_fields
        if field.many_to_one and field.null
    ]


def _world(monkeypatch):
    """One row of every model, each optional relation filled."""
    monkeypatch.setattr("orders.counter.outbox._push_dispatch", lambda push_id: None)
    scene = scenes.build()
    boss, alice, clerk = supervisor(), agent(), clerk_of(scene.downtown, "dana.downtown")
    web = scene.web_order
    web.shipments.update(order=scene.uptown_order)  # the web order waits at the counter; the parcel is another's
    Order.objects.filter(pk=web.pk).update(status=Lifecycle.PAID, promised_by=timezone.now() - timedelta(hours=1))
    web.refresh_from_db()
    pickup_line_check(order=web, line=web.lines.get(), state="picked", by=clerk)  # pickup, line check, message
    note_write(customer=scene.zoe, order=None, author=alice, body="prefers e-mail")
    note_write(customer=scene.zoe, order=web, author=alice, body="asked about the lamp")
    flag = Flag.objects.create(order=web, code=Flag.Code.PROMISE_MISSED, detail="promised yesterday")
    flag_take(flag, by=alice)
    closed = Flag.objects.create(order=scene.pos_order, code=Flag.Code.PAYMENT_MISMATCH, detail="captured 0")
    flag_take(closed, by=alice)
    flag_resolve(closed, by=boss, reason="refunded by hand")
    CustomerMessage.objects.create(
        flag=flag, order=web, to="zoe.muller@example.com", subject="s", body="b", sent_by=alice
    )
    Interaction.objects.create(customer=scene.zoe, order=web, author=alice, kind=Interaction.Kind.IDENTITY_VERIFIED)
    Handover.objects.create(order=scene.uptown_order, clerk=clerk, collected_by="", refused=True, refusal_reason="no")
    AccessLog.objects.create(user=alice, username=alice.username, action=AccessLog.Action.CUSTOMER)
    CustomerMerge.objects.create(
        survivor=scene.zoe, merged_customer_id=999, key="manual", source=scene.sources["shopify"], by=boss
    )
    CustomerMerge.objects.filter(merged_customer_id=999).update(reversed_by=boss)
    for name, decision in (("Zoe M.", CustomerLink.Decision.OPEN), ("Z. Muller", CustomerLink.Decision.REJECTED)):
        other = Customer.objects.create(name=name, phone=scene.zoe.phone)
        CustomerLink.objects.create(
            customer=scene.zoe, other=other, key=f"phone:{scene.zoe.phone}", source=scene.sources["shopify"],
            decision=decision, decided_by=boss,
        )  # fmt: skip
    picking = Picking.objects.create(
        source=scene.sources["odoo"], external_id="7", order=web, name="WH/OUT/7", location=scene.downtown
    )
    PickingLine.objects.create(source=scene.sources["odoo"], external_id="70", picking=picking, sku="HOM-0203-WHI")
    Return.objects.create(  # a Square return order's return: waits for its sale when it lands first
        source=scene.sources["square"], external_id="RETURN_ORDER_1:ret-1", order=scene.pos_order,
        order_external_id="SALE_1", status=Return.Status.REFUNDED, line_skus=["HOM-0203-WHI"], amount=5,
    )  # fmt: skip
    run = SyncRun.objects.create(source=scene.sources["shopify"])
    raw = RawRecord.objects.create(
        source=scene.sources["shopify"], stream="orders", external_id="1", content_hash="h", payload="{}"
    )
    DeadLetter.objects.create(
        source=scene.sources["shopify"], sync_run=run, raw_record=raw, stream="orders", reason="bad", payload={}
    )
    WebhookDelivery.objects.create(
        source=scene.sources["shopify"], event_id="e1", topic="orders/updated", raw_record=raw
    )
    return scene, boss, clerk


def _pages(client, scene, boss, clerk, model) -> dict[str, int]:
    """Status of every staff page and the model's admin pages, as supervisor and as clerk."""
    statuses = {}
    orders = list(Order.objects.values_list("pk", "customer_id"))
    for user in (boss, clerk):
        client.force_login(user)
        for pk, customer_id in orders:
            statuses[f"{user} order {pk}"] = client.get(reverse("order", args=[pk]), follow=True).status_code
            if customer_id:
                url = reverse("customer_order", args=[customer_id, pk])
                statuses[f"{user} customer {customer_id}"] = client.get(
                    reverse("customer", args=[customer_id])
                ).status_code
                statuses[f"{user} pane {pk}"] = client.get(url, headers={"HX-Request": "true"}).status_code
            statuses[f"{user} pickup {pk}"] = client.get(reverse("pickup_order", args=["downtown", pk])).status_code
        for name, url in [
            ("worklist", reverse("worklist")),
            ("board", reverse("pickup_board", args=["downtown"])),
            ("health", reverse("health")),
        ]:
            statuses[f"{user} {name}"] = client.get(url).status_code
        statuses[f"{user} search"] = client.post("/", {"q": "zoe"}).status_code
    client.force_login(boss)
    if model not in site._registry:
        return statuses
    admin = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    statuses["admin list"] = client.get(reverse(f"{admin}_changelist")).status_code
    for pk in model.objects.values_list("pk", flat=True):
        statuses[f"admin {pk}"] = client.get(reverse(f"{admin}_change", args=[pk])).status_code
    return statuses


@pytest.mark.parametrize(("label", "field"), nullable_relations())
def test_every_page_renders_with_the_relation_empty(client, monkeypatch, label, field):
    scene, boss, clerk = _world(monkeypatch)
    model = apps.get_model(label)
    emptied = _empty(model, field)

    statuses = _pages(client, scene, boss, clerk, model)

    assert {name: status for name, status in statuses.items() if status >= 500} == {}
    assert emptied >= 1


def _empty(model, field: str) -> int:
    """Empty the relation on every row the database allows it on (a note keeps a customer or an order)."""
    emptied = 0
    for pk in model.objects.values_list("pk", flat=True):
        try:
            with transaction.atomic():
                emptied += model.objects.filter(pk=pk).update(**{field: None})
        except IntegrityError:
            continue
    return emptied


def test_the_walk_covers_a_note_without_an_order_and_every_model_has_a_row(monkeypatch):
    """The customer-screen crash of a note on the customer alone is one of the walked relations."""
    _world(monkeypatch)

    assert ("orders.Note", "order") in nullable_relations()
    empty = [label for label, _ in nullable_relations() if not apps.get_model(label).objects.exists()]
    assert empty == []
    assert StockLevel.objects.exclude(location=None).exists()
