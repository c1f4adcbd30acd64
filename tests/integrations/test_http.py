"""The HTTP seam: retries, backoff, Retry-After, permanent errors — mocked with `responses`."""

from __future__ import annotations

import pytest
import requests
import responses

from integrations.http import HttpClient, TransportError, parse_retry_after

BASE = "https://shop.example/admin/api/2025-07"


@pytest.fixture
def client():
    sleeps: list[float] = []
    http = HttpClient(
        base_url=BASE,
        headers={"X-Shopify-Access-Token": "secret"},
        timeout=2,
        retries=3,
        backoff=0.5,
        max_retry_after=30,
        sleep=sleeps.append,
    )
    http.sleeps = sleeps
    return http


@responses.activate
def test_5xx_is_retried_then_succeeds(client):
    responses.get(f"{BASE}/orders.json", status=503)
    responses.get(f"{BASE}/orders.json", status=502)
    responses.get(f"{BASE}/orders.json", json={"orders": []})

    response = client.get("orders.json")

    assert response.json() == {"orders": []}
    assert client.attempts == 3
    assert len(client.sleeps) == 2
    assert 0.25 <= client.sleeps[0] <= 0.5 and 0.5 <= client.sleeps[1] <= 1.0  # jittered exponential backoff


@responses.activate
def test_429_waits_as_long_as_retry_after_says(client):
    responses.get(f"{BASE}/orders.json", status=429, headers={"Retry-After": "2.0"})
    responses.get(f"{BASE}/orders.json", json={"orders": []})

    client.get("orders.json")

    assert client.sleeps == [2.0]


@responses.activate
def test_retry_after_is_capped(client):
    responses.get(f"{BASE}/orders.json", status=429, headers={"Retry-After": "3600"})
    responses.get(f"{BASE}/orders.json", json={})

    client.get("orders.json")

    assert client.sleeps == [30]


@responses.activate
def test_giving_up_raises_a_transient_error(client):
    responses.get(f"{BASE}/orders.json", status=500)

    with pytest.raises(TransportError) as caught:
        client.get("orders.json", params={"email": "a@b.c"})

    assert caught.value.permanent is False
    assert caught.value.status == 500
    assert (
        str(caught.value) == "GET https://shop.example/admin/api/2025-07/orders.json answered HTTP 500"
    )  # no query string: it may hold personal data
    assert client.attempts == 4


@responses.activate
def test_timeouts_and_resets_are_retried(client):
    responses.get(f"{BASE}/orders.json", body=requests.Timeout("slow"))
    responses.get(f"{BASE}/orders.json", body=requests.ConnectionError("reset"))
    responses.get(f"{BASE}/orders.json", json={"ok": True})

    assert client.get("orders.json").json() == {"ok": True}
    assert client.attempts == 3


@responses.activate
@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (401, "credentials were refused"),
        (403, "credentials were refused"),
        (404, "check the source's base URL"),
        (422, "HTTP 422"),
    ],
)
def test_4xx_is_permanent_and_not_retried(client, status, hint):
    responses.get(f"{BASE}/orders.json", status=status)

    with pytest.raises(TransportError) as caught:
        client.get("orders.json")

    assert caught.value.permanent is True
    assert hint in str(caught.value)
    assert client.attempts == 1
    assert "secret" not in str(caught.value)


@responses.activate
def test_credentials_are_sent_as_headers(client):
    responses.get(
        f"{BASE}/orders.json",
        json={},
        match=[responses.matchers.header_matcher({"X-Shopify-Access-Token": "secret"})],
    )

    client.get("orders.json")

    assert client.attempts == 1


def test_parse_retry_after_reads_seconds_and_http_dates():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
