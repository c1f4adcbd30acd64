"""One time zone per screen: each person may choose the zone every time on their screens is shown in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from orders.messaging import message_context
from orders.models import Order, StaffPreference, Store
from orders.timezones import relative_day, viewer_zone_use
from tests.factories import agent
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
