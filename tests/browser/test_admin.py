"""The supervisor's admin in real Chromium on the synced sandbox: the sources, the orders and one story order.

Django's own admin templates are not held to the axe walk of test_every_screen; this test checks what the pages
show and takes their pictures for docs/screenshots (``make screenshots``)."""

from __future__ import annotations

import pytest

from integrations.models import Source
from orders.models import Order

from .conftest import login
from .test_answer_card import story_orders

pytestmark = pytest.mark.browser


def test_a_supervisor_sees_the_sources_the_orders_and_a_story_order(browser, live_server, sandbox, synced, screenshots):
    order = story_orders(sandbox.world)["stuck_shipment"]  # a parcel with no scan for days: shipment and flag inlines
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    login(page, live_server, "supervisor", "omnidesk-supervisor")

    page.goto(f"{live_server.url}/admin/integrations/source/")
    assert page.locator("#content h1").inner_text() == "Select source to change"
    rows = page.locator("#result_list tbody tr")
    names = sorted(Source.objects.values_list("name", flat=True))
    assert len(names) == 5
    shown = [
        (row.locator(".field-name").inner_text(), row.locator(".field-health_badge").inner_text()) for row in rows.all()
    ]
    assert shown == [(name, "Healthy") for name in names]
    if screenshots:
        page.screenshot(path=screenshots / "admin-sources.png")

    page.goto(f"{live_server.url}/admin/orders/order/")
    assert page.locator("#content h1").inner_text() == "Select order to view"
    newest = Order.objects.order_by("-placed_at", "-id")[:3]
    shown = page.locator("#result_list tbody tr th.field-number").all_inner_texts()[:3]
    assert shown == [o.number for o in newest]
    if screenshots:
        page.screenshot(path=screenshots / "admin-orders.png")

    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    assert page.locator("#content h1").inner_text() == "View order"
    assert page.locator("#content h2").first.inner_text() == str(order)
    assert page.locator(".field-customer .readonly").inner_text() == order.customer.name
    tracking = order.shipments.values_list("tracking_number", flat=True)
    shipments = page.locator("td.field-tracking_number").all_inner_texts()
    assert tracking and sorted(shipments) == sorted(tracking)
    if screenshots:
        page.screenshot(path=screenshots / "admin-order.png")
    context.close()
