"""The simulated agents of the load benchmark, driven by :mod:`tests.bench.loadbench` as ``python -m tests.bench.loadusers``.

A process of its own: importing locust monkey-patches the interpreter for gevent,
which must happen neither inside ``python -m tests.bench`` (``make bench``) (psycopg, threads, subprocesses)
nor inside a test session. No Django here: the agents only speak HTTP to gunicorn.

Each agent signs in once through the login form with its own account (django-axes
throttles per username + IP), then works calls until told to stop: it types what the
caller reads out into the search box (the htmx POST the page sends after each pause),
opens the hit (the customer screen), clicks one or two other orders in the table (the
htmx swap of the order pane); every fourth task it looks at the worklist instead, and once a
round of eight a store's pickup board (the partial its 30 s poll fetches). A response that
is not the page asked for (a login page after a lost session, an error page) counts as
a failure, like any status outside 2xx/3xx and any exception.

The parent steers over stdin, one word a line, and reads JSON lines on stdout:
``{"event": "ready"}`` once every agent has signed in; ``reset`` empties the statistics;
``snapshot`` answers the statistics since the last reset; ``stop`` (or end of input) ends.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from http.cookiejar import DefaultCookiePolicy

from locust import FastHttpUser, between, task  # imported first: locust monkey-patches for gevent
from locust.env import Environment
from locust.exception import StopUser

import gevent  # isort: skip (gevent comes with locust)

PATHS = {"login": "/accounts/login/", "search": "/", "worklist": "/worklist/", "board": "/stores/{}/pickups/"}
KINDS = ("search", "customer", "order_pane", "worklist", "board")  # what the figures report, per kind and overall
WORKLIST_EVERY = 4  # tasks: three calls, then the worklist
BOARD_EVERY = 8  # tasks: the second of each round of eight polls a pickup board instead of a call (plan: board_every)
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_HX_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
_HIT = re.compile(r'data-url="([^"]+)"')
_ORDER_LINK = re.compile(r'hx-get="(/customers/\d+/orders/\d+/)"')


class Plan:
    """What the parent hands over: one account per agent and the texts callers read out."""

    accounts: list[tuple[str, str]] = []
    probes: list[str] = []
    stores: list[str] = []  # store codes whose pickup boards are polled
    board_every = BOARD_EVERY
    signed_in = 0
    sign_in_failed: list[str] = []


class Agent(FastHttpUser):
    wait_time = between(1, 3)  # reading the screen, talking to the caller (--think)
    typing = (0.3, 0.8)  # pause between two bursts of typing: the search box posts after 250 ms idle
    default_headers = {"X-Forwarded-Proto": "https"}  # as the TLS proxy in front of gunicorn says

    def on_start(self):
        # The browser talks HTTPS to the proxy, so it sends the Secure cookies; this client talks HTTP to gunicorn.
        self.client.cookiejar.set_policy(DefaultCookiePolicy(secure_protocols=("https", "wss", "http")))
        username, password = Plan.accounts.pop()
        self.host_origin = "https://" + self.host.split("://", 1)[1].rstrip("/")  # what the browser sees
        page = self.client.get(PATHS["login"], name="login")
        token = _TOKEN.search(page.text or "")
        with self.client.post(
            PATHS["login"],
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token[1] if token else "",
                "next": "/",
            },
            headers={"Referer": self.host_origin + PATHS["login"], "Origin": self.host_origin},
            name="login",
            catch_response=True,
        ) as signed:
            hx_token = _HX_TOKEN.search(signed.text or "")
            if signed.status_code != 200 or 'id="search"' not in (signed.text or "") or not hx_token:
                signed.failure(f"sign-in as {username} did not reach the search page (HTTP {signed.status_code})")
                Plan.sign_in_failed.append(username)
                raise StopUser()
        self.csrf = hx_token[1]
        self.tasks_done = Plan.signed_in  # agents start their round at different points
        Plan.signed_in += 1

    @task
    def work(self):
        """Three calls (one in two rounds: a pickup board instead of the first), then a look at the worklist; each
        agent starts at another point of that round."""
        self.tasks_done += 1
        if self.tasks_done % WORKLIST_EVERY == 0:
            self._get(PATHS["worklist"], "worklist", marker='<div id="worklist">')
        elif self.tasks_done % Plan.board_every == 2 and Plan.stores:
            self.poll_a_board()
        else:
            self.take_a_call()

    def take_a_call(self):
        """Search what the caller reads out, open the hit, look at one or two other orders of theirs."""
        text = random.choice(Plan.probes)  # noqa: S311 (a load mix, not a secret)
        cut = max(3, len(text) * 2 // 3)
        page = ""
        for typed in dict.fromkeys((text[:cut], text)):  # a pause mid-word, then the whole text
            page = self._search(typed)
            gevent.sleep(random.uniform(*self.typing))  # noqa: S311
        hits = _HIT.findall(page)
        if not hits:
            return
        self.wait()
        screen = self._get(hits[0], "customer", marker='id="order-pane"')
        others = list(dict.fromkeys(_ORDER_LINK.findall(screen)))
        for url in random.sample(others, min(len(others), random.randint(1, 2))):  # noqa: S311
            self.wait()
            self._get(url, "order_pane", marker='id="order-pane"', htmx="order-pane", current=hits[0])

    def poll_a_board(self):
        """What a store's open board fetches every 30 s: its partial, marked as a poll (not a person's activity)."""
        url = PATHS["board"].format(random.choice(Plan.stores))  # noqa: S311
        self._get(url, "board", marker='id="board"', htmx="board", current=url, poll=True)

    def _search(self, text: str) -> str:
        """What htmx posts: the form's fields with ``go`` overridden to 0, the CSRF header from ``<body>``."""
        with self.client.post(
            PATHS["search"],
            data={"csrfmiddlewaretoken": self.csrf, "go": "0", "q": text},
            headers={
                "HX-Request": "true",
                "HX-Trigger": "search",
                "HX-Target": "results",
                "HX-Current-URL": self.host_origin + "/",
                "X-CSRFToken": self.csrf,
                "Origin": self.host_origin,
                "Referer": self.host_origin + "/",
            },
            name="search",
            catch_response=True,
        ) as response:
            return _checked(response, 'class="results-for"', PATHS["search"])

    def _get(self, url: str, name: str, *, marker: str, htmx: str = "", current: str = "", poll=False) -> str:
        headers = {"Referer": self.host_origin + (current or "/")}
        if htmx:
            headers |= {"HX-Request": "true", "HX-Target": htmx, "HX-Current-URL": self.host_origin + current}
        if poll:
            headers["X-OmniDesk-Poll"] = "1"
        with self.client.get(url, headers=headers, name=name, catch_response=True) as response:
            moved = response.headers.get("HX-Redirect")
            if not moved:
                return _checked(response, marker, url)
            response.success()  # the order moved to another customer's screen: htmx loads that page
        return self._get(moved, name, marker=marker)


def _checked(response, marker: str, url: str) -> str:
    """The page's text; a failure unless the status is 2xx/3xx and the page is the one asked for."""
    text = response.text or ""
    if not 200 <= response.status_code < 400:
        response.failure(f"HTTP {response.status_code} for {url}")  # ids only: no personal data in a URL
    elif marker not in text:
        response.failure("not the page asked for" + (" (signed out)" if 'action="/accounts/login/' in text else ""))
    else:
        response.success()
    return text


def snapshot(env: Environment, since: float) -> dict:
    """Per kind and overall: requests, failures, p50/p95/max in ms; errors and exceptions by message."""

    def figures(entry) -> dict:
        if entry is None or not entry.num_requests:
            return {"requests": 0, "failures": 0, "p50_ms": 0, "p95_ms": 0, "max_ms": 0}
        return {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "max_ms": entry.max_response_time,
        }

    stats = env.stats
    errors = [{"kind": e.name, "error": str(e.error), "count": e.occurrences} for e in stats.errors.values()]
    by_kind = {name: entry for (name, _method), entry in stats.entries.items() if entry.num_requests}
    return {
        "event": "snapshot",
        "seconds": time.monotonic() - since,
        "kinds": {kind: figures(by_kind.get(kind)) for kind in KINDS},
        "total": figures(stats.total),
        "errors": errors,
        "not_found": sum(e["count"] for e in errors if e["error"].startswith("HTTP 404 ")),
        "exceptions": [{"error": e["msg"], "count": e["count"]} for e in env.runner.exceptions.values()],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument(
        "--plan", required=True, help="JSON: {'accounts': [[username, password], …], 'probes': […], 'stores': […]}"
    )
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--spawn-rate", type=float, default=10.0, help="agents starting per second")
    parser.add_argument("--sign-in-timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    with open(args.plan) as plan:
        given = json.load(plan)
    Plan.accounts = [tuple(pair) for pair in given["accounts"]]
    Plan.probes = given["probes"]
    Plan.stores = given.get("stores", [])
    Plan.board_every = given.get("board_every", BOARD_EVERY)
    users = len(Plan.accounts)
    Agent.host = args.host
    Agent.wait_time = between(*args.think)

    env = Environment(user_classes=[Agent])
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=args.spawn_rate)
    deadline = time.monotonic() + args.sign_in_timeout
    while Plan.signed_in + len(Plan.sign_in_failed) < users and time.monotonic() < deadline:
        gevent.sleep(0.1)
    if Plan.signed_in < users:
        _say({**snapshot(env, 0), "event": "failed", "error": f"{Plan.signed_in} of {users} agents signed in"})
        runner.quit()
        sys.exit(1)
    _say({"event": "ready"})
    since = time.monotonic()
    stdin = gevent.get_hub().threadpool  # read stdin in a thread so the agents keep working meanwhile
    while command := stdin.apply(sys.stdin.readline).strip():
        if command == "reset":
            env.stats.reset_all()
            env.runner.exceptions.clear()
            since = time.monotonic()
            _say({"event": "reset"})
        elif command == "snapshot":
            _say(snapshot(env, since))
        elif command == "stop":
            break
    runner.quit()


def _say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
