import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from crm.models import Lead, Role, TeamMember

pytestmark = pytest.mark.django_db


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
