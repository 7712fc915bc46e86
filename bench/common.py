"""Helpers the benchmarks share: databases, the bench environment, gunicorn, and the result line.

A benchmark prints its figures for people, then one last line ``BENCH_RESULT {json}`` that
``run_all.py`` reads; nothing here is imported by the application.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
RESULT_PREFIX = "BENCH_RESULT "
PG = "postgres://postgres@127.0.0.1:5432"
#: Redis db 7 unless BENCH_REDIS_URL names another (two benchmarks on one machine must not share a broker).
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
FERNET_KEY = "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktMDE="  # bench only
WEBHOOK_SECRET = "bench-webhook-secret"  # noqa: S105 - a bench-only value
API_KEY = "bench-api-key"


def emit(result: dict[str, Any]) -> None:
    """The machine-readable result, always the last line of a benchmark's output."""
    print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)


def db_url(name: str) -> str:
    return f"{PG}/{name}"


def db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def psql(sql: str, dbname: str = "postgres") -> str:
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", dbname, "-Atqc", sql],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def drop_db(name: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_db(name: str, template: str | None = None) -> None:
    drop_db(name)
    psql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def bench_env(database_url: str, **extra: str) -> dict[str, str]:
    """Production settings (DEBUG off) on loopback PostgreSQL and Redis db 7, HTTPS redirects off."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "crm.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "CELERY_BROKER_URL": REDIS_URL,
            "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "FIELD_ENCRYPTION_KEYS": FERNET_KEY,
            "CALLKARO_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "CALLKARO_API_KEY": API_KEY,
            "CALLKARO_DEFAULT_AGENT_ID": "bench-agent",
            # DEBUG off refuses to start without every provider's webhook secret (telephony.E002).
            "ACEFONE_WEBHOOK_SECRET": "bench-acefone-webhook-secret",
            "ACEFONE_API_TOKEN": "bench-acefone-token",
            "LOG_LEVEL": "ERROR",
            "PYTHONWARNINGS": "ignore::UserWarning",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def django_setup(database_url: str, **extra: str) -> None:
    """Set up Django in this process with the bench environment."""
    os.environ.update(bench_env(database_url, **extra))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    # No collectstatic manifest is needed to render pages in a bench.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def _http_up(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)  # noqa: S310 - loopback only
        return True
    except urllib.error.HTTPError:
        return True  # it answered
    except OSError:
        return False


def start_gunicorn(env: dict[str, str], port: int, *, workers: int, threads: int = 1) -> subprocess.Popen:
    cmd = [
        str(Path(PY).parent / "gunicorn"),
        "crm.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--backlog",
        "2048",
        "--log-level",
        "warning",
        "--timeout",
        "60",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    if not wait_until(
        lambda: proc.poll() is not None or _http_up(f"http://127.0.0.1:{port}/accounts/login/"), timeout=60
    ):
        stop(proc)
        raise RuntimeError("gunicorn did not start within 60 s")
    if proc.poll() is not None:
        raise RuntimeError(f"gunicorn exited with {proc.returncode}")
    return proc


def start_worker(env: dict[str, str], *, concurrency: int = 2) -> subprocess.Popen:
    """The same real worker the tests start (``tests/workers.py``), with the bench's environment."""
    sys.path.insert(0, str(ROOT))
    from tests.workers import start_worker as start_real_worker

    return start_real_worker(concurrency=concurrency, env=env)


def stop(proc: subprocess.Popen | None) -> None:
    """Stop a server this bench started: SIGTERM to its main process (gunicorn's master and Celery's main
    process then stop their children themselves, a worker after its running task), and the whole process
    group (its own session) killed if it has not gone in 20 s."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # anything left in its group (a child the main process lost)
    except ProcessLookupError:
        return
    proc.wait(timeout=10)


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]
