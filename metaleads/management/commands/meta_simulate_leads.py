"""``python manage.py meta_simulate_leads N``: simulated Meta leads through the sandbox and our webhook."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from metaleads.simulate import simulate_leads


class Command(BaseCommand):
    help = "Create N sandbox Meta leads and post signed deliveries (some twice, some never) to the webhook."

    def add_arguments(self, parser) -> None:
        parser.add_argument("count", type=int)
        parser.add_argument("--duplicate-rate", type=float, default=0.2)
        parser.add_argument("--drop-rate", type=float, default=0.15)

    def handle(self, *args, count: int, duplicate_rate: float, drop_rate: float, **options) -> None:
        if not settings.PROVIDER_SANDBOX:
            raise CommandError("The Meta sandbox is off: set PROVIDER_SANDBOX=true (make run does).")
        if count < 1:
            raise CommandError("N must be at least 1")
        result = simulate_leads(count=count, duplicate_rate=duplicate_rate, drop_rate=drop_rate)
        self.stdout.write(
            f"{result.created} lead(s) created in the sandbox; {result.posts} deliveries posted "
            f"({result.duplicated} redelivered, {result.dropped} never delivered: the backfill finds them)."
        )
