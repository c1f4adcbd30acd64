"""Supervisors may unlock a throttled login (axes access attempts: view and delete)."""

from django.db import migrations


def roles(apps, schema_editor):
    from orders.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("axes", "0001_initial"),
        ("orders", "0011_stock_per_quant"),
    ]

    operations = [migrations.RunPython(roles, migrations.RunPython.noop)]
