"""Starting and stopping a real Celery worker (and beat) from a test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def worker_env(**extra: str) -> dict[str, str]:
    """The test process's settings, passed on to the worker so it uses the same test database."""
    from django.conf import settings

    env = dict(os.environ)
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    env.update({"DJANGO_SETTINGS_MODULE": "crm.settings_test", "CELERY_TASK_ALWAYS_EAGER": "false"})
    env.update(extra)
    return env


def start_worker(*, concurrency: int = 2, env: dict[str, str] | None = None, beat: bool = False) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "crm",
        "worker",
        "--loglevel=WARNING",
        f"--concurrency={concurrency}",
        "--without-mingle",
        "--without-gossip",
        "--pool=prefork",
    ]
    if beat:
        cmd += ["-B", "--schedule", str(ROOT / "var" / f"test-beat-{os.getpid()}")]
    return subprocess.Popen(cmd, cwd=ROOT, env=env or worker_env(), start_new_session=True)


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def wait_for(condition: Callable[[], bool], *, timeout: float = 30.0, interval: float = 0.1) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes; tests wait on conditions, not clocks."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
