"""A source's credentials go only to its vendor's hosts: no exfiltration by base URL, no SSRF, no echoed replies."""

from __future__ import annotations

import pytest
import responses
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from integrations.hosts import HostGuard
from integrations.http import HttpClient, TransportError
from integrations.models import Source
from integrations.services import source_upsert
from integrations.sync import source_sync
from tests.factories import supervisor

SHOP = "https://acme.myshopify.com/admin/api/2025-07"
SHOPIFY = HostGuard(("*.myshopify.com",))


@pytest.mark.parametrize(
    ("guard", "url", "problem"),
    [
        (SHOPIFY, SHOP, None),
        (SHOPIFY, "https://evil.example/admin/api", "evil.example is not a host of this vendor's API"),
        (SHOPIFY, "https://myshopify.com.evil.example/", "myshopify.com.evil.example is not a host"),
        (SHOPIFY, "https://evilmyshopify.com/", "evilmyshopify.com is not a host"),
        (SHOPIFY, "http://acme.myshopify.com/", "acme.myshopify.com must be reached over https"),
        (
            HostGuard(("connect.squareup.com", "connect.squareupsandbox.com")),
            "https://connect.squareupsandbox.com",
            None,
        ),
        (HostGuard(("api.hubapi.com",)), "https://api.hubapi.com.evil.example", "is not a host"),
        (HostGuard(None), "https://erp.acme.example/", None),  # Odoo: any public https host
        (HostGuard(None), "ftp://erp.acme.example/", "needs http(s)://"),
    ],
)
def test_each_adapter_sends_only_to_its_vendors_hosts(guard, url, problem):
    found = guard.problem(url)
    assert found is None if problem is None else problem in found


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://localhost/",
        "https://10.0.0.5/",
        "https://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[::1]/",
        "https://100.64.0.1/",
    ],
)
def test_internal_addresses_only_when_private_sources_are_allowed(settings, url):
    settings.OMNIDESK_ALLOW_PRIVATE_SOURCES = False
    refused = HostGuard(None).problem(url)
    settings.OMNIDESK_ALLOW_PRIVATE_SOURCES = True
    allowed = HostGuard(None).problem(url)

    assert "loopback or private address" in refused and "OMNIDESK_ALLOW_PRIVATE_SOURCES" in refused
    assert allowed is None


@responses.activate
def test_a_request_to_a_host_the_guard_refuses_is_never_sent(settings):
    settings.OMNIDESK_ALLOW_PRIVATE_SOURCES = False
    client = HttpClient(base_url=SHOP, headers={"X-Shopify-Access-Token": "shpat_secret"}, guard=SHOPIFY)

    with pytest.raises(TransportError) as error:
        client.get("http://169.254.169.254/latest/meta-data/")  # e.g. a paging link an upstream made up

    assert (error.value.permanent, len(responses.calls)) == (True, 0)
    assert "not sent: 169.254.169.254 is a loopback or private address" in str(error.value)


def _shop() -> Source:
    source, _ = source_upsert(
        name="shop", adapter="shopify", base_url=SHOP, credentials={"access_token": "shpat_victim"}
    )
    return source


def _admin_post(client, source, **changes):
    data = {
        "name": source.name,
        "kind": source.kind,
        "adapter": source.adapter,
        "base_url": source.base_url,
        "enabled": "on",
        "interval_seconds": 60,
        "stale_after_seconds": 900,
        "page_size": 250,
        "credentials_env": "",
        "new_credentials": "",
        **changes,
    }
    return client.post(f"/admin/integrations/source/{source.pk}/change/", data)


@pytest.mark.django_db
def test_a_supervisor_pointing_a_source_at_their_own_server_gets_no_token(client):
    """The attack: change the base URL, press "Sync now", read the token at the other end."""
    source = _shop()
    client.force_login(supervisor())

    elsewhere = _admin_post(client, source, base_url="https://attacker.example/admin/api/2025-07")
    other_shop = _admin_post(client, source, base_url="https://attacker.myshopify.com/admin/api/2025-07")

    source.refresh_from_db()
    assert elsewhere.status_code == 200 and "attacker.example is not a host of this vendor&#x27;s API" in (
        elsewhere.content.decode()
    )
    assert other_shop.status_code == 302
    assert (source.base_url, source.credentials) == ("https://attacker.myshopify.com/admin/api/2025-07", {})
    with responses.RequestsMock() as upstream:  # nothing may be sent: an unexpected request fails the test
        run = source_sync(source_id=source.pk)
        assert len(upstream.calls) == 0
    assert "needs credential(s): access_token" in run.error


@pytest.mark.django_db
def test_new_credentials_given_with_the_new_base_url_are_the_only_ones_kept(client):
    source = _shop()
    client.force_login(supervisor())

    _admin_post(client, source, base_url="https://acme-2.myshopify.com/x", new_credentials="access_token=shpat_new")

    source.refresh_from_db()
    assert source.credentials == {"access_token": "shpat_new"}


@pytest.mark.django_db
def test_add_source_with_another_base_url_drops_the_stored_credentials():
    _shop()

    moved, _ = source_upsert(name="shop", adapter="shopify", base_url="https://other.myshopify.com/admin/api/2025-07")
    again, _ = source_upsert(name="shop", adapter="shopify", base_url="https://other.myshopify.com/admin/api/2025-07")

    assert (moved.credentials, again.credentials) == ({}, {})


@pytest.mark.django_db
def test_only_a_superuser_sets_where_an_odoo_source_points(client):
    source, _ = source_upsert(
        name="erp", adapter="odoo", base_url="https://erp.acme.example", credentials={"api_key": "k"}
    )
    client.force_login(supervisor())

    refused = _admin_post(client, source, base_url="https://erp.attacker.example")
    client.force_login(User.objects.create_superuser("root", "root@example.com", "x" * 20))
    accepted = _admin_post(client, source, base_url="https://erp2.acme.example")

    source.refresh_from_db()
    assert refused.status_code == 200 and "only a superuser sets it" in refused.content.decode()
    assert accepted.status_code == 302
    assert (source.base_url, source.credentials) == ("https://erp2.acme.example", {})


@pytest.mark.django_db
def test_credentials_env_reads_only_variables_under_the_omnidesk_source_prefix(monkeypatch):
    monkeypatch.setenv("DATABASE_PASSWORD", "the-database-password")
    source = Source(name="shop", kind="storefront", adapter="shopify", base_url=SHOP, credentials_env="DATABASE")

    with pytest.raises(ValidationError) as error:
        source.full_clean(exclude=["credentials_encrypted"])

    assert error.value.message_dict == {
        "credentials_env": ["Must start with OMNIDESK_SOURCE_ (e.g. OMNIDESK_SOURCE_SHOP)."]
    }
    assert source.credentials == {}  # a row saved before the rule reads nothing either


@pytest.mark.django_db
@responses.activate
def test_a_failed_sync_never_shows_the_reply(settings):
    settings.OMNIDESK_HTTP_RETRIES = 0
    source = _shop()
    responses.get(f"{SHOP}/locations.json", status=403, body="internal: root password is hunter2")  # REST
    responses.post(f"{SHOP}/graphql.json", status=403, body="internal: root password is hunter2")  # GraphQL

    run = source_sync(source_id=source.pk)

    source.refresh_from_db()
    assert "hunter2" not in run.error and "hunter2" not in source.last_error
    assert "answered HTTP 403: the credentials were refused" in source.last_error
