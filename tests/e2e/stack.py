"""The whole app as separate processes (web, worker, beat, sandbox), as `make run` starts it.

Browser journeys and the offline-demo test drive this, over real HTTP, with nothing mocked.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A free local port: the first free one from ``E2E_BASE_PORT`` when set (so parallel runs can keep
    to ranges of their own), else one the system picks."""
    base = int(os.environ.get("E2E_BASE_PORT", "0") or 0)
    for port in range(base, base + 100) if base else [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError(f"no free port from E2E_BASE_PORT={base}")


def wait_http(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2, allow_redirects=False).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


def daytime_zone(now: datetime | None = None) -> str:
    """A whole-hour zone where it is about noon now, for the stack's project time zone.

    AI calls are refused outside 09:00-21:00 in the lead's zone (the project's, for the demo leads), so a
    journey that calls "now" must not depend on when CI runs. Calling hours themselves are tested with
    time-machine in the unit tests, and the outside-hours journey narrows the window on the config page.
    """
    hour = (now or datetime.now(UTC)).hour
    offset = (12 - hour + 12) % 24 - 12  # -12..+11 hours from UTC
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # the Etc/ sign is inverted


def stack_env(workdir: Path, port: int) -> dict[str, str]:
    """The same variables `make run` sets, plus a private database, broker folder and cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "crm.settings",
            "DEBUG": "true",
            "PROVIDER_SANDBOX": "true",
            "PORT": str(port),
            "SITE_URL": f"http://127.0.0.1:{port}",
            "CALLKARO_BASE_URL": f"http://127.0.0.1:{port}/sandbox/callkaro",
            "ACEFONE_BASE_URL": f"http://127.0.0.1:{port}/sandbox/acefone",
            "META_GRAPH_BASE_URL": f"http://127.0.0.1:{port}/sandbox/meta",
            "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
            "VAR_DIR": str(workdir / "var"),
            "PYTHONUNBUFFERED": "1",
            "TIME_ZONE": daytime_zone(),
        }
    )
    env.update(_make_run_env())
    return env


def _make_run_env() -> dict[str, str]:
    """Provider credentials that `make run` passes (read from the Makefile, so there is one source)."""
    out = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "print-run-env"], capture_output=True, text=True, check=False
    ).stdout
    pairs = {}
    for token in out.split():
        if "=" in token:
            key, value = token.split("=", 1)
            if key.startswith(("CALLKARO_", "ACEFONE_", "META_", "SPEED_TO_LEAD_")) and not key.endswith("BASE_URL"):
                pairs[key] = value
    return pairs


@dataclass
class AppStack:
    workdir: Path
    port: int = field(default_factory=free_port)
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return stack_env(self.workdir, self.port)

    def manage(self, *args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        if proc.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def _spawn(self, name: str, cmd: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.procs.append(
            subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )

    def start(self) -> AppStack:
        (self.workdir / "var").mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput", "-v0")
        self.manage("seed_demo")
        py = sys.executable
        self._spawn("web", [py, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"])
        self._spawn(
            "worker",
            [
                py,
                "-m",
                "celery",
                "-A",
                "crm",
                "worker",
                "-l",
                "INFO",
                "--concurrency=2",
                "--without-mingle",
                "--without-gossip",
            ],
        )
        # Beat keeps its state file in VAR_DIR (CELERY_BEAT_SCHEDULE_FILENAME), as under `make run`.
        self._spawn("beat", [py, "-m", "celery", "-A", "crm", "beat", "-l", "INFO"])
        wait_http(self.url + "/accounts/login/")
        return self

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the stack's SQLite database directly (tests only look, never write)."""
        with sqlite3.connect(self.workdir / "db.sqlite3", timeout=30) as conn:
            return conn.execute(sql, params).fetchall()

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name} ---\n{p.read_text(errors='replace')[-4000:]}" for p in sorted(self.workdir.glob("*.log"))
        )


def login_session(base_url: str, username: str, password: str = "demo") -> requests.Session:
    """A requests session logged in through the real login form (CSRF included)."""
    session = requests.Session()
    page = session.get(base_url + "/accounts/login/", timeout=10)
    page.raise_for_status()
    token = session.cookies["csrftoken"]
    resp = session.post(
        base_url + "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": base_url + "/accounts/login/"},
        timeout=10,
        allow_redirects=False,
    )
    if resp.status_code != 302:
        raise RuntimeError(f"login as {username} failed: {resp.status_code}")
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    session.headers["Referer"] = base_url + "/"
    return session
