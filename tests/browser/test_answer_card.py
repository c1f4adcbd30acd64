"""The answer card in real Chromium: on the sandbox's story orders, at a fixed clock, the card is above the
fold at 1280×720 and says exactly what to tell the customer; the screen fits 390 px, 1280×720 and 1440×900."""

from __future__ import annotations

import pytest
import time_machine
from django.core.management import call_command

from integrations.demo import demo_sources_ensure, demo_users_ensure
from orders.detection import detect
from orders.models import Order, OrderRecord
from orders.roles import roles_sync

from .conftest import login

pytestmark = pytest.mark.browser

SIZES = {"phone": (390, 844), "laptop": (1280, 720), "desktop": (1440, 900)}


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
    for story, (number, text, step) in sorted(seen.items()):
        print(f"{story}: {number}: {text} || {step}")
    assert len(seen) >= 11
