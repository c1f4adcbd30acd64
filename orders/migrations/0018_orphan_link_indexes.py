# Partial indexes for orphan linking scoped to a page (orders/correlate.py orphans_link).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0001_initial'),
        ('orders', '0017_messages_safe_to_send'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='payment',
            name='payment_unlinked',
        ),
        migrations.RemoveIndex(
            model_name='picking',
            name='picking_unlinked',
        ),
        migrations.RemoveIndex(
            model_name='shipment',
            name='shipment_unlinked',
        ),
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(condition=models.Q(('order__isnull', True)), fields=['source', 'order_external_id'], name='payment_unlinked_order_ext'),
        ),
        migrations.AddIndex(
            model_name='picking',
            index=models.Index(condition=models.Q(('order__isnull', True)), fields=['source', 'order_external_id'], name='picking_unlinked_order_ext'),
        ),
        migrations.AddIndex(
            model_name='picking',
            index=models.Index(condition=models.Q(('order__isnull', True)), fields=['source', 'order_reference'], name='picking_unlinked_order_ref'),
        ),
        migrations.AddIndex(
            model_name='shipment',
            index=models.Index(condition=models.Q(('order__isnull', True)), fields=['tracking_number'], name='shipment_unlinked_tracking'),
        ),
    ]
