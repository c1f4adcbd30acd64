"""Bulk writes for the sync path: plain row dicts in, one statement per table out.

On PostgreSQL rows are COPYed into a temporary staging table and merged with one
``INSERT … SELECT … ON CONFLICT`` (the COPY-then-upsert path: several times faster
than ``bulk_create``, which builds and adapts a model instance per row). Elsewhere
(the SQLite demo) the same call falls back to ``bulk_create``.

Rows are dicts keyed by column attname (``order_id``, not ``order``). Rows sharing a
unique key are collapsed first (the last wins): PostgreSQL refuses to update one row
twice in one statement.

A long sync reuses each staging table for thousands of pages. Temp tables are never
vacuumed, so the rows each merge takes out of it stay as dead tuples that every later
merge would scan again (each page slower than the last): a table that has staged
:data:`STAGE_RECYCLE_ROWS` rows is truncated before its next use. (``ON COMMIT DELETE
ROWS`` would do it at every commit, but for every such table of the session, used or
not: about a quarter of a millisecond each, per page.)
"""

from __future__ import annotations

import hashlib
import time
import weakref
from collections.abc import Iterable, Sequence

from django.core.exceptions import EmptyResultSet
from django.db import connection, models, transaction
from django.db.models.lookups import In
from psycopg.types.json import Jsonb

BATCH = 1000
STAGE_RECYCLE_ROWS = 5000
_staged_rows: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # database connection -> {stage: rows}


@models.ForeignObject.register_lookup
@models.Field.register_lookup
class AnyOf(In):
    """``field__any=[...]``: ``field = ANY(%s)`` on PostgreSQL, the list sent as one array.

    A page looks up a few hundred keys at a time; as ``IN (%s, %s, …)`` each key is one
    more parameter to adapt into the query text and one more literal for the server to
    parse, a cost that showed among the sync's largest. Elsewhere (SQLite) it is ``IN``.
    """

    lookup_name = "any"

    def get_prep_lookup(self):
        if self._plain():  # str keys of a text column, int ids: nothing to prepare, value by value
            return list(self.rhs)
        return super().get_prep_lookup()

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [value for value in dict.fromkeys(self.rhs) if value is not None]
        if not values:
            raise EmptyResultSet
        if not self._plain():
            _, values = self.batch_process_rhs(compiler, connection, values)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(values))

    def _plain(self) -> bool:
        """Whether every value is already what the column holds (a ``str`` for text, an ``int`` for an integer)."""
        if not isinstance(self.rhs, (list, tuple, set, frozenset)):
            return False
        field = self.lhs.output_field
        field = getattr(field, "target_field", None) if field.is_relation else field
        kind = PLAIN_TYPES.get(field.get_internal_type()) if field is not None else None
        return kind is not None and all(type(value) is kind or value is None for value in self.rhs)


PLAIN_TYPES = {
    "CharField": str,
    "TextField": str,
    "AutoField": int,
    "BigAutoField": int,
    "IntegerField": int,
    "BigIntegerField": int,
    "SmallIntegerField": int,
    "PositiveIntegerField": int,
}


def _columns(model) -> dict[str, models.Field]:
    return {f.attname: f for f in model._meta.concrete_fields}


def _dedupe(rows: Iterable[dict], unique: Sequence[str]) -> list[dict]:
    if not unique:
        return list(rows)
    by_key: dict[tuple, dict] = {}
    for row in rows:
        by_key[tuple(row[c] for c in unique)] = row
    return list(by_key.values())


def upsert(
    model,
    rows: Iterable[dict],
    *,
    unique: Sequence[str] = (),
    update: Sequence[str] | None = None,
    returning: Sequence[str] = (),
    unique_where: str = "",
) -> list[tuple]:
    """Insert ``rows``; on a ``unique`` conflict update ``update`` columns (``None``: leave the row alone).

    ``unique_where`` names the predicate of a partial unique index (``closed_at IS NULL``
    for one open flag per order and code), so PostgreSQL can infer that index as the
    conflict target. Returns the ``returning`` columns of the rows inserted or updated
    (not of rows left alone).
    """
    rows = _dedupe(rows, unique)
    if not rows:
        return []
    if connection.vendor != "postgresql":
        return _upsert_django(model, rows, unique=unique, update=update, returning=returning)
    columns = list(rows[0])
    table = connection.ops.quote_name(model._meta.db_table)
    stage = _stage_name(model, columns)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    target = f"({', '.join(connection.ops.quote_name(c) for c in unique)})" + (
        f" WHERE {unique_where}" if unique_where else ""
    )
    if unique and update:
        assignments = ", ".join(
            f"{connection.ops.quote_name(c)} = EXCLUDED.{connection.ops.quote_name(c)}" for c in update
        )
        conflict = f"ON CONFLICT {target} DO UPDATE SET {assignments}"
    elif unique:
        conflict = f"ON CONFLICT {target} DO NOTHING"
    else:
        conflict = ""
    tail = f" RETURNING {', '.join(connection.ops.quote_name(c) for c in returning)}" if returning else ""
    # the staged rows are taken out of the staging table by the very statement that merges them
    merge = (
        f"WITH staged AS (DELETE FROM {stage} RETURNING {quoted}) "  # noqa: S608
        f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM staged {conflict}{tail}"
    )
    with connection.cursor() as cursor:
        _stage_fill(cursor, model, stage, columns, rows)
        cursor.execute(merge)
        return cursor.fetchall() if returning else []


def _stage_name(model, columns: Sequence[str]) -> str:
    digest = hashlib.sha1(f"{model._meta.db_table}:{','.join(columns)}".encode()).hexdigest()[:16]  # noqa: S324 (a name)
    return f"_stage_{digest}"


def _stage_fill(cursor, model, stage: str, columns: Sequence[str], rows: Sequence[dict]) -> None:
    """COPY ``rows`` into a session temp table shaped like ``columns`` of the model's table.

    The table is truncated once the rows it staged (all deleted since, but never
    vacuumed) add up to :data:`STAGE_RECYCLE_ROWS`: rare enough that the new file each
    TRUNCATE makes does not matter.
    """
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {quoted} FROM {table} WITH NO DATA")  # noqa: S608
    staged = _staged_rows.setdefault(connection.connection, {})
    if staged.get(stage, 0) >= STAGE_RECYCLE_ROWS:
        cursor.execute(f"TRUNCATE {stage}")
        staged[stage] = 0
    staged[stage] = staged.get(stage, 0) + len(rows)
    _copy_rows(cursor, model, stage, columns, rows)


def _copy_rows(cursor, model, target: str, columns: Sequence[str], rows: Sequence[dict]) -> None:
    fields = _columns(model)
    json_at = [i for i, c in enumerate(columns) if isinstance(fields[c], models.JSONField)]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with cursor.cursor.copy(f"COPY {target} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            values = [row[c] for c in columns]
            for i in json_at:
                values[i] = Jsonb(values[i])
            copy.write_row(values)


def update_rows(model, rows: Iterable[dict], *, fields: Sequence[str]) -> None:
    """Set ``fields`` of existing rows identified by their ``id``.

    The ids are also given as an array: the planner knows nothing of the staging table
    (never analysed), and with the array it probes the primary key instead of hashing
    the whole target table for a page's worth of rows.
    """
    rows = _dedupe(rows, ["id"])
    if not rows:
        return
    if connection.vendor != "postgresql":
        objs = [model(**row) for row in rows]
        model.objects.bulk_update(objs, list(fields), batch_size=BATCH)
        return
    columns = ["id", *fields]
    stage = _stage_name(model, columns)
    table = connection.ops.quote_name(model._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(c)} = s.{connection.ops.quote_name(c)}" for c in fields)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    update = (
        f"WITH s AS (DELETE FROM {stage} RETURNING {quoted}) "  # noqa: S608
        f"UPDATE {table} AS t SET {assignments} FROM s WHERE t.id = s.id AND t.id = ANY(%s)"
    )
    with connection.cursor() as cursor:
        _stage_fill(cursor, model, stage, columns, [{c: row[c] for c in columns} for row in rows])
        cursor.execute(update, [[row["id"] for row in rows]])


def _upsert_django(model, rows, *, unique, update, returning) -> list[tuple]:
    objs = [model(**row) for row in rows]
    if unique and update:
        model.objects.bulk_create(
            objs,
            update_conflicts=True,
            unique_fields=list(unique),
            update_fields=list(update),
            batch_size=BATCH,
        )
    else:
        model.objects.bulk_create(objs, ignore_conflicts=bool(unique), batch_size=BATCH)
    if not returning:
        return []
    # bulk_create does not report which rows it skipped or set every pk: read the rows back by their unique key.
    if not unique:
        return [tuple(getattr(o, c) for c in returning) for o in objs]
    lookup = {f"{unique[0]}__in": {row[unique[0]] for row in rows}}
    keys = {tuple(row[c] for c in unique) for row in rows}
    found = model.objects.filter(**lookup).values_list(*unique, *returning)
    return [tuple(values[len(unique) :]) for values in found if tuple(values[: len(unique)]) in keys]


def copy_insert(model, rows: Sequence[dict]) -> None:
    """Insert rows known to be new straight into the table (no staging, no conflict handling).

    For large rows whose caller has already excluded what exists (raw payloads, under the
    source's lock): staging would copy and compress each payload twice.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH)
        return
    columns = list(rows[0])
    with connection.cursor() as cursor:
        _copy_rows(cursor, model, connection.ops.quote_name(model._meta.db_table), columns, rows)


def ids_allocate(model, count: int) -> list[int]:
    """Primary keys for ``count`` new rows, drawn from the table's sequence (PostgreSQL) before inserting them."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def insert_new(model, rows: list[dict]) -> list[int]:
    """Insert rows that have no natural key and return their new ids, in order."""
    if not rows:
        return []
    if connection.vendor == "postgresql":
        for row, pk in zip(rows, ids_allocate(model, len(rows)), strict=True):
            row["id"] = pk
        upsert(model, rows)
        return [row["id"] for row in rows]
    objs = [model(**row) for row in rows]
    model.objects.bulk_create(objs, batch_size=BATCH)
    return [o.pk for o in objs]


STATS_NAMESPACE = 0x0DE5_57A7  # advisory-lock namespace of one ANALYZE per table at a time
STATS_MIN_ROWS = 1000  # a table is analysed once a run has written this many of its rows
STATS_GROWTH = 3.0  # ... and again each time the run's own rows in it grew by this many times as many again
STATS_EVERY_SECONDS = 5.0
STATS_TARGET = 25  # sample 7,500 rows, not 30,000: enough to choose index probes, a fifth of the cost


class PlannerStats:
    """Keeps the planner statistics of the tables one sync run writes true to what the run wrote.

    A backfill grows tables faster than autovacuum re-analyses them (and where autovacuum
    is off, never). The planner then misjudges the source's own rows: statistics taken
    before its first rows (or when it had a few hundred) read ``source_id = 2`` as
    "almost none", and a page's lookup of a few hundred keys on ``(source_id,
    external_id)`` reads every row of the source instead of probing each key: each page
    slower than the one before (seen: 90 ms a page on order lines at 50,000 orders).

    So the yardstick is the run's own writes, not the table's size: a table is analysed
    once the run has written :data:`STATS_MIN_ROWS` rows to it, then each time the run's
    rows in it have grown :data:`STATS_GROWTH` times over (1,000, 4,000, 16,000 …: a
    handful of ANALYZEs a run, the planner's idea of the source never more than four
    times too small). Partitioned tables are judged, and analysed, by their partitions
    (the parent keeps no counts). Checked at most every few seconds (one catalogue
    query); a table another worker is analysing is left to it. Runs outside any page
    transaction; a no-op off PostgreSQL.
    """

    def __init__(self, tables: Sequence[str]):
        self.tables = list(tables)
        self.active = connection.vendor == "postgresql" and bool(self.tables)
        self.checked_at = 0.0
        self.written_at_analyse: dict[str, int] = {}
        self.started = self._writes() if self.active else {}

    def refresh(self, *, force: bool = False) -> list[str]:
        """ANALYZE the tables the run has written enough to since it last did; returns their names."""
        if not self.active:
            return []
        now = time.monotonic()
        if not force and now - self.checked_at < STATS_EVERY_SECONDS:
            return []
        self.checked_at = now
        due = []
        for table, writes in self._writes().items():
            written = writes - self.started.setdefault(table, 0)
            last = self.written_at_analyse.get(table, 0)
            if written - last >= max(STATS_MIN_ROWS, STATS_GROWTH * last):
                due.append((table, written))
        done = [table for table, _ in due if _analyze(table)]
        self.written_at_analyse.update((table, written) for table, written in due if table in done)
        return done

    def _writes(self) -> dict[str, int]:
        """Rows inserted, updated or deleted in each table (each partition) since the server's counts began."""
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH named AS (SELECT to_regclass(name) AS relid FROM unnest(%s::text[]) AS name)"
                " SELECT s.relname, s.n_tup_ins + s.n_tup_upd + s.n_tup_del FROM pg_stat_user_tables s"
                " WHERE s.relid IN (SELECT relid FROM named)"
                " OR s.relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent IN (SELECT relid FROM named))",
                [self.tables],
            )
            return dict(cursor.fetchall())


def _analyze(table: str) -> bool:
    """ANALYZE one table unless another session is already doing it (it would only wait, then repeat the work).

    With a small sample (:data:`STATS_TARGET`): these statistics only have to steer a
    sync's key lookups until autovacuum, where it runs, takes its own.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", [STATS_NAMESPACE, table])
        if not cursor.fetchone()[0]:
            return False
        cursor.execute("SELECT set_config('default_statistics_target', %s, true)", [str(STATS_TARGET)])
        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return True
