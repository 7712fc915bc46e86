"""Production settings pass Django's deployment checks with warnings counted as failures."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from cryptography.fernet import Fernet

from tests.workers import ROOT


def test_check_deploy_on_production_settings_has_no_warning():
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "SECURE_SSL_REDIRECT"}}
    env.update(
        DJANGO_SETTINGS_MODULE="crm.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="crm.example.com",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        # A production start-up needs each provider's credentials and webhook secret (telephony.checks).
        CALLKARO_API_KEY="ck-key",
        CALLKARO_WEBHOOK_SECRET="ck-webhook-secret",
        ACEFONE_API_TOKEN="af-token",
        ACEFONE_WEBHOOK_SECRET="af-webhook-secret",
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_fails_with_debug_on():
    """The check is able to fail: DEBUG on in production is reported."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DJANGO_SETTINGS_MODULE="crm.settings", DEBUG="true", SECRET_KEY=secrets.token_urlsafe(64))
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "DEBUG" in done.stderr + done.stdout
