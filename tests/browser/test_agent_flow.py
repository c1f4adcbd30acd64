"""The agent's flow in real Chromium on the synced sandbox: search by every identifier kind, open the
customer, switch orders in place, verify identity, add a note. No console or CSP errors along the way."""

from __future__ import annotations

import phonenumbers
import pytest

from orders.models import Order, Payment, Shipment
from tests.browser.conftest import login

# serialized_rollback: the flush after each live-server test must not take the roles (migration data) with it.
pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _person_with_web_and_store_orders(truth) -> tuple[dict, dict, dict]:
    """A customer known to the storefront, the ERP and the POS, with a web order and an in-store sale."""
    people = {p["person_id"]: p for p in truth["people"]}
    by_person: dict[int, list[dict]] = {}
    for order in truth["orders"]:
        by_person.setdefault(order["person_id"], []).append(order)
    for person_id, orders in sorted(by_person.items(), key=lambda item: str(item[0])):
        web = [o for o in orders if "shopify" in o["systems"] and "odoo" in o["systems"]]
        pos = [
            o for o in orders if o["channel"] == "store" and "square" in o["systems"] and "shopify" not in o["systems"]
        ]
        person = people.get(person_id)
        if web and pos and person and person["phone"] and person["loyalty_id"] and person["email"]:
            return person, web[0], pos[0]
    raise AssertionError("the sandbox world has no customer with both a web order and an in-store sale")


def _search(page, live_server, text: str) -> None:
    page.goto(f"{live_server.url}/")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'q'")  # focused on load
    page.fill("#q", text)
    page.wait_for_selector(f'#results [data-q="{" ".join(text.split())}"]')


def _open_with_enter(page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _pane_number(page) -> str:
    return page.inner_text("#order-pane h2").split()[1]


def test_every_identifier_kind_opens_the_right_screen(page, live_server, synced):
    person, web, pos = _person_with_web_and_store_orders(synced)
    web_order = Order.objects.get(number=web["number"])
    shipment = Shipment.objects.filter(order__isnull=False).exclude(tracking_number="").select_related("order").first()
    receipt = (
        Payment.objects.filter(order__isnull=False).exclude(receipt_number="").select_related("order").order_by("id")
    )
    receipt = next(p for p in receipt if Payment.objects.filter(receipt_number=p.receipt_number).count() == 1)
    card = (
        Payment.objects.filter(order=web_order).exclude(card_last4="").first()
        or Payment.objects.filter(order__customer__isnull=False)
        .exclude(card_last4="")
        .select_related("order__customer")
        .first()
    )
    phone = phonenumbers.format_number(
        phonenumbers.parse(person["phone"], "US"), phonenumbers.PhoneNumberFormat.NATIONAL
    )
    login(page, live_server, "agent", "omnidesk-agent")

    orders = [
        ("storefront number", web["number"], web["number"]),
        ("number without #", web["number"].lstrip("#"), web["number"]),
        ("ERP name", web["systems"]["odoo"]["number"], web["number"]),
        ("POS order id", pos["systems"]["square"]["external_id"], pos["number"]),
        ("tracking number", shipment.tracking_number, shipment.order.number),
        ("receipt number", receipt.receipt_number, receipt.order.number),
    ]
    for kind, text, number in orders:
        _search(page, live_server, text)
        _open_with_enter(page)
        assert _pane_number(page) == number, kind

    people = [
        ("e-mail", person["email"].upper()),
        ("phone", phone),
        ("loyalty id", person["loyalty_id"]),
    ]
    for kind, text in people:
        _search(page, live_server, text)
        _open_with_enter(page)
        assert page.inner_text("#customer-name") == person["name"], kind

    typo = person["name"][:-1]  # the last letter lost on a bad line
    _search(page, live_server, typo)
    names = page.locator("#results .hit-title").all_inner_texts()
    assert person["name"] in names
    for _ in range(names.index(person["name"]) + 1):
        page.keyboard.press("ArrowDown")
    _open_with_enter(page)
    assert page.inner_text("#customer-name") == person["name"]

    card_text = f"{card.card_last4} {card.order.customer.name}"
    _search(page, live_server, card_text)
    assert card.order.number in page.inner_text("#results")

    assert page.problems == []


def test_open_a_customer_switch_orders_verify_and_add_a_note(page, live_server, synced, screenshots):
    person, web, pos = _person_with_web_and_store_orders(synced)
    login(page, live_server, "agent", "omnidesk-agent")
    _search(page, live_server, person["email"])
    if screenshots:
        page.screenshot(path=screenshots / "agent-search.png", full_page=True)
    _open_with_enter(page)
    page.evaluate("window.omnideskMarker = 42")  # survives only if the page is never reloaded

    page.click(f'#orders-table a:text-is("{pos["number"]}")')
    page.wait_for_function("n => document.querySelector('#order-pane h2').textContent.includes(n)", arg=pos["number"])
    pos_order = Order.objects.get(number=pos["number"])
    assert page.url.endswith(f"/customers/{pos_order.customer_id}/orders/{pos_order.pk}/")
    assert page.evaluate("window.omnideskMarker") == 42
    assert page.inner_text("#orders-table tr.selected td:first-child") == pos["number"]

    page.click(f'#orders-table a:text-is("{web["number"]}")')
    page.wait_for_function("n => document.querySelector('#order-pane h2').textContent.includes(n)", arg=web["number"])
    assert "odoo" in page.inner_text("#order-pane .presence")

    page.fill("#id_method", "order number + zip code")
    page.click("#verified button")
    page.wait_for_selector("#verified .ok")
    assert "No need to ask again." in page.inner_text("#verified")

    page.fill("#id_body", "card is 4111 1111 1111 1111")
    page.click("#notes button")
    page.wait_for_selector("#note-error")
    assert page.inner_text("#note-error").startswith("This looks like a card number.")

    page.fill("#id_body", "Customer asked to hold the parcel at the depot")
    page.click("#notes button")
    page.wait_for_selector("#notes .note-list li:has-text('hold the parcel')")
    page.wait_for_selector("#timeline li:has-text('hold the parcel')")
    assert page.evaluate("window.omnideskMarker") == 42
    assert page.input_value("#id_body") == ""
    if screenshots:
        page.screenshot(path=screenshots / "agent-customer.png", full_page=True)

    page.go_back()  # the previous order, from the browser's history
    page.wait_for_function("n => document.querySelector('#order-pane h2').textContent.includes(n)", arg=pos["number"])
    refused_note = "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    assert page.problems == [refused_note]  # the card-number note; no CSP violation, no script error
