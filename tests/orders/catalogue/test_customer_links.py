"""Identity trust (security review, finding 1): only trusted evidence links customers on its own.

A loyalty id, a key both systems vouch for (a verified storefront account's e-mail, a POS
customer record's e-mail and phone), or e-mail and phone agreeing link customers automatically.
One unverified key (a guest order's phone, a CRM contact's e-mail) is a suggested link that a
supervisor, or an agent with the verified caller on the line, settles on the customer's screen.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.adapters.square_mapping import map_customer
from integrations.records import CustomerRecord, UpstreamOrder
from orders.ingest import ingest
from orders.models import Customer, CustomerIdentity, CustomerLink, CustomerMerge, Order
from tests.factories import SourceFactory, StoreFactory, agent, clerk_of, supervisor
from tests.vendor_fixtures import load

pytestmark = pytest.mark.django_db

ZOE_PHONE = "+12125550147"
MALLORY = "mallory@evil.example"


@pytest.fixture
def systems(db):
    return {
        "shop": SourceFactory(name="shopify", kind="storefront", adapter="shopify"),
        "pos": SourceFactory(name="square", kind="pos", adapter="square"),
        "crm": SourceFactory(name="hubspot", kind="crm", adapter="hubspot"),
    }


def land(source, *records):
    return ingest(source=source, records=list(records), synced_at=timezone.now())


def guest_order(external_id: str, number: str, *, email: str = "", phone: str = "", name: str = "") -> UpstreamOrder:
    return UpstreamOrder(
        external_id=external_id, number=number, status="paid", total=Decimal("80.00"), email=email, phone=phone,
        customer_name=name, placed_at=timezone.now(), updated_at=timezone.now(),
    )  # fmt: skip


def customer_of(source, external_id: str) -> int:
    return CustomerIdentity.objects.get(source=source, external_id=external_id).customer_id


def order_customer(number: str) -> int | None:
    return Order.objects.get(number=number).customer_id


def test_the_attackers_guest_order_merges_nobody_and_only_suggests(systems):
    """The review's attack: a guest order with the attacker's e-mail and the victim's phone."""
    land(systems["pos"], CustomerRecord(external_id="zoe", name="Zoë Müller", emails=["zoe.muller@example.com"],
                                        phones=[ZOE_PHONE], verified=["email", "phone"]))  # fmt: skip
    land(systems["shop"], CustomerRecord(external_id="mal", name="Mallory Evil", emails=[MALLORY], verified=["email"]))
    zoe, mallory = customer_of(systems["pos"], "zoe"), customer_of(systems["shop"], "mal")

    land(systems["shop"], guest_order("g1", "#2001", email=MALLORY, phone="(212) 555-0147", name="Zoe Muller"))

    assert CustomerMerge.objects.count() == 0
    assert Customer.objects.filter(pk__in=[zoe, mallory]).count() == 2
    attackers = order_customer("#2001")
    assert attackers not in (zoe, mallory)
    assert set(Customer.objects.values_list("pk", flat=True)) == {zoe, mallory, attackers}
    suggested = {(link.customer_id, link.other_id, link.key) for link in CustomerLink.objects.all()}
    assert suggested == {
        (min(zoe, attackers), max(zoe, attackers), f"phone:{ZOE_PHONE}"),
        (min(mallory, attackers), max(mallory, attackers), f"email:{MALLORY}"),
    }
    # Zoë's records and orders stay hers alone.
    assert set(CustomerIdentity.objects.filter(customer_id=zoe).values_list("external_id", flat=True)) == {"zoe"}


def test_a_key_both_systems_vouch_for_links_and_e_mail_with_phone_links(systems):
    land(
        systems["shop"],
        CustomerRecord(external_id="c1", name="Ann Lee", emails=["Ann@Example.com"], verified=["email"]),
    )
    land(
        systems["pos"], CustomerRecord(external_id="s1", name="Ann Lee", emails=["ann@example.com"], verified=["email"])
    )
    ann = customer_of(systems["shop"], "c1")
    assert customer_of(systems["pos"], "s1") == ann  # verified account e-mail = POS record e-mail

    land(
        systems["crm"], CustomerRecord(external_id="h1", name="Ann", emails=["ann@example.com"], phones=["2125554240"])
    )
    land(systems["shop"], guest_order("g1", "#3001", email="ANN@example.com", phone="+1 212 555 4240"))

    assert customer_of(systems["crm"], "h1") != ann  # the CRM's e-mail alone: a suggestion only
    crm = customer_of(systems["crm"], "h1")
    assert order_customer("#3001") == crm  # e-mail and phone agree with the CRM contact
    assert CustomerLink.objects.filter(key="email:ann@example.com").count() == 1
    assert CustomerMerge.objects.count() == 0


def test_a_loyalty_id_links_whatever_the_system(systems):
    land(systems["crm"], CustomerRecord(external_id="h1", name="Ann", emails=["a@example.com"], loyalty_id="LY123"))
    land(systems["shop"], CustomerRecord(external_id="c1", name="Ann", emails=["b@example.com"], loyalty_id="LY123"))

    assert customer_of(systems["crm"], "h1") == customer_of(systems["shop"], "c1")
    assert CustomerLink.objects.count() == 0


def test_a_guest_order_synced_again_keeps_its_customer(systems):
    land(systems["shop"], guest_order("g1", "#4001", email="solo@example.com"))
    first = order_customer("#4001")
    record = guest_order("g1", "#4001", email="solo@example.com")
    land(systems["shop"], record.model_copy(update={"status": "cancelled", "updated_at": timezone.now()}))

    assert order_customer("#4001") == first
    assert Customer.objects.count() == 1


def square_profile(customer_id: str, given: str, family: str, creation_source: str, **fields) -> CustomerRecord:
    """A Square customer as the API returns it (Square's own example), mapped."""
    payload = load("square", "customer_retrieve_response")["customer"]
    for key in ("reference_id", "email_address", "phone_number"):
        payload.pop(key)
    payload.update(id=customer_id, given_name=given, family_name=family, creation_source=creation_source, **fields)
    return map_customer(payload)


def test_a_household_phone_vouched_twice_only_suggests(systems):
    """Review 3: a landline is a household's; two people on it are one only by a supervisor's word."""
    land(systems["pos"], square_profile("SQ1", "Amelia", "Earhart", "DIRECTORY", email_address="amelia@example.com",
                                        phone_number="+1-212-555-4240"))  # fmt: skip
    land(systems["pos"], square_profile("SQ2", "George", "Putnam", "DIRECTORY", phone_number="+12125554240"))
    # The same name on the same phone and no other e-mail: one person.
    land(systems["pos"], square_profile("SQ3", "A.", "Earhart", "DIRECTORY", phone_number="212 555 4240"))

    amelia, george = customer_of(systems["pos"], "SQ1"), customer_of(systems["pos"], "SQ2")
    assert amelia != george  # clearly another name
    assert customer_of(systems["pos"], "SQ3") == amelia
    assert CustomerMerge.objects.count() == 0
    assert list(CustomerLink.objects.values_list("customer_id", "other_id", "key")) == [
        (min(amelia, george), max(amelia, george), "phone:+12125554240")
    ]

    # Another e-mail on the phone is another customer; a record naming neither e-mail then joins nobody.
    land(systems["pos"], square_profile("SQ4", "Amelia", "Earhart", "DIRECTORY", email_address="ae@work.example",
                                        phone_number="(212) 555-4240"))  # fmt: skip
    work = customer_of(systems["pos"], "SQ4")
    land(systems["pos"], square_profile("SQ5", "Amelia", "Earhart", "DIRECTORY", phone_number="+12125554240"))

    assert work not in (amelia, george)
    assert customer_of(systems["pos"], "SQ5") not in (amelia, george, work)
    assert CustomerMerge.objects.count() == 0
    assert set(CustomerLink.objects.values_list("key", flat=True)) == {"phone:+12125554240"}


@pytest.mark.parametrize(
    ("creation_source", "fields", "linked"),
    [
        ("DIRECTORY", {"email_address": "Ann.Lee@example.com"}, True),  # the e-mail both vouch for
        ("EMAIL_COLLECTION", {"email_address": "ann.lee@example.com"}, True),
        ("THIRD_PARTY", {"email_address": "ann.lee@example.com", "reference_id": "LY42"}, True),  # the loyalty id
        ("THIRD_PARTY", {"email_address": "ann.lee@example.com", "phone_number": "+1 212 555 0199"}, True),  # both
        ("THIRD_PARTY", {"email_address": "ann.lee@example.com"}, False),  # one weak key: a suggestion
        ("IMPORT", {"email_address": "ann.lee@example.com"}, False),
        ("INSTANT_PROFILE", {"email_address": "ann.lee@example.com"}, False),
        ("LOYALTY", {"email_address": "ann.lee@example.com"}, False),  # LOYALTY vouches for the phone only
    ],
)
def test_a_square_profile_links_to_the_web_account_on_trusted_evidence_only(systems, creation_source, fields, linked):
    """S13: the in-store buyer is the web customer on a verified e-mail, a loyalty id, or e-mail and phone."""
    land(systems["shop"], CustomerRecord(external_id="web", name="Ann Lee", emails=["ann.lee@example.com"],
                                         phones=["+12125550199"], loyalty_id="LY42", verified=["email"]))  # fmt: skip
    land(systems["pos"], square_profile("SQ", "Ann", "Lee", creation_source, **fields))

    assert (customer_of(systems["pos"], "SQ") == customer_of(systems["shop"], "web")) is linked
    assert CustomerLink.objects.count() == (0 if linked else 1)
    assert CustomerMerge.objects.count() == 0


@pytest.fixture
def suggested(systems):
    land(systems["pos"], CustomerRecord(external_id="zoe", name="Zoë Müller", emails=["zoe.muller@example.com"],
                                        phones=[ZOE_PHONE], verified=["email", "phone"]))  # fmt: skip
    land(systems["shop"], guest_order("g1", "#2001", email="zoe.m@other.example", phone=ZOE_PHONE, name="Zoe"))
    zoe = Customer.objects.get(pk=customer_of(systems["pos"], "zoe"))
    guest = Customer.objects.get(pk=order_customer("#2001"))
    assert zoe != guest
    return zoe, guest, CustomerLink.objects.get()


def test_the_screen_shows_the_suggestion_and_an_agent_settles_it_only_with_the_caller_verified(client, suggested):
    zoe, guest, link = suggested
    client.force_login(agent())

    page = client.get(f"/customers/{zoe.pk}/").content.decode()
    assert "maybe also 1 other customer" in page
    assert f"same phone {ZOE_PHONE}" in page
    assert "verify the caller to settle it" in page
    assert 'value="same"' not in page
    response = client.post(f"/customers/{zoe.pk}/links/{link.pk}/", {"decision": "same"})
    assert response.status_code == 403
    assert CustomerMerge.objects.count() == 0

    client.post(f"/customers/{zoe.pk}/verified/", {"method": "date of birth and postcode"})
    assert 'value="same"' in client.get(f"/customers/{zoe.pk}/").content.decode()
    response = client.post(f"/customers/{zoe.pk}/links/{link.pk}/", {"decision": "same"})

    assert response.status_code == 302 and response["Location"] == f"/customers/{min(zoe.pk, guest.pk)}/"
    merge = CustomerMerge.objects.get()
    assert (merge.key, merge.by.username) == (f"confirmed phone:{ZOE_PHONE}", "alice.agent")
    assert order_customer("#2001") == min(zoe.pk, guest.pk)
    assert not CustomerLink.objects.exists()


def test_not_the_same_person_is_never_suggested_or_merged_again(client, systems, suggested):
    zoe, guest, link = suggested
    boss = supervisor()
    client.force_login(boss)

    response = client.post(f"/customers/{guest.pk}/links/{link.pk}/", {"decision": "different"})

    assert response.status_code == 302 and response["Location"] == f"/customers/{guest.pk}/"
    link.refresh_from_db()
    assert (link.decision, link.decided_by) == (CustomerLink.Decision.REJECTED, boss)
    assert "maybe also" not in client.get(f"/customers/{zoe.pk}/").content.decode()
    # Even trusted evidence later never folds them together: a supervisor said they are two people.
    land(systems["shop"], guest_order("g2", "#2002", email="zoe.m@other.example", phone=ZOE_PHONE))
    land(systems["pos"], CustomerRecord(external_id="zoe2", name="Zoë", emails=["zoe.m@other.example"],
                                        phones=[ZOE_PHONE], verified=["email", "phone"]))  # fmt: skip
    assert Customer.objects.filter(pk__in=[zoe.pk, guest.pk]).count() == 2
    assert CustomerMerge.objects.count() == 0
    assert CustomerLink.objects.filter(decision=CustomerLink.Decision.OPEN).count() == 0
    response = client.post(f"/customers/{guest.pk}/links/{link.pk}/", {"decision": "same"})
    assert response.status_code == 404  # settled: no longer on the screen


def test_store_staff_see_no_suggestion(client, suggested):
    zoe, guest, link = suggested
    store = StoreFactory(code="downtown")
    Order.objects.filter(customer=zoe).update(store=store)
    Order.objects.create(number="#S1", customer=zoe, store=store)
    client.force_login(clerk_of(store, "dana"))

    page = client.get(f"/customers/{zoe.pk}/")

    assert page.status_code == 200
    assert "maybe also" not in page.content.decode()
    assert client.post(f"/customers/{zoe.pk}/links/{link.pk}/", {"decision": "same"}).status_code == 404


def test_the_admin_settles_suggestions_with_the_permission_only(client, suggested):
    zoe, guest, link = suggested
    client.force_login(agent())
    response = client.post("/admin/orders/customerlink/", {"action": "same_person", "_selected_action": [link.pk]})
    assert CustomerMerge.objects.count() == 0

    client.force_login(supervisor())
    response = client.post("/admin/orders/customerlink/", {"action": "same_person", "_selected_action": [link.pk]})

    assert response.status_code == 302
    assert CustomerMerge.objects.get().key == f"confirmed phone:{ZOE_PHONE}"
