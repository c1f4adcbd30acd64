# ruff: noqa: S608 -- the SQL here is built from this module's table and column names only, never from input
"""Monthly partitions of the two tables that grow fastest: the timeline and the raw payloads (issue 15).

On PostgreSQL ``orders_timelineevent`` is ``PARTITION BY RANGE (occurred_at)`` and
``integrations_rawrecord`` ``PARTITION BY RANGE (first_seen_at)``, one partition per
calendar month in UTC (``<table>_p202612``) and a ``<table>_default`` partition for a row
of a month that has none yet (a backfill of old history). Migrations
``orders.0024_timeline_partitions`` and ``integrations.0004_raw_record_partitions``
convert the existing tables (:func:`table_partition`); :func:`partitions_upkeep`, on
the beat every night, creates the coming months' partitions, moves rows out of the
default partition into partitions of their own, and drops raw-payload months older than
``OMNIDESK_RAW_RETENTION_MONTHS`` (:func:`raw_retention_apply`). Elsewhere (the SQLite
demo) the tables stay plain and all of this is a no-op.

**Uniqueness.** PostgreSQL allows a unique key on a partitioned table only if it
contains the partition key, and neither dedupe key can: an event's time may move (the
storefront corrects an order's ``created_at``; an event written without a time takes
the clock's), and a payload's first sighting is whenever it came. So each unique key
lives in a small unpartitioned table of its own, kept by row triggers on the
partitioned table, under the constraint's old name:

* ``orders_timelineevent_key (key)``, constraint ``timelineevent_unique_key``: inserting
  an event whose key is there already inserts nothing, exactly what ``ON CONFLICT (key)
  DO NOTHING`` did (two writers racing: the second waits for the first, then skips).
  ``events_write`` therefore inserts without a conflict clause.
* ``integrations_rawrecord_content (source_id, content_hash)``, constraint
  ``rawrecord_unique_content``: inserting a payload stored already fails with the same
  unique violation as before (the sync lands its page again; ``get_or_create`` reads
  the stored one).

Deleting a row releases its key; ``TRUNCATE`` empties the key table. Code that moves
rows between partitions itself (the upkeep here, the bench's bulk loads) sets
``omnidesk.keys_by_caller`` for its transaction and keeps the key table right itself.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

AHEAD_MONTHS = 3  # partitions that exist beyond the current month's
KEYS_BY_CALLER = "omnidesk.keys_by_caller"


@dataclass(frozen=True)
class Partitioned:
    table: str
    column: str  # the partition key: a timestamptz, ranged by UTC month
    keys: str  # the unpartitioned table holding the unique key
    key_columns: tuple[str, ...]
    constraint: str  # the unique constraint's name, kept from the unpartitioned table
    on_duplicate: str  # "skip" (ON CONFLICT DO NOTHING) or "raise" (a unique violation)


TIMELINE = Partitioned(
    table="orders_timelineevent",
    column="occurred_at",
    keys="orders_timelineevent_key",
    key_columns=("key",),
    constraint="timelineevent_unique_key",
    on_duplicate="skip",
)
RAW = Partitioned(
    table="integrations_rawrecord",
    column="first_seen_at",
    keys="integrations_rawrecord_content",
    key_columns=("source_id", "content_hash"),
    constraint="rawrecord_unique_content",
    on_duplicate="raise",
)
TABLES = (TIMELINE, RAW)


# --- months ------------------------------------------------------------------------------------------------------
def month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def month_add(month: datetime, months: int) -> datetime:
    index = month.year * 12 + month.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def partition_name(table: str, month: datetime) -> str:
    return f"{table}_p{month:%Y%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


def partitioned(table: str) -> bool:
    """Whether ``table`` is a partitioned table here (always on PostgreSQL once migrated; never on SQLite)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table])
        return cursor.fetchone() is not None


def month_partitions(table: str) -> dict[datetime, str]:
    """The table's month partitions by the month they hold (the default partition not included)."""
    pattern = re.compile(rf"^{re.escape(table)}_p(\d{{4}})(\d{{2}})$")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            [table],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = {}
    for name in names:
        if match := pattern.match(name):
            found[datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)] = name
    return dict(sorted(found.items()))


# --- converting a table (the migrations) -------------------------------------------------------------------------
def table_partition(schema_editor, spec: Partitioned) -> None:
    """Turn ``spec.table`` into a table partitioned by month, keeping every row, id, index and foreign key.

    Runs in the migration's transaction: the table is locked from the start, a new
    partitioned table is made like it, given a partition for every month its rows cover
    (and the coming months, and a default), the rows are copied, the old table dropped and
    the new one takes its name, its indexes, foreign keys and its id sequence's position.
    The unique key moves to its key table (module docstring). Its cost is one copy of
    the table: on a large database run it in a quiet hour. A no-op off PostgreSQL.
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    table, column, old = spec.table, spec.column, f"{spec.table}_unpartitioned"
    with schema_editor.connection.cursor() as cursor:
        indexes, foreign, (last_value, is_called) = _table_shape(cursor, table, unique_indexes=False)
        cursor.execute(f"SELECT DISTINCT date_trunc('month', {column}, 'UTC') FROM {table}")
        months = {month_start(row[0]) for row in cursor.fetchall()}

        cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
        cursor.execute(
            f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS"
            f" INCLUDING STORAGE INCLUDING COMPRESSION) PARTITION BY RANGE ({column})"
        )
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s, %s)", [last_value, is_called])
        this_month = month_start(timezone.now())
        months |= {month_add(this_month, n) for n in range(AHEAD_MONTHS + 1)}
        for month in sorted(months):
            _partition_create(cursor, table, month)
        cursor.execute(f"CREATE TABLE {default_name(table)} PARTITION OF {table} DEFAULT")
        cursor.execute(f"INSERT INTO {table} SELECT * FROM {old}")
        keys = ", ".join(spec.key_columns)
        cursor.execute(f"DROP TABLE {old} CASCADE")  # with the foreign keys pointing at it (dead letters, webhooks)

        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id, {column})")
        for ddl in indexes:
            cursor.execute(ddl)
        for name, ddl in foreign:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {ddl}')
        _keys_create(cursor, spec)
        cursor.execute(f"INSERT INTO {spec.keys} ({keys}) SELECT {keys} FROM {table}")
        cursor.execute(f"ANALYZE {table}")


RAW_REFERENCES = (  # the foreign keys into raw payloads the unpartitioned table had (put back by table_unpartition)
    ("integrations_deadletter", "integrations_deadlet_raw_record_id_0ac0150e_fk_integrati"),
    ("integrations_webhookdelivery", "integrations_webhook_raw_record_id_b54f081f_fk_integrati"),
)


def table_unpartition(schema_editor, spec: Partitioned) -> None:
    """The migrations' way back: one plain table again, with its unique constraint and (raw payloads) the foreign keys."""
    if schema_editor.connection.vendor != "postgresql":
        return
    table, old = spec.table, f"{spec.table}_partitioned"
    with schema_editor.connection.cursor() as cursor:
        indexes, foreign, (last_value, is_called) = _table_shape(cursor, table, unique_indexes=True)
        indexes = [ddl.replace(" ON ONLY ", " ON ") for ddl in indexes]
        cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
        cursor.execute(
            f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS"
            " INCLUDING STORAGE INCLUDING COMPRESSION)"
        )
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s, %s)", [last_value, is_called])
        cursor.execute(f"INSERT INTO {table} SELECT * FROM {old}")
        cursor.execute(f"DROP TABLE {old}, {spec.keys}")
        for suffix in ("claim", "release", "change", "empty"):
            cursor.execute(f"DROP FUNCTION {spec.keys}_{suffix}()")
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id)")
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {spec.constraint} UNIQUE ({', '.join(spec.key_columns)})")
        for ddl in indexes:
            cursor.execute(ddl)
        for name, ddl in foreign:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {ddl}')
        if spec is RAW:
            for referring, name in RAW_REFERENCES:
                cursor.execute(
                    f'ALTER TABLE {referring} ADD CONSTRAINT "{name}" FOREIGN KEY (raw_record_id)'
                    f" REFERENCES {table} (id) DEFERRABLE INITIALLY DEFERRED"
                )


def _table_shape(cursor, table: str, *, unique_indexes: bool) -> tuple[list[str], list[tuple[str, str]], tuple]:
    """Lock ``table`` and read what a rebuilt table must get back: its indexes' DDL (not the primary key's; unique
    ones only if asked), its foreign keys ``(name, definition)`` and its id sequence's ``(last_value, is_called)``.

    The index DDL names the table by its name, so it applies as it is to the new table of that name.
    """
    cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s::regclass"
        " AND NOT i.indisprimary AND (%s OR NOT i.indisunique) ORDER BY i.indexrelid::regclass::text",
        [table, unique_indexes],
    )
    indexes = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass"
        " AND contype = 'f' ORDER BY conname",
        [table],
    )
    foreign = cursor.fetchall()
    cursor.execute(f"SELECT last_value, is_called FROM {_sequence(cursor, table)}")
    return indexes, foreign, cursor.fetchone()


def _sequence(cursor, table: str) -> str:
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    return cursor.fetchone()[0]


def _partition_create(cursor, table: str, month: datetime) -> None:
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {partition_name(table, month)} PARTITION OF {table} FOR VALUES FROM (%s) TO (%s)",
        [month, month_add(month, 1)],
    )


def _keys_create(cursor, spec: Partitioned) -> None:
    """The key table and the triggers that keep it (module docstring)."""
    table, keys = spec.table, spec.keys
    columns = ", ".join(spec.key_columns)
    new = ", ".join(f"NEW.{c}" for c in spec.key_columns)
    old_match = " AND ".join(f"{c} = OLD.{c}" for c in spec.key_columns)
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in spec.key_columns)
    with_types = {"key": "varchar(255)", "source_id": "bigint", "content_hash": "varchar(64)"}
    cursor.execute(
        f"CREATE TABLE {keys} ({', '.join(f'{c} {with_types[c]} NOT NULL' for c in spec.key_columns)},"
        f" CONSTRAINT {spec.constraint} PRIMARY KEY ({columns}))"
    )
    bypass = f"current_setting('{KEYS_BY_CALLER}', true) = 'on'"
    if spec.on_duplicate == "skip":
        claim = f"INSERT INTO {keys} ({columns}) VALUES ({new}) ON CONFLICT DO NOTHING; IF NOT FOUND THEN RETURN NULL; END IF;"
    else:
        claim = f"INSERT INTO {keys} ({columns}) VALUES ({new});"
    cursor.execute(
        f"CREATE FUNCTION {keys}_claim() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF {bypass} THEN RETURN NEW; END IF; {claim} RETURN NEW; END $$"
    )
    cursor.execute(
        f"CREATE FUNCTION {keys}_release() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF {bypass} THEN RETURN OLD; END IF; DELETE FROM {keys} WHERE {old_match}; RETURN OLD; END $$"
    )
    cursor.execute(
        f"CREATE FUNCTION {keys}_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" DELETE FROM {keys} WHERE {old_match}; INSERT INTO {keys} ({columns}) VALUES ({new}); RETURN NEW; END $$"
    )
    cursor.execute(
        # A TRUNCATE naming the key table too (a test or a reset emptying every table at once) holds it already:
        # TRUNCATE would fail as "in use", and the DELETE then finds it empty.
        f"CREATE FUNCTION {keys}_empty() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" BEGIN TRUNCATE {keys}; EXCEPTION WHEN object_in_use THEN DELETE FROM {keys}; END;"
        " RETURN NULL; END $$"
    )
    # BEFORE DELETE, not AFTER: an UPDATE moving a row to another month's partition deletes then inserts it,
    # and the key must be free again before the insert claims it.
    cursor.execute(f"CREATE TRIGGER key_claim BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {keys}_claim()")
    cursor.execute(
        f"CREATE TRIGGER key_release BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {keys}_release()"
    )
    cursor.execute(
        f"CREATE TRIGGER key_change BEFORE UPDATE OF {columns} ON {table} FOR EACH ROW WHEN ({changed})"
        f" EXECUTE FUNCTION {keys}_change()"
    )
    cursor.execute(
        f"CREATE TRIGGER key_empty AFTER TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {keys}_empty()"
    )


# --- upkeep (the beat task) --------------------------------------------------------------------------------------
def partitions_ensure(table: str, months) -> list[str]:
    """Give every month in ``months`` a partition, moving its rows out of the default partition; returns the new ones.

    Idempotent. A month whose rows sit in the default partition gets a table of its
    own, the rows moved into it, then attached as the month's partition (PostgreSQL
    cannot add a partition while the default holds rows of its range). Each month is
    one short transaction.
    """
    existing = month_partitions(table)
    created = []
    for month in sorted(set(months)):
        if month in existing:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            name = partition_name(table, month)
            cursor.execute(
                f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
            )  # what adding a partition takes anyway: taken first
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {default_name(table)} WHERE {_column(table)} >= %s AND {_column(table)} < %s)",
                [month, month_add(month, 1)],
            )
            if cursor.fetchone()[0]:
                _default_rows_move(cursor, table, month)
            else:
                _partition_create(cursor, table, month)
        created.append(name)
    return created


def _column(table: str) -> str:
    return next(spec.column for spec in TABLES if spec.table == table)


def _default_rows_move(cursor, table: str, month: datetime) -> None:
    name, column = partition_name(table, month), _column(table)
    cursor.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)")
    cursor.execute("SELECT set_config(%s, 'on', true)", [KEYS_BY_CALLER])  # the rows move: their keys stay as they are
    cursor.execute(
        f"WITH moved AS (DELETE FROM {default_name(table)} WHERE {column} >= %s AND {column} < %s RETURNING *)"
        f" INSERT INTO {name} SELECT * FROM moved",
        [month, month_add(month, 1)],
    )
    cursor.execute("SELECT set_config(%s, 'off', true)", [KEYS_BY_CALLER])
    cursor.execute(
        f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [month, month_add(month, 1)]
    )


def default_months(table: str) -> list[datetime]:
    """The months of the rows sitting in the default partition (one scan of it: it is meant to stay near empty)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT date_trunc('month', {_column(table)}, 'UTC') FROM {default_name(table)}")
        return sorted(month_start(row[0]) for row in cursor.fetchall())


def partitions_upkeep(*, now: datetime | None = None) -> dict[str, list[str]]:
    """The nightly job: partitions for this month and the next ones, the default partition emptied, raw retention.

    Returns what it did, by table. Cheap when there is nothing to do (a catalogue query
    and one scan of each near-empty default partition); a no-op off PostgreSQL.
    """
    done: dict[str, list[str]] = {}
    if connection.vendor != "postgresql":
        return done
    this_month = month_start(now or timezone.now())
    ahead = [month_add(this_month, n) for n in range(AHEAD_MONTHS + 1)]
    for spec in TABLES:
        if not partitioned(spec.table):
            continue
        done[spec.table] = partitions_ensure(spec.table, [*default_months(spec.table), *ahead])
    if partitioned(RAW.table):
        done["dropped"] = raw_retention_apply(now=now)
    return done


# --- raw payload retention ---------------------------------------------------------------------------------------
RAW_NEEDED = (
    "SELECT raw_record_id FROM integrations_deadletter WHERE resolved_at IS NULL AND raw_record_id IS NOT NULL"
    " UNION SELECT raw_record_id FROM integrations_webhookdelivery WHERE processed_at IS NULL"
    " AND raw_record_id IS NOT NULL"
)


def raw_retention_apply(*, now: datetime | None = None, months: int | None = None) -> list[str]:
    """Drop the raw-payload months that ended more than ``OMNIDESK_RAW_RETENTION_MONTHS`` ago; returns them.

    A payload an open dead letter (to replay) or a webhook delivery not processed yet
    still needs is kept: its month's partition is rebuilt with only those rows, and the
    month is dropped on a later night once none is needed (a log line says so). Dead
    letters and deliveries already done lose their link to a dropped payload (the
    admin shows none; a dead letter keeps its own copy of the payload). The key table
    forgets the dropped payloads' hashes, so a payload seen again is stored again.
    """
    months = settings.OMNIDESK_RAW_RETENTION_MONTHS if months is None else months
    if connection.vendor != "postgresql" or months <= 0:
        return []
    cutoff = month_add(month_start(now or timezone.now()), -months)  # months whose end is at or before this go
    dropped = []
    for month, name in month_partitions(RAW.table).items():
        if month_add(month, 1) > cutoff:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {RAW.table} IN ACCESS EXCLUSIVE MODE")  # what DETACH takes: taken first
            cursor.execute(f"SELECT count(*), count(*) FILTER (WHERE id IN ({RAW_NEEDED})) FROM {name}")
            total, needed = cursor.fetchone()
            if total and total == needed:
                logger.info(
                    "raw payloads of %s kept: all %d still needed by open dead letters or waiting webhooks",
                    f"{month:%Y-%m}",
                    needed,
                )
                continue
            gone = f"SELECT id FROM {name} WHERE id NOT IN ({RAW_NEEDED})"
            cursor.execute(f"UPDATE integrations_deadletter SET raw_record_id = NULL WHERE raw_record_id IN ({gone})")
            cursor.execute(
                f"UPDATE integrations_webhookdelivery SET raw_record_id = NULL WHERE raw_record_id IN ({gone})"
            )
            cursor.execute(
                f"DELETE FROM {RAW.keys} k USING {name} r WHERE k.source_id = r.source_id"
                f" AND k.content_hash = r.content_hash AND r.id NOT IN ({RAW_NEEDED})"
            )
            cursor.execute(f"ALTER TABLE {RAW.table} DETACH PARTITION {name}")
            if needed:
                kept = f"{name}_kept"
                cursor.execute(
                    f"CREATE TABLE {kept} (LIKE {RAW.table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)"
                )
                cursor.execute(f"INSERT INTO {kept} SELECT * FROM {name} WHERE id IN ({RAW_NEEDED})")
                cursor.execute(f"DROP TABLE {name}")
                cursor.execute(f"ALTER TABLE {kept} RENAME TO {name}")
                cursor.execute(
                    f"ALTER TABLE {RAW.table} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
                    [month, month_add(month, 1)],
                )
                logger.warning(
                    "raw payloads of %s dropped but %d kept: still needed by open dead letters or waiting webhooks",
                    f"{month:%Y-%m}",
                    needed,
                )
            else:
                cursor.execute(f"DROP TABLE {name}")
                logger.info("raw payloads of %s dropped (%d)", f"{month:%Y-%m}", total)
        dropped.append(name)
    return dropped
