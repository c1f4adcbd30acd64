"""`make bench`: benchmarks on PostgreSQL; prints a table and writes .bench/latest.json."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from integrations.hosts import private_sources_allow

from .freshbench import FreshnessOptions, bench_freshness
from .loadbench import LoadOptions, bench_load
from .lookup import bench_lookup
from .syncbench import (
    ARRIVALS,
    Figures,
    bench_storefront,
    bench_sync,
    bench_sync_arrivals,
    bench_timeline,
    server_execute,
)


class Command(BaseCommand):
    help = "Run the benchmarks (a dedicated PostgreSQL database: its data is wiped)."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=100_000, help="Sandbox size for the sync benchmark")
        parser.add_argument(
            "--storefront-orders", type=int, help="Sandbox size for the storefront's bulk/GraphQL/REST first syncs"
        )
        parser.add_argument(
            "--workers", type=int, default=2, help="Sources synced at once (a Celery worker's concurrency)"
        )
        parser.add_argument(
            "--arrivals",
            default=",".join(ARRIVALS),
            help=f"Orders of arrival to sync the same world in, one source at a time (comma-separated of "
            f"{', '.join(ARRIVALS)}; empty: none)",
        )
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / ".bench" / "latest.json"))
        parser.add_argument(
            "--only", choices=["sync", "fresh", "lookup", "load"], help="Run one part (default: all four)"
        )
        fresh = FreshnessOptions()
        parser.add_argument(
            "--fresh-orders", type=int, default=fresh.orders, help="Sandbox backfilled while webhooks arrive"
        )
        parser.add_argument("--webhooks", type=int, default=fresh.webhooks, help="Webhooks sent during the backfill")
        parser.add_argument("--webhook-rate", type=float, default=fresh.rate, help="Webhooks a second")
        parser.add_argument("--lookup-orders", type=int, default=1_000_000, help="Orders for the lookup benchmark")
        parser.add_argument("--lookup-customers", type=int, default=300_000, help="Customers for the lookup benchmark")
        parser.add_argument("--probes", type=int, default=100, help="Probes per identifier kind")
        parser.add_argument(
            "--timeline-events",
            type=int,
            default=0,
            help="Lookup part: measure again once the timeline holds this many events (e.g. 50000000)",
        )
        load = LoadOptions()
        parser.add_argument("--load-users", type=int, default=load.users, help="Agents working at once (load part)")
        parser.add_argument("--load-seconds", type=float, default=load.seconds, help="Length of each load phase")
        parser.add_argument(
            "--load-sandbox-orders", type=int, default=load.sandbox_orders, help="Sandbox synced during the load"
        )
        parser.add_argument("--load-workers", type=int, default=load.gunicorn_workers, help="gunicorn workers")
        parser.add_argument("--load-threads", type=int, default=load.gunicorn_threads, help="Threads per worker")

    def handle(self, *args, **opts):
        private_sources_allow()  # the sandbox retailer serves on 127.0.0.1
        if connection.vendor != "postgresql":
            raise CommandError("benchmarks run on PostgreSQL: set DATABASE_URL (make bench does)")
        arrivals = [name for name in opts["arrivals"].split(",") if name]
        if unknown := set(arrivals) - set(ARRIVALS):
            raise CommandError(f"unknown order of arrival: {', '.join(sorted(unknown))}")
        _database_ensure()
        call_command("migrate", interactive=False, verbosity=0)
        figures = Figures()
        if opts["only"] in (None, "sync"):
            bench_sync(figures, orders=opts["orders"], workers=opts["workers"], log=self.stdout.write)
            bench_storefront(figures, orders=opts["storefront_orders"] or opts["orders"], log=self.stdout.write)
            bench_timeline(figures)
            bench_sync_arrivals(figures, orders=opts["orders"], arrivals=arrivals, log=self.stdout.write)
        if opts["only"] in (None, "fresh"):
            options = FreshnessOptions(
                orders=opts["fresh_orders"], webhooks=opts["webhooks"], rate=opts["webhook_rate"]
            )
            bench_freshness(figures, options, log=self.stdout.write)
        if opts["only"] in (None, "lookup"):
            bench_lookup(
                figures,
                orders=opts["lookup_orders"],
                customers=opts["lookup_customers"],
                probes=opts["probes"],
                timeline_events=opts["timeline_events"],
                log=self.stdout.write,
            )
        if opts["only"] in (None, "load"):
            options = LoadOptions(
                users=opts["load_users"],
                seconds=opts["load_seconds"],
                sandbox_orders=opts["load_sandbox_orders"],
                gunicorn_workers=opts["load_workers"],
                gunicorn_threads=opts["load_threads"],
            )
            bench_load(
                figures,
                options,
                orders=opts["lookup_orders"],
                customers=opts["lookup_customers"],
                log=self.stdout.write,
            )
        self.stdout.write("")
        self.stdout.write(figures.table())
        figures.write(Path(opts["output"]))
        self.stdout.write(f"\nwrote {opts['output']}")


def _database_ensure() -> None:
    """Create the bench database if it does not exist yet."""
    try:
        connection.ensure_connection()
    except Exception:
        server_execute(f'CREATE DATABASE "{settings.DATABASES["default"]["NAME"]}"')
