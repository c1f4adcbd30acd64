"""Celery application. Tasks are discovered in every installed app's ``tasks.py``."""

import os

from celery import Celery
from celery.signals import worker_process_init
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnidesk.settings")

app = Celery("omnidesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def worker_priority_lower(**kwargs) -> None:
    """Background work yields the CPU to staff: each worker process runs at ``OMNIDESK_WORKER_NICENESS``.

    Measured with ``make bench`` (``--only load``): 50 agents during a sync on 2 cores, p95
    410 ms with the sync at the web's priority, 200 ms at nice 10, the sync as fast either way.
    """
    os.nice(settings.OMNIDESK_WORKER_NICENESS)
