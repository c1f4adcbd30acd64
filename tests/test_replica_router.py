"""Reads from a replica (issue 15): screens, search and the API read it; writes, the admin, sign-in and the
moments after a person wrote read the primary.

The replica here is a second PostgreSQL database: the test database's twin (same schema), emptied,
that each test fills with a logical copy of the primary's rows (:func:`catch_up`) — a replica that
has caught up. Its customer then gets another name, so a page shows which database it was read
from; a row written after the copy is on the primary only, like a write the replica has not
replayed yet. Every statement run on each connection is recorded.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import pytest
import time_machine
from django.apps import apps
from django.db import connections, router, transaction
from django.test import Client
from django.urls import reverse

from omnidesk.middleware import WROTE_AT
from omnidesk.routers import PRIMARY, REPLICA, ReplicaRouter, replica_reads_allow, replica_reads_track
from orders import roles
from orders.api.auth import token_create
from orders.counter.services import pickup_line_check
from orders.models import AccessLog, ApiToken, Customer, Handover, Note, Order, Store
from tests.factories import UserFactory, agent, clerk_of, supervisor
from tests.orders import scene as scenes

pytestmark = pytest.mark.django_db(databases=[PRIMARY, REPLICA])

ON_REPLICA = "Zoë Müller (read from the replica)"
STICKY = 10.0
# What a request reads on the primary whatever it does: the session, the user, their roles and permissions,
# the stores they work at (``user.stores``), the access log (the pickup board's poll reads it back), API tokens.
PRIMARY_ONLY = re.compile(r"^(django_session|auth_\w+|axes_\w+|orders_store_staff|orders_accesslog|orders_apitoken)$")
TABLES = re.compile(r'\b(?:FROM|JOIN|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)
WRITES = re.compile(r"\b(?:INSERT|UPDATE|DELETE)\b")


# --- the replica -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def replica_database(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The ``replica`` alias on a database of its own: a copy of the (freshly migrated) test database, emptied.

    Copied with ``CREATE DATABASE … TEMPLATE`` (half a second; migrating it would take twenty),
    which needs nobody connected to the test database: this module's tests have not started.
    The alias replaces one ``DATABASE_REPLICA_URL`` may have made (a mirror of the test database).
    """
    with django_db_blocker.unblock():
        primary = connections[PRIMARY]
        source, name = primary.settings_dict["NAME"], f"{primary.settings_dict['NAME']}_replica"
        connections.close_all()
        with primary._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        configured = connections.settings.get(REPLICA)
        _alias_point(REPLICA, {**primary.settings_dict, "NAME": name})
        replica = connections[REPLICA]
        with replica.cursor() as cursor:
            tables = ", ".join(replica.ops.quote_name(t) for t in replica.introspection.table_names(cursor))
            cursor.execute(f"TRUNCATE {tables} CASCADE")
        yield name
        connections[REPLICA].close()
        if configured is None:
            connections.settings.pop(REPLICA)
            _alias_forget(REPLICA)
        else:
            _alias_point(REPLICA, configured)
        with primary._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _alias_point(alias: str, settings_dict: dict) -> None:
    connections.settings[alias] = settings_dict
    _alias_forget(alias)


def _alias_forget(alias: str) -> None:
    """Drop the connection made for the alias's old settings (the next use makes one for the new)."""
    with suppress(AttributeError):  # none made yet
        del connections[alias]


@pytest.fixture(autouse=True)
def _routed(replica_database, settings):
    """What ``DATABASE_REPLICA_URL`` turns on: the router (the middleware switches itself on with the alias)."""
    settings.DATABASE_ROUTERS = ["omnidesk.routers.ReplicaRouter"]
    settings.OMNIDESK_REPLICA_STICKY_SECONDS = STICKY


def catch_up() -> None:
    """The replica replays the primary: every row of every table, as the primary's transaction sees it.

    A logical copy inside the test's transactions (both are rolled back after the test). Foreign
    keys are checked at commit, so the order of the tables does not matter. Rows the replica holds
    already are kept as they are there: copied before (so the tell-tale name stays), or written
    by a trigger (the distinct customer names).
    """
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        rows = list(model._base_manager.using(PRIMARY).all())
        model._base_manager.using(REPLICA).bulk_create(rows, ignore_conflicts=True)


@dataclass
class Seen:
    """The statements run on each database while watching."""

    primary: list[str] = field(default_factory=list)
    replica: list[str] = field(default_factory=list)

    def read_on_primary(self) -> set[str]:
        """The tables of the primary's reads that touch nothing of :data:`PRIMARY_ONLY`: business reads."""
        return {
            table
            for tables in _statements(self.primary, reads=True)
            if not any(PRIMARY_ONLY.match(t) for t in tables)
            for table in tables
        }

    def read_on_replica(self) -> set[str]:
        return _tables(self.replica, reads=True)

    def written_on_replica(self) -> set[str]:
        return _tables(self.replica, reads=False)

    def written_on_primary(self) -> set[str]:
        return _tables(self.primary, reads=False)


def _tables(statements: list[str], *, reads: bool) -> set[str]:
    return {table for tables in _statements(statements, reads=reads) for table in tables}


def _statements(statements: list[str], *, reads: bool) -> list[list[str]]:
    """The tables each read or each write names (savepoints and ``SET`` name none)."""
    return [TABLES.findall(sql) for sql in statements if _reads(sql) is reads]


def _reads(sql: str) -> bool:
    head = sql.lstrip().upper()
    return head.startswith("SELECT") or (head.startswith("WITH") and not WRITES.search(head))


@contextmanager
def watching() -> Iterator[Seen]:
    """Record every statement each connection runs (an execute wrapper: requests do not reset it)."""
    seen = Seen()
    with (
        connections[PRIMARY].execute_wrapper(_recorder(seen.primary)),
        connections[REPLICA].execute_wrapper(_recorder(seen.replica)),
    ):
        yield seen


def _recorder(statements: list[str]):
    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    return record


@pytest.fixture
def world():
    """The agent-pane scene on the primary, caught up on the replica, where Zoë has another name."""
    world = scenes.build()
    catch_up()
    Customer.objects.using(REPLICA).filter(pk=world.zoe.pk).update(name=ON_REPLICA)
    return world


@pytest.fixture
def agent_client(world) -> Client:
    client = Client()
    client.force_login(agent())
    return client


# --- the router on its own: outside a request nothing reads the replica ------------------------------
def test_tasks_commands_sync_and_detection_read_the_primary():
    assert router.db_for_read(Order) == PRIMARY  # no request opted in
    with replica_reads_track():
        assert router.db_for_read(Order) == PRIMARY  # tracked, but not allowed (a POST, the admin)


def test_an_allowed_block_reads_the_replica_until_it_writes():
    with replica_reads_track():
        replica_reads_allow()
        assert router.db_for_read(Order) == REPLICA
        Store.objects.create(code="new", name="New")
        assert router.db_for_read(Order) == PRIMARY  # read your writes: the replica may not have it yet
        assert router.db_for_write(Order) == PRIMARY


def test_reads_inside_a_transaction_the_block_opened_go_to_the_primary():
    with replica_reads_track():
        replica_reads_allow()
        with transaction.atomic():
            assert router.db_for_read(Order) == PRIMARY
        assert router.db_for_read(Order) == REPLICA


def test_sessions_users_tokens_and_the_access_log_are_read_on_the_primary_and_writing_them_does_not_count():
    user = agent()
    with replica_reads_track() as reads:
        replica_reads_allow()
        AccessLog.objects.create(user=user, username=user.username, action=AccessLog.Action.SEARCH)
        assert {
            model: router.db_for_read(model)
            for model in (apps.get_model("sessions", "Session"), type(user), ApiToken, AccessLog)
        } == dict.fromkeys((apps.get_model("sessions", "Session"), type(user), ApiToken, AccessLog), PRIMARY)
        assert not reads.wrote
        assert router.db_for_read(Order) == REPLICA
        assert router.db_for_read(Store, instance=user) == PRIMARY  # user.stores: who sees what, where the user is


def test_migrations_run_on_the_primary_only_and_objects_of_both_databases_relate():
    replicated, written = Order(), Store()
    replicated._state.db, written._state.db = REPLICA, PRIMARY

    assert (ReplicaRouter().allow_migrate(PRIMARY, "orders"), ReplicaRouter().allow_migrate(REPLICA, "orders")) == (
        True,
        False,
    )
    assert ReplicaRouter().allow_relation(replicated, written) is True


# --- screens, search and the API read the replica ---------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "customer",
        "order",
        "/lookup?phone=%2B13125550147",
        "/worklist/",
        "/health/",
        "/stores/downtown/pickups/",
    ],
)
def test_a_staff_screen_reads_only_the_replica(agent_client, world, path):
    url = {
        "customer": reverse("customer", args=[world.zoe.pk]),
        "order": reverse("customer_order", args=[world.zoe.pk, world.web_order.pk]),
    }.get(path, path)

    with watching() as seen:
        response = agent_client.get(url)

    assert response.status_code in (200, 302)
    assert seen.read_on_primary() == set()
    assert "orders_order" in seen.read_on_replica() or "integrations_source" in seen.read_on_replica()
    assert seen.written_on_replica() == set()
    assert seen.written_on_primary() <= {"orders_accesslog", "django_session"}


def test_the_customer_screen_shows_what_the_replica_holds(agent_client, world):
    with watching() as seen:
        response = agent_client.get(reverse("customer", args=[world.zoe.pk]))

    assert response.status_code == 200
    assert ON_REPLICA in response.content.decode()
    assert {"orders_customer", "orders_order", "orders_timelineevent"} <= seen.read_on_replica()
    assert (seen.read_on_primary(), seen.written_on_primary() - {"django_session"}) == (set(), {"orders_accesslog"})


@pytest.mark.parametrize("typed", ["Zoe Muller", "#1001", "zoe.muller@example.com"])
def test_search_reads_the_replica_though_it_comes_by_post(agent_client, world, typed):
    with watching() as seen:
        response = agent_client.post("/", {"q": typed}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert ON_REPLICA in response.content.decode()
    assert seen.read_on_primary() == set()
    assert "orders_customer" in seen.read_on_replica()
    assert WROTE_AT not in agent_client.session  # a search writes nothing that a later read could miss


def test_the_api_reads_the_replica_and_checks_its_token_on_the_primary(client, world):
    token = token_create(agent())

    with watching() as seen:
        looked_up = client.get(
            "/api/v1/lookup", {"phone": "(312) 555-0147"}, headers={"Authorization": f"Token {token}"}
        )
        detail = client.get(f"/api/v1/orders/{world.web_order.pk}", headers={"Authorization": f"Token {token}"})

    assert (looked_up.status_code, detail.status_code) == (200, 200)
    assert [c["name"] for c in looked_up.json()["customers"]] == [ON_REPLICA]
    assert detail.json()["number"] == "#1001"
    assert seen.read_on_primary() == set()
    assert {"orders_order", "orders_orderline", "orders_timelineevent"} <= seen.read_on_replica()
    assert "orders_apitoken" in _tables(seen.primary, reads=True)
    assert "orders_apitoken" not in seen.read_on_replica()


# --- writes, and the reads right after them, on the primary --------------------------------------------------
def test_after_a_note_its_writer_reads_the_primary_until_the_sticky_window_ends(agent_client, world):
    other = Client()
    other.force_login(UserFactory(username="bob.agent", role=roles.AGENT))
    screen = reverse("customer", args=[world.zoe.pk])

    with watching() as posting:
        posted = agent_client.post(reverse("note_add", args=[world.zoe.pk]), {"body": "Promised a call back Friday"})
    with watching() as redirected:
        after = agent_client.get(posted["Location"])
    seen_by_other = other.get(screen)  # the replica has not replayed the note yet

    assert (posted.status_code, posted["Location"]) == (302, screen)
    assert list(Note.objects.values_list("body", flat=True)) == ["Promised a call back Friday"]
    assert not Note.objects.using(REPLICA).exists()
    assert "orders_note" in posting.written_on_primary() and posting.replica == []
    assert redirected.replica == []  # read your writes
    assert "Promised a call back Friday" in after.content.decode() and ON_REPLICA not in after.content.decode()
    assert "Promised a call back Friday" not in seen_by_other.content.decode()
    assert ON_REPLICA in seen_by_other.content.decode()

    with time_machine.travel(time.time() + STICKY + 1, tick=False), watching() as later:
        lagging = agent_client.get(screen)
    catch_up()
    caught_up = agent_client.get(screen)

    assert later.read_on_primary() == set() and "Promised a call back Friday" not in lagging.content.decode()
    assert "Promised a call back Friday" in caught_up.content.decode()


def test_after_a_handover_the_clerks_counter_reads_the_primary(world):
    order = world.web_order
    order.shipments.all().delete()  # waits at the counter
    Order.objects.filter(pk=order.pk).update(status="paid")
    clerk = clerk_of(world.downtown, "dana.downtown")
    for line in order.lines.all():
        pickup_line_check(order=order, line=line, state="picked", by=clerk)
    catch_up()
    counter = Client()
    counter.force_login(clerk)
    page = reverse("pickup_order", args=["downtown", order.pk])
    before = counter.get(page)

    handed = counter.post(
        reverse("pickup_handover", args=["downtown", order.pk]),
        {"name": "Zoë Müller", "id_check": "order_number", "id_value": "#1001", "action": "collect"},
    )
    with watching() as redirected:
        after = counter.get(handed["Location"])

    assert before.status_code == 200 and "Collected" not in before.content.decode()
    assert (handed.status_code, handed["Location"]) == (302, page)
    assert Handover.objects.get().collected_by == "Zoë Müller"
    assert not Handover.objects.using(REPLICA).exists()
    assert redirected.replica == []
    assert after.status_code == 200 and "Collected" in after.content.decode()


@pytest.mark.parametrize("path", ["admin", "/accounts/login/", "/me/"])
def test_the_admin_sign_in_and_own_settings_read_the_primary(world, path):
    client = Client()
    if path != "/accounts/login/":
        client.force_login(supervisor())
    url = reverse("admin:orders_order_change", args=[world.web_order.pk]) if path == "admin" else path

    with watching() as seen:
        response = client.get(url)

    assert response.status_code == 200
    assert seen.replica == []
