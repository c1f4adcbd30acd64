"""Settings read from the environment: what a newcomer's machine gets without PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

ENGINE = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"


@pytest.mark.parametrize("given", ["unset", ""])
def test_without_a_database_url_the_embedded_sqlite_is_used(given):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if given != "unset":
        env["DATABASE_URL"] = given  # e.g. `DATABASE_URL= make demo`, or a blank line in an .env file

    done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", f"import django; django.setup(); {ENGINE}"],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "omnidesk.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert (done.returncode, done.stdout.strip()) == (0, "django.db.backends.sqlite3"), done.stderr[-500:]
