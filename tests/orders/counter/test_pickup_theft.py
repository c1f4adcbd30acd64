"""The pickup theft of the security review (finding 1), after the merge: no step of it works any more.

The attacker placed a guest order with their own e-mail and the victim's phone; the
victim's customer was merged into theirs. Since then the victim's "ready for pickup"
e-mail went to the attacker, and the attacker's own e-mail was accepted at the counter
under any name. Now the message goes to the contact on the order and the counter wants
the name on the order with the order's number, or a photo ID showing that name.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from orders.catalogue.merges import customer_merge
from orders.counter.services import IdentityCheck, PickupError, pickup_handover, pickup_line_check
from orders.models import Customer, Handover, Lifecycle, Order
from tests.factories import CustomerFactory, clerk_of
from tests.orders import scene as scenes

pytestmark = pytest.mark.django_db

MALLORY = "mallory@evil.example"


@pytest.fixture
def theft(monkeypatch):
    monkeypatch.setattr("orders.counter.outbox._push_dispatch", lambda push_id: None)
    scene = scenes.build()
    scene.web_order.shipments.all().delete()
    Order.objects.filter(pk=scene.web_order.pk).update(
        status=Lifecycle.PAID, promised_by=timezone.now() + timedelta(hours=2)
    )
    mallory = CustomerFactory(name="Mallory Evil", email=MALLORY, phone=scene.zoe.phone)
    Customer.objects.filter(pk=mallory.pk).update(created_at=scene.zoe.created_at - timedelta(days=1))
    customer_merge(survivor_id=mallory.pk, merged_ids=[scene.zoe.pk], key=f"phone:{scene.zoe.phone}")
    scene.web_order.refresh_from_db()
    assert scene.web_order.customer_id == mallory.pk  # the merge happened: Zoë's order is on Mallory's record
    return scene


def test_the_ready_email_goes_to_the_contact_on_the_order_not_to_the_merged_customer(
    theft, django_capture_on_commit_callbacks
):
    clerk = clerk_of(theft.downtown, "dana.downtown")

    with django_capture_on_commit_callbacks(execute=True):
        pickup_line_check(order=theft.web_order, line=theft.web_order.lines.get(), state="picked", by=clerk)

    assert [m.to for m in mail.outbox] == [["zoe.muller@example.com"]]


@pytest.mark.parametrize(
    "check",
    [
        IdentityCheck("Mallory Evil", "email", MALLORY),  # the attacker's own e-mail, now on the customer
        IdentityCheck("Mallory Evil", "phone_last4", "0147"),  # the victim's phone, which the attacker knows
        IdentityCheck("Mallory Evil", "id_seen", "yes"),  # a real ID, with another name
        IdentityCheck("Mallory Evil", "order_number", "#1001"),  # even with the number: the name is compared
        IdentityCheck("Zoë Müller", "email", MALLORY),  # the victim's name and an e-mail: no proof
        IdentityCheck("Zoë Müller", "order_number", "#1002"),
    ],
)
def test_the_attacker_cannot_collect_the_victims_order(theft, check):
    clerk = clerk_of(theft.downtown, "dana.downtown")
    pickup_line_check(order=theft.web_order, line=theft.web_order.lines.get(), state="picked", by=clerk)

    with pytest.raises(PickupError, match="identity not confirmed"):
        pickup_handover(order=theft.web_order, by=clerk, check=check)

    assert Handover.objects.count() == 0


def test_the_victim_collects_with_the_name_on_the_order_and_its_number(theft):
    clerk = clerk_of(theft.downtown, "dana.downtown")
    pickup_line_check(order=theft.web_order, line=theft.web_order.lines.get(), state="picked", by=clerk)

    handover = pickup_handover(
        order=theft.web_order, by=clerk, check=IdentityCheck("zoe muller", "order_number", "1001")
    )

    assert (handover.collected_by, handover.id_check) == ("zoe muller", "order_number")


def test_an_order_synced_before_its_name_was_kept_is_not_collected_under_a_merged_customers_name(theft):
    Order.objects.filter(pk=theft.web_order.pk).update(contact_name="")
    theft.web_order.refresh_from_db()
    clerk = clerk_of(theft.downtown, "dana.downtown")
    pickup_line_check(order=theft.web_order, line=theft.web_order.lines.get(), state="picked", by=clerk)

    with pytest.raises(PickupError, match="identity not confirmed"):
        pickup_handover(order=theft.web_order, by=clerk, check=IdentityCheck("Mallory Evil", "id_seen", "yes"))
