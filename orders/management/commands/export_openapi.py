"""`manage.py export_openapi`: write the API's OpenAPI document to docs/openapi.json (a test keeps it current)."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from orders.api import api


class Command(BaseCommand):
    help = "Write the JSON API's OpenAPI document to docs/openapi.json."

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "docs" / "openapi.json"))

    def handle(self, *args, output: str, **options):
        schema = api.get_openapi_schema(path_prefix="/api/v1")
        Path(output).write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
        self.stdout.write(f"wrote {output}")
