"""Real Chromium (Debian's package) driven by Playwright against a live OmniDesk on the synced sandbox."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from integrations.demo import demo_sources_ensure, demo_users_ensure
from orders.roles import roles_sync

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium; a missing browser fails the run in CI (``make test`` installs it) and skips locally."""
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: `make test` installs it with apt-get (see .ci/browser.sh)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop on the test thread; the test's own ORM calls are
    # still synchronous, so Django's async-safety guard is lifted for the browser tests only.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.problems = problems
    yield page
    context.close()


@pytest.fixture
def synced(transactional_db, sandbox, live_server):
    """The demo users and the five sandbox sources, synced once: what an agent sees on a normal morning.

    A live-server test flushes the database after it, roles (migration data) included: put them back.
    """
    roles_sync()
    demo_users_ensure()
    demo_sources_ensure(sandbox.base_url)
    call_command("sync", all=True, verbosity=0)
    return sandbox.world.truth()


@pytest.fixture
def screenshots():
    """``make screenshots`` sets OMNIDESK_SCREENSHOTS to docs/screenshots; otherwise pictures go to a temp dir."""
    target = os.environ.get("OMNIDESK_SCREENSHOTS")
    return Path(target) if target else None


def login(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.startswith(live_server.url) and "/accounts/login/" not in url)
