"""A redis-server of a test's own: a free port, a temporary directory, and only it is ever stopped.

Chaos tests kill Redis. The Redis at REDIS_URL may be shared with other work on the machine, so a
test that needs an outage starts this one, points the app (cache, broker, results) and its worker at
it, and kills only the process it started.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from django.test import override_settings

from tests.workers import wait_for


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def up(self) -> bool:
        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        """Start (or restart, on the same port) with nothing kept on disk, as the machines' Redis."""
        cmd = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        cmd += ["--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")]
        self.proc = subprocess.Popen(cmd, start_new_session=True)
        assert wait_for(self.up, timeout=30, interval=0.1), f"redis-server on port {self.port} did not start"

    def kill(self) -> None:
        """Stop the process this object started, and nothing else: SHUTDOWN NOSAVE (what the test
        always did), then SIGKILL if it lingers."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(redis.RedisError):
                redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2).shutdown(nosave=True)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(timeout=10)
        assert wait_for(lambda: not self.up(), timeout=10)


def _celery_repoint(url: str | None) -> None:
    """Send this process's tasks to ``url`` (None: back to the settings'); drops the cached connections."""
    from django.conf import settings

    from crm.celery import app

    app.conf.broker_url = url or settings.CELERY_BROKER_URL
    app.conf.result_backend = url or settings.CELERY_RESULT_BACKEND
    # Forget, never close: kombu keeps one pool per URL for the whole process and would hand a closed one back.
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None  # the result backend is rebuilt from result_backend on next use
    app._local.__dict__.pop("backend", None)


def _assert_in_use(server: RedisServer) -> None:
    """The cache and the broker of this process both talk to ``server`` now."""
    from django.core.cache import cache

    from crm.celery import app

    assert f":{server.port}/" in app.connection_for_write().as_uri()
    cache.set("own-redis-probe", 1, 30)
    assert redis.Redis(host="127.0.0.1", port=server.port).dbsize() >= 1, "the cache does not use our Redis"


@contextmanager
def own_redis(directory: Path) -> Iterator[RedisServer]:
    """A started RedisServer that this process's cache and Celery use until the block ends."""
    server = RedisServer(directory)
    server.start()
    overrides = override_settings(
        REDIS_URL=server.url,
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": server.url}},
        CELERY_BROKER_URL=server.url,
        CELERY_RESULT_BACKEND=server.url,
    )
    try:
        overrides.enable()
        try:
            _celery_repoint(server.url)
            _assert_in_use(server)
            yield server
        finally:
            overrides.disable()
            _celery_repoint(None)
    finally:
        server.kill()


def worker_redis_env(server: RedisServer) -> dict[str, str]:
    """What a worker started by the test needs to use the same Redis."""
    return {"REDIS_URL": server.url, "CELERY_BROKER_URL": server.url, "CELERY_RESULT_BACKEND": server.url}
