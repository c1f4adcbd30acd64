"""Each system's word on an order's own fields is kept on its record (``OrderRecord.fields``), and the
order's fields are derived from all of them by precedence, whatever arrived first.

Records written before this have no fields yet: their content hash is cleared and the order-carrying
sources' cursors are dropped, so the next sync reads every order again and derives its fields.
"""

from django.db import migrations, models


def read_orders_again(apps, schema_editor):
    Source = apps.get_model("integrations", "Source")
    OrderRecord = apps.get_model("orders", "OrderRecord")
    OrderRecord.objects.update(content_hash="")
    Source.objects.filter(kind__in=["storefront", "pos", "erp"]).update(cursor={})


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
        ("orders", "0012_supervisors_unlock_logins"),
    ]

    operations = [
        migrations.AddField(
            model_name="orderrecord",
            name="fields",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="What this system says of the order's own fields (number, customer, promise …); the "
                "order's fields are derived from every system's, by precedence "
                "(orders.correlate.orders_fields_refresh).",
            ),
        ),
        migrations.RunPython(read_orders_again, migrations.RunPython.noop),
    ]
