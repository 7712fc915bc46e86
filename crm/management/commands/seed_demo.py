"""Idempotent demo data: run it twice and nothing is duplicated."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from crm import demo


class Command(BaseCommand):
    help = "Create demo users (admin, manager, rep, rep2), leads, and each provider app's demo data."

    @transaction.atomic
    def handle(self, *args, **options):
        info = demo.seed(self.stdout)
        # Provider apps add their own demo data through `<app>.demo.seed(stdout)`.
        for app in apps.get_app_configs():
            if app.name == "crm" or find_spec(f"{app.name}.demo") is None:
                continue
            import_module(f"{app.name}.demo").seed(self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password: {info['password']}):"))
        for username in info["users"]:
            self.stdout.write(f"  {username}")
