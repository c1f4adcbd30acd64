"""Each vendor system's view of the generated orders: ids, numbers and change times.

Ids are handed out in each system's own creation order (Shopify by placement, Odoo
by ERP entry, EasyPost by hand-over), as real systems number their records. The
"versions" computed here are the times a vendor object changes; the streams index
them to answer incremental syncs.
"""

from __future__ import annotations

from bisect import insort

from .formats.shopify_records import REFUND_BASE
from .model import DAY, SHOPIFY_SHIPMENT_STATUS, Bin, Move, Picking, Stock, distinct_sorted

AISLES = "ABCDEFGH"
BAYS = 24
BIN_LOCATION_BASE = 100_000
MANY_LINES_BASE = 16_000_000_000_000  # Shopify line ids of the orders of more than 14 lines (varied ``wholesale``)
WHOLESALE_FULFILMENT_BASE = 4_790_000_000_000  # Shopify fulfilment ids of a wholesale order's parcels after its first  # Odoo ids of the bins (sub-locations); stores' stock locations are 8 + 10 × idx


class SystemIds:
    """Mixed into the generator: needs ``self.out``, ``self.u``, ``self.token``, ``self.rng``."""

    def number_orders(self) -> None:
        orders = self.out.orders
        orders.sort(key=lambda o: (o.placed, o.idx))
        receipts: set[str] = set()
        web = 0
        line_id, many_lines = 15_000_000_000_000, MANY_LINES_BASE
        for idx, o in enumerate(orders):
            o.idx = idx
            o.order_id = f"O{idx + 1:06d}"
            if o.channel == "web":
                o.shopify_id = 5_900_000_000_000 + web * 1000 + self.u(0, 999)
                o.number = f"#{1001 + web}"
                web += 1
                count, step = len(o.lines) + len(o.removed), 100 + self.u(0, 50)
                if 7 * count < 100:
                    o.line_ids = [line_id + n * 7 for n in range(count)]
                else:  # a wholesale order's many lines: numbered apart, so every other order keeps its ids
                    o.line_ids = [many_lines + n * 7 for n in range(count)]
                    many_lines += 7 * count + step
                line_id += step
                base = 6_300_000_000_000 + idx * 1000 + self.u(0, 500)
                o.txn_ids = (base, base + 1)
                o.refund_ids = [(REFUND_BASE + idx * 1000 + n * 10, base + 2 + n) for n in range(len(o.refunds))]
            if o.channel == "store" or o.sq is not None:
                o.square_id = self.token(27) + "B"
                stem = self.token(19)
                o.sq_line_uids = [f"{stem}{n:03d}" for n in range(len(o.lines))]
            if o.channel == "store":
                while True:
                    payment = self.token(25) + "ZY"
                    if payment[:4] not in receipts:
                        break
                receipts.add(payment[:4])
                o.payment_id, o.receipt = payment, payment[:4]
                o.number = o.receipt
                for ret in o.sq_returns:
                    ret.square_id, ret.uid = self.token(27) + "B", self.token(22, upper=True)
                    ret.refund_id = f"{payment}_{self.token(42)}"
            if o.person is not None:
                o.person.orders.append(o)

    def make_erp(self) -> None:
        with_erp = sorted((o for o in self.out.orders if o.erp is not None), key=lambda o: (o.erp, o.idx))
        for n, o in enumerate(with_erp):
            o.so_id = 1 + n
            o.so_name = f"S{1 + n:05d}"
        pickings: list[Picking] = []
        for o in with_erp:
            place = o.store if o.kind == "pickup" else self.warehouse
            o.out_picking = Picking("out", o, o.erp, place)
            pickings.append(o.out_picking)
            if o.back_lines:
                o.back_picking = Picking("back", o, o.done, place)
                pickings.append(o.back_picking)
            if o.ret_request is not None:
                o.ret_picking = Picking("ret", o, o.ret_request, self.warehouse)
                pickings.append(o.ret_picking)
        pickings.sort(key=lambda pk: (pk.created, pk.order.idx, pk.kind))
        sequences: dict[str, int] = {}
        move_id = 1
        for n, picking in enumerate(pickings):
            o = picking.order
            picking.id = 1 + n
            if picking.kind == "ret":
                prefix = "WH/IN"
            elif picking.kind == "back":
                self.backorder_moves(picking)
                sequences["WH/OUT"] = sequences.get("WH/OUT", 0) + 1
                picking.name = f"WH/OUT/{sequences['WH/OUT']:05d}"
                continue
            elif o.kind == "pickup":
                prefix = f"{o.store.odoo_code}/PICK"
            else:
                prefix = "WH/OUT"
            sequences[prefix] = sequences.get(prefix, 0) + 1
            picking.name = f"{prefix}/{sequences[prefix]:05d}"
            lines = [n for n, _ in o.ret_lines] if picking.kind == "ret" else range(len(o.lines))
            for line in lines:
                move = Move(picking, line)
                move.id = move_id
                move_id += 1
                picking.moves.append(move)
                self.out.moves.append(move)
            if picking.kind == "out":
                staff = picking.store.staff
                o.preparer = staff[o.idx % len(staff)]
                picking.versions = distinct_sorted(
                    [o.erp, o.assign, o.pick, o.pack, o.done, o.cancel, *(t for t, _ in o.sched)]
                )
                move_versions = distinct_sorted([o.erp, o.pick, o.done, o.cancel])
            else:
                picking.versions = move_versions = distinct_sorted([o.ret_request, o.ret_done])
            for move in picking.moves:
                move.versions = list(move_versions)
        self.out.pickings = pickings
        for o in self.out.orders:
            if o.erp is not None:
                o.so_versions = distinct_sorted([o.erp, o.done, o.back_done, o.cancel])
            if o.channel == "store":  # a return is rolled up on the sale a second after its return order
                settled = o.settle[0] if o.settle else None
                o.square_versions = distinct_sorted([o.placed, settled, *(r.at + 1 for r in o.sq_returns)])
            elif o.sq is not None:
                o.square_versions = distinct_sorted([o.sq, o.assign, o.ready, o.collected, o.cancel])

    def backorder_moves(self, picking: Picking) -> None:
        """The backorder's moves are the outgoing picking's moves of the lines left behind, rewritten to it."""
        o = picking.order
        picking.versions = distinct_sorted([o.done, o.back_done])
        for move in o.out_picking.moves:
            if move.line_no in o.back_lines:
                move.picking, move.moved = picking, o.done
                move.versions = distinct_sorted([o.erp, o.done, o.back_done])
                picking.moves.append(move)

    def make_stock(self) -> None:
        self._bins: dict[tuple[int, int, int], Bin] = {}
        stocks = self.out.stocks
        index: dict[tuple[int, int], Stock] = {}
        for store in self.out.stores:
            for product in self.out.products:
                if store.kind == "store" and product.big:
                    continue
                quantity = (
                    self.u(5, 40) if product.big else self.u(20, 300) if store.kind == "warehouse" else self.u(6, 40)
                )
                stock = Stock(store, product, [(self.now0 - self.u(31 * DAY, 45 * DAY), quantity)])
                stock.bin = self._bin(store, product)
                stock.odoo_id = 1 + len(stocks)
                stocks.append(stock)
                index[(store.idx, product.idx)] = stock
        for shelf, since, floor in [*self.drops, *self.emptied]:
            stock = index[shelf]
            stock.changes.append((since, floor))
            stock.versions = [t for t, _ in stock.changes]
        self.out.stock_index = index

    def _bin(self, store, product) -> Bin:
        """The product's shelf place in the store: aisle A–H, bay 1–24, from the product (no random draw)."""
        aisle, bay = product.idx % len(AISLES), (product.idx // len(AISLES)) % BAYS + 1
        key = (store.idx, aisle, bay)
        found = self._bins.get(key)
        if found is None:
            found = Bin(store, f"{AISLES[aisle]}-{bay:02d}", BIN_LOCATION_BASE + store.idx * 1000 + aisle * 100 + bay)
            self._bins[key] = found
            self.out.bins.append(found)
        return found

    def make_shipments(self) -> None:
        parcels = [s for o in self.out.orders for s in (*o.shipments, *([o.voided] if o.voided else []))]
        parcels.sort(key=lambda s: (s.created, s.order.idx))
        fulfilment = 4_700_000_000_000
        # a wholesale order's parcels but its first draw from the wholesale stream, so every other parcel keeps its ids
        apart, own = getattr(self, "wholesale_parcels", ()), 0
        for seq, parcel in enumerate(parcels):
            parcel.seq = seq
            with self.drawing_from(self.wholesale_rng if parcel in apart else self.rng):
                parcel.tracker_id = f"trk_{self.rng.getrandbits(128):032x}"
                parcel.code = self.tracking_code(parcel.carrier)
                parcel.public_url = "https://track.easypost.com/" + self.token(48)
                if parcel in apart:
                    parcel.fulfillment_id = WHOLESALE_FULFILMENT_BASE + (seq - own) * 1000 + self.u(0, 999)
                else:
                    parcel.fulfillment_id = fulfilment + own * 1000 + self.u(0, 999)
                    own += 1
            parcel.versions = list(parcel.scan_times)
        self.out.shipments = parcels
        for o in self.out.orders:
            if o.channel != "web":
                continue
            times = [
                o.placed,
                o.edited,
                o.cancel,
                o.ready,
                o.collected,
                *(r[0] for r in o.refunds),
                *((o.voided.created, o.voided.voided) if o.voided else ()),
            ]
            for parcel in o.shipments:
                last = None
                for t, status, *_ in parcel.scans:
                    mapped = SHOPIFY_SHIPMENT_STATUS.get(status, "failure")
                    if mapped != last:
                        times.append(t)
                        last = mapped
            o.shopify_versions = distinct_sorted(times)

    def tracking_code(self, carrier: str) -> str:
        if carrier == "UPS":
            return "1Z" + self.token(6, upper=True) + "03" + "".join(str(self.u(0, 10)) for _ in range(8))
        if carrier == "USPS":
            return "9400" + "".join(str(self.u(0, 10)) for _ in range(18))
        return "".join(str(self.u(0, 10)) for _ in range(12))

    def link_people(self) -> None:
        people = self.out.people
        for person in people:
            web = [o for o in person.orders if o.channel == "web"]
            accounts = [o for o in web if not o.guest]
            if accounts:
                person.shopify_orders = accounts
                first = accounts[0].placed
                person.shopify_created = max(person.created, first - self.u(0, 60 * DAY))
                person.shopify_versions = distinct_sorted([person.shopify_created, *(o.placed for o in accounts)])
            in_store = [o for o in person.orders if o.channel == "store"]
            if in_store:
                person.square_created = in_store[0].placed
            erp = [o.erp for o in web if o.erp is not None]
            if erp:
                person.odoo_created = min(erp)
            if not person.orders or self.random() < 0.9:
                person.hubspot_versions = [person.created]
                if person.orders:
                    insort(person.hubspot_versions, person.orders[0].placed)
        for n, person in enumerate(
            sorted((p for p in people if p.shopify_created), key=lambda p: (p.shopify_created, p.idx))
        ):
            person.shopify_id = 7_100_000_000_000 + n * 1000 + self.u(0, 999)
        for person in people:
            if person.square_created is not None:
                person.square_id = self.token(26, upper=True)
        for n, person in enumerate(sorted((p for p in people if p.hubspot_versions), key=lambda p: (p.created, p.idx))):
            person.hubspot_id = 51_000 + n * 3 + self.u(0, 3)
        for n, person in enumerate(
            sorted((p for p in people if p.odoo_created), key=lambda p: (p.odoo_created, p.idx))
        ):
            person.odoo_id = 100 + n
