import pytest, time_machine
from integrations.demo import demo_sources_ensure
from integrations.sandbox import SandboxServer, World
from integrations.sync import source_sync
from orders.detection import detect
from orders.models import Order, OrderRecord
from orders.selectors import order_pane

def test_dbg(db, fast_http):
    server = SandboxServer(World(orders=300, seed=7)); server.start()
    world = server.world
    sources = {s.name: s for s in demo_sources_ensure(server.base_url)}
    with time_machine.travel(world.now_dt, tick=True):
        for name in ("shopify", "square", "odoo", "hubspot", "easypost"):
            source_sync(source_id=sources[name].pk)
    detect(now=world.now_dt)
    seen = set()
    with time_machine.travel(world.now_dt, tick=False):
        for o in world.orders:
            key = (o.breakdown, o.kind)
            if key in seen: continue
            seen.add(key)
            rec = OrderRecord.objects.filter(source__name="shopify" if o.channel=="web" else "square", external_id=str(o.shopify_id) if o.channel=="web" else o.square_id).first()
            if not rec: continue
            a = order_pane(Order.objects.select_related("store","origin_source").get(pk=rec.order_id))["answer"]
            print(f"\n[{o.breakdown} {o.kind} {o.number or o.receipt}] {a.summary}\n   NEXT: {a.next_step}")
    server.stop()
