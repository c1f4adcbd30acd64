"""An index on raw payloads' (source, content hash) on the partitioned table (issue 15).

Migration 0004 moved the unique key (source, content hash) into its key table and
left the partitioned table without an index on those columns, so "is this payload
stored already?" (every page of a sync, every webhook) read every payload of the
source: a cost that grew with the table, quadratic over a backfill. This puts a plain
(non-unique) index back on each partition. A no-op off PostgreSQL, where the table's
unique constraint serves the lookup.
"""

from django.db import migrations

from orders.partitions import RAW, partitioned

INDEX = "rawrecord_source_content"


def index_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql" and partitioned(RAW.table):
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {RAW.table} (source_id, content_hash)")


def index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("integrations", "0004_raw_record_partitions")]

    operations = [migrations.RunPython(index_create, index_drop, elidable=False)]
