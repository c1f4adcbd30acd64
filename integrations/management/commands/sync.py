from django.core.management.base import BaseCommand, CommandError

from integrations.models import Source, SyncRun
from integrations.sync import source_sync


class Command(BaseCommand):
    help = (
        "Sync sources now, with the same code the Celery job runs. One summary line per source; exits 1 if any failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="Source names (default with --all: every enabled source)")
        parser.add_argument("--all", action="store_true", help="Every enabled source")

    def handle(self, *args, **opts):
        if opts["all"]:
            sources = list(Source.objects.filter(enabled=True))
        elif opts["names"]:
            sources = list(Source.objects.filter(name__in=opts["names"]))
            missing = set(opts["names"]) - {s.name for s in sources}
            if missing:
                raise CommandError(f"no such source: {', '.join(sorted(missing))}")
        else:
            raise CommandError("name one or more sources, or pass --all")
        failed = 0
        for source in sources:
            run = source_sync(source_id=source.pk, trigger=SyncRun.Trigger.COMMAND)
            failed += run.status == SyncRun.Status.FAILED
            self.stdout.write(run.summary())
        if failed:
            raise CommandError(f"{failed} source(s) failed", returncode=1)
