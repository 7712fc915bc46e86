"""Idempotent demo data: run it twice and nothing is duplicated."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from crm import demo


class Command(BaseCommand):
    help = "Create demo users (admin, manager, rep, rep2), leads, and each provider app's demo data."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (the demo users share one known password)."
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates users whose password is DEMO_PASSWORD, an admin among them, and it is "
                "refusing to run with DEBUG off (this looks like production). Pass --force if you mean it."
            )
        self._seed()

    @transaction.atomic
    def _seed(self) -> None:
        info = demo.seed(self.stdout)
        # Provider apps add their own demo data through `<app>.demo.seed(stdout)`.
        for app in apps.get_app_configs():
            if app.name == "crm" or find_spec(f"{app.name}.demo") is None:
                continue
            import_module(f"{app.name}.demo").seed(self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password: {info['password']}):"))
        for username in info["users"]:
            self.stdout.write(f"  {username}")
