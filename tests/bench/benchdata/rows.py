"""One order's rows: its records, keys, lines, payments, shipments, returns, flags and timeline."""

from __future__ import annotations

from integrations.sandbox import catalog
from orders.ingest.correlate import record_keys

from .common import (
    DAY,
    FLAG_CODES,
    FLAG_DETAIL,
    FLAG_LABELS,
    FLAG_RATE,
    HOUR,
    LABELS,
    MAX_EVENTS,
    MINUTE,
    NULL,
    POS_REFUND_RATE,
    SCAN_STATUS,
    SHOPIFY_FULFILMENT,
    SHOPIFY_VIEW,
    SQUARE_MIRROR,
    TERMINAL,
    Kind,
    _iso,
    _Keyed,
    _money,
    _scoped,
    _ts,
)


class _O:
    """One order while it is being written: what its records, payments, shipments and events must agree on."""

    __slots__ = (
        "id", "kind", "channel", "customer", "store", "placed", "steps", "status", "cancel", "number", "ext",
        "total", "lines", "card", "events", "extras", "ship", "worst", "ret", "updated", "promised", "keyed", "email",
        "phone",
    )  # fmt: skip


class _OrderRows:
    """The world's methods that write one order's rows (mixed into :class:`~.world._World`)."""

    # --- one order's rows ----------------------------------------------------------------------------------------
    def _order_facts(self, o: _O) -> None:
        """Records, keys, lines, payments, shipments, returns and flags of the order, with their timeline events."""
        if o.channel == "store":
            self._pos_sale(o)
        else:
            self._web_order(o)
        keys: set[str] = set()
        for source_id, external_id, number, references in o.keyed:
            keys |= record_keys(self.source_of[source_id], _Keyed(external_id, number, references))
        for key in sorted(keys):
            self.rows["orders_orderkey"].append(f"{self.id['orders_orderkey']()}\t{key}\t{o.id}\n")
        if not o.worst and self.random() < FLAG_RATE:
            self._flags(o)

    def _pos_sale(self, o: _O) -> None:
        """A sale at the till, as Square reports it: order id, receipt (first four of the payment id), lines, tender."""
        while True:
            payment_id = self.token(25) + "ZY"
            if payment_id[:4] not in self.receipts:
                break
        receipt = payment_id[:4]
        self.receipts.add(receipt)
        o.ext = self.token(27) + "B"
        o.number = receipt
        o.keyed = [(self.Q, o.ext, receipt, [])]
        self._record(o, self.Q, o.ext, receipt, "[]", "COMPLETED", "collected", o.placed, o.placed)
        self._first_sight(o, self.Q, o.ext, receipt, "COMPLETED", "collected", o.placed, origin=True)
        stem = self.token(19)
        self._order_lines(o, self.Q, o.ext, [f"{stem}{n:03d}" for n in range(len(o.lines))])
        card, last4 = (o.card[0][1], o.card[1]) if o.card else ("", "")
        self._payment(o, self.Q, o.ext, payment_id, "sale", "success", o.total, "card" if o.card else "cash", card, last4,
                      receipt, o.placed)  # fmt: skip
        refunded = o.placed + self.u(DAY, 20 * DAY)
        if self.random() < POS_REFUND_RATE and refunded <= self.now:  # one item brought back to the store
            self._payment(o, self.Q, o.ext, self.token(25) + "RF", "refund", "success", o.lines[0][3],
                          "card" if o.card else "cash", card, last4, "", refunded)  # fmt: skip

    def _web_order(self, o: _O) -> None:
        """A storefront order as Shopify, Odoo (and Square, for a pickup) report it: payment, parcel, return."""
        self.web += 1
        o.number = f"#{1000 + self.web}"
        o.ext = str(5_900_000_000_000 + self.web * 1000 + self.u(0, 1000))
        guest = self.random() < 0.15
        o.email = self.variant_email(self.c_email[o.customer], 0.3) if guest else self.c_written[o.customer]
        phone = self.c_phone[o.customer]
        o.phone = phone if phone and self.random() < 0.4 else ""
        reached = {status: t for t, status in o.steps}
        view = SHOPIFY_VIEW.get(o.status, o.status)
        shop_updated = max(t for t, status in o.steps if status not in SHOPIFY_VIEW)
        raw = self._shopify_raw(o)
        o.keyed = [(self.S, o.ext, o.number, [])]
        self._record(o, self.S, o.ext, o.number, "[]", raw, view, shop_updated, o.placed)
        self._first_sight(o, self.S, o.ext, o.number, raw, view, shop_updated, origin=True)
        first_line = 15_000_000_000_000 + self.web * 100 + self.u(0, 50)
        self._order_lines(o, self.S, o.ext, [str(first_line + n * 7) for n in range(len(o.lines))])
        txn = 6_300_000_000_000 + self.web * 1000 + self.u(0, 500)
        brand, last4 = o.card[0][0], o.card[1]
        paid = reached.get("paid")
        self._payment(o, self.S, o.ext, str(txn), "sale", "success" if paid else "pending", o.total, "shopify_payments",
                      brand, last4, "", paid or o.placed)  # fmt: skip
        if o.cancel is not None and paid:
            self._payment(o, self.S, o.ext, str(txn + 2), "refund", "success", o.total, "shopify_payments", brand,
                          last4, "", o.cancel)  # fmt: skip
        self._erp_record(o, reached.get("in_erp"))
        if o.kind == "pickup" and "in_erp" in reached:
            self._square_mirror(o, reached["in_erp"])
        if o.ret is not None and o.ret[0] <= self.now:
            self._return(o, txn, brand, last4)
        if o.ship is not None and o.ship["handed"] <= self.now:
            self._shipments(o)

    def _shopify_raw(self, o: _O) -> str:
        """Shopify's ``financial_status/fulfillment_status`` (``/cancelled``), as the adapter keeps it."""
        if o.status == "placed":
            return "pending/unfulfilled"
        if o.cancel is not None:
            return "refunded/unfulfilled/cancelled"
        financial = {"refunded": "partially_refunded"}.get(o.status, "paid")
        handed = o.ship is not None and o.ship["handed"] <= self.now
        return f"{financial}/{'fulfilled' if handed or o.status == 'collected' else 'unfulfilled'}"

    def _erp_record(self, o: _O, erp_at: int | None) -> None:
        """Odoo's sale order ``S00042`` naming the web number (client_order_ref): a draft while unpaid."""
        if erp_at is None and o.status != "placed":
            return
        self.so += 1
        external_id, name = str(self.so), f"S{self.so:05d}"
        if o.status == "placed":
            raw, status, updated = "draft", "placed", o.placed
        elif o.cancel is not None:
            raw, status, updated = "cancel", "cancelled", o.cancel
        else:
            raw, status, updated = "sale", "in_erp", erp_at
        o.keyed.append((self.O, external_id, name, [o.number]))
        first = erp_at or o.placed
        self._record(o, self.O, external_id, name, f'["{o.number}"]', raw, status, updated, first)
        self._first_sight(o, self.O, external_id, name, raw, status, updated, origin=False, seen_at=first)

    def _square_mirror(self, o: _O, since: int) -> None:
        """The POS's copy of a web pickup order: no receipt (paid online), the web number as its reference."""
        external_id = self.token(27) + "B"
        raw, status = SQUARE_MIRROR[o.status]
        o.keyed.append((self.Q, external_id, o.number, [o.number]))
        updated = max(since, o.updated) if status != "placed" else since
        self._record(o, self.Q, external_id, o.number, f'["{o.number}"]', raw, status, updated, since)
        self._first_sight(o, self.Q, external_id, o.number, raw, status, updated, origin=False, seen_at=since)

    def _record(self, o: _O, source_id: int, external_id: str, number: str, references: str, raw: str, status: str,
                updated: int, first_seen: int) -> None:  # fmt: skip
        self.rows["orders_orderrecord"].append(
            f"{self.id['orders_orderrecord']()}\t{source_id}\t{external_id}\t{self.now_ts}\t{self.digest()}\t{o.id}\t"
            f"{number}\t{references}\t{raw}\t{status}\t{_ts(updated)}\t{_ts(first_seen)}\t{{}}\n"
        )  # fields: the generated orders are written whole, never derived by precedence

    def _order_lines(self, o: _O, source_id: int, order_external_id: str, line_ids: list[str]) -> None:
        location = (o.store or self.warehouse)["id"]
        out = self.rows["orders_orderline"]
        for line_id, (sku, name, quantity, cents) in zip(line_ids, o.lines, strict=True):
            out.append(
                f"{self.id['orders_orderline']()}\t{source_id}\t{order_external_id}:{line_id}\t{self.now_ts}\t\t{o.id}\t"
                f"{sku}\t{name}\t{quantity}\t\t{_money(cents)}\t{location}\n"  # unit: blank, sold by the item
            )

    def _payment(self, o: _O, source_id: int, order_external_id: str, payment_id: str, kind: str, status: str,
                 cents: int, gateway: str, brand: str, last4: str, receipt: str, at: int) -> None:  # fmt: skip
        """A payment row and its event (``orders.timeline.events.payment_recorded``'s key and wording)."""
        external_id = _scoped(order_external_id, payment_id)
        amount = _money(cents)
        self.rows["orders_payment"].append(
            f"{self.id['orders_payment']()}\t{source_id}\t{external_id}\t{self.now_ts}\t\t{o.id}\t{order_external_id}\t"
            f"{kind}\t{status}\t{amount}\tUSD\t{gateway}\tf\t{brand}\t{last4}\t{receipt}\t{_ts(at)}\n"  # not manual
        )
        card = f"{brand} ····{last4}".strip() if last4 else brand
        verb = {"authorization": "authorised", "capture": "captured", "sale": "paid", "refund": "refunded"}[kind]
        summary = (
            f"{amount} USD {verb}" + (f" ({card})" if card else "") + ("" if status == "success" else f" — {status}")
        )
        o.events.append(
            self._event_text(
                f"{source_id}:payment:{external_id}:{status}", Kind.REFUND if kind == "refund" else Kind.PAYMENT, at,
                summary, o, source_id, f'{{"kind": "{kind}", "status": "{status}", "amount": "{amount}"}}',
                f"payment:{source_id}:{external_id}",
            )
        )  # fmt: skip

    def _return(self, o: _O, txn: int, brand: str, last4: str) -> None:
        """A storefront refund of the first line: requested, received by the warehouse, refunded."""
        requested, received, refunded = (t if t <= self.now else None for t in o.ret)
        status = "refunded" if refunded else "received" if received else "requested"
        sku, _name, quantity, cents = o.lines[0]
        external_id = _scoped(o.ext, str(1_050_000_000_000 + self.web * 1000 + self.u(0, 1000)))
        amount = _money(quantity * cents)
        self.rows["orders_return"].append(
            f"{self.id['orders_return']()}\t{self.S}\t{external_id}\t{self.now_ts}\t\t{o.id}\t{o.ext}\t{status}\t"
            f'["{sku}"]\t{amount}\t{_ts(requested)}\t{_ts(received)}\t{_ts(refunded)}\n'
        )
        o.events.append(
            self._event_text(f"{self.S}:return:{external_id}:{status}", Kind.RETURN, refunded or received or requested,
                             f"Return {status} ({amount})", o, self.S, f'{{"status": "{status}"}}',
                             f"return:{self.S}:{external_id}")
        )  # fmt: skip
        if refunded:
            self._payment(o, self.S, o.ext, str(txn + 3), "refund", "success", quantity * cents, "shopify_payments",
                          brand, last4, "", refunded)  # fmt: skip

    def _shipments(self, o: _O) -> None:
        """The parcel twice, as the sync has it: Shopify's fulfilment and EasyPost's tracker with the carrier scans."""
        ship, now = o.ship, self.now
        carrier = ship["carrier"]
        code = self._tracking_code(carrier)
        visible = [scan for scan in ship["scans"] if scan[0] <= now]
        if o.worst:
            kept = visible
        else:
            room = MAX_EVENTS - len(o.events) - 1
            want = max(2, min(self.u(2, 7), room))
            kept = visible if len(visible) <= want else [visible[0], *visible[len(visible) - want + 1 :]]
        last = kept[-1]
        status = SCAN_STATUS[last[1]]
        delivered = last[0] if status == "delivered" else None
        window_start, window_end = ship["window"] or (None, None)
        skus = ", ".join(f'"{line[0]}"' for line in o.lines)
        fulfilment = _scoped(o.ext, str(4_700_000_000_000 + self.web * 1000 + self.u(0, 1000)))
        url = catalog.CARRIERS[carrier][0].format(code=code)
        shipments = self.rows["orders_shipment"]
        shipments.append(
            f"{self.id['orders_shipment']()}\t{self.S}\t{fulfilment}\t{self.now_ts}\t\t{o.id}\t{carrier}\t{code}\t{url}\t"
            f"{SHOPIFY_FULFILMENT[status]}\t{status}\t[{skus}]\t{_ts(ship['handed'])}\t{_ts(window_start)}\t"
            f"{_ts(window_end)}\t{_ts(ship['est'])}\t{_ts(delivered)}\t{NULL}\n"
        )
        o.events.append(
            self._event_text(
                f"{self.S}:shipment:{fulfilment}:created", Kind.SHIPMENT_CREATED, ship["handed"],
                f"Handed to {carrier}, tracking {code}", o, self.S,
                f'{{"carrier": "{carrier}", "tracking_number": "{code}"}}', f"shipment:{self.S}:{fulfilment}",
            )
        )  # fmt: skip
        tracker = f"trk_{self.rng.getrandbits(128):032x}"
        shipment_id = self.id["orders_shipment"]()
        moving = next((scan[0] for scan in kept if scan[1] != "pre_transit"), None)
        shipments.append(
            f"{shipment_id}\t{self.E}\t{tracker}\t{self.now_ts}\t{self.digest()}\t{o.id}\t{carrier}\t{code}\t"
            f"https://track.easypost.com/{self.token(48)}\t{last[1]}/{last[2]}\t{status}\t[]\t{_ts(moving)}\t"
            f"{_ts(window_start)}\t{_ts(window_end)}\t{_ts(ship['est'])}\t{_ts(delivered)}\t{_ts(last[0])}\n"
        )
        self._scans(o, tracker, shipment_id, kept)

    def _scans(self, o: _O, tracker: str, shipment_id: int, scans: list[tuple]) -> None:
        """TrackingEvents of the tracker and their events (``orders.timeline.events.tracking_scanned``: no customer)."""
        out, E = self.rows["orders_trackingevent"], self.E
        for t, status, _detail, message, place in scans:
            where = f"{place[0]}, {place[1]} {place[2]}, US"
            out.append(
                f"{self.id['orders_trackingevent']()}\t{shipment_id}\t{E}\t{_ts(t)}\t{status}\t{message}\t{where}\t"
                f"{self.now_ts}\n"
            )
            o.events.append(
                f"{E}:scan:{tracker}:{_iso(t)}:{status}\t{o.id}\t{NULL}\t{Kind.TRACKING_SCAN}\t{_ts(t)}\t{E}\t{NULL}\t"
                f'{message} — {where}\tshipment:{E}:{tracker}\t{{"status": "{status}"}}\t{self.now_ts}\n'
            )

    def _tracking_code(self, carrier: str) -> str:
        """UPS ``1Z…``, USPS ``9400…`` (22 digits), FedEx 12 digits; never the same twice."""
        while True:
            if carrier == "UPS":
                code = f"1Z{self.token(6, upper=True)}03{self.u(0, 10**8):08d}"
            elif carrier == "USPS":
                code = f"9400{self.rng.getrandbits(64) % 10**18:018d}"
            else:
                code = str(self.u(10**11, 10**12))
            if code not in self.tracking:
                self.tracking.add(code)
                return code

    def _flags(self, o: _O) -> None:
        """A detected breakdown fitting the order's kind: closed once the order is done; now and then an earlier one."""
        codes = FLAG_CODES[o.kind] + (("return_not_refunded",) if o.ret is not None and o.status != "cancelled" else ())
        code = self.pick(codes)
        opened = min(self.now - MINUTE, o.placed + self.u(HOUR, 2 * DAY))
        spans = []
        if self.random() < 0.2 and opened + 2 * DAY < self.now:  # flagged before, cleared, then again
            spans.append((opened, opened + self.u(HOUR, DAY)))
            opened = spans[-1][1] + self.u(HOUR, DAY)
        closed = opened + self.u(HOUR, 3 * DAY) if o.status in TERMINAL else None
        spans.append((opened, closed if closed is not None and closed <= self.now else None))
        label = FLAG_LABELS[code]
        for opened_at, closed_at in spans:
            flag_id = self.id["orders_flag"]()
            self.rows["orders_flag"].append(
                f"{flag_id}\t{o.id}\t{code}\t{_ts(opened_at)}\t{_ts(closed_at)}\t{FLAG_DETAIL[code]}\t"
                f'{{"rule": "{code}", "order_status": "{o.status}"}}\n'
            )
            data = f'{{"flag": {flag_id}, "code": "{code}"}}'
            o.extras.append(
                self._event_text(f"flag:{flag_id}:opened", Kind.FLAG_OPENED, opened_at, f"Flag opened: {label}", o,
                                 None, data)
            )  # fmt: skip
            if closed_at is not None:
                o.extras.append(
                    self._event_text(f"flag:{flag_id}:closed", Kind.FLAG_CLOSED, closed_at, f"Flag closed: {label}",
                                     o, None, data)
                )  # fmt: skip

    # --- the order row and its timeline ---------------------------------------------------------------------------
    def _first_sight(self, o: _O, source_id: int, external_id: str, number: str, raw: str, status: str, updated: int,
                     *, origin: bool, seen_at: int | None = None) -> None:  # fmt: skip
        """What ingest writes when a system first reports the order: placed (origin) or seen, then its status.

        The origin's "placed" is always kept; "seen" and status events are filled in while the order has room.
        """
        name = self.names[source_id]
        if origin:
            where = "in store" if o.channel == "store" else "online"
            o.events.append(
                self._event_text(
                    f"{source_id}:order:{external_id}:placed", Kind.ORDER_PLACED, o.placed,
                    f"Order {number} placed {where} ({_money(o.total)} USD)", o, source_id,
                    f'{{"number": "{number}", "channel": "{o.channel}"}}',
                )
            )  # fmt: skip
        else:
            o.extras.append(
                self._event_text(
                    f"{source_id}:order:{external_id}:seen", Kind.SEEN_BY_SYSTEM, seen_at,
                    f"{name} has the order as {number or external_id} ({LABELS[status]})", o, source_id,
                    f'{{"external_id": "{external_id}", "external_number": "{number}"}}',
                )
            )  # fmt: skip
        if status != "placed":
            o.extras.append(
                self._event_text(
                    f"{source_id}:order:{external_id}:status:{status}:{_iso(updated)}", Kind.STATUS_CHANGED, updated,
                    f"{name}: {LABELS[status]}" + (f" ({raw})" if raw else ""), o, source_id,
                    f'{{"from": null, "to": "{status}", "raw_status": "{raw}"}}',
                )
            )  # fmt: skip

    def _event_text(self, key: str, kind: str, at: int, summary: str, o: _O, source_id: int | None, data: str,
                    subject: str = "") -> str:  # fmt: skip
        """A TimelineEvent row without its id (ids are given once the order's events are chosen)."""
        customer = NULL if o.customer is None else self.first_customer + o.customer
        source = NULL if source_id is None else source_id
        return (
            f"{key}\t{o.id}\t{customer}\t{kind}\t{_ts(at)}\t{source}\t{NULL}\t{summary}\t{subject}\t{data}\t"
            f"{self.now_ts}\n"
        )

    def _order_row(self, o: _O) -> None:
        if o.channel == "store":
            o.email = o.phone = ""
        customer = NULL if o.customer is None else self.first_customer + o.customer
        store = NULL if o.store is None else o.store["id"]
        origin = self.Q if o.channel == "store" else self.S
        self.rows["orders_order"].append(
            f"{o.id}\t{o.number}\t{customer}\t{origin}\t{o.channel}\t{o.kind}\t{store}\t{o.status}\t{_ts(o.placed)}\t"
            f"{_ts(o.promised)}\tUSD\t{_money(o.total)}\t{o.email}\t{o.phone}\t{_ts(o.cancel)}\t{_ts(o.placed)}\t"
            f"{_ts(o.updated)}\n"
        )

    def _events_flush(self, o: _O) -> None:
        """Every fact's event (carrier scans, payments, placed) plus the optional ones that fit in MAX_EVENTS."""
        chosen = o.events + (o.extras if o.worst else o.extras[: max(0, MAX_EVENTS - len(o.events))])
        out = self.rows["orders_timelineevent"]
        for text in chosen:
            out.append(f"{self.id['orders_timelineevent']()}\t{text}")
