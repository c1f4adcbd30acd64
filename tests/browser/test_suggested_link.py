"""A suggested link in real Chromium: a guest order that shares only its e-mail with its person's customer is a
customer of its own (or a CRM contact with the e-mail alone is); the agent sees "maybe also 1 other customer", can settle it only once the caller's identity
is verified on this call, and "Same person" folds the two together."""

from __future__ import annotations

import pytest
from django.db.models import Q

from orders.models import Customer, CustomerLink, CustomerMerge, Order

from .conftest import login

pytestmark = pytest.mark.browser


def test_an_agent_settles_a_suggested_link_once_the_caller_is_verified(page, live_server, synced, screenshots):
    guests = Order.objects.filter(customer__identities__isnull=True).values("customer_id")
    link = CustomerLink.objects.filter(decision="open", key__startswith="email:", other__in=guests).order_by("id")[0]
    both = set(Order.objects.filter(customer_id__in=[link.customer_id, link.other_id]).values_list("number", flat=True))
    login(page, live_server, "agent", "omnidesk-agent")

    page.goto(f"{live_server.url}/customers/{link.customer_id}/")
    summary = page.locator(".customer-header summary .one-line")
    others = CustomerLink.objects.filter(Q(customer=link.customer_id) | Q(other=link.customer_id), decision="open")
    n = others.count()
    assert f"maybe also {n} other customer{'s' if n > 1 else ''}" in summary.inner_text()
    page.locator("details.who").evaluate("details => { details.open = true; }")  # closed when an order is shown
    group = page.get_by_role("group", name="Maybe the same person")
    assert f"same e-mail {link.key.removeprefix('email:')}" in group.inner_text()
    assert "verify the caller to settle it" in group.inner_text()
    assert group.get_by_role("button", name="Same person").count() == 0

    page.fill("#id_method", "date of birth and postcode")
    page.get_by_role("button", name="Identity verified").click()
    same = group.locator(f'form[action$="/links/{link.pk}/"] button[value="same"]')
    same.wait_for()
    if screenshots:
        page.screenshot(path=str(screenshots / "customer-suggested-link.png"))
    same.click()

    page.wait_for_url(f"{live_server.url}/customers/{link.customer_id}/")
    merge = CustomerMerge.objects.get(merged_customer_id=link.other_id)
    assert (merge.key, merge.by.username) == (f"confirmed {link.key}", "agent")
    assert not Customer.objects.filter(pk=link.other_id).exists()
    assert set(Order.objects.filter(customer_id=link.customer_id).values_list("number", flat=True)) == both
    assert page.problems == []
