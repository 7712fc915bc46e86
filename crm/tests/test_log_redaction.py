"""A webhook's `?token=` never reaches a log in clear: not Django's, not runserver's, not gunicorn's."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import types
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIRequestHandler

from crm.logging import MASK
from tests.workers import wait_for

TOKEN = "s3cret-webhook-token-0042"
GUNICORN_DEFAULT_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def _messages(caplog) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


@pytest.mark.django_db
def test_a_webhook_request_with_a_token_leaves_no_token_in_any_record(client, caplog):
    caplog.set_level(logging.DEBUG)
    resp = client.post(f"/callkaro-webhook/?token={TOKEN}", data="{}", content_type="application/json")
    assert resp.status_code in {401, 403}
    # What runserver writes for that request, and gunicorn's default access line.
    handler = types.SimpleNamespace(request=None, log_date_time_string=lambda: "30/Nov/2026 08:00:00")
    WSGIRequestHandler.log_message(handler, '"%s" %s %s', f"POST /callkaro-webhook/?token={TOKEN} HTTP/1.1", "403", "0")
    line = f"POST /callkaro-webhook/?a=1&token={TOKEN} HTTP/1.1"
    atoms = {"h": "10.0.0.1", "l": "-", "u": "-", "t": "[now]", "r": line, "s": "403", "b": "0", "f": "-", "a": "curl"}
    logging.getLogger("gunicorn.access").info(GUNICORN_DEFAULT_FORMAT, atoms)
    logging.getLogger("django.request").warning("Forbidden: %s", f"/callkaro-webhook/?token={TOKEN}")
    text = _messages(caplog)
    assert "django.server" in {r.name for r in caplog.records}
    assert TOKEN not in text
    assert text.count(f"token={MASK}") >= 3


def test_records_without_secrets_are_left_alone(caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("crm.anything").info("lead %s moved to %s", 42, "contacted")
    record = caplog.records[-1]
    assert record.args == (42, "contacted") and record.getMessage() == "lead 42 moved to contacted"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)  # noqa: S310 - loopback only
    except Exception as exc:  # noqa: BLE001 - any answer (even an error status) means it is up
        return hasattr(exc, "code")
    return True


@pytest.mark.slow
@pytest.mark.parametrize("access_format", [None, GUNICORN_DEFAULT_FORMAT])
def test_gunicorn_access_log_never_shows_the_token(tmp_path: Path, access_format: str | None):
    """Our gunicorn.conf.py leaves query strings out; a format that has them still gets them redacted."""
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "crm.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    cmd += ["--workers", "1", "--access-logfile", "-", "--error-logfile", "-"]
    if access_format:
        cmd += ["--access-logformat", access_format]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings_test"}
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            assert wait_for(lambda: _get(f"http://127.0.0.1:{port}/accounts/login/"), timeout=60, interval=0.3)
            _get(f"http://127.0.0.1:{port}/nowhere/?token={TOKEN}")
            assert wait_for(lambda: "/nowhere/" in log.read_text(), timeout=10)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    text = log.read_text()
    assert TOKEN not in text
    if access_format:
        assert f"token={MASK}" in text
    else:
        assert '"GET /nowhere/ HTTP/1.1"' in text
