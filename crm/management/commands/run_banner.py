"""`make run`'s last word: once the web server answers, print where it is and how to log in.

Runs as a Procfile process. honcho stops every process when one exits, so after printing it waits
quietly until it is stopped (Ctrl-C)."""

from __future__ import annotations

import os
import signal
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand

from crm.demo import DEMO_USERS


def server_ready(url: str, *, timeout: float, interval: float = 0.5) -> bool:
    """Whether ``url`` answers (any HTTP status) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - our own local server
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(interval)
    return False


def banner_lines(base_url: str, password: str) -> list[str]:
    roles = {"admin": "admin", "manager": "manager", "rep": "sales rep", "rep2": "sales rep"}
    lines = ["", f"  Lead CRM is ready: {base_url}/", f"  Log in with password {password!r} as:"]
    lines += [f"    {username:<8} {roles.get(username, '')}" for username, *_ in DEMO_USERS]
    lines += ["  Ctrl-C stops the web server, worker and beat.", ""]
    return lines


class Command(BaseCommand):
    help = "Wait for the web server, then print its URL and the demo logins (used by `make run`)."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=120.0)
        parser.add_argument("--once", action="store_true", help="Print and exit instead of waiting.")

    def handle(self, *args, **options):
        # SITE_URL, not PORT: honcho gives each Procfile process a PORT of its own (web's + 100 × n).
        base_url = settings.SITE_URL.rstrip("/")
        if not server_ready(f"{base_url}/accounts/login/", timeout=options["timeout"]):
            self.stderr.write(f"The web server did not answer on {base_url} within {options['timeout']:.0f} s.")
        password = settings.DEMO_PASSWORD
        self.stdout.write(self.style.SUCCESS("\n".join(banner_lines(base_url, password))))
        self.stdout.flush()
        if options["once"]:
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: os._exit(0))
        while True:
            signal.pause()  # idle until honcho stops the processes (a Procfile process must not exit)
