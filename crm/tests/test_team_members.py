"""A member's role decides their Django flags and group; switching a member off ends their access."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from crm import services
from crm.models import Role, TeamMember
from crm.tests.factories import make_member

pytestmark = pytest.mark.django_db

EXPECTED_FLAGS = {
    Role.ADMIN: (True, True),
    Role.MANAGER: (False, False),
    Role.REP: (False, False),
}


def _flags(member: TeamMember) -> tuple[bool, bool, set[str]]:
    user = member.user.__class__.objects.get(pk=member.user_id)
    return user.is_staff, user.is_superuser, set(user.groups.values_list("name", flat=True))


@pytest.mark.parametrize(("before", "after"), list(itertools.permutations(Role.values, 2)))
def test_every_role_change_derives_flags_and_group(before, after):
    member = make_member(before)
    assert _flags(member) == (*EXPECTED_FLAGS[before], {before})
    services.team_member_set_role(member=member, role=after)
    assert _flags(member) == (*EXPECTED_FLAGS[after], {after})
    assert TeamMember.objects.get(pk=member.pk).role == after


def test_an_unknown_role_is_refused():
    member = make_member(Role.REP)
    with pytest.raises(ValueError):
        services.team_member_set_role(member=member, role="owner")


def _admin_change(client: Client, member: TeamMember, **changes) -> None:
    data = {
        "user": member.user_id,
        "name": member.name,
        "phone": "",
        "acefone_agent_number": member.acefone_agent_number,
        "role": member.role,
        "manager": "",
        "is_active": "on" if member.is_active else "",
    }
    data.update(changes)
    data = {k: v for k, v in data.items() if v != ""}
    resp = client.post(reverse("admin:crm_teammember_change", args=[member.pk]), data)
    assert resp.status_code == 302, resp.content.decode()[:2000]


def test_demoting_an_admin_in_the_django_admin_removes_staff_and_superuser(admin_client_member):
    other = make_member(Role.ADMIN)
    _admin_change(admin_client_member, other, role=Role.REP)
    assert _flags(other) == (False, False, {Role.REP})
    _admin_change(admin_client_member, TeamMember.objects.get(pk=other.pk), role=Role.ADMIN)
    assert _flags(other) == (True, True, {Role.ADMIN})


def _logged_in(member: TeamMember) -> Client:
    client = Client()
    assert client.login(username=member.user.username, password="pw")
    return client


def test_deactivating_a_member_ends_sessions_and_refuses_login_and_actions(rep, lead):
    client = _logged_in(rep)
    other = _logged_in(make_member(Role.REP))
    assert client.get(reverse("crm:lead_list")).status_code == 200
    sessions_before = Session.objects.count()
    services.team_member_set_active(member=rep, active=False)
    rep.user.refresh_from_db()
    assert not rep.user.is_active
    assert Session.objects.count() == sessions_before - 1, "only the deactivated member's session ends"
    resp = client.get(reverse("crm:lead_list"))
    assert resp.status_code == 302 and resp["Location"].startswith(reverse("login"))
    resp = client.post(reverse("crm:lead_note_add", args=[lead.pk]), {"body": "still here?"})
    assert resp.status_code == 302 and resp["Location"].startswith(reverse("login"))
    assert not lead.notes.exists()
    assert not Client().login(username=rep.user.username, password="pw")
    assert other.get(reverse("crm:lead_list")).status_code == 200


def test_a_member_switched_off_by_a_bulk_update_is_logged_out_on_the_next_request(rep):
    client = _logged_in(rep)
    TeamMember.objects.filter(pk=rep.pk).update(is_active=False)  # bypasses the service
    resp = client.get(reverse("crm:lead_list"))
    assert resp.status_code == 302 and resp["Location"].startswith(reverse("login"))


def test_deactivating_in_the_django_admin_goes_through_the_service(admin_client_member, rep):
    client = _logged_in(rep)
    _admin_change(admin_client_member, rep, is_active="")
    rep.user.refresh_from_db()
    assert not rep.user.is_active
    assert client.get(reverse("crm:lead_list")).status_code == 302
    _admin_change(admin_client_member, TeamMember.objects.get(pk=rep.pk), is_active="on")
    assert _logged_in(TeamMember.objects.get(pk=rep.pk))


def test_a_bare_superuser_without_a_team_member_still_signs_in():
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    assert client.login(username="root", password="pw")
    assert client.get(reverse("admin:index")).status_code == 200
