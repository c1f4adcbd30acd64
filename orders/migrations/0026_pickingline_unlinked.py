"""Picking lines (Odoo stock moves) that landed before their picking: found by the picking's id in its source."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0006_source_page_size_adapter_default"),
        ("orders", "0025_picking_packages"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="pickingline",
            index=models.Index(
                condition=models.Q(("picking__isnull", True)),
                fields=["source", "picking_external_id"],
                name="pickingline_unlinked",
            ),
        ),
    ]
