"""Every screen, as each role sees it, in real Chromium: no serious or critical accessibility violation (axe-core,
injected from node_modules), and no horizontal scrolling at 390 px (a phone at the counter), 1280×720 and 1440×900."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from integrations.models import Source
from orders.models import CustomerLink, Flag, Order, StaffPreference

from .conftest import login

pytestmark = pytest.mark.browser

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"phone": (390, 844), "laptop": (1280, 720), "desktop": (1440, 900)}
SERIOUS = ("serious", "critical")
# The walk's pictures in docs/screenshots (``make screenshots``): (screen, size) -> the files showing it.
DOCUMENTED = {
    ("search", "phone"): ["screen-search-phone.png"],
    ("customer", "phone"): ["screen-customer-phone.png"],
    ("customer", "laptop"): ["screen-customer-laptop.png"],
    ("customer", "desktop"): ["screen-customer-desktop.png"],
    ("worklist", "laptop"): ["screen-worklist-laptop.png", "worklist.png"],
    ("health", "laptop"): ["sync-health.png"],
    ("settings", "laptop"): ["screen-settings-laptop.png"],
    ("message-review", "laptop"): ["screen-message-review-laptop.png"],
    ("pickup-board", "phone"): ["screen-pickup-board-phone.png"],
}
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => ["serious", "critical"].includes(v.impact))
    .map((v) => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
}"""


@pytest.fixture
def axe_source() -> str:
    if not AXE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("axe-core is not installed: `make test` installs it with npm (see .ci/axe.sh)")
        pytest.skip("axe-core is not installed (npm ci)")
    return AXE.read_text()


def screens(live_server) -> dict[str, list[tuple[str, str]]]:
    """``{role: [(name, url)]}``: one of every page, on orders that show the most."""
    web = Order.objects.filter(channel="web", fulfilment="ship", shipments__isnull=False, payments__isnull=False)
    order = web.order_by("-placed_at").first()
    pickup = Order.objects.filter(fulfilment="pickup", store__code="downtown").order_by("-placed_at").first()
    flag = Flag.objects.filter(closed_at__isnull=True, code__in=["promise_missed", "stuck_shipment"]).first()
    base = live_server.url
    agent = [
        ("search", f"{base}/"),
        ("customer", f"{base}/customers/{order.customer_id}/orders/{order.pk}/"),
        ("worklist", f"{base}/worklist/"),
        ("health", f"{base}/health/"),
        ("settings", f"{base}/me/"),
    ]
    if flag is not None:
        agent.append(("message-review", f"{base}/worklist/flags/{flag.pk}/message/review/?next=/worklist/"))
    link = CustomerLink.objects.filter(decision=CustomerLink.Decision.OPEN).order_by("id").first()
    assert link is not None, "the sandbox has guest orders sharing one key with their person: a suggested link"
    agent.append(("customer-suggested-link", f"{base}/customers/{link.customer_id}/"))
    clerk = [
        ("pickup-board", f"{base}/stores/downtown/pickups/"),
        ("pickup-order", f"{base}/stores/downtown/pickups/{pickup.pk}/"),
    ]
    return {"agent": agent, "clerk": clerk, "query": order.customer.name}


def sync_health_check(page) -> None:
    """Sync health lists every synced source, each healthy, under the counts of the orders the agent may see."""
    assert page.locator("h1").inner_text() == "Sync health"
    cells = [row.locator("td").all_inner_texts() for row in page.locator("table.grid tbody tr").all()]
    names = sorted(Source.objects.values_list("name", flat=True))
    assert len(names) == 5 and [(c[0], c[2]) for c in cells] == [(name, "Healthy") for name in names]
    assert f"{Order.objects.count()} orders" in page.locator(".counts").inner_text()


def test_every_screen_is_accessible_and_fits_every_width(axe_source, browser, live_server, synced, screenshots):
    pages = screens(live_server)
    # The agent reads every time in a zone of their own: the top bar says so ("agent · Los Angeles time")
    StaffPreference.objects.create(user=User.objects.get(username="agent"), time_zone="America/Los_Angeles")
    problems: dict[str, list[str]] = {}
    for role, password in (("agent", "omnidesk-agent"), ("clerk", "omnidesk-clerk")):
        for size, (width, height) in SIZES.items():
            context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
            context.add_init_script(script=axe_source)  # evaluated by the browser itself: no CSP exception needed
            page = context.new_page()
            login(page, live_server, role, password)
            for name, url in pages[role]:
                page.goto(url)
                page.wait_for_load_state("networkidle")
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 0:
                    problems.setdefault(f"{name} at {size}", []).append(f"scrolls sideways by {overflow}px")
                if size == "laptop":
                    found = page.evaluate(AXE_RUN)
                    if found:
                        problems.setdefault(f"{name} (axe)", []).extend(found)
                    if name == "search":  # and with results listed, as an agent sees them while typing
                        page.fill("#q", pages["query"])
                        page.wait_for_selector("#results .hit")
                        found = page.evaluate(AXE_RUN)
                        if found:
                            problems.setdefault("search results (axe)", []).extend(found)
                if (role, name, size) == ("agent", "health", "laptop"):
                    sync_health_check(page)
                if screenshots and (name, size) in DOCUMENTED:
                    picture = page.screenshot(full_page=size != "laptop")
                    for file in DOCUMENTED[name, size]:
                        (screenshots / file).write_bytes(picture)
            context.close()
    context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-US")
    context.add_init_script(script=axe_source)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator("h1").inner_text() == "Sign in"
    assert page.get_by_label("Username").is_visible() and page.get_by_label("Password").is_visible()
    found = page.evaluate(AXE_RUN)
    if found:
        problems["login (axe)"] = found
    if screenshots:
        page.screenshot(path=screenshots / "login.png")
    context.close()
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in sorted(problems.items()))
