"""Bulk writes for the sync path: plain row dicts in, one statement per table out.

On PostgreSQL rows are COPYed into a temporary staging table and merged with one
``INSERT … SELECT … ON CONFLICT`` (the COPY-then-upsert path: several times faster
than ``bulk_create``, which builds and adapts a model instance per row). Elsewhere
(the SQLite demo) the same call falls back to ``bulk_create``.

Rows are dicts keyed by column attname (``order_id``, not ``order``). Rows sharing a
unique key are collapsed first (the last wins): PostgreSQL refuses to update one row
twice in one statement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from django.db import connection, models
from psycopg.types.json import Jsonb

BATCH = 1000


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
    merge = f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM {stage} {conflict}{tail}"  # noqa: S608
    with connection.cursor() as cursor:
        _stage_fill(cursor, model, stage, columns, rows)
        cursor.execute(merge)
        result = cursor.fetchall() if returning else []
        cursor.execute(f"DELETE FROM {stage}")  # noqa: S608 (cheaper than TRUNCATE for a few rows)
    return result


def _stage_name(model, columns: Sequence[str]) -> str:
    digest = hashlib.sha1(f"{model._meta.db_table}:{','.join(columns)}".encode()).hexdigest()[:16]  # noqa: S324 (a name)
    return f"_stage_{digest}"


def _stage_fill(cursor, model, stage: str, columns: Sequence[str], rows: Sequence[dict]) -> None:
    """COPY ``rows`` into a session temp table shaped like ``columns`` of the model's table."""
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {quoted} FROM {table} WITH NO DATA")  # noqa: S608
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
    """Set ``fields`` of existing rows identified by their ``id``."""
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
    with connection.cursor() as cursor:
        _stage_fill(cursor, model, stage, columns, [{c: row[c] for c in columns} for row in rows])
        cursor.execute(f"UPDATE {table} AS t SET {assignments} FROM {stage} AS s WHERE t.id = s.id")  # noqa: S608
        cursor.execute(f"DELETE FROM {stage}")  # noqa: S608 (cheaper than TRUNCATE for a few rows)


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
