"""Customer identity: one customer across every system's account, contact and guest order.

A person is matched on their loyalty id, normalised e-mail or E.164 phone (see
``orders/catalogue/identity.py`` for the normalisation choices, and for the placeholders,
``noemail@example.com`` or ``0000000000``, that are nobody's key). Each system's view of them is
kept as a :class:`CustomerIdentity` with its source.

Identity is a security boundary, so a key is only as good as the system behind it. A
loyalty id, a verified storefront account's e-mail and the e-mail and phone of a POS customer
profile made with the customer there (Square: ``creation_source`` DIRECTORY…, see
``square_mapping.VOUCHED_BY_CREATION_SOURCE``) are *strong*; a guest order's e-mail and phone,
a CRM contact's free text and a profile an app or an import made are *weak* (anyone can type
anyone's phone into a guest checkout). Two records are linked automatically only when they
share a loyalty id, or an e-mail both vouch for, or two independent keys (e-mail and phone)
agree, or a phone both vouch for when nothing says they are two people: a phone is shared by
a household, so two records on one phone that carry different e-mail addresses, or clearly
different names (:func:`~orders.catalogue.identity.names_differ`), are not linked by it. Anything
less is only a suggestion (:class:`~orders.models.CustomerLink`), shown on the customer's
screen for a supervisor, or an agent with the verified caller on the line, to confirm.
"""

from __future__ import annotations

import zlib
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from integrations import records as rec
from omnidesk.db import insert_new, upsert

from ..catalogue.identity import names_differ, normalise_email, normalise_phone
from ..catalogue.merges import customer_merge, merge_blocked
from ..models import Customer, CustomerIdentity, CustomerLink, CustomerMerge
from .common import updated_before

IDENTITY_FIELDS = [
    "customer_id",
    "name",
    "email",
    "email_normalised",
    "phone",
    "phone_e164",
    "loyalty_id",
    "email_verified",
    "phone_verified",
    "source_updated_at",
    "synced_at",
    "content_hash",
]
KINDS = ("loyalty", "email", "phone")


@dataclass(frozen=True)
class Person:
    """The identifiers a record gives for a person, normalised, and which of them its system vouches for."""

    name: str
    email: str
    phone: str
    loyalty_id: str
    strong: frozenset[str] = field(default_factory=frozenset)

    @property
    def keys(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in (("loyalty", self.loyalty_id), ("email", self.email), ("phone", self.phone)) if v]

    def link(self, other: Person) -> tuple[bool, tuple[str, str] | None]:
        """``(automatic, key)``: whether the two are one person by trusted evidence, and a key they share.

        Automatic: the same loyalty id, an e-mail both systems vouch for, e-mail and phone both
        agreeing, or a phone both vouch for unless the two carry different e-mails or clearly
        different names (a household's phone). Anything less gives ``(False, key)``: a
        suggestion. Nothing shared: ``(False, None)``.
        """
        mine = dict(self.keys)
        shared = [(kind, value) for kind, value in other.keys if mine.get(kind) == value]
        if not shared:
            return False, None
        kinds = {kind for kind, _ in shared}
        vouched = {k for k in kinds if k in self.strong and k in other.strong}
        trusted = "loyalty" in kinds or "email" in vouched or ("phone" in vouched and not self.differs(other))
        return trusted or len(kinds) >= 2, shared[0]

    def differs(self, other: Person) -> bool:
        """Whether the two records are clearly two people: different e-mails, or clearly different names."""
        return bool(self.email and other.email and self.email != other.email) or names_differ(self.name, other.name)

    def by_phone_alone(self, other: Person) -> bool:
        """Whether the phone is the only key the two share."""
        return (
            bool(self.phone)
            and self.phone == other.phone
            and not (
                (self.email and self.email == other.email) or (self.loyalty_id and self.loyalty_id == other.loyalty_id)
            )
        )


def person(
    name: str, emails: Iterable[str], phones: Iterable[str], loyalty_id: str, verified: Iterable[str] = ()
) -> Person:
    email = next((e for e in map(normalise_email, emails) if e), "")
    phone = next((p for p in map(normalise_phone, phones) if p), "")
    strong = frozenset(k for k in verified if (k == "email" and email) or (k == "phone" and phone))
    return Person(name=name, email=email, phone=phone, loyalty_id=loyalty_id, strong=strong)


def _known_people(people: Sequence[Person]) -> list[tuple[int, Person]]:
    """``(customer id, what one record says)`` for every stored record sharing a key with these people.

    The records are the systems' identities, each with its own trust, and the customers known
    only from guest orders (no identity: their own e-mail and phone, unverified).
    """
    wanted = {kind: {v for p in people for k, v in p.keys if k == kind} for kind in KINDS}
    if not any(wanted.values()):
        return []
    _keys_lock(people)
    identities = CustomerIdentity.objects.filter(
        Q(loyalty_id__any=wanted["loyalty"])
        | Q(email_normalised__any=wanted["email"])
        | Q(phone_e164__any=wanted["phone"])
    ).values_list(
        "customer_id", "name", "loyalty_id", "email_normalised", "phone_e164", "email_verified", "phone_verified"
    )
    guests = (
        Customer.objects.filter(
            Q(loyalty_id__any=wanted["loyalty"]) | Q(email__any=wanted["email"]) | Q(phone__any=wanted["phone"])
        )
        .filter(identities__isnull=True)
        .values_list("id", "name", "loyalty_id", "email", "phone")
    )
    known = [
        (cid, Person(name, email, phone, loyalty, frozenset(k for k, v in (("email", ev), ("phone", pv)) if v)))
        for cid, name, loyalty, email, phone, ev, pv in identities
    ]
    return known + [(cid, Person(name, email, phone, loyalty)) for cid, name, loyalty, email, phone in guests]


KEYS_NAMESPACE = 0x1D_E7_17  # advisory-lock namespace of customer keys being resolved


def _keys_lock(people: Sequence[Person]) -> None:
    """Hold the people's keys until this transaction commits (PostgreSQL).

    Two syncs landing the same person at once (the storefront's account and the POS's record)
    would each miss the other's uncommitted identity and make two customers that nothing links
    later. The second waits here, then reads the first's identity and links to it. Keys are taken
    in one order, so two pages never wait on each other's keys.
    """
    if connection.vendor != "postgresql":
        return
    keys = sorted({zlib.crc32(f"{kind}:{value}".encode()) - 2**31 for who in people for kind, value in who.keys})
    with connection.cursor() as cursor:  # unnest keeps the array's (sorted) order
        cursor.execute("SELECT count(pg_advisory_xact_lock(%s, k)) FROM unnest(%s::int[]) k", [KEYS_NAMESPACE, keys])


def _sharing(who: Person, index: dict[tuple[str, str], list[int]]) -> list[int]:
    """Positions in ``index`` of the records sharing at least one key with ``who`` (each once, in order)."""
    return sorted({i for key in who.keys for i in index.get(key, ())})


def _index(people: Iterable[Person]) -> dict[tuple[str, str], list[int]]:
    index: dict[tuple[str, str], list[int]] = {}
    for position, who in enumerate(people):
        for key in who.keys:
            index.setdefault(key, []).append(position)
    return index


def _standing(who: Person, seen: Sequence[tuple[Hashable, Person, bool]]) -> set[Hashable]:
    """The owners (customers, or groups of this batch) ``who``'s automatic links hold to.

    ``seen``: ``(owner, record, automatic)`` for every record sharing a key with ``who``. A link
    by anything but a phone alone holds. A link by a phone alone holds only while it is not in
    doubt: none of that owner's records on the phone is clearly someone other than ``who``, no
    other owner on the phone (not linked otherwise) would do as well, and none of the owner's
    records on the phone is clearly someone other than a record linked by stronger evidence.
    So one household's landline does not join two people through a third record that names
    neither e-mail, nor a record join a customer one of whose records on the phone is someone else.
    """
    automatic_links = [(owner, record, who.by_phone_alone(record)) for owner, record, automatic in seen if automatic]
    firm = {owner for owner, _, phone_alone in automatic_links if not phone_alone}
    firm_records = [record for _, record, phone_alone in automatic_links if not phone_alone]
    on_phone: dict[Hashable, list[Person]] = {}
    for owner, record, _ in seen:
        if who.phone and record.phone == who.phone:
            on_phone.setdefault(owner, []).append(record)
    candidates = [
        owner for owner, records in on_phone.items() if owner not in firm and not any(who.differs(r) for r in records)
    ]
    by_phone = {owner for owner, _, phone_alone in automatic_links if phone_alone}
    if len(candidates) == 1 and candidates[0] in by_phone:
        owner = candidates[0]
        if not any(r.differs(f) for r in on_phone[owner] for f in firm_records):
            return firm | {owner}
    return firm


def customers_resolve(people: Sequence[Person], *, source=None) -> list[int | None]:
    """The customer id for each person: the existing customer they are linked to, else a new one.

    A person linked automatically to several customers shows they are one: they are merged
    into the oldest (recorded, reversible; never for a pair a supervisor separated or said
    are not the same). A link by a phone alone counts only while nothing puts it in doubt
    (:func:`_standing`); otherwise, as for a person who shares only a weak key with a customer,
    the person gets a customer of their own and a suggested link to that one. People with no
    identifier get ``None``.
    """
    known = _known_people(people)
    known_index = _index(record for _, record in known)
    linked: list[set[int]] = []
    suggested: list[dict[int, tuple[str, str]]] = []
    for who in people:
        seen, keys = [], {}
        for position in _sharing(who, known_index):
            cid, record = known[position]
            automatic, key = who.link(record)
            seen.append((cid, record, automatic))
            keys.setdefault(cid, key)
        auto = _standing(who, seen)
        linked.append(auto)
        suggested.append({cid: key for cid, key in keys.items() if cid not in auto})
    survivor_of = _merge_where_one_person_is_several(people, linked, known, source)

    # People linked to nobody yet: one new customer per group of people linked among themselves;
    # a weak key between two of them (or a phone alone in doubt) is a suggestion.
    batch_index = _index(people)
    group: dict[int, int] = {}
    within: list[tuple[int, int, tuple[str, str]]] = []

    def owner(other: int) -> Hashable:
        """Who an earlier person of the batch is: the known customer they are linked to, or their group."""
        return ("known", min(linked[other])) if linked[other] else ("new", group.get(other, other))

    for index, who in enumerate(people):
        earlier = [other for other in _sharing(who, batch_index) if other < index]
        links = {other: who.link(people[other]) for other in earlier}
        if linked[index]:
            within += [(index, other, key) for other, (automatic, key) in links.items() if not automatic]
        else:
            holds = _standing(who, [(owner(other), people[other], links[other][0]) for other in earlier])
            for other in earlier:
                automatic, key = links[other]
                if owner(other) not in holds:
                    within.append((index, other, key))
                elif linked[other] and not linked[index]:
                    linked[index] = linked[other]  # linked to one who is linked to a known customer
                elif not linked[other] and not linked[index]:
                    group.setdefault(index, group[other])
        if who.keys and not linked[index]:
            group.setdefault(index, index)
    leaders = sorted(set(group.values()))
    new_ids = insert_new(
        Customer,
        [
            {"name": p.name, "email": p.email, "phone": p.phone, "loyalty_id": p.loyalty_id, **_stamps()}
            for p in (people[i] for i in leaders)
        ],
    )
    new_for = dict(zip(leaders, new_ids, strict=True))
    resolved = [
        min(survivor_of.get(c, c) for c in linked[i]) if linked[i] else new_for[group[i]] if i in group else None
        for i in range(len(people))
    ]
    links = [
        (resolved[i], survivor_of.get(cid, cid), key) for i in range(len(people)) for cid, key in suggested[i].items()
    ]
    links += [(resolved[i], resolved[j], key) for i, j, key in within]
    customer_links_suggest(links, source=source)
    return resolved


def customer_links_suggest(links: Iterable[tuple[int, int, tuple[str, str]]], *, source=None) -> None:
    """Record ``(customer, other, (kind, value))`` suggestions in two statements, whatever their number.

    A pair already suggested (or refused: ``ignore_conflicts`` keeps the refusal) is left as it
    is; a pair whose merge a supervisor reversed is not suggested again.
    """
    rows = {}
    for a, b, (kind, value) in links:
        if a != b:
            rows.setdefault((min(a, b), max(a, b)), f"{kind}:{value}")
    if not rows:
        return
    ids = {i for pair in rows for i in pair}
    reversed_pairs = {
        (min(a, b), max(a, b))
        for a, b in CustomerMerge.objects.filter(
            reversed_at__isnull=False, survivor_id__any=ids, merged_customer_id__any=ids
        ).values_list("survivor_id", "merged_customer_id")
    }
    CustomerLink.objects.bulk_create(
        [
            CustomerLink(customer_id=a, other_id=b, key=key, source=source)
            for (a, b), key in rows.items()
            if (a, b) not in reversed_pairs
        ],
        ignore_conflicts=True,
    )


def _merge_where_one_person_is_several(
    people: Sequence[Person], linked: list[set[int]], known: list[tuple[int, Person]], source
) -> dict[int, int]:
    """Merge customers that one person's trusted links connect; ``{merged id: survivor id}``."""

    survivor_of: dict[int, int] = {}
    for who, candidates in zip(people, linked, strict=True):
        current = {survivor_of.get(c, c) for c in candidates}
        if len(current) < 2:
            continue
        survivor = min(current)
        for other in sorted(current - {survivor}):
            if merge_blocked(survivor, other):
                continue
            record = next(r for cid, r in known if survivor_of.get(cid, cid) == other and who.link(r)[0])
            kind, value = who.link(record)[1]
            customer_merge(survivor_id=survivor, merged_ids=[other], key=f"{kind}:{value}", source=source)
            for merged, target in list(survivor_of.items()):
                if target == other:
                    survivor_of[merged] = survivor
            survivor_of[other] = survivor
    return survivor_of


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
        found = set(Customer.objects.filter(pk__any=ids).values_list("pk", flat=True))
    gone = set(ids) - found
    survivor_of = customers_survivor_of(gone)
    finals = set(survivor_of.values())
    lost = (gone - set(survivor_of)) | (
        finals - set(Customer.objects.filter(pk__any=finals).values_list("pk", flat=True))
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
            CustomerMerge.objects.filter(merged_customer_id__any=pending, reversed_at__isnull=True).values_list(
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
    now = timezone.now()
    return {"created_at": now, "updated_at": now}


def ingest_customers(*, source, records: Sequence[rec.CustomerRecord], synced_at: datetime, hashes: dict[str, str]):
    """Upsert the source's identities. Returns ``(created, updated, unchanged, {external_id: customer_id})``."""
    known = CustomerIdentity.objects.filter(source=source, external_id__any=[r.external_id for r in records])
    existing, existing_customer, stored_update = {}, {}, {}
    for external_id, content_hash, customer_id, updated_at in known.values_list(
        "external_id", "content_hash", "customer_id", "source_updated_at"
    ):
        existing[external_id] = content_hash
        existing_customer[external_id] = customer_id
        stored_update[external_id] = updated_at
    # An earlier look at the person (a page fetched before a webhook brought their new address, landing
    # after it) is left out and counted unchanged: it would put the old e-mail or phone back.
    older = {r.external_id for r in records if updated_before(r.updated_at, stored_update.get(r.external_id))}
    records = [r for r in records if r.external_id not in older]
    changed = [r for r in records if existing.get(r.external_id) != hashes[r.external_id]]
    unchanged = [r.external_id for r in records if existing.get(r.external_id) == hashes[r.external_id]]
    people = {r.external_id: person(r.name, r.emails, r.phones, r.loyalty_id, r.verified) for r in changed}
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
            "email_verified": "email" in people[r.external_id].strong,
            "phone_verified": "phone" in people[r.external_id].strong,
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
    return len(new), len(changed) - len(new), len(unchanged) + len(older), customer_of


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
