"""Raw payloads partitioned by month of first_seen_at (issue 15).

What is done and why: orders/partitions.py. A foreign key cannot point at a
partitioned table's id alone (its primary key is (id, first_seen_at)), so dead letters
and webhook deliveries keep their link to a raw payload in Django only
(db_constraint=False); the retention job (orders.partitions.raw_retention_apply) keeps
the payloads still needed and unlinks the others before dropping a month. A no-op off
PostgreSQL (the demo keeps its plain table and foreign keys).
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from orders.partitions import RAW, table_partition, table_unpartition


def partition(apps, schema_editor):
    table_partition(schema_editor, RAW)


def unpartition(apps, schema_editor):
    table_unpartition(schema_editor, RAW)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0003_webhook_waiting")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="rawrecord",
                    name="first_seen_at",
                    field=models.DateTimeField(
                        default=django.utils.timezone.now,
                        help_text="When the payload was first received. Payloads are dropped, a month at a time, once that month ended more than OMNIDESK_RAW_RETENTION_MONTHS months ago (default 13; 0 keeps them all), except those an open dead letter or a webhook delivery not processed yet still needs.",
                    ),
                ),
                migrations.AlterField(
                    model_name="deadletter",
                    name="raw_record",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="dead_letters",
                        to="integrations.rawrecord",
                    ),
                ),
                migrations.AlterField(
                    model_name="webhookdelivery",
                    name="raw_record",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to="integrations.rawrecord",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(partition, unpartition, elidable=False)],
        ),
    ]
