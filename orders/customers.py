"""Customer identity: one customer across every system's account, contact and guest order.

A person is matched on their loyalty id, normalised e-mail or E.164 phone (see
``orders/identity.py`` for the normalisation choices). Each system's view of them is
kept as a :class:`CustomerIdentity` with its source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Q

from integrations import records as rec

from .bulk import insert_new, upsert
from .identity import normalise_email, normalise_phone
from .models import Customer, CustomerIdentity, CustomerMerge

IDENTITY_FIELDS = [
    "customer_id",
    "name",
    "email",
    "email_normalised",
    "phone",
    "phone_e164",
    "loyalty_id",
    "source_updated_at",
    "synced_at",
    "content_hash",
]


@dataclass(frozen=True)
class Person:
    """The identifiers a record gives for a person, normalised."""

    name: str
    email: str
    phone: str
    loyalty_id: str

    @property
    def keys(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in (("loyalty", self.loyalty_id), ("email", self.email), ("phone", self.phone)) if v]


def person(name: str, emails: Iterable[str], phones: Iterable[str], loyalty_id: str) -> Person:
    email = next((e for e in map(normalise_email, emails) if e), "")
    phone = next((p for p in map(normalise_phone, phones) if p), "")
    return Person(name=name, email=email, phone=phone, loyalty_id=loyalty_id)


def customers_resolve(people: Sequence[Person], *, source=None) -> list[int | None]:
    """The customer id for each person: an existing customer sharing a loyalty id, e-mail or phone, else a new one.

    A person whose identifiers point at several existing customers shows they are one:
    they are merged into the oldest (recorded, reversible; never again for a pair a
    supervisor separated). People with no identifier at all get ``None``.
    """
    wanted = {kind: {v for p in people for k, v in p.keys if k == kind} for kind in ("loyalty", "email", "phone")}
    known: dict[tuple[str, str], set[int]] = {}
    if any(wanted.values()):
        customers = Customer.objects.filter(
            Q(loyalty_id__any=wanted["loyalty"]) | Q(email__any=wanted["email"]) | Q(phone__any=wanted["phone"])
        )
        identities = CustomerIdentity.objects.filter(
            Q(loyalty_id__any=wanted["loyalty"])
            | Q(email_normalised__any=wanted["email"])
            | Q(phone_e164__any=wanted["phone"])
        )
        rows = [
            *customers.values_list("id", "loyalty_id", "email", "phone"),
            *identities.values_list("customer_id", "loyalty_id", "email_normalised", "phone_e164"),
        ]
        for cid, loyalty, email, phone in rows:
            for key in (("loyalty", loyalty), ("email", email), ("phone", phone)):
                if key[1] in wanted[key[0]]:
                    known.setdefault(key, set()).add(cid)
        _merge_where_one_person_is_several(people, known, source)

    # People who match nobody yet: one new customer per group of people sharing a key.
    group_of: dict[tuple[str, str], int] = {}
    groups: dict[int, Person] = {}
    for index, who in enumerate(people):
        if not who.keys or any(key in known for key in who.keys):
            continue
        group = next((group_of[key] for key in who.keys if key in group_of), index)
        for key in who.keys:
            group_of.setdefault(key, group)
        groups.setdefault(group, who)
    new_ids = insert_new(
        Customer,
        [
            {"name": p.name, "email": p.email, "phone": p.phone, "loyalty_id": p.loyalty_id, **_stamps()}
            for p in groups.values()
        ],
    )
    new_for = dict(zip(groups, new_ids, strict=True))
    for key, group in group_of.items():
        known.setdefault(key, {new_for[group]})
    return [next((min(known[key]) for key in p.keys if key in known), None) for p in people]


def _merge_where_one_person_is_several(
    people: Sequence[Person], known: dict[tuple[str, str], set[int]], source
) -> None:
    """Merge customers that one person's identifiers connect; update ``known`` to the survivors."""
    from .services import customer_merge, merge_blocked

    for who in people:
        candidates = set().union(*(known.get(key, set()) for key in who.keys))
        if len(candidates) < 2:
            continue
        survivor = min(candidates)
        for other in sorted(candidates - {survivor}):
            if merge_blocked(survivor, other):
                continue
            key = next(k for k in who.keys if other in known.get(k, set()))
            customer_merge(survivor_id=survivor, merged_ids=[other], key=f"{key[0]}:{key[1]}", source=source)
            for members in known.values():
                if other in members:
                    members.discard(other)
                    members.add(survivor)


class CustomerMergedMeanwhile(Exception):
    """A customer this page points at was merged away by another sync; the page is landed again."""


def customers_pin(customer_ids: Iterable[int | None]) -> dict[int, int]:
    """Hold the customers a page will point at (``FOR KEY SHARE``) until it commits; map merged ones to survivors.

    A concurrent merge takes ``FOR UPDATE`` on the customer it folds away, so it waits for
    this page and then moves the page's new orders and identities along with the rest.
    A customer merged away before the pin (by this page's own resolution, or by a sync
    that committed meanwhile) is replaced by the customer it was merged into: the
    returned ``{old id: survivor id}`` says which. Only a customer gone without a trace
    raises :class:`CustomerMergedMeanwhile` (the page is then landed again).
    """
    ids = sorted({i for i in customer_ids if i})
    if not ids:
        return {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM orders_customer WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE", [ids])
            found = {row[0] for row in cursor.fetchall()}
    else:
        found = set(Customer.objects.filter(pk__in=ids).values_list("pk", flat=True))
    gone = set(ids) - found
    survivor_of = customers_survivor_of(gone)
    finals = set(survivor_of.values())
    lost = (gone - set(survivor_of)) | (
        finals - set(Customer.objects.filter(pk__in=finals).values_list("pk", flat=True))
    )
    if lost:
        raise CustomerMergedMeanwhile(f"customers {sorted(lost)} disappeared during the sync")
    return survivor_of


def customers_survivor_of(customer_ids: Iterable[int | None]) -> dict[int, int]:
    """``{merged id: the customer it lives on as}`` for those of ``customer_ids`` merged away.

    Follows merges not reversed, chains included (merged into a customer merged later in turn).
    Ids never merged are not in the answer.
    """
    survivor_of: dict[int, int] = {}
    pending = {i for i in customer_ids if i}
    while pending:
        step = dict(
            CustomerMerge.objects.filter(merged_customer_id__in=pending, reversed_at__isnull=True).values_list(
                "merged_customer_id", "survivor_id"
            )
        )
        for old, new in step.items():
            survivor_of[old] = new
            for earlier, target in survivor_of.items():
                if target == old:
                    survivor_of[earlier] = new
        pending = set(step.values()) - set(survivor_of)
    return survivor_of


def _stamps() -> dict:
    from django.utils import timezone

    now = timezone.now()
    return {"created_at": now, "updated_at": now}


def ingest_customers(*, source, records: Sequence[rec.CustomerRecord], synced_at: datetime, hashes: dict[str, str]):
    """Upsert the source's identities. Returns ``(created, updated, unchanged, {external_id: customer_id})``."""
    known = CustomerIdentity.objects.filter(source=source, external_id__any=[r.external_id for r in records])
    existing, existing_customer = {}, {}
    for external_id, content_hash, customer_id in known.values_list("external_id", "content_hash", "customer_id"):
        existing[external_id] = content_hash
        existing_customer[external_id] = customer_id
    changed = [r for r in records if existing.get(r.external_id) != hashes[r.external_id]]
    unchanged = [r.external_id for r in records if existing.get(r.external_id) == hashes[r.external_id]]
    people = {r.external_id: person(r.name, r.emails, r.phones, r.loyalty_id) for r in changed}
    new = [r for r in changed if r.external_id not in existing]
    resolved = customers_resolve([people[r.external_id] for r in new], source=source)
    orphans = [r for r, cid in zip(new, resolved, strict=True) if cid is None]
    orphan_ids = insert_new(
        Customer,
        [{"name": r.name, "email": "", "phone": "", "loyalty_id": "", **_stamps()} for r in orphans],
    )
    customer_of = {
        **existing_customer,
        **{r.external_id: cid for r, cid in zip(new, resolved, strict=True) if cid is not None},
    }
    customer_of.update({r.external_id: cid for r, cid in zip(orphans, orphan_ids, strict=True)})

    rows = [
        {
            "source_id": source.pk,
            "external_id": r.external_id,
            "customer_id": customer_of[r.external_id],
            "name": r.name,
            "email": r.emails[0] if r.emails else "",
            "email_normalised": people[r.external_id].email,
            "phone": r.phones[0] if r.phones else "",
            "phone_e164": people[r.external_id].phone,
            "loyalty_id": r.loyalty_id,
            "source_updated_at": r.updated_at,
            "synced_at": synced_at,
            "first_seen_at": synced_at,
            "content_hash": hashes[r.external_id],
        }
        for r in changed
    ]
    survivor_of = customers_pin(row["customer_id"] for row in rows)
    for row in rows:
        row["customer_id"] = survivor_of.get(row["customer_id"], row["customer_id"])
    customer_of = {ext: survivor_of.get(cid, cid) for ext, cid in customer_of.items()}
    upsert(CustomerIdentity, rows, unique=["source_id", "external_id"], update=IDENTITY_FIELDS)
    if unchanged:
        CustomerIdentity.objects.filter(source=source, external_id__any=unchanged).update(synced_at=synced_at)
    _fill_customer_blanks(rows)
    return len(new), len(changed) - len(new), len(unchanged), customer_of


def _fill_customer_blanks(identity_rows: Sequence[dict]) -> None:
    """Give customers a name, e-mail, phone and loyalty id from their identities where they have none."""
    by_customer: dict[int, dict] = {}
    for row in identity_rows:
        by_customer.setdefault(row["customer_id"], row)
    if not by_customer:
        return
    updates = []
    for customer in Customer.objects.filter(pk__any=by_customer).only("id", "name", "email", "phone", "loyalty_id"):
        row = by_customer[customer.pk]
        before = (customer.name, customer.email, customer.phone, customer.loyalty_id)
        customer.name = customer.name or row["name"]
        customer.email = customer.email or row["email_normalised"]
        customer.phone = customer.phone or row["phone_e164"]
        customer.loyalty_id = customer.loyalty_id or row["loyalty_id"]
        if before != (customer.name, customer.email, customer.phone, customer.loyalty_id):
            updates.append(customer)
    Customer.objects.bulk_update(updates, ["name", "email", "phone", "loyalty_id"], batch_size=1000)
