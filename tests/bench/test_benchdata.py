"""Bench data (tests/bench/benchdata/): exact counts, rows shaped as the sync writes them, probes that find their rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Count

from integrations import records as rec
from integrations.models import Source
from orders.catalogue.identity import normalise_email, normalise_phone
from orders.ingest.correlate import normalise_number, orders_for, record_keys
from orders.ingest.orders import payment_event
from orders.models import (
    Customer,
    CustomerIdentity,
    CustomerName,
    Flag,
    Lifecycle,
    Order,
    OrderKey,
    OrderLine,
    OrderRecord,
    Payment,
    Return,
    Shipment,
    Store,
    TimelineEvent,
    TrackingEvent,
)
from orders.timeline import events
from orders.timeline.selectors import order_timeline
from tests.bench import benchdata

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS, CUSTOMERS = 2_000, 600
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KINDS = {
    "order_number", "erp_name", "pos_id", "email", "phone", "name", "tracking_number", "receipt_number", "loyalty_id",
    "card_last4",
}  # fmt: skip


@pytest.fixture
def loaded():
    return benchdata.generate(orders=ORDERS, customers=CUSTOMERS, seed=7, log=lambda *_: None, now=NOW)


def model_of(table: str):
    return next(m for m in apps.get_models() if m._meta.db_table == table)


def test_counts_are_exact_and_reported(loaded):
    assert Order.objects.count() == ORDERS
    assert Customer.objects.count() == CUSTOMERS
    assert {table: model_of(table).objects.count() for table in loaded["counts"]} == loaded["counts"]
    assert set(Source.objects.values_list("name", flat=True)) == {"shopify", "square", "odoo", "hubspot", "easypost"}


def test_shapes_per_order_and_customer(loaded):
    identities = CustomerIdentity.objects.values("customer_id").annotate(n=Count("id"))
    assert {row["n"] for row in identities} <= {1, 2, 3} and identities.count() == CUSTOMERS
    lines = OrderLine.objects.values("order_id").annotate(n=Count("id"))
    assert {row["n"] for row in lines} <= {1, 2, 3, 4} and lines.count() == ORDERS
    per_order = sorted(TimelineEvent.objects.values("order_id").annotate(n=Count("id")).values_list("n", flat=True))
    assert len(per_order) == ORDERS
    assert per_order[0] >= 3 and per_order[-2] <= 8 and per_order[-1] == 200  # one worst-case order
    scans = TrackingEvent.objects.values("shipment_id").annotate(n=Count("id")).values_list("n", flat=True)
    assert sorted(set(scans))[0] >= 2 and sorted(set(scans))[-2] <= 6
    assert (
        Shipment.objects.filter(source__name="shopify").count()
        == Shipment.objects.filter(source__name="easypost").count()
        > 0
    )
    assert Return.objects.exists()
    assert Store.objects.count() == 9  # eight stores and the warehouse


def test_a_whale_customer_and_the_worst_case_order(loaded):
    whale = Order.objects.values("customer_id").exclude(customer_id=None).annotate(n=Count("id")).order_by("-n")[0]
    assert whale["n"] == ORDERS // 20  # ~200 at the default size
    worst = TimelineEvent.objects.values("order_id").annotate(n=Count("id")).order_by("-n")[0]
    assert len(order_timeline(order_id=worst["order_id"])) == 200
    assert Order.objects.get(pk=worst["order_id"]).customer_id == whale["customer_id"]


def test_order_keys_are_what_correlation_computes(loaded):
    sources = {s.pk: s for s in Source.objects.all()}
    expected = set()
    for record in OrderRecord.objects.all():
        keyed = rec.UpstreamOrder(
            external_id=record.external_id, number=record.external_number, references=record.references
        )
        expected |= {(key, record.order_id) for key in record_keys(sources[record.source_id], keyed)}
    assert set(OrderKey.objects.values_list("key", "order_id")) == expected


def test_an_erp_record_naming_a_probe_number_lands_on_that_order(loaded):
    erp = Source.objects.get(name="odoo")
    for number, order_id in benchdata.probe_targets(7, 25)["order_number"]:
        record = rec.UpstreamOrder(external_id="probe", number="S99999", references=[number])
        target, merges = orders_for(erp, [record], {})
        assert (target["probe"], merges) == (order_id, [])
        assert OrderKey.objects.get(key=normalise_number(number)).order_id == order_id


def test_every_probe_finds_its_row(loaded):
    targets = benchdata.probe_targets(7, 20)
    assert set(targets) == KINDS and all(len(pairs) == 20 for pairs in targets.values())
    assert benchdata.probes(7, 20) == {kind: [text for text, _ in pairs] for kind, pairs in targets.items()}
    assert benchdata.probe_targets(7, 20) == targets  # the same seed draws the same probes
    found = {
        "order_number": lambda p: Order.objects.filter(number=p).values_list("id", flat=True),
        "erp_name": lambda p: OrderRecord.objects.filter(source__name="odoo", external_number=p).values_list("order_id", flat=True),
        "pos_id": lambda p: OrderRecord.objects.filter(source__name="square", external_id=p).values_list("order_id", flat=True),
        "email": lambda p: CustomerIdentity.objects.filter(email_normalised=normalise_email(p)).values_list("customer_id", flat=True),
        "phone": lambda p: Customer.objects.filter(phone=normalise_phone(p)).values_list("id", flat=True),
        "tracking_number": lambda p: Shipment.objects.filter(tracking_number=p).values_list("order_id", flat=True),
        "receipt_number": lambda p: Payment.objects.filter(receipt_number=p).values_list("order_id", flat=True),
        "loyalty_id": lambda p: Customer.objects.filter(loyalty_id=p).values_list("id", flat=True),
        "card_last4": lambda p: Payment.objects.filter(
            card_last4=p.rsplit(" ", 1)[1], order__customer__name=p.rsplit(" ", 1)[0]
        ).values_list("order_id", flat=True),
    }  # fmt: skip
    for kind, lookup in found.items():
        for probe, target in targets[kind]:
            assert target in set(lookup(probe)), (kind, probe)
    for probe, target in targets["name"]:
        assert close_to(probe, Customer.objects.get(pk=target).name), probe
    typed = [probe for probe, _ in targets["name"]]
    assert not all(Customer.objects.filter(name=probe).exists() for probe in typed)  # some misspelt or unaccented
    stored = set(Customer.objects.values_list("phone", flat=True)) | set(
        CustomerIdentity.objects.values_list("phone", flat=True)
    )
    assert not stored & {probe for probe, _ in targets["phone"]}  # written unlike any system wrote it


def test_the_distinct_names_search_walks_are_those_of_the_customers_written(loaded):
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT omnidesk_fold(name) FROM orders_customer WHERE name <> ''")
        folded = {row[0] for row in cursor.fetchall()}
    assert set(CustomerName.objects.values_list("folded", flat=True)) == folded
    assert len(folded) < CUSTOMERS  # namesakes: fewer names than people


def close_to(typed: str, name: str) -> bool:
    """The name itself, without its accents, or with two neighbouring letters swapped."""
    if typed in (name, benchdata._fold(name)):
        return True
    differ = [i for i, (a, b) in enumerate(zip(typed, name, strict=False)) if a != b]
    return len(typed) == len(name) and len(differ) == 2 and differ[1] == differ[0] + 1


def test_identities_normalise_as_the_app_does(loaded):
    for identity in CustomerIdentity.objects.select_related("customer"):
        assert identity.email_normalised == normalise_email(identity.email)
        assert identity.phone_e164 == normalise_phone(identity.phone)
        assert identity.phone_e164 in ("", identity.customer.phone)
    assert Customer.objects.exclude(name__regex=r"^[ -~]*$").exists()  # some names are not plain ASCII


def test_timeline_events_are_those_the_apps_constructors_make(loaded):
    by_key = {e.key: e for e in TimelineEvent.objects.all()}
    sources = {s.name: s for s in Source.objects.all()}
    expected = []
    for record in OrderRecord.objects.filter(source__name__in=["shopify", "square"]).select_related("order")[:300]:
        order = record.order
        if order.origin_source_id == record.source_id:
            expected.append(
                events.order_placed(
                    source=sources[record.source.name], external_id=record.external_id, order_id=order.pk,
                    customer_id=order.customer_id, number=order.number, channel=order.channel, total=order.total,
                    currency=order.currency, occurred_at=order.placed_at,
                )
            )  # fmt: skip
    for payment in Payment.objects.select_related("order")[:300]:
        row = {f.attname: getattr(payment, f.attname) for f in Payment._meta.concrete_fields}
        expected.append(payment_event(payment.source, row, payment.order.customer_id, None))
    for scan in TrackingEvent.objects.select_related("shipment")[:300]:
        expected.append(
            events.tracking_scanned(
                source=sources["easypost"], shipment_external_id=scan.shipment.external_id,
                order_id=scan.shipment.order_id, customer_id=None, status=scan.status, message=scan.message,
                location=scan.location, occurred_at=scan.occurred_at,
            )
        )  # fmt: skip
    for shipment in Shipment.objects.filter(source__name="shopify").select_related("order")[:300]:
        expected.append(
            events.shipment_created(
                source=sources["shopify"], external_id=shipment.external_id, order_id=shipment.order_id,
                customer_id=shipment.order.customer_id, carrier=shipment.carrier,
                tracking_number=shipment.tracking_number, occurred_at=shipment.shipped_at,
            )
        )  # fmt: skip
    for record in OrderRecord.objects.filter(source__name="square", order__channel="store").select_related("order")[
        :300
    ]:
        expected.append(
            events.order_status_changed(
                source=sources["square"], external_id=record.external_id, order_id=record.order_id,
                customer_id=record.order.customer_id, old=None, new=record.status, new_label=Lifecycle(record.status).label,
                raw_status=record.raw_status, occurred_at=record.source_updated_at,
            )
        )  # fmt: skip
    assert len(expected) > 1000
    for event in expected:
        stored = by_key[event["key"]]
        got = {name: getattr(stored, name) for name in ("kind", "occurred_at", "summary", "order_id", "customer_id", "source_id", "subject", "data")}  # fmt: skip
        assert got == {name: event[name] for name in got}, event["key"]


def test_at_most_one_open_flag_per_order_and_code(loaded):
    assert set(Flag.objects.values_list("code", flat=True)) <= set(Flag.Code.values)
    assert Flag.objects.filter(closed_at__isnull=False).exists()
    assert not Flag.objects.filter(closed_at=None).values("order_id", "code").annotate(n=Count("id")).filter(n__gt=1)


def test_sequences_continue_after_the_generated_ids(loaded):
    order = Order.objects.create(number="#NEW")
    customer = Customer.objects.create(name="New Person")
    event = TimelineEvent.objects.create(key="new", kind="note", occurred_at=NOW, summary="new", order=order)
    key = OrderKey.objects.create(key="NEW", order=order)

    assert order.pk == ORDERS + 1
    assert customer.pk == CUSTOMERS + 1
    assert event.pk == loaded["counts"]["orders_timelineevent"] + 1
    assert key.pk == loaded["counts"]["orders_orderkey"] + 1


def schema() -> set[tuple]:
    """Every index and constraint of the tables generate() fills, as PostgreSQL would recreate them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated, condeferrable,"
            " condeferred FROM pg_constraint WHERE conrelid = ANY(%s::regclass[])",
            [list(benchdata.TABLES)],
        )
        constraints = set(cursor.fetchall())
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [list(benchdata.TABLES)]
        )
        return constraints | set(cursor.fetchall())


def test_indexes_and_constraints_are_restored_exactly():
    before = schema()

    benchdata.generate(orders=50, customers=10, log=lambda *_: None, now=NOW)

    assert len(before) > 60
    assert schema() == before


def test_the_same_seed_and_clock_give_the_same_rows_after_a_wipe(loaded):
    before = list(OrderRecord.objects.order_by("id").values_list("external_id", "external_number", "status")[:500])
    with pytest.raises(RuntimeError, match="wipe"):
        benchdata.generate(orders=10, customers=5, log=lambda *_: None)

    benchdata.wipe()
    assert not Order.objects.exists() and not Source.objects.exists()
    again = benchdata.generate(orders=ORDERS, customers=CUSTOMERS, seed=7, log=lambda *_: None, now=NOW)

    assert again["counts"] == loaded["counts"]
    assert (
        list(OrderRecord.objects.order_by("id").values_list("external_id", "external_number", "status")[:500]) == before
    )
