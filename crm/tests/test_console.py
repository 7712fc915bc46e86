"""A quieter console: a 403 logs one line without a traceback, Celery's ticks only at debug level,
and `make run` announces the address and logins once the server answers."""

from __future__ import annotations

import io
import logging
import logging.config

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from crm.management.commands import run_banner


@pytest.fixture
def request_log():
    """django.request as settings.LOGGING configures it, written to a buffer."""
    logging.config.dictConfig(settings.LOGGING)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


@pytest.mark.django_db
def test_a_403_logs_one_line_without_traceback(rep_client, request_log):
    assert rep_client.get(reverse("reporting:dashboard")).status_code == 403
    text = request_log.getvalue()
    assert "Forbidden" in text and "Traceback" not in text


def test_other_errors_keep_their_traceback(request_log):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("django.request").error("Server error", exc_info=True, extra={"status_code": 500})
    assert "Traceback" in request_log.getvalue()


def test_celery_ticks_log_at_debug_only():
    loggers = settings.LOGGING["loggers"]
    for name in ("celery.beat", "celery.app.trace", "celery.worker.strategy"):
        assert loggers[name]["level"] == ("DEBUG" if settings.LOG_LEVEL == "DEBUG" else "WARNING")


def test_the_banner_waits_for_the_server_then_prints_url_and_logins(monkeypatch, settings):
    monkeypatch.setenv("PORT", "8423")  # honcho's own per-process PORT: not the web server's
    settings.SITE_URL = "http://127.0.0.1:8123"
    seen = []
    monkeypatch.setattr(run_banner, "server_ready", lambda url, timeout: seen.append(url) or True)
    out = io.StringIO()
    call_command("run_banner", "--once", stdout=out)
    assert seen == ["http://127.0.0.1:8123/accounts/login/"]
    text = out.getvalue()
    assert "http://127.0.0.1:8123/" in text and f"'{settings.DEMO_PASSWORD}'" in text
    assert all(user in text for user in ("admin", "manager", "rep", "rep2"))


def test_server_ready_gives_up_on_a_closed_port():
    assert run_banner.server_ready("http://127.0.0.1:9/", timeout=0.3, interval=0.1) is False


def test_the_procfile_runs_the_banner():
    from pathlib import Path

    procfile = (Path(settings.BASE_DIR) / "Procfile").read_text()
    assert "ready: .venv/bin/python manage.py run_banner" in procfile
