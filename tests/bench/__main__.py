"""`make bench` runs this: ``python -m tests.bench [--only sync|fresh|lookup|load] …`` (``--help`` lists the options).

The benchmarks are not part of the shipped apps nor of pytest's run; their own small-scale
tests (``tests/bench/test_*.py``) are.
"""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnidesk.settings")
django.setup()

from django.core.management.base import CommandError  # noqa: E402

from .command import Command  # noqa: E402 (needs the apps loaded)

command = Command()
parser = command.create_parser("python", "-m tests.bench")
options = vars(parser.parse_args(sys.argv[1:]))
try:
    command.execute(*options.pop("args", ()), **options)
except CommandError as exc:
    sys.exit(f"bench: {exc}")
