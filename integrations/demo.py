"""Setting up the demo: users for each role, and sources pointing at the sandbox retailer."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import transaction

from orders import roles
from orders.models import Store

from .adapters import REGISTRY
from .models import Source
from .services import source_upsert

DEMO_USERS = (
    # username, password, role, stores
    ("agent", "omnidesk-agent", roles.AGENT, ()),
    ("clerk", "omnidesk-clerk", roles.STORE_STAFF, ("downtown",)),
    ("supervisor", "omnidesk-supervisor", roles.SUPERVISOR, ()),
)

# name -> (adapter, path under the sandbox, credentials). A source is only added once its adapter exists.
SANDBOX_SOURCES = {
    "shopify": (
        "shopify",
        "/shopify/admin/api/2025-07",
        {"access_token": "shpat_sandbox", "webhook_secret": "shopify_webhook_secret"},
    ),
    "square": ("square", "/square", {"access_token": "sq_sandbox"}),
    "odoo": ("odoo", "/odoo", {"api_key": "odoo_sandbox", "database": "sandbox"}),
    "hubspot": ("hubspot", "/hubspot", {"access_token": "hs_sandbox"}),
    "easypost": (
        "easypost",
        "/easypost",
        {"api_key": "ep_sandbox", "webhook_secret": "easypost_webhook_secret"},
    ),
}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


@transaction.atomic
def demo_users_ensure() -> list[DemoLogin]:
    """One user per role with a known password (demo only); the clerk works at Downtown."""
    logins = []
    for username, password, role, store_codes in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.is_staff = role == roles.SUPERVISOR
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        for code in store_codes:
            store, _ = Store.objects.get_or_create(code=code, defaults={"name": code.replace("-", " ").title()})
            store.staff.add(user)
        logins.append(DemoLogin(username, password, role))
    return logins


def demo_sources_ensure(sandbox_url: str, *, interval_seconds: int = 60, name_prefix: str = "") -> list[Source]:
    """Register (or re-point) one source per sandbox vendor whose adapter is available, named ``name_prefix`` + vendor."""
    sources = []
    for name, (adapter, path, credentials) in SANDBOX_SOURCES.items():
        if adapter not in REGISTRY:
            continue
        source, _ = source_upsert(
            name=name_prefix + name,
            adapter=adapter,
            base_url=sandbox_url.rstrip("/") + path,
            credentials=credentials,
            interval_seconds=interval_seconds,
        )
        sources.append(source)
    return sources
