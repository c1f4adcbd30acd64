"""The queues a Celery worker consumes: ``celery -A omnidesk worker -Q "$(python manage.py sync_queues)"``."""

from django.core.management.base import BaseCommand

from integrations.tasks import worker_queues


class Command(BaseCommand):
    help = "Print the comma-separated queues for `celery worker -Q`: the default queue and sync.<source> per source."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="Only these sources' sync queues (a host pinned to them)")

    def handle(self, *args, **opts):
        self.stdout.write(",".join(worker_queues(opts["names"] or None)))
