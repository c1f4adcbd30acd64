"""One person, several customers: merged when trusted evidence appears, reversible by a supervisor.

Trusted evidence is a loyalty id, a key both systems vouch for (a verified storefront e-mail,
a POS customer record's e-mail and phone), or e-mail and phone agreeing; one unverified key
(a CRM contact's e-mail) is only a suggestion (tests/orders/catalogue/test_customer_links.py).
"""

from __future__ import annotations

import pytest

from integrations.records import CustomerRecord
from orders.catalogue.merges import customer_merge, customer_merge_reverse
from orders.ingest import ingest
from orders.models import Customer, CustomerIdentity, CustomerMerge, Order, TimelineEvent
from tests.factories import SourceFactory, supervisor


@pytest.fixture
def sources(db):
    return (
        SourceFactory(name="shopify", kind="storefront", adapter="shopify"),
        SourceFactory(name="square", kind="pos", adapter="square"),
        SourceFactory(name="hubspot", kind="crm", adapter="hubspot"),
    )


def land(source, *records):
    from django.utils import timezone

    return ingest(source=source, records=list(records), synced_at=timezone.now())


def ann_at_the_till(pos, external_id: str, name: str = "Ann Lee", phone: str = "+12125554240"):
    """Ann gives her e-mail and phone at the till: a POS record vouching for both keys."""
    land(pos, CustomerRecord(external_id=external_id, name=name, emails=["ann@example.com"], phones=[phone],
                             verified=["email", "phone"]))  # fmt: skip


def test_an_identity_carrying_both_keys_merges_the_two_customers(sources):
    shop, pos, crm = sources
    land(shop, CustomerRecord(external_id="c1", name="Ann Lee", emails=["Ann@Example.com"], verified=["email"]))
    land(pos, CustomerRecord(external_id="s1", name="Ann Lee", phones=["(212) 555-4240"], verified=["phone"]))
    assert Customer.objects.count() == 2
    web_customer = CustomerIdentity.objects.get(source=shop).customer_id
    order = Order.objects.create(number="#1", customer_id=CustomerIdentity.objects.get(external_id="s1").customer_id)

    ann_at_the_till(pos, "s2", phone="+1-212-555-4240")

    customer = Customer.objects.get()
    assert customer.pk == web_customer
    assert set(customer.identities.values_list("external_id", flat=True)) == {"c1", "s1", "s2"}
    order.refresh_from_db()
    assert order.customer_id == customer.pk
    merge = CustomerMerge.objects.get()
    assert (merge.key, merge.source.name, merge.by, merge.merged_snapshot["name"]) == (
        "phone:+12125554240",
        "square",
        None,
        "Ann Lee",
    )
    assert TimelineEvent.objects.get(kind="customers_merged").customer_id == customer.pk


def test_a_supervisor_reverses_a_merge_and_it_is_not_redone(sources):
    shop, pos, crm = sources
    land(shop, CustomerRecord(external_id="c1", name="Ann Lee", emails=["ann@example.com"], verified=["email"]))
    land(pos, CustomerRecord(external_id="s1", name="Ann B. Lee", phones=["+12125554240"], verified=["phone"]))
    pos_customer = CustomerIdentity.objects.get(external_id="s1").customer_id
    order = Order.objects.create(number="#1", customer_id=pos_customer)
    ann_at_the_till(pos, "s2")
    merge = CustomerMerge.objects.get()
    boss = supervisor()

    restored = customer_merge_reverse(merge=merge, by=boss)

    assert restored.pk == pos_customer
    assert (restored.name, restored.phone) == ("Ann B. Lee", "+12125554240")
    assert CustomerIdentity.objects.get(external_id="s1").customer_id == pos_customer
    order.refresh_from_db()
    assert order.customer_id == pos_customer
    merge.refresh_from_db()
    assert (merge.reversed_by, merge.reversed_at is not None) == (boss, True)
    # Another record linking the two: they stay apart now.
    ann_at_the_till(pos, "s3", name="A. Lee")
    assert Customer.objects.count() == 2
    assert CustomerMerge.objects.count() == 1
    with pytest.raises(ValueError, match="already reversed"):
        customer_merge_reverse(merge=merge, by=boss)


def test_a_manual_merge_is_recorded_with_who_did_it(db):
    a, b = Customer.objects.create(name="A"), Customer.objects.create(name="B")
    Order.objects.create(number="#9", customer=b)
    boss = supervisor()

    (merge,) = customer_merge(survivor_id=a.pk, merged_ids=[b.pk], key="manual", by=boss)

    assert (merge.by, merge.key, merge.moved["orders"] != []) == (boss, "manual", True)
    assert list(Customer.objects.values_list("pk", flat=True)) == [a.pk]
    assert Order.objects.get().customer_id == a.pk


def test_the_admin_reverse_action_needs_the_permission(client, sources):
    from tests.factories import agent

    shop, pos, crm = sources
    land(shop, CustomerRecord(external_id="c1", name="Ann", emails=["ann@example.com"], verified=["email"]))
    land(pos, CustomerRecord(external_id="s1", name="Ann", phones=["+12125554240"], verified=["phone"]))
    ann_at_the_till(pos, "s2", name="Ann")
    merge = CustomerMerge.objects.get()
    client.force_login(agent())

    response = client.post("/admin/orders/customermerge/", {"action": "reverse", "_selected_action": [merge.pk]})

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    merge.refresh_from_db()
    assert merge.reversed_at is None
    assert Customer.objects.count() == 1

    client.force_login(supervisor())
    response = client.post("/admin/orders/customermerge/", {"action": "reverse", "_selected_action": [merge.pk]})

    assert response.status_code == 302
    merge.refresh_from_db()
    assert merge.reversed_at is not None
    assert Customer.objects.count() == 2
