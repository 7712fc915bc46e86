import io
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from crm.models import Lead, Role, TeamMember

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug_on(settings):
    settings.DEBUG = True  # seed_demo is a development command (see the --force tests)


def test_seed_demo_refuses_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not get_user_model().objects.exists() and not Lead.objects.exists()
    call_command("seed_demo", "--force", stdout=io.StringIO())
    assert get_user_model().objects.filter(username="admin").exists()


def test_seed_demo_exits_non_zero_from_the_command_line_with_debug_off():
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "false", "SECRET_KEY": "x" * 50, "DJANGO_SETTINGS_MODULE": "crm.settings"}
    proc = subprocess.run(
        # --skip-checks: production's own system checks (missing keys) would stop it first.
        [sys.executable, "manage.py", "seed_demo", "--skip-checks"],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "refusing to run with DEBUG off" in proc.stderr


def test_seed_demo_is_idempotent():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    counts = (get_user_model().objects.count(), TeamMember.objects.count(), Lead.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (get_user_model().objects.count(), TeamMember.objects.count(), Lead.objects.count()) == counts
    assert counts[2] == 200
    assert "password: demo" in out.getvalue()


def test_seed_demo_users_can_log_in_and_reps_own_leads(client):
    call_command("seed_demo", stdout=io.StringIO())
    for username in ("admin", "manager", "rep", "rep2"):
        assert client.login(username=username, password="demo"), username
    rep = TeamMember.objects.get(user__username="rep")
    assert rep.role == Role.REP and rep.acefone_agent_number
    assert Lead.objects.filter(assigned_to=rep).count() == 100
    assert all(str(p).startswith("+91") for p in Lead.objects.values_list("phone", flat=True)[:50])


def test_seed_demo_gives_the_dashboard_a_call_history_once():
    from acefone.models import AcefoneCallLog
    from callkaro.models import CallKaroCallLog

    call_command("seed_demo", stdout=io.StringIO())
    counts = (CallKaroCallLog.objects.count(), AcefoneCallLog.objects.count())
    assert counts[0] > 100 and counts[1] > 30
    assert not CallKaroCallLog.objects.exclude(status__in=["completed", "no_answer", "failed"]).exists()
    call_command("seed_demo", stdout=io.StringIO())
    assert (CallKaroCallLog.objects.count(), AcefoneCallLog.objects.count()) == counts
