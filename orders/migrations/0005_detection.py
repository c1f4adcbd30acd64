from datetime import timedelta

from django.db import migrations, models

CODES = [
    ("phantom_order", "Phantom order"),
    ("unassigned", "Nobody assigned"),
    ("stock_shortfall", "Stock shortfall"),
    ("stuck_shipment", "Stuck shipment"),
    ("delivery_exception", "Delivery exception"),
    ("promise_at_risk", "Promise at risk"),
    ("promise_missed", "Promise missed"),
    ("return_not_refunded", "Return not refunded"),
    ("duplicate_shipment", "Duplicate shipment"),
    ("payment_mismatch", "Payment mismatch"),
]
# The defaults a retailer would pick (integrations/sandbox/truth.py THRESHOLDS uses the same).
THRESHOLDS = {
    "phantom_order": timedelta(minutes=30),
    "unassigned": timedelta(hours=2),
    "stuck_shipment": timedelta(hours=48),
    "return_not_refunded": timedelta(days=7),
}


def rules_create(apps, schema_editor):
    """One row per rule, enabled, with its default threshold; then give supervisors the right to change them."""
    from orders.roles import roles_sync

    DetectionRule = apps.get_model("orders", "DetectionRule")
    for code, _ in CODES:
        DetectionRule.objects.get_or_create(code=code, defaults={"threshold": THRESHOLDS.get(code)})
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_roles_lookup")]

    operations = [
        migrations.CreateModel(
            name="DetectionRule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(choices=CODES, max_length=32, unique=True)),
                (
                    "enabled",
                    models.BooleanField(
                        default=True, help_text="Off: the rule raises nothing and its open flags close."
                    ),
                ),
                (
                    "threshold",
                    models.DurationField(
                        blank=True,
                        null=True,
                        help_text=(
                            "How old the condition must be before the flag opens (strictly older). Defaults: phantom "
                            "order 30 min after it was placed; nobody assigned 2 h after the order was placed; stuck "
                            "shipment 48 h after the last carrier scan; return not refunded 7 days after the return "
                            "was received. Empty: the default. Other rules have no threshold."
                        ),
                    ),
                ),
            ],
            options={"ordering": ["code"]},
        ),
        migrations.RunPython(rules_create, migrations.RunPython.noop),
    ]
