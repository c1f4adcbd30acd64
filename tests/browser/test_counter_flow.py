"""The clerk's flow at the counter in real Chromium on the synced sandbox: prepare line by line, mark one
line missing (the agent sees the shortfall), hand over another order. No console or CSP errors."""

from __future__ import annotations

import pytest
from django.db.models import Exists, OuterRef

from orders.counter.services import order_name
from orders.models import Flag, Handover, Order, Pickup, PickupPush
from tests.browser.conftest import login

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _open_pickups(count: int) -> list[Order]:
    """Pickups at Downtown with a customer and lines, not yet collected upstream, with no open flag.

    (``exclude(flags__closed_at__isnull=True)`` also left out every order without any flag, open or closed.)
    """
    open_flag = Flag.objects.filter(order=OuterRef("pk"), closed_at__isnull=True)
    orders = (
        Order.objects.filter(store__code="downtown", fulfilment="pickup", customer__isnull=False, lines__isnull=False)
        .exclude(status__in=["collected", "cancelled", "returned", "refunded"])
        .exclude(Exists(open_flag))
        .distinct()
        .order_by("id")
    )
    found = list(orders[:count])
    assert len(found) == count
    return found


def test_a_clerk_prepares_marks_missing_and_hands_over(page, browser, live_server, synced, screenshots):
    short, whole = _open_pickups(2)
    login(page, live_server, "clerk", "omnidesk-clerk")
    assert page.url == f"{live_server.url}/stores/downtown/pickups/"  # a clerk lands on their store's board
    page.set_viewport_size({"width": 1024, "height": 768})
    page.click("nav >> text=Pickups")
    page.wait_for_selector(f'#board [data-order="{short.number}"]')
    if screenshots:
        page.screenshot(path=str(screenshots / "pickup-board.png"))

    # the first order: the first line picked, the second marked missing
    page.click(f'#board [data-order="{short.number}"]')
    lines = page.locator(".check-line")
    lines.nth(0).locator("button[value=picked]").click()
    page.wait_for_selector(".check-line.state-picked")
    if lines.count() > 1:
        lines.nth(1).locator("input[name=reason]").fill("not on the shelf")
        lines.nth(1).locator("button[value=missing]").click()
    else:
        lines.nth(0).locator("input[name=reason]").fill("not on the shelf")
        lines.nth(0).locator("button[value=missing]").click()
    page.wait_for_selector(".check-line.state-missing")
    assert "Item not on the shelf" in page.locator("#counter .flags").inner_text()  # stock_shortfall, in words
    assert page.locator(".check-line .bin").first.inner_text().startswith("bin DT/Stock/")  # where to look
    if screenshots:
        page.screenshot(path=str(screenshots / "pickup-order.png"), full_page=True)

    # the agent sees it on the customer's screen
    agent = browser.new_page()
    login(agent, live_server, "agent", "omnidesk-agent")
    agent.goto(f"{live_server.url}/customers/{short.customer_id}/orders/{short.pk}/")
    folded = agent.locator("#order-pane details.flags-back-office")  # back-office work, folded under a count
    assert folded.locator("summary").inner_text().startswith("Back office and closed flags: 1 open")
    folded.locator("summary").click()
    assert "Item not on the shelf" in folded.locator(".flags").inner_text()
    agent.close()

    # the second order: every line picked, then handed over with the name on the order and its number
    page.goto(f"{live_server.url}/stores/downtown/pickups/{whole.pk}/")
    for index in range(page.locator(".check-line").count()):
        page.locator(".check-line").nth(index).locator("button[value=picked]").click()
        page.wait_for_selector(f".check-line:nth-child({index + 1}).state-picked")
    page.wait_for_selector(".stage-ready")
    page.fill("input[name=name]", order_name(whole))
    page.check("input[value=order_number]")
    page.fill("input[name=id_value]", whole.number)
    page.click("button[value=collect]")
    page.wait_for_selector("#counter .ok")

    assert Pickup.objects.get(order=whole).stage == "collected"
    assert Handover.objects.filter(order=whole).count() == 1
    collected = PickupPush.objects.filter(order=whole, state="collected")
    assert collected.exists() and not collected.filter(sent_at__isnull=True).exists()  # every system took it
    assert page.problems == []
