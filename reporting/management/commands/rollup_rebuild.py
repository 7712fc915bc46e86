"""Fill or repair the dashboard's daily roll-up: ``rollup_rebuild --days 30`` or ``rollup_rebuild --all``."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandParser

from reporting.periods import local_today
from reporting.services import rollup_days_rebuild, rollup_first_day


class Command(BaseCommand):
    help = "Rebuild the dashboard's daily roll-up for the last N closed days (default 30) or for all days."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--days", type=int, default=30, help="Closed days to rebuild, ending yesterday.")
        group.add_argument("--all", action="store_true", help="Every day from the first call to yesterday.")

    def handle(self, *args, **options) -> None:
        yesterday = local_today() - dt.timedelta(days=1)
        if options["all"]:
            first = rollup_first_day()
            n = 0 if first is None or first > yesterday else (yesterday - first).days + 1
        else:
            n = max(options["days"], 0)
        days = [yesterday - dt.timedelta(days=i) for i in range(n)]
        started = time.perf_counter()
        rows = rollup_days_rebuild(days=days)
        self.stdout.write(f"Rebuilt {len(days)} days ({rows} roll-up rows) in {time.perf_counter() - started:.1f} s")
