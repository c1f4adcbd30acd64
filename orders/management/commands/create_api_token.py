"""`manage.py create_api_token USERNAME`: print a new token for the JSON API."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from orders.api.auth import token_create


class Command(BaseCommand):
    help = "Create a token for the JSON API (/api/v1/) and print it. Only its hash is stored: keep it now."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user named {username!r}") from None
        if not user.is_active:
            raise CommandError(f"user {username!r} is inactive")
        self.stdout.write(token_create(user))
