"""COPY on a second core: each finished round of rows goes to PostgreSQL from a thread."""

from __future__ import annotations

import queue
import threading

from .common import (
    TABLES,
)


# --- COPY on a second core ---------------------------------------------------------------------------------------
class _Copier:
    """COPYs each finished round of rows from a thread while the main thread builds the next round.

    Python builds rows on one core and PostgreSQL parses and indexes them on the other;
    psycopg waits on the socket without the GIL, so the two overlap. The thread uses the
    same connection: the main thread does not touch it until :meth:`close`.
    """

    def __init__(self, raw_connection, partitioned=frozenset()):
        self.partitioned = partitioned
        self.raw = raw_connection
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.counts = dict.fromkeys(TABLES, 0)
        self.thread = threading.Thread(target=self._run, name="benchdata-copy", daemon=True)
        self.thread.start()

    def put(self, rows: dict[str, list[str]]) -> None:
        if self.error is not None:
            raise RuntimeError("COPY failed") from self.error
        self.queue.put(rows)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise RuntimeError("COPY failed") from self.error

    def _run(self) -> None:
        while (rows := self.queue.get()) is not None:
            if self.error is not None:
                continue  # drain, so put() never blocks forever
            try:
                self._copy(rows)
            except BaseException as exc:  # re-raised in the main thread by put() or close()
                self.error = exc

    def _copy(self, rows: dict[str, list[str]]) -> None:
        for table, columns in TABLES.items():
            lines = rows.get(table)
            if not lines:
                continue
            self.counts[table] += len(lines)
            quoted = ", ".join(f'"{c}"' for c in columns)
            freeze = "" if table in self.partitioned else " (FREEZE)"  # PostgreSQL cannot freeze into partitions
            statement = f"COPY {table} ({quoted}) FROM STDIN{freeze}"  # noqa: S608 (our table names)
            with self.raw.cursor() as cursor, cursor.copy(statement) as copy:
                copy.write("".join(lines))
