"""The answer card in real Chromium: on the sandbox's story orders, at a fixed clock, the card is above the
fold at 1280×720 and says exactly what to tell the customer; the screen fits 390 px, 1280×720 and 1440×900."""

from __future__ import annotations

import pytest
import time_machine
from django.core.management import call_command

from integrations.demo import demo_sources_ensure, demo_users_ensure
from orders.flags.detection import detect
from orders.models import Order, OrderRecord
from orders.roles import roles_sync

from .conftest import login

pytestmark = pytest.mark.browser

SIZES = {"phone": (390, 844), "laptop": (1280, 720), "desktop": (1440, 900)}


# The sandbox's stories (seed 7, 2,000 orders) at the world's clock, 20 Nov 2026 12:00 UTC: what the card says.
# S1 phantom, S2/S5 shelf, S3 unassigned, S4/S9 parcel, S6/S14 promise, S10 money, S11 return, S14 sent twice.
EXPECTED = {
    "delivered": (
        "#1002",
        "Paid $209.96 on Wed 21 Oct (Discover ••4348). Delivered on Fri 23 Oct (USPS). Can't be cancelled (already delivered); nothing refunded yet.",
        "Nothing is owed to them: answer their question from the lines above.",
    ),
    "delivery_exception": (
        "#1831",
        "Paid $207.93 on Fri 13 Nov (Mastercard ••3008). Left the warehouse on Sat 14 Nov; USPS is sending it back: Returned to sender: refused by recipient (JERSEY CITY, NJ 07302, US, Sun 15 Nov). No delivery date while the carrier has a problem. Can't be cancelled (already dispatched); nothing refunded yet.",
        "Tell them USPS could not deliver it; confirm the address and offer a redelivery or a refund.",
    ),
    "duplicate_shipment": (
        "#1001",
        "Paid $197.95 on Wed 21 Oct (Mastercard ••3659). Delivered on Sat 24 Oct (USPS). Can't be cancelled (already delivered); nothing refunded yet.",
        "Two parcels were sent for the same items: ask them to keep the second one for a free return.",
    ),
    "payment_mismatch": (
        "HlfZ",
        "Paid $347.69 on Wed 21 Oct (cash), of an order total of $360.95. Bought in store at Airport Mall on Wed 21 Oct. Can't be cancelled (bought at the till); nothing refunded yet.",
        "The charge does not match the order: check it with a supervisor before promising anything about money.",
    ),
    "phantom_order": (
        "#2151",
        "Paid $153.97 on Wed 18 Nov (Discover ••6706). Not in the warehouse system yet. Expected Wed 25 Nov. Can still be cancelled: nothing has left the warehouse; nothing refunded yet.",
        "The warehouse system does not have the order yet: escalate to fulfilment and do not promise a date.",
    ),
    "promise_at_risk": (
        "#1832",
        "Paid $285.94 on Fri 13 Nov (Mastercard ••4944). Not dispatched yet: being prepared. Expected Sun 22 Nov (new warehouse date, after the promised Fri 20 Nov). Can still be cancelled: nothing has left the warehouse; nothing refunded yet.",
        "Warn them it may arrive after the promised Fri 20 Nov (Sun 22 Nov).",
    ),
    "promise_missed": (
        "#1719",
        "Paid $45.98 on Wed 11 Nov (Mastercard ••3763). Left the warehouse on Tue 17 Nov; USPS: Arrived at regional facility (BOSTON, MA 02205, US, Thu 19 Nov). Was due Wed 18 Nov — 2 days late. Can't be cancelled (already dispatched); nothing refunded yet.",
        "Apologise: it is late. Give the new date (Fri 20 Nov) and offer the late-delivery options.",
    ),
    "return_not_refunded": (
        "#1007",
        "Paid $75.97 on Wed 21 Oct (Visa ••2125). Returned: odoo received it on Sun 1 Nov. Can't be cancelled (already delivered and being returned); nothing refunded yet.",
        "Their refund is overdue: we have had the return since Sun 1 Nov. Escalate the refund today.",
    ),
    "stock_shortfall": (
        "#2148",
        "Paid $349.98 on Wed 18 Nov (Mastercard ••2777). Not ready for pickup yet: being prepared. Expected Fri 20 Nov. Can still be cancelled: nothing has left the warehouse; nothing refunded yet.",
        "An item is not on the shelf: offer to wait for it, swap it, or refund that item.",
    ),
    "stuck_shipment": (
        "#1829",
        "Paid $55.98 on Fri 13 Nov (American Express ••0842). Left the warehouse on Sat 14 Nov; FedEx has had no scan for 4 days (last: NEWARK, NJ 07114, US, Sun 15 Nov). Was expected Tue 17 Nov — 2 days late. Can't be cancelled (already dispatched); nothing refunded yet.",
        "Tell them we are asking FedEx to trace the parcel; offer a replacement if it has not moved in 2 days.",
    ),
    "unassigned": (
        "#2154",
        "Paid $54.97 on Wed 18 Nov (American Express ••1900). Not dispatched yet: in the warehouse system, nobody preparing it yet. Expected Wed 25 Nov. Can still be cancelled: nothing has left the warehouse; nothing refunded yet.",
        "Nobody is preparing it yet: escalate to the warehouse before promising a date.",
    ),
}


@pytest.fixture
def story_world(transactional_db, sandbox, live_server):
    """The sandbox synced and judged at the world's own clock, which stays frozen for the test."""
    world = sandbox.world
    traveller = time_machine.travel(world.now_dt, tick=False)
    traveller.start()
    roles_sync()
    demo_users_ensure()
    demo_sources_ensure(sandbox.base_url)
    call_command("sync", all=True, verbosity=0)
    detect(now=world.now_dt)
    yield world
    traveller.stop()


def story_orders(world) -> dict[str, Order]:
    """The first order of each breakdown (and a plain delivered one), as OmniDesk knows it."""
    picked: dict[str, Order] = {}
    for o in world.orders:
        story = o.breakdown or ("delivered" if o.kind == "ship" and not o.ret_request and not o.cancel else None)
        if story is None or story in picked or o.placed > world.now:
            continue
        system, ident = ("shopify", str(o.shopify_id)) if o.channel == "web" else ("square", o.square_id)
        record = OrderRecord.objects.filter(source__name=system, external_id=ident).select_related("order").first()
        if record is not None:
            picked[story] = record.order
    return picked


def card_text(page) -> str:
    return page.inner_text("#order-pane .answer").strip()


def test_the_card_answers_above_the_fold_on_every_story(browser, live_server, story_world, screenshots):
    stories = story_orders(story_world)
    context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-US")
    page = context.new_page()
    login(page, live_server, "agent", "omnidesk-agent")
    seen = {}
    for story, order in sorted(stories.items()):
        page.goto(f"{live_server.url}/orders/{order.pk}/")
        page.wait_for_selector("#order-pane .answer")
        box = page.locator("#order-pane .answer-card").bounding_box()
        assert box["y"] + box["height"] <= 720, (story, box)  # the whole card, above the fold
        seen[story] = (order.number, card_text(page), page.inner_text("#next-step"))
        if screenshots and story in ("stuck_shipment", "delivery_exception"):
            page.screenshot(path=screenshots / f"answer-{story.replace('_', '-')}.png")
    context.close()
    assert seen == EXPECTED
