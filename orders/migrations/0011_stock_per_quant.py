"""Odoo counts are kept per quant (several per SKU in one warehouse: bins, lots), keyed ``loc:sku:quant``.

Rows keyed the old way (``loc:sku``, one per SKU, the last quant read winning) are removed and the
Odoo sources' ``stock`` cursor is cleared, so their next sync reads every quant again.
"""

from django.db import migrations


def per_quant(apps, schema_editor):
    Source = apps.get_model("integrations", "Source")
    StockLevel = apps.get_model("orders", "StockLevel")
    for source in Source.objects.filter(adapter="odoo"):
        StockLevel.objects.filter(source=source).delete()
        if "stock" in (source.cursor or {}):
            source.cursor = {k: v for k, v in source.cursor.items() if k != "stock"}
            source.save(update_fields=["cursor"])


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
        ("orders", "0010_customer_names"),
    ]

    operations = [migrations.RunPython(per_quant, migrations.RunPython.noop)]
