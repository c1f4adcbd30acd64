from django.db import migrations, models

OLD_DEFAULT = 250


def old_default_to_adapter_default(apps, schema_editor):
    """A source at the old default of every adapter takes its adapter's own (an explicit 250 cannot be told apart)."""
    apps.get_model("integrations", "Source").objects.filter(page_size=OLD_DEFAULT).update(page_size=None)


def adapter_default_to_old_default(apps, schema_editor):
    apps.get_model("integrations", "Source").objects.filter(page_size=None).update(page_size=OLD_DEFAULT)


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0005_raw_record_content_index'),
    ]

    operations = [
        migrations.AlterField(
            model_name='source',
            name='page_size',
            field=models.PositiveIntegerField(blank=True, help_text="Records requested per page from the vendor API. Empty: the adapter's own (Odoo 1,000; the others 250), always capped at the vendor's maximum (Shopify 250, HubSpot and EasyPost 100, Square 100-1,000 by stream).", null=True),
        ),
        migrations.RunPython(old_default_to_adapter_default, adapter_default_to_old_default),
    ]
