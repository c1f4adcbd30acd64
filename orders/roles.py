"""The three staff roles, as Django groups, and what each may do in the admin."""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

AGENT = "agent"
STORE_STAFF = "store_staff"
SUPERVISOR = "supervisor"
ROLES = (AGENT, STORE_STAFF, SUPERVISOR)

_UPSTREAM = [
    "customer",
    "customeridentity",
    "order",
    "orderrecord",
    "orderline",
    "payment",
    "shipment",
    "trackingevent",
    "return",
    "stocklevel",
    "timelineevent",
    "flag",
]

# group -> {"app_label.model": [actions]}
PERMISSIONS: dict[str, dict[str, list[str]]] = {
    AGENT: {
        **{f"orders.{model}": ["view"] for model in _UPSTREAM},
        "orders.store": ["view"],
        "orders.note": ["view", "add"],
        "orders.interaction": ["view", "add"],
        "orders.customerlink": ["view"],  # settled on the customer's screen once the caller is verified
    },
    # Store staff work the counter and their stores' pages, never the admin: its lists are not store-scoped.
    STORE_STAFF: {},
    SUPERVISOR: {
        **{f"orders.{model}": ["view"] for model in _UPSTREAM},
        "orders.store": ["view", "add", "change"],
        "orders.storealias": ["view", "add", "change", "delete"],
        "orders.note": ["view", "add", "change", "delete"],
        "orders.customermerge": ["view", "add", "change"],
        "orders.customerlink": ["view", "change"],
        "orders.accesslog": ["view"],
        "orders.interaction": ["view"],
        "orders.apitoken": ["view", "change"],
        "orders.messagetemplate": ["view", "change"],
        "orders.customermessage": ["view"],
        "orders.pickuppush": ["view"],
        "orders.detectionrule": ["view", "change"],
        "integrations.source": ["view", "add", "change"],
        "integrations.syncrun": ["view"],
        "integrations.rawrecord": ["view"],
        "integrations.deadletter": ["view", "change"],
        "integrations.webhookdelivery": ["view"],
        "auth.user": ["view", "add", "change"],
        "axes.accessattempt": ["view", "delete"],  # deleting a locked attempt unlocks that username + address
    },
}


def roles_sync(apps=None) -> None:
    """Create the groups and give them exactly their permissions (idempotent).

    Run from migrations with the historical ``apps``: a model that a later migration
    creates has no permissions yet and is skipped; that migration runs this again.
    """
    apps = apps or global_apps
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for model_label, actions in grants.items():
            app_label, model = model_label.split(".")
            codenames = [f"{action}_{model}" for action in actions]
            wanted += Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        group.permissions.set(wanted)


def user_role(user) -> str | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return SUPERVISOR
    names = set(user.groups.values_list("name", flat=True))
    return next((role for role in (SUPERVISOR, AGENT, STORE_STAFF) if role in names), None)
