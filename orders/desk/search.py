"""Universal search: whatever the customer says, find them and their orders.

An agent types what the caller reads out: an order number in any system's form
(``#1001``, ``1001``, the ERP's ``S00042``, a POS order id), an e-mail, a phone in any
format, a name (typos and accents forgiven), a tracking or receipt number, a loyalty
id, or the last four card digits together with a name or a date.

The text is first *read* (:func:`read`): which kinds of identifier it could be. Then
each plausible kind is one small indexed query, and the ids found are loaded once
through the user's visible querysets (:mod:`orders.access`), so store staff never see
another store's orders or customers. Every hit says what matched and in which system.

On PostgreSQL names are matched with ``pg_trgm`` word similarity over the distinct
accent-folded names (:class:`~orders.models.CustomerName`, migrations ``0003_lookup`` and
``0008_customer_names``); on SQLite (the embedded demo) by comparing folded words in Python
(:func:`_name_matches_in_python`), so the demo forgives typos and accents too.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from difflib import SequenceMatcher

from django.db import connection, connections, router
from django.db.models import Count, F, FloatField, Func, Q, Value
from django.urls import reverse

from ..access import sees_every_store, store_ids, visible_customers, visible_orders
from ..catalogue.identity import normalise_email, normalise_phone
from ..ingest.correlate import normalise_number
from ..models import Customer, CustomerIdentity, Order, OrderKey, OrderRecord, Payment, Shipment
from ..timezones import viewer_zone, zone_named

MAX_QUERY = 200
MAX_HITS = 20
MIN_ID_LENGTH = 8
NAME_SIMILARITY = 0.5  # pg_trgm word similarity: 1.0 is the same word; typos and missing letters stay above 0.5

# How each kind of system calls its own order number / id, for "what matched" labels.
NUMBER_LABEL = {"storefront": "web order number", "pos": "POS order", "erp": "ERP order", "crm": "CRM deal"}
ID_LABEL = {"storefront": "web order id", "pos": "POS order id", "erp": "ERP order id", "crm": "CRM id"}

_PHONE_CHARS = re.compile(r"^[\d\s\-+().]+$")
_IDENTIFIER = re.compile(r"^[#\w][\w\-/.]*$")
_FOUR_DIGITS = re.compile(r"^\d{4}$")
_SEPARATORS = re.compile(r"[\s\-().]")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Match:
    """One reason a result was found: ``what`` matched, in which ``system`` (a source name, or "")."""

    what: str
    system: str = ""
    exact: bool = True

    def __str__(self) -> str:
        return f"{self.what} · {self.system}" if self.system else self.what


@dataclass
class Hit:
    """A customer or an order in the results, with every reason it was found."""

    order: Order | None = None
    customer: Customer | None = None
    matches: list[Match] = field(default_factory=list)
    score: float = 0.0

    @property
    def kind(self) -> str:
        return "order" if self.order is not None else "customer"

    @property
    def exact(self) -> bool:
        return any(m.exact for m in self.matches)

    @property
    def url(self) -> str:
        if self.order is not None:
            return order_url(self.order)
        return reverse("customer", args=[self.customer.pk])

    @property
    def customer_ids(self) -> list[int]:
        customer_id = self.order.customer_id if self.order is not None else self.customer.pk
        return [customer_id] if customer_id else []


@dataclass(frozen=True)
class Reading:
    """What the typed text could be. Several kinds at once are normal (``1001`` is a number and a receipt)."""

    text: str
    identifiers: tuple[str, ...] = ()  # spellings to try against order numbers, ids, receipts, tracking, loyalty
    order_key: str = ""
    email: str = ""
    email_prefix: str = ""
    phone: str = ""
    name: str = ""
    card_last4: str = ""
    card_name: str = ""
    card_date: date | None = None

    @property
    def kinds(self) -> list[str]:
        """Human words for what the text was read as (shown when nothing matched)."""
        kinds = []
        if self.identifiers:
            kinds.append("an order, tracking, receipt or loyalty number")
        if self.email or self.email_prefix:
            kinds.append("an e-mail")
        if self.phone:
            kinds.append("a phone number")
        if self.card_last4:
            kinds.append("card digits with a " + ("date" if self.card_date else "name"))
        if self.name:
            kinds.append("a name")
        return kinds


@dataclass
class Results:
    reading: Reading
    hits: list[Hit]

    @property
    def sole_exact(self) -> Hit | None:
        """The one hit to open at once: exactly one result, and it matched exactly."""
        return self.hits[0] if len(self.hits) == 1 and self.hits[0].exact else None

    @property
    def customer_ids(self) -> list[int]:
        return sorted({cid for hit in self.hits for cid in hit.customer_ids})

    @property
    def truncated(self) -> bool:
        """As many hits as are shown: there may be more (namesakes), so the agent should add a second identifier."""
        return len(self.hits) >= MAX_HITS


def order_url(order: Order) -> str:
    if order.customer_id:
        return reverse("customer_order", args=[order.customer_id, order.pk])
    return reverse("order", args=[order.pk])


# --- reading the text ------------------------------------------------------------------
def read(text: str) -> Reading:
    text = " ".join((text or "").split())[:MAX_QUERY]
    if not text:
        return Reading(text="")
    fields: dict = {"text": text}
    compact = _SEPARATORS.sub("", text)
    if "@" in text and " " not in text:
        fields["email"] = normalise_email(text) if re.search(r"@[^@]+\.[^@]+$", text) else ""
        fields["email_prefix"] = text.lower()
        return Reading(**fields)
    words = [t for t in text.split() if re.fullmatch(r"[^\W\d_]+", t)]
    if _IDENTIFIER.match(compact) and (" " not in text or not words):  # "1Z999 AA1 0123", "# 1001", not "Ann Lee"
        fields["identifiers"] = tuple(dict.fromkeys([text, text.upper(), compact, compact.upper(), "#" + compact]))
        fields["order_key"] = normalise_number(text)
    digits = re.sub(r"\D", "", text)
    if _PHONE_CHARS.match(text) and 7 <= len(digits) <= 15:
        fields["phone"] = normalise_phone(text)
    tokens = text.split()
    four = [t for t in tokens if _FOUR_DIGITS.match(t)]
    rest = " ".join(t for t in tokens if four and t != four[0])
    if len(tokens) > 1 and len(four) == 1 and (_LETTER.search(rest) or _date(rest)):  # not "+1 551 555 9635"
        fields["card_last4"] = four[0]
        fields["card_date"] = _date(rest)
        fields["card_name"] = "" if fields["card_date"] else rest
    elif _LETTER.search(text) and (" " in text or not re.search(r"\d", text)):
        fields["name"] = text  # "S00042" is a code, "Ann", "Müller" or "ann 2b" a name
    return Reading(**fields)


def _date(text: str) -> date | None:
    """``2026-11-03``, ``11/03/2026`` or ``11/03`` (this year): the dates people read off a receipt."""
    for pattern in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar day, no time zone
        except ValueError:
            continue
    try:
        return datetime.strptime(f"{text}/{date.today().year}", "%m/%d/%Y").date()  # noqa: DTZ007, DTZ011
    except ValueError:
        return None


# --- searching ---------------------------------------------------------------------------
def search(user, text: str) -> Results:
    reading = read(text)
    found = _Found()
    if reading.identifiers:
        _identifiers(reading, found)
    if reading.email:
        _emails(reading.email, found, exact=True)
    if reading.email_prefix and not found.customers:
        _emails(reading.email_prefix, found, exact=False)
    if reading.phone:
        _phones(reading.phone, found)
    if reading.card_last4:
        _cards(reading, found)
    if reading.name and not (found.customers or found.orders):  # "Fea3" matched a receipt: no look-alike names
        _names(user, reading.name, found)
    return Results(reading=reading, hits=found.hits(user))


class _Found:
    """Ids found so far, each with its matches; loaded in two queries at the end."""

    def __init__(self):
        self.orders: dict[int, list[Match]] = defaultdict(list)
        self.customers: dict[int, list[Match]] = defaultdict(list)
        self.scores: dict[tuple[str, int], float] = {}

    def order(self, order_id: int | None, match: Match) -> None:
        if order_id and match not in self.orders[order_id]:
            self.orders[order_id].append(match)

    def customer(self, customer_id: int | None, match: Match, score: float = 1.0) -> None:
        if customer_id and match not in self.customers[customer_id]:
            self.customers[customer_id].append(match)
            self.scores[("customer", customer_id)] = max(score, self.scores.get(("customer", customer_id), 0))

    def hits(self, user) -> list[Hit]:
        orders = visible_orders(user).filter(pk__in=list(self.orders)[:MAX_HITS])
        customers = visible_customers(user).filter(pk__in=list(self.customers)[:MAX_HITS])
        hits = [
            Hit(order=order, matches=self.orders[order.pk], score=1.0)
            for order in orders.select_related("customer", "store", "origin_source")
        ]
        hits += [
            Hit(customer=customer, matches=self.customers[customer.pk], score=self.scores[("customer", customer.pk)])
            for customer in customers.annotate(order_count=Count("orders"))
        ]
        for hit in hits:
            hit.matches.sort(key=lambda m: (not m.exact, m.what, m.system))
        return sorted(hits, key=_rank)[:MAX_HITS]


def _rank(hit: Hit):
    placed = hit.order.placed_at.timestamp() if hit.order is not None and hit.order.placed_at else 0
    return (not hit.exact, -hit.score, hit.kind != "order", -placed)


def _identifiers(reading: Reading, found: _Found) -> None:
    """Order numbers and ids in every system's form, receipts, tracking numbers and loyalty ids."""
    spellings = list(reading.identifiers)
    # A system's own id is searched only when long enough to be one: short ids are database
    # counters (Odoo's 1001) that would shadow the order numbers people actually say.
    ids = [spelling for spelling in spellings if len(spelling) >= MIN_ID_LENGTH]
    records = OrderRecord.objects.filter(Q(external_number__in=spellings) | Q(external_id__in=ids))
    for order_id, source, kind, number in records.values_list(
        "order_id", "source__name", "source__kind", "external_number"
    ):
        label = NUMBER_LABEL if number in spellings else ID_LABEL
        found.order(order_id, Match(label.get(kind, "order id"), source))
    if reading.order_key:  # the storefront number as another system quotes it (the ERP's origin, a POS reference)
        for order_id, origin in OrderKey.objects.filter(key=reading.order_key).values_list(
            "order_id", "order__origin_source__name"
        ):
            if order_id not in found.orders:
                found.order(order_id, Match("order number", origin or ""))
    for order_id, source in Payment.objects.filter(receipt_number__in=spellings, order__isnull=False).values_list(
        "order_id", "source__name"
    ):
        found.order(order_id, Match("receipt number", source))
    for order_id, source in Shipment.objects.filter(tracking_number__in=spellings, order__isnull=False).values_list(
        "order_id", "source__name"
    ):
        found.order(order_id, Match("tracking number", source))
    for customer_id, source in CustomerIdentity.objects.filter(loyalty_id__in=spellings).values_list(
        "customer_id", "source__name"
    ):
        found.customer(customer_id, Match("loyalty id", source))
    _primary(found, Match("loyalty id"), loyalty_id__in=spellings)


def _emails(email: str, found: _Found, *, exact: bool) -> None:
    lookup = {"email_normalised": email} if exact else {"email_normalised__startswith": email}
    for customer_id, source in CustomerIdentity.objects.filter(**lookup).values_list("customer_id", "source__name")[
        : MAX_HITS * 3
    ]:
        found.customer(customer_id, Match("e-mail" if exact else "e-mail starts with", source, exact=exact))
    if exact:
        _primary(found, Match("e-mail"), email=email)


def _primary(found: _Found, match: Match, **lookup) -> None:
    """The customer's own primary e-mail / phone / loyalty id, for people no identity names that way.

    A phone given only with an order, say, becomes the customer's without any system's
    customer record carrying it.
    """
    for customer_id in Customer.objects.filter(**lookup).values_list("pk", flat=True)[: MAX_HITS * 3]:
        if customer_id not in found.customers:
            found.customer(customer_id, match)


def _phones(phone: str, found: _Found) -> None:
    for customer_id, source in CustomerIdentity.objects.filter(phone_e164=phone).values_list(
        "customer_id", "source__name"
    )[: MAX_HITS * 3]:
        found.customer(customer_id, Match("phone", source))
    _primary(found, Match("phone"), phone=phone)


def _cards(reading: Reading, found: _Found) -> None:
    """Last four digits narrow nothing alone (one card in 10,000): always with a name or the order's date.

    The digits go first: the hundred-odd payments with that card ending are few enough to
    compare each one's customer name with the typed one, far cheaper than finding every
    customer with a similar name.
    """
    payments = Payment.objects.filter(card_last4=reading.card_last4, order__isnull=False)
    if reading.card_date:
        what = f"card ending {reading.card_last4} on {reading.card_date:%Y-%m-%d}"
        for order_id, source in _placed_on(payments, reading.card_date)[:MAX_HITS]:
            found.order(order_id, Match(what, source))
        return
    payments = _named(payments, reading.card_name)
    what = f"card ending {reading.card_last4} + name"
    for order_id, source in payments.values_list("order_id", "source__name")[:MAX_HITS]:
        found.order(order_id, Match(what, source))


def _placed_on(payments, day: date) -> list[tuple[int, str]]:
    """(order, source) of the payments whose order was placed on ``day`` as the screen shows it: in the
    viewer's own zone when they chose one, else the order's store's (the site's without a store), not UTC. The UTC window around the
    day covers every zone (UTC-12 to UTC+14); each candidate's local day is then compared."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    rows = payments.filter(
        order__placed_at__gte=start - timedelta(days=1), order__placed_at__lt=start + timedelta(days=2)
    ).values_list("order_id", "source__name", "order__placed_at", "order__store__timezone")
    return [
        (order_id, source)
        for order_id, source, placed_at, zone in rows[: MAX_HITS * 20]
        if placed_at.astimezone(viewer_zone() or zone_named(zone or "")).date() == day
    ]


def _named(payments, name: str):
    """The payments whose order's customer is called something like ``name``."""
    if connection.vendor != "postgresql":
        for token in name.split():
            payments = payments.filter(order__customer__name__icontains=token)
        return payments
    similarity = Func(
        Func(Value(name), function="omnidesk_fold"),
        Func(F("order__customer__name"), function="omnidesk_fold"),
        function="word_similarity",
        output_field=FloatField(),
    )
    return payments.annotate(similarity=similarity).filter(similarity__gte=NAME_SIMILARITY).order_by("-similarity")


def _names(user, name: str, found: _Found) -> None:
    folded = fold(name)
    for customer_id, their_name, score in _name_matches(user, name, limit=MAX_HITS):
        exact = fold(their_name) == folded
        found.customer(customer_id, Match("name" if exact else "name is like", exact=exact), score=score)


def fold(text: str) -> str:
    """Lower-case without accents, as the database's ``omnidesk_fold`` does (for comparing in Python)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


SIMILAR_ENOUGH = 0.75  # per word, as difflib's ratio: one letter off in a short name still matches


def _name_matches_in_python(user, name: str, *, limit: int) -> list[tuple[int, str, float]]:
    """The embedded demo's (SQLite) fallback: accents and typos forgiven by comparing folded words in Python.

    Every word typed must be like a word of the name (difflib ratio >= 0.75, or its start).
    Linear in the customers the user sees: right for a demo's few thousand, not for production,
    where PostgreSQL's trigram index does this (:func:`_name_matches`).
    """
    wanted = fold(name).split()
    if not wanted:
        return []
    found = []
    for pk, their in visible_customers(user).values_list("pk", "name"):
        words = fold(their).split()
        if not words:
            continue
        scores = []
        for token in wanted:
            best = max(
                1.0 if word.startswith(token) and len(token) >= 3 else SequenceMatcher(None, token, word).ratio()
                for word in words
            )
            scores.append(best)
        if min(scores) >= SIMILAR_ENOUGH:
            found.append((pk, their, sum(scores) / len(scores)))
    found.sort(key=lambda row: (-row[2], row[1], row[0]))
    return found[:limit]


def _name_matches(user, name: str, *, limit: int) -> list[tuple[int, str, float]]:
    """``(id, name, similarity)`` of customers whose name is like ``name``, best first, within the user's stores."""
    if connection.vendor != "postgresql":
        return _name_matches_in_python(user, name, limit=limit)
    scope, params = "", [name, name]
    if not sees_every_store(user):
        scope = "AND EXISTS (SELECT 1 FROM orders_order o WHERE o.customer_id = c.id AND o.store_id = ANY(%s))"
        params.append(store_ids(user))
    params.append(name)
    with connections[router.db_for_read(Customer)].cursor() as cursor:  # the replica, when the request may use it
        # The trigram GiST index over the distinct names (``CustomerName``) both prunes below the
        # similarity bar (``<%``) and yields the nearest names first (``<<->``); each name's customers
        # come from the btree on the same folded expression, and the walk stops at ``limit`` customers.
        # Namesakes make the names a small fraction of the customers, so the walk stays short even for
        # text that resembles no name, and a common name never scores each of its customers.
        cursor.execute("SET pg_trgm.word_similarity_threshold = %s", [NAME_SIMILARITY])
        cursor.execute(
            f"""SELECT c.id, c.name, word_similarity(omnidesk_fold(%s), n.folded) AS score
                FROM orders_customername n JOIN orders_customer c ON omnidesk_fold(c.name) = n.folded
                WHERE omnidesk_fold(%s) <%% n.folded {scope}
                ORDER BY omnidesk_fold(%s) <<-> n.folded LIMIT {int(limit)}""",  # noqa: S608 - fixed SQL
            params,
        )
        return [(pk, their, float(score)) for pk, their, score in cursor.fetchall()]
