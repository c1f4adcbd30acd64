"""A picking's packages, one row per carrier tracking number (Odoo comma-joins them in ``carrier_tracking_ref``).

The single ``Picking.tracking_number`` held the whole reference: a tracker of one package never found its
order, and more than 64 characters (six packages) dead-lettered the picking. Existing references are split.
"""

import django.db.models.deletion
from django.db import migrations, models


def packages_from_references(apps, schema_editor):
    Picking = apps.get_model("orders", "Picking")
    PickingPackage = apps.get_model("orders", "PickingPackage")
    rows = Picking.objects.exclude(tracking_number="").values_list("id", "tracking_number")
    PickingPackage.objects.bulk_create(
        (
            PickingPackage(picking_id=picking_id, tracking_number=number)
            for picking_id, reference in rows.iterator(chunk_size=2000)
            for number in dict.fromkeys(part.strip() for part in reference.split(",") if part.strip())
        ),
        batch_size=2000,
    )


def references_from_packages(apps, schema_editor):
    """Back: each picking's packages comma-joined again, as many whole numbers as fit in the old 64 characters."""
    Picking = apps.get_model("orders", "Picking")
    PickingPackage = apps.get_model("orders", "PickingPackage")
    numbers: dict[int, list[str]] = {}
    rows = PickingPackage.objects.order_by("picking_id", "id").values_list("picking_id", "tracking_number")
    for picking_id, number in rows.iterator(chunk_size=2000):
        kept = numbers.setdefault(picking_id, [])
        if len(",".join([*kept, number])) <= 64:
            kept.append(number)
    Picking.objects.bulk_update(
        [Picking(pk=pk, tracking_number=",".join(kept)) for pk, kept in numbers.items()],
        ["tracking_number"],
        batch_size=2000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0024_timeline_partitions"),
    ]

    operations = [
        migrations.CreateModel(
            name="PickingPackage",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tracking_number", models.CharField(db_index=True, max_length=64)),
                (
                    "picking",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="packages", to="orders.picking"
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
                "constraints": [
                    models.UniqueConstraint(fields=("picking", "tracking_number"), name="pickingpackage_unique")
                ],
            },
        ),
        migrations.RunPython(packages_from_references, references_from_packages),
        migrations.RemoveIndex(
            model_name="picking",
            name="picking_tracking",
        ),
        migrations.RemoveField(
            model_name="picking",
            name="tracking_number",
        ),
    ]
