"""Two database workers at once, for the tests of race safety."""

from __future__ import annotations

import threading

from django.db import connection, transaction


def racing(first, second) -> tuple:
    """Run ``first`` in a transaction that stays open while ``second`` runs in another thread.

    Returns both results; an exception raised by either is returned in its place, for the test to assert on.
    """
    results, started = {}, threading.Event()

    def run(name, action, hold):
        try:
            with transaction.atomic():
                results[name] = action()
                if hold:
                    started.set()
                    threading.Event().wait(0.3)  # let the other worker reach the same row meanwhile
        except Exception as error:  # noqa: BLE001 - the test asserts on it
            results[name] = error
        finally:
            connection.close()

    one = threading.Thread(target=run, args=("first", first, True))
    one.start()
    started.wait(5)
    two = threading.Thread(target=run, args=("second", second, False))
    two.start()
    one.join()
    two.join()
    return results["first"], results["second"]
