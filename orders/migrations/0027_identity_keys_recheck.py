"""Stored identity keys under the rules of orders/catalogue/identity.py and square_mapping.map_customer.

* A placeholder e-mail or phone already stored as a key (``noemail@example.com``,
  ``+10000000000``) stops being one: an identity's ``email_normalised`` / ``phone_e164``
  (and its verified flag) and a customer's ``email`` / ``phone`` are emptied where the
  rules read no key in them. The written ``email`` / ``phone`` of an identity are kept.
* Square profiles were all taken as vouched for; only some creation sources are. Every
  Square source's customers are read again at its next sync (the customers cursor is
  dropped): a profile whose vouching changes maps to another record, so its identity is
  rewritten with the right flags.

Customers already merged on such a key stay merged: a supervisor reverses a merge from the
admin (Customer merges) and the pair is never merged automatically again.
"""

from django.db import migrations

BATCH = 5000


def _cleared(model, key_fields, normalise, flags=None):
    """Empty each of ``key_fields`` (and its flag) where ``normalise`` reads no key in the stored value."""
    for field in key_fields:
        rows = model.objects.exclude(**{field: ""}).values_list("pk", field).order_by().iterator(chunk_size=BATCH)
        seen: dict[str, str] = {}
        stale = []
        for pk, value in rows:
            if value not in seen:
                seen[value] = normalise[field](value)
            if not seen[value]:
                stale.append(pk)
        for start in range(0, len(stale), BATCH):
            update = {field: ""} | ({flags[field]: False} if flags else {})
            model.objects.filter(pk__in=stale[start : start + BATCH]).update(**update)


def recheck(apps, schema_editor):
    from orders.catalogue.identity import normalise_email, normalise_phone

    identity = apps.get_model("orders", "CustomerIdentity")
    customer = apps.get_model("orders", "Customer")
    _cleared(
        identity,
        ["email_normalised", "phone_e164"],
        {"email_normalised": normalise_email, "phone_e164": normalise_phone},
        {"email_normalised": "email_verified", "phone_e164": "phone_verified"},
    )
    _cleared(customer, ["email", "phone"], {"email": normalise_email, "phone": normalise_phone})
    for source in apps.get_model("integrations", "Source").objects.filter(adapter="square"):
        if "customers" in source.cursor:
            source.cursor.pop("customers")
            source.save(update_fields=["cursor"])


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0006_source_page_size_adapter_default"),
        ("orders", "0026_pickingline_unlinked"),
    ]

    operations = [migrations.RunPython(recheck, migrations.RunPython.noop)]
