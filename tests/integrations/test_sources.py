"""Sources: the add_source / sync command contracts, credentials at rest, the admin."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from integrations.adapters import adapter_for
from integrations.models import Source
from tests.factories import SourceFactory, agent, supervisor


def test_add_source_creates_then_updates_and_never_prints_secrets(db, capsys):
    call_command(
        "add_source",
        "shopify",
        "--adapter",
        "shopify",
        "--base-url",
        "https://shop.myshopify.com/admin/api/2025-07",
        "--credential",
        "access_token=shpat_123",
    )
    call_command(
        "add_source",
        "shopify",
        "--adapter",
        "shopify",
        "--base-url",
        "https://shop.myshopify.com/admin/api/2025-07",
        "--credential",
        "webhook_secret=whsec",
        "--interval",
        "300",
    )

    out = capsys.readouterr().out.splitlines()
    assert out == [
        "created source shopify (shopify, https://shop.myshopify.com/admin/api/2025-07); credentials: access_token",
        "updated source shopify (shopify, https://shop.myshopify.com/admin/api/2025-07); credentials: access_token, webhook_secret",
    ]
    source = Source.objects.get()
    assert (source.kind, source.interval_seconds) == ("storefront", 300)
    assert source.credentials == {"access_token": "shpat_123", "webhook_secret": "whsec"}
    assert "shpat_123" not in source.credentials_encrypted


def test_a_source_without_a_page_size_asks_for_its_adapters_own(db):
    def page_size(adapter: str, kind: str, size: int | None) -> int:
        source = SourceFactory(name=f"{adapter}-{size}", adapter=adapter, kind=kind, page_size=size)
        source.credentials_merge({"access_token": "t", "api_key": "k"}, moved=False)
        return adapter_for(source).page_size

    assert page_size("odoo", Source.Kind.ERP, None) == 1000  # search_read has no cap: larger pages land faster
    assert page_size("shopify", Source.Kind.STOREFRONT, None) == 250
    assert page_size("odoo", Source.Kind.ERP, 300) == 300  # what the source sets wins


def test_sources_at_the_old_default_page_size_take_their_adapters_own(db):
    erp = SourceFactory(name="odoo", adapter="odoo", kind=Source.Kind.ERP, page_size=250)
    tuned = SourceFactory(name="shop", page_size=100)

    migration = import_module("integrations.migrations.0006_source_page_size_adapter_default")
    migration.old_default_to_adapter_default(apps, None)

    assert dict(Source.objects.values_list("name", "page_size")) == {erp.name: None, tuned.name: 100}
    migration.adapter_default_to_old_default(apps, None)
    assert dict(Source.objects.values_list("name", "page_size")) == {erp.name: 250, tuned.name: 100}


def test_add_source_rejects_an_unknown_adapter_and_bad_credentials(db):
    with pytest.raises(CommandError, match="unknown adapter 'magento'"):
        call_command("add_source", "m", "--adapter", "magento", "--base-url", "https://m.example")
    with pytest.raises(CommandError, match="--credential takes KEY=VALUE"):
        call_command(
            "add_source",
            "s",
            "--adapter",
            "shopify",
            "--base-url",
            "https://s.example",
            "--credential",
            "token",
        )
    assert Source.objects.count() == 0


def test_credentials_from_the_environment_win(db, monkeypatch):
    source = Source(
        name="shop",
        kind="storefront",
        adapter="shopify",
        base_url="https://s.myshopify.com",
        credentials_env="OMNIDESK_SOURCE_SHOP",
    )
    source.set_credentials({"access_token": "stored"})
    monkeypatch.setenv("OMNIDESK_SOURCE_SHOP_ACCESS_TOKEN", "from-env")

    assert source.credentials == {"access_token": "from-env"}


def test_sync_command_requires_names_or_all(db):
    with pytest.raises(CommandError, match="name one or more sources"):
        call_command("sync")
    with pytest.raises(CommandError, match="no such source: ghost"):
        call_command("sync", "ghost")


def test_sync_command_exits_non_zero_when_a_source_fails(db, capsys, settings):
    settings.OMNIDESK_HTTP_BACKOFF = 0.01
    call_command(
        "add_source",
        "dead",
        "--adapter",
        "shopify",
        "--base-url",
        "http://127.0.0.1:9/admin/api/2025-07",
        "--credential",
        "access_token=x",
    )

    with pytest.raises(CommandError) as caught:
        call_command("sync", "--all")

    assert caught.value.returncode == 1
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("dead: failed — fetched 0, created 0, updated 0, unchanged 0, dead-lettered 0 in ")
    assert "ConnectionError" in line


def test_the_admin_never_shows_credentials_in_clear(client, db):
    source = Source(name="shop", kind="storefront", adapter="shopify", base_url="https://s.example")
    source.set_credentials({"access_token": "shpat_secret_value"})
    source.save()
    client.force_login(supervisor())

    page = client.get(f"/admin/integrations/source/{source.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "shpat_secret_value" not in html
    assert "access_token=••••••" in html


def test_the_admin_merges_new_credentials(client, db):
    source = Source(name="shop", kind="storefront", adapter="shopify", base_url="https://s.myshopify.com")
    source.set_credentials({"access_token": "old"})
    source.save()
    client.force_login(supervisor())

    response = client.post(
        f"/admin/integrations/source/{source.pk}/change/",
        {
            "name": "shop",
            "kind": "storefront",
            "adapter": "shopify",
            "base_url": "https://s.myshopify.com",
            "enabled": "on",
            "interval_seconds": 60,
            "stale_after_seconds": 900,
            "page_size": 250,
            "credentials_env": "",
            "new_credentials": "webhook_secret=abc",
        },
    )

    assert response.status_code == 302
    source.refresh_from_db()
    assert source.credentials == {"access_token": "old", "webhook_secret": "abc"}


def test_agents_cannot_open_the_admin(client, db):
    client.force_login(agent())

    response = client.get("/admin/integrations/source/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(
    ("age", "label"),
    [
        (timedelta(seconds=40), "carrier data 40 s old"),
        (timedelta(minutes=12), "carrier data 12 min old"),
        (timedelta(hours=3, minutes=10), "carrier data 3 h old"),
        (timedelta(days=2, hours=1), "carrier data 2 days old"),
    ],
)
def test_a_source_says_how_old_its_data_is(db, age, label):
    source = Source(
        name="ep",
        kind="carrier",
        adapter="easypost",
        base_url="https://e.example",
        last_success_at=timezone.now() - age,
    )

    assert source.freshness == label
    assert source.is_stale is (age > timedelta(seconds=source.stale_after_seconds))


def test_a_never_synced_source_is_stale(db):
    source = Source(name="erp", kind="erp", adapter="odoo", base_url="https://o.example")

    assert (source.freshness, source.is_stale, source.health) == ("ERP data never synced", True, "new")


def test_the_sync_health_page_marks_a_stale_source(client, db):
    Source.objects.create(
        name="ep",
        kind="carrier",
        adapter="easypost",
        base_url="https://e.example",
        last_success_at=timezone.now() - timedelta(hours=3),
    )
    client.force_login(agent())

    response = client.get("/health/")

    assert b"carrier data 3 h old" in response.content


def test_the_sync_health_page_names_the_flags_waiting_for_a_first_sync(client, db):
    Source.objects.create(name="shop", kind="storefront", adapter="shopify", base_url="https://s.example")
    Source.objects.create(
        name="ep", kind="carrier", adapter="easypost", base_url="https://e.example", last_success_at=timezone.now()
    )
    client.force_login(agent())

    response = client.get("/health/")

    assert b"<strong>Payment mismatch</strong>: waiting for shop</li>" in response.content
    assert response.context["waiting"] == [
        ("Promise at risk", ["shop"]),
        ("Promise missed", ["shop"]),
        ("Return not refunded", ["shop"]),
        ("Payment mismatch", ["shop"]),
    ]
    Source.objects.filter(name="shop").update(last_success_at=timezone.now())
    assert b"Waiting for a first complete sync" not in client.get("/health/").content
