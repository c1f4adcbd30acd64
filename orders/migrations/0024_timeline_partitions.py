"""The timeline partitioned by month of occurred_at (issue 15); Django's model state is unchanged.

What is done and why: orders/partitions.py. A no-op off PostgreSQL. On a large
database this copies the whole table once: run it in a quiet hour.
"""

from django.db import migrations

from orders.partitions import TIMELINE, table_partition, table_unpartition


def partition(apps, schema_editor):
    table_partition(schema_editor, TIMELINE)


def unpartition(apps, schema_editor):
    table_unpartition(schema_editor, TIMELINE)


class Migration(migrations.Migration):
    dependencies = [("orders", "0023_order_channel_placed")]

    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
