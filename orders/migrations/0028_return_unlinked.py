# Returns reported before their order (a Square return order landing before the sale): kept, linked when
# the order lands (orders/ingest/correlate.py orphans_link), found by the order's id in their source.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0006_source_page_size_adapter_default'),
        ('orders', '0027_identity_keys_recheck'),
    ]

    operations = [
        migrations.AddField(
            model_name='return',
            name='order_external_id',
            field=models.CharField(blank=True, default='', help_text="The returned order's id in this source; links a return reported before its order (a Square return order landing before the sale) when the order arrives.", max_length=128),
        ),
        migrations.AlterField(
            model_name='return',
            name='order',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='returns', to='orders.order'),
        ),
        migrations.AddIndex(
            model_name='return',
            index=models.Index(condition=models.Q(('order__isnull', True)), fields=['source', 'order_external_id'], name='return_unlinked_order_ext'),
        ),
    ]
