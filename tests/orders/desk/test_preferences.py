"""One time zone per screen: each person may choose the zone every time on their screens is shown in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from orders.flags.messaging import message_context
from orders.models import Flag, Order, StaffPreference, Store
from orders.timezones import relative_day, utc_quotes_on_screen, viewer_zone_use
from tests.factories import agent, supervisor
from tests.orders import scene as scenes

pytestmark = pytest.mark.django_db

PROMISE = datetime(
    2026, 11, 20, 3, 0, tzinfo=UTC
)  # the evening of the 19th in Chicago, the morning of the 20th in Paris


@pytest.fixture
def scene():
    built = scenes.build()
    Order.objects.filter(pk=built.web_order.pk).update(promised_by=PROMISE)
    return built


def promised_line(client, scene) -> str:
    html = client.get(reverse("customer_order", args=[scene.zoe.pk, scene.web_order.pk])).content.decode()
    return html.split('<span class="label">Promised</span>', 1)[1].split("</div>", 1)[0].strip()


@time_machine.travel(datetime(2026, 11, 18, 12, 0, tzinfo=UTC), tick=False)
def test_times_are_the_stores_until_the_agent_chooses_a_zone_then_every_screen_shows_theirs(client, scene):
    alice = agent()
    client.force_login(alice)
    # the pickup store's clock (Chicago), and its calendar: 06:00 on the 18th there now
    assert promised_line(client, scene) == '2026-11-19 21:00 CST <span class="relative">· tomorrow</span>'

    response = client.post(reverse("preferences"), {"time_zone": "Europe/Paris"})

    assert (response.status_code, response["Location"]) == (302, reverse("preferences"))
    assert StaffPreference.objects.get(user=alice).time_zone == "Europe/Paris"
    assert promised_line(client, scene) == '2026-11-20 04:00 CET <span class="relative">· in 2 days</span>'
    page = client.get(reverse("preferences")).content.decode()
    assert ">alice.agent · Paris time</a>" in page
    assert '<option value="Europe/Paris" selected>Europe/Paris</option>' in page

    client.post(reverse("preferences"), {"time_zone": ""})  # back to each store's own
    assert promised_line(client, scene).startswith("2026-11-19 21:00 CST ")


def test_the_chosen_zone_follows_the_person_to_their_next_sign_in(client, scene):
    alice = agent()
    StaffPreference.objects.create(user=alice, time_zone="Asia/Tokyo")

    assert (
        client.post(
            reverse("login"), {"username": "alice.agent", "password": "correct horse battery staple"}
        ).status_code
        == 302
    )

    assert promised_line(client, scene).startswith("2026-11-20 12:00 JST ")


def test_a_zone_that_does_not_exist_is_refused_next_to_the_field_and_nothing_changes(client, scene):
    alice = agent()
    client.force_login(alice)

    response = client.post(reverse("preferences"), {"time_zone": "Mars/Olympus_Mons"})

    html = response.content.decode()
    assert response.status_code == 400
    assert 'aria-invalid="true"' in html
    assert '<span class="error" id="time-zone-error">Mars/Olympus_Mons is not a time zone: pick one' in html
    assert not StaffPreference.objects.exists()
    assert promised_line(client, scene).startswith("2026-11-19 21:00 CST ")


def test_customer_emails_keep_the_stores_calendar_whatever_the_agent_reads(scene):
    with viewer_zone_use("Asia/Tokyo"):
        assert message_context(Order.objects.get(pk=scene.web_order.pk))["promised"] == "Thursday 19 November 2026"


@pytest.mark.parametrize(
    ("moment", "words"),
    [
        (datetime(2026, 11, 18, 4, 59, tzinfo=UTC), "yesterday"),  # 23:59 on the 17th in New York
        (datetime(2026, 11, 18, 5, 0, tzinfo=UTC), "today"),
        (datetime(2026, 11, 19, 4, 59, tzinfo=UTC), "today"),
        (datetime(2026, 11, 19, 5, 0, tzinfo=UTC), "tomorrow"),
        (datetime(2026, 11, 21, 12, 0, tzinfo=UTC), "in 3 days"),
        (datetime(2026, 11, 14, 12, 0, tzinfo=UTC), "4 days ago"),
        (None, ""),
    ],
)
def test_relative_words_count_calendar_days_on_the_screens_clock(moment, words):
    now = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    assert relative_day(moment, Store(code="ny", timezone="America/New_York"), now) == words


@pytest.mark.parametrize(
    ("words", "viewer", "written_at", "shown"),
    [
        # the store's clock (Chicago) with no choice; the agent's own once they chose one
        ("promised by 20 Nov 03:00 UTC; not delivered", "", PROMISE, "promised by 19 Nov 21:00 CST; not delivered"),
        ("promised by 20 Nov 03:00 UTC; not delivered", "Asia/Tokyo", PROMISE, "promised by 20 Nov 12:00 JST; not delivered"),
        # summer time follows the moment, not the day it is read
        ("last scanned 01 Jul 17:00 UTC (in_transit)", "", PROMISE, "last scanned 01 Jul 12:00 CDT (in_transit)"),
        # the year the words leave out is the one nearest when they were written: 31 Dec, read in January
        ("placed 31 Dec 23:30 UTC in shopify", "Europe/Paris", datetime(2027, 1, 2, tzinfo=UTC), "placed 01 Jan 00:30 CET in shopify"),
        # two moments, and words with none
        ("promised by 21 Nov 12:00 UTC; odoo schedules it for 23 Nov 12:00 UTC", "", PROMISE,
         "promised by 21 Nov 06:00 CST; odoo schedules it for 23 Nov 06:00 CST"),
        ("no moment here, UTC or not", "", PROMISE, "no moment here, UTC or not"),
    ],
)  # fmt: skip
def test_flag_words_quote_their_moments_on_the_screens_clock(words, viewer, written_at, shown):
    chicago = Store(code="CHI", timezone="America/Chicago")
    with viewer_zone_use(viewer):
        assert utc_quotes_on_screen(words, chicago, written_at) == shown


@time_machine.travel(datetime(2026, 11, 21, 12, 0, tzinfo=UTC), tick=False)
def test_every_screen_shows_a_flags_moments_on_its_clock_and_the_stored_words_stay_utc(client, scene):
    words = f"order {scene.web_order.number} promised by 20 Nov 03:00 UTC; not delivered 1 day later (now paid)"
    flag = Flag.objects.create(order=scene.web_order, code=Flag.Code.PROMISE_MISSED, detail=words)
    client.force_login(supervisor())
    local = f"order {scene.web_order.number} promised by 19 Nov 21:00 CST; not delivered 1 day later (now paid)"

    pane = client.get(reverse("customer_order", args=[scene.zoe.pk, scene.web_order.pk])).content.decode()
    worklist = client.get(reverse("worklist")).content.decode()
    review = client.get(reverse("message_review", args=[flag.pk])).content.decode()

    assert f"{local}</li>" in pane  # the customer header and the order pane
    assert pane.count(local) == 3  # and the flag badge's hover text in the orders table
    assert f"<td >{local}</td>" in worklist or f"<td>{local}</td>" in worklist
    assert '<span title="2026-11-21 06:00 CST">' in worklist  # "open for", exact on hover
    assert local in review
    assert "03:00 UTC" not in pane + worklist + review
    assert Flag.objects.get(pk=flag.pk).detail == words  # the stored words (admin, API) stay detection's, in UTC
