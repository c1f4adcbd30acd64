"""Queue a Celery task by its name, now or once the current transaction commits.

Services that hand work to a worker (a customer message to deliver, a pickup push to send)
name the task instead of importing the tasks module: the tasks call those services, so the
services importing the tasks would close an import loop. The name is the task's dotted path
(``orders.tasks.deliver_message``), which is also the name Celery registers it under; the
module is imported when the task is first queued.
"""

from __future__ import annotations

import importlib

from celery import Task
from django.db import transaction


def task_named(name: str) -> Task:
    """The task at the dotted path ``name``."""
    module, _, attribute = name.rpartition(".")
    found = getattr(importlib.import_module(module), attribute)
    if not isinstance(found, Task):
        raise TypeError(f"{name} is not a Celery task")
    return found


def enqueue(name: str, *args, **kwargs):
    """Queue the task ``name`` now (``delay``); returns its result handle."""
    return task_named(name).delay(*args, **kwargs)


def enqueue_on_commit(name: str, *args, **kwargs) -> None:
    """Queue the task ``name`` once the current transaction commits (never for a rolled-back write)."""
    transaction.on_commit(lambda: enqueue(name, *args, **kwargs))
