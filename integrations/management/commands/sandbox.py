"""``manage.py sandbox``: serve the simulated retailer until Ctrl-C.

Prints each vendor's base URL (what ``add_source --base-url`` takes). With
``--realtime`` the world clock runs with wall time from the world's initial now, so
the demo evolves by itself; otherwise it stands still unless moved through
``POST /_sandbox/clock``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from integrations.sandbox import SandboxServer, World
from integrations.sandbox.generate import SHAPES


class Command(BaseCommand):
    help = "Serve the sandbox retailer (Shopify, Square, Odoo, HubSpot, EasyPost APIs) over HTTP."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=2000, help="orders in the world (default 2000)")
        parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8800, help="port to listen on (default 8800; 0 picks one)")
        parser.add_argument("--export-truth", metavar="PATH", help="write the ground truth as JSON to PATH")
        parser.add_argument("--realtime", action="store_true", help="let the world clock follow wall time")
        parser.add_argument(
            "--shape",
            choices=SHAPES,
            default="standard",
            help="standard, or varied: the systems disagree as real vendors do (docs/sandbox-conventions.md)",
        )

    def handle(self, *args, **options):
        if options["orders"] < 1:
            raise CommandError("--orders must be at least 1")
        started = time.perf_counter()
        world = World(orders=options["orders"], seed=options["seed"], shape=options.get("shape", "standard"))
        self.stdout.write(
            f"Generated {options['orders']} {world.shape} orders (seed {options['seed']}) in {time.perf_counter() - started:.1f}s; clock {world.now_dt.isoformat()}"
        )
        if options["export_truth"]:
            path = Path(options["export_truth"])
            path.write_text(json.dumps(world.truth(), indent=1))
            self.stdout.write(f"Ground truth written to {path}")
        if options["realtime"]:
            world.follow_wall_clock()
        server = SandboxServer(world, host=options["host"], port=options["port"])
        try:
            server.start()
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {exc}") from exc
        for vendor, url in server.urls().items():
            self.stdout.write(f"  {vendor:9s} {url}")
        self.stdout.write(f"  control   {server.base_url}/_sandbox/ (truth, clock, faults, health, corrupt, repair)")
        self.stdout.write("Serving; Ctrl-C to stop.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            self.stdout.write("Stopping.")
        finally:
            server.stop()
