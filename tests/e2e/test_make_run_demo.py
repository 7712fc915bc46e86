"""The offline demo is a test: `make run` in a temporary copy, then an AI call completed by the sandbox."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from .stack import ROOT, daytime_zone, free_port, login_session, wait_http

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FINAL = {"completed", "no_answer", "busy", "failed", "cancelled"}


def _copy_tree(dest: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    # Reuse the installed virtualenv: `make` sees it is newer than the requirements and skips pip.
    os.symlink(ROOT / ".venv", dest / ".venv")


def _db(copy: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(copy / "db.sqlite3", timeout=30) as conn:
        return conn.execute(sql, params).fetchall()


def test_make_run_serves_the_demo_and_an_ai_call_completes_offline(tmp_path):
    copy = tmp_path / "app"
    copy.mkdir()
    _copy_tree(copy)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_", "DJANGO_"))}
    env["TIME_ZONE"] = daytime_zone()  # the demo's AI call must fall inside calling hours whenever CI runs
    log = open(tmp_path / "make-run.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        ["make", "run", f"PORT={port}"], cwd=copy, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/accounts/login/", timeout=180)
        output = (tmp_path / "make-run.log").read_text()
        assert f"http://127.0.0.1:{port}/" in output and "rep" in output  # URL and logins printed

        rep = login_session(base, "rep")
        lead_id = _db(
            copy,
            "SELECT l.id FROM crm_lead l JOIN crm_teammember t ON t.id = l.assigned_to_id "
            "JOIN auth_user u ON u.id = t.user_id WHERE u.username = 'rep' AND NOT l.do_not_call ORDER BY l.id LIMIT 1",
        )[0][0]
        resp = rep.post(base + "/initiate-callkaro-call/", json={"lead_id": lead_id}, timeout=30)
        assert resp.status_code in (200, 202), resp.text
        call_id = resp.json()["call_log_id"]

        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline:
            status = _db(copy, "SELECT status FROM callkaro_callkarocalllog WHERE id = ?", (call_id,))[0][0]
            if status in FINAL:
                break
            time.sleep(0.5)
        assert status in FINAL, f"call stayed {status}"
        applied = _db(
            copy,
            "SELECT COUNT(*) FROM crm_providerwebhookevent WHERE provider = 'callkaro' AND outcome = 'applied' "
            "AND call_log_id = ?",
            (call_id,),
        )[0][0]
        assert applied == 1, "the outcome came from the sandbox's webhook, applied once"
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
    # Everything it started is gone: the web port is closed and no worker holds the broker folder.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the web server outlived make run"
    holders = subprocess.run(["pgrep", "-f", "celery -A crm"], capture_output=True, text=True).stdout.split()
    cwd_holders = [pid for pid in holders if Path(f"/proc/{pid}/cwd").resolve() == copy.resolve()]
    assert not cwd_holders, f"make run left Celery processes behind: {cwd_holders}"
