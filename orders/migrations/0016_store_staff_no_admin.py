"""Store staff hold no admin permissions (the admin's lists are not scoped to their stores)."""

from django.db import migrations


def roles(apps, schema_editor):
    from orders.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("orders", "0015_access_log_pages")]

    operations = [migrations.RunPython(roles, migrations.RunPython.noop)]
