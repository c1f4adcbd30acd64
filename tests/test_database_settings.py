"""How OmniDesk's connections to PostgreSQL are set up (omnidesk/settings.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db


def test_no_query_starts_parallel_workers_by_default():
    # Starting them cost ~20 ms on the bench database: more than any staff screen's query takes.
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone() == ("0",)


def test_the_options_a_database_url_gives_are_kept_and_the_workers_can_be_given_back():
    url = "postgres://postgres@127.0.0.1:5432/omnidesk?options=-c%20statement_timeout%3D5000"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DB_"))}
    env.update(
        DATABASE_URL=url, DATABASE_REPLICA_URL=url, DB_PARALLEL_WORKERS="2", DJANGO_SETTINGS_MODULE="omnidesk.settings"
    )
    show = "from django.conf import settings; print(*(d['OPTIONS']['options'] for d in settings.DATABASES.values()))"
    shown = subprocess.check_output([sys.executable, "-c", show], cwd=settings.BASE_DIR, env=env, text=True)  # noqa: S603

    both = "-c statement_timeout=5000 -c max_parallel_workers_per_gather=2"
    assert shown.strip() == f"{both} {both}"  # the primary and the replica
