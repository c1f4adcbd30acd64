from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integrations.services import source_upsert


class Command(BaseCommand):
    help = "Create or update an upstream source. Credentials are stored encrypted and never printed."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Short name, e.g. shopify")
        parser.add_argument("--adapter", required=True, help="shopify, square, odoo, hubspot or easypost")
        parser.add_argument("--base-url", required=True)
        parser.add_argument(
            "--credential",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="Repeatable, e.g. --credential access_token=shpat_...",
        )
        parser.add_argument("--interval", type=int, help="Seconds between scheduled syncs (default 60)")
        parser.add_argument(
            "--stale-after",
            type=int,
            help="Seconds without success before the data counts as stale",
        )
        parser.add_argument(
            "--page-size",
            type=int,
            help="Records a page asks for (default: the adapter's own: Odoo 1000, the others 250)",
        )
        parser.add_argument(
            "--credentials-env", help="Prefix (OMNIDESK_SOURCE_…) of environment variables holding credentials"
        )
        parser.add_argument("--disabled", action="store_true", help="Create the source disabled")

    def handle(self, *args, **opts):
        credentials = {}
        for item in opts["credential"]:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise CommandError(f"--credential takes KEY=VALUE, got {item!r}")
            credentials[key.strip()] = value
        options = {
            field: opts[option]
            for option, field in (
                ("interval", "interval_seconds"),
                ("stale_after", "stale_after_seconds"),
                ("page_size", "page_size"),
                ("credentials_env", "credentials_env"),
            )
            if opts[option] is not None
        }
        if opts["disabled"]:
            options["enabled"] = False
        try:
            source, created = source_upsert(
                name=opts["name"],
                adapter=opts["adapter"],
                base_url=opts["base_url"],
                credentials=credentials,
                **options,
            )
        except (ValueError, ValidationError) as exc:
            raise CommandError(str(exc)) from exc
        verb = "created" if created else "updated"
        names = ", ".join(source.credential_names) or "none"
        self.stdout.write(f"{verb} source {source.name} ({source.adapter}, {source.base_url}); credentials: {names}")
