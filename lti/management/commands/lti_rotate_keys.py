"""Make a new LTI signing key; retire keys that stopped signing more than --keep-days ago."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from lti import keys


class Command(BaseCommand):
    help = (
        "Rotate the tool's LTI signing key: a new key signs from now on; the previous one stays in the JWKS so "
        "platforms that cached it keep working; older ones are retired after --keep-days."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--keep-days", type=int, default=2, help="Days a replaced key stays published (default 2).")

    def handle(self, *args: Any, keep_days: int, **options: Any) -> None:
        if keep_days < 0:
            self.stderr.write("--keep-days must be 0 or more.")
            raise SystemExit(2)
        new, retired = keys.keys_rotate(timedelta(days=keep_days))
        self.stdout.write(f"New signing key: {new.kid}")
        for key in retired:
            self.stdout.write(f"Retired: {key.kid}")
        self.stdout.write(f"Published keys: {', '.join(k.kid for k in keys.published_keys())}")
