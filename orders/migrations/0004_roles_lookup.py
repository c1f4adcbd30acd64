from django.db import migrations


def roles_refresh(apps, schema_editor):
    """Give the roles their permissions on the access log, interactions and API tokens."""
    from orders.roles import roles_sync

    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_lookup")]

    operations = [migrations.RunPython(roles_refresh, migrations.RunPython.noop)]
