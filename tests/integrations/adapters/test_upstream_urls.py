"""Upstream links (tracking pages) reach pages, the API and e-mails only as http(s) URLs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.adapters.easypost import map_tracker
from integrations.adapters.fields import http_url
from integrations.adapters.shopify_mapping import map_order
from orders.api.auth import token_create
from orders.flags.messaging import message_context
from tests.factories import agent
from tests.orders import scene as scenes

from .shopify.support import order_fixture, ups_fulfilment
from .test_easypost import created_tracker

HOSTILE = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/track",
    "https://",
    "https://track.example/x y",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_anything_but_an_http_url_is_dropped(url):
    assert http_url(url) == ""


@pytest.mark.parametrize("url", ["https://www.ups.com/track?n=1Z", "http://track.example/1"])
def test_http_and_https_urls_are_kept(url):
    assert http_url(url) == url


@pytest.mark.parametrize("url", HOSTILE[:4])
def test_mapping_drops_a_hostile_tracking_link_and_keeps_the_shipment(url):
    order = order_fixture()
    fulfilment = ups_fulfilment()
    fulfilment["tracking_url"] = url
    order["fulfillments"] = [fulfilment]
    tracker = created_tracker()
    tracker["public_url"] = url

    shopify, easypost = map_order(order).shipments[0], map_tracker(tracker).shipment

    assert (shopify.tracking_url, shopify.tracking_number) == ("", "1Z001985YW99744790")
    assert (easypost.tracking_url, easypost.tracking_number) == ("", created_tracker()["tracking_code"])


@pytest.mark.django_db
def test_a_stored_hostile_link_reaches_no_page_api_answer_or_email(client):
    """Rows stored before the mapping dropped them are filtered again where they are shown."""
    scene = scenes.build()
    scene.web_order.shipments.update(tracking_url="javascript:alert(document.cookie)")
    user = agent()
    client.force_login(user)

    page = client.get(reverse("customer_order", args=[scene.zoe.pk, scene.web_order.pk])).content.decode()
    api = client.get(
        f"/api/v1/orders/{scene.web_order.pk}", headers={"Authorization": f"Token {token_create(user)}"}
    ).json()
    email = message_context(scene.web_order)

    assert "javascript:" not in page
    assert "1Z999AA10123456784" in page  # the tracking number still shows, as text
    assert [s["tracking_url"] for s in api["shipments"]] == [""]
    assert email["tracking_url"] == ""
