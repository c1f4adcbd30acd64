# The pickup board reads open pickups and today's collected through indexes, not the store's whole history.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0001_initial'),
        ('orders', '0018_orphan_link_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='pickup',
            name='orders_pick_stage_81faec_idx',
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('fulfilment', 'pickup'), models.Q(('status__in', ['cancelled', 'collected', 'delivered', 'refunded', 'return_requested', 'returned']), _negated=True)), fields=['store', 'promised_by'], name='order_open_pickup'),
        ),
        migrations.AddIndex(
            model_name='pickup',
            index=models.Index(fields=['stage', 'closed_at'], name='pickup_stage_closed'),
        ),
    ]
