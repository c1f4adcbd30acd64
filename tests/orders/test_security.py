"""Login throttling per username + IP, and sessions that end when idle or old."""

from __future__ import annotations

import pytest
import time_machine
from django.utils import timezone

from tests.factories import agent

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def login(client, username, password, ip="10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_wrong_passwords_lock_that_username_on_that_ip_only(client):
    agent()
    from tests.factories import UserFactory

    UserFactory(username="bob.agent")

    attempts = [login(client, "alice.agent", "wrong").status_code for _ in range(5)]
    locked = login(client, "alice.agent", PASSWORD)
    colleague = login(client, "bob.agent", PASSWORD)
    client.logout()
    elsewhere = login(client, "alice.agent", PASSWORD, ip="10.0.0.2")

    assert attempts == [200, 200, 200, 200, 429]
    assert locked.status_code == 429
    assert "Too many attempts" in locked.content.decode()
    assert "locked from this address for 15 minutes" in locked.content.decode()
    assert colleague.status_code == 302  # the same shared store IP, another username: not locked out
    assert elsewhere.status_code == 302


def test_a_session_idle_for_30_minutes_is_logged_out(client):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(agent())
        assert client.get("/").status_code == 200
        clock.shift(29 * 60)
        assert client.get("/").status_code == 200
        clock.shift(29 * 60)
        assert client.get("/").status_code == 200  # active: each request restarts the idle clock
        clock.shift(31 * 60)
        response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_a_board_refreshing_itself_does_not_keep_an_idle_session_signed_in(client):
    poll = {"HX-Request": "true", "X-OmniDesk-Poll": "1"}  # what the pickup board sends every 30 s
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(agent())
        assert client.get("/").status_code == 200
        for _ in range(29):  # 29 minutes of polls, nobody touching the screen
            clock.shift(60)
            assert client.get("/", headers=poll).status_code == 200
        clock.shift(2 * 60)
        response = client.get("/", headers=poll)

    assert response.status_code == 200 and response["HX-Redirect"] == "/accounts/login/?next=/"


def test_a_session_ends_12_hours_after_signing_in_even_when_busy(client):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(agent())
        for _ in range(26):  # a request every 29 minutes; the last at 12 h 05 min
            last = client.get("/")
            clock.shift(29 * 60)

    assert last.status_code == 302
    assert last["Location"] == "/accounts/login/?next=/"


def test_an_htmx_request_after_expiry_sends_the_whole_page_to_login(client):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(agent())
        client.get("/")
        clock.shift(31 * 60)
        response = client.post("/", {"q": "x"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/"


def test_supervisors_may_unlock_a_throttled_login_in_the_admin(db):
    from django.contrib.auth.models import Group

    granted = set(Group.objects.get(name="supervisor").permissions.values_list("content_type__app_label", "codename"))
    assert {("axes", "view_accessattempt"), ("axes", "delete_accessattempt")} <= granted


def _lock_out(client, forwarded: str) -> list[int]:
    """Five wrong passwords for alice from behind the proxy at 10.0.0.1, then the right one."""
    statuses = [
        client.post(
            "/accounts/login/",
            {"username": "alice.agent", "password": "wrong"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=forwarded,
        ).status_code
        for _ in range(5)
    ]
    return statuses


def test_without_a_proxy_count_x_forwarded_for_is_ignored(client, settings):
    """An attacker rotating a made-up X-Forwarded-For gets no fresh address per guess."""
    settings.OMNIDESK_PROXY_COUNT = 0
    agent()

    guesses = [
        client.post(
            "/accounts/login/",
            {"username": "alice.agent", "password": "wrong"},
            REMOTE_ADDR="198.51.100.9",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        ).status_code
        for n in range(6)
    ]

    assert guesses == [200, 200, 200, 200, 429, 429]


def test_behind_one_proxy_the_client_is_the_address_the_proxy_appended(client, settings):
    settings.OMNIDESK_PROXY_COUNT = 1
    agent()

    attacker = _lock_out(client, "6.6.6.6, 203.0.113.7")  # the attacker wrote 6.6.6.6; the proxy appended .7
    same_client_new_lie = login_via_proxy(client, "7.7.7.7, 203.0.113.7")
    colleague = login_via_proxy(client, "203.0.113.8")  # another client behind the same proxy

    assert attacker == [200, 200, 200, 200, 429]
    assert same_client_new_lie.status_code == 429
    assert colleague.status_code == 302


def login_via_proxy(client, forwarded: str):
    return client.post(
        "/accounts/login/",
        {"username": "alice.agent", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=forwarded,
    )
