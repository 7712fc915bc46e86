"""Every URL pattern, walked as each role: login, role and CSRF protection from one table.

``EXPECTED`` has one entry per URL name. A URL added without an entry fails
``test_every_url_name_has_an_entry``, so its protection is decided, not assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroAgent, CallKaroCampaign
from crm.models import Role
from crm.tests.factories import LeadFactory, make_member
from metaleads.models import MetaForm

pytestmark = pytest.mark.django_db

ROLES = (Role.REP, Role.MANAGER, Role.ADMIN)
REP_AND_UP, MANAGER_AND_UP, ADMIN_ONLY = set(ROLES), {Role.MANAGER, Role.ADMIN}, {Role.ADMIN}


@dataclass(frozen=True)
class Spec:
    """How one URL is protected.

    args: which object fills the URL (``other_lead``: a lead of another rep; ``manager_campaign``; ``manager_draft``;
    ``agent``; ``other_member``; ``none``). get_ok: roles that get 200 on GET (empty: not a GET page).
    rep_denied: a rep gets 403 or 404 for every method. post: accepts POST, so CSRF applies.
    public: no login (own authentication or the login page itself).
    """

    args: str = "none"
    get_ok: frozenset = frozenset()
    rep_denied: bool = False
    post: bool = False
    public: bool = False


def S(args="none", get_ok=(), rep_denied=False, post=False, public=False) -> Spec:  # noqa: N802
    return Spec(args, frozenset(get_ok), rep_denied, post, public)


EXPECTED: dict[str, Spec] = {
    # auth
    "login": S(get_ok=(), post=True, public=True),
    "logout": S(post=True),
    # CRM core: a rep sees only their own leads
    "crm:home": S(),  # redirects to the role's start page
    "crm:lead_list": S(get_ok=REP_AND_UP),
    "crm:lead_create": S(get_ok=REP_AND_UP, post=True),
    "crm:lead_detail": S("other_lead", get_ok=MANAGER_AND_UP, rep_denied=True),
    "crm:lead_edit": S("other_lead", get_ok=MANAGER_AND_UP, rep_denied=True, post=True),
    "crm:lead_note_add": S("other_lead", rep_denied=True, post=True),
    "crm:call_panel": S(get_ok=REP_AND_UP),
    "crm:call_history": S("other_lead", get_ok=MANAGER_AND_UP, rep_denied=True),
    "crm:call_wrap_up": S("other_lead_call", rep_denied=True, post=True),
    "crm:my_day": S(get_ok=REP_AND_UP),
    "crm:call_status": S("other_lead_call", get_ok=MANAGER_AND_UP, rep_denied=True),
    "crm:lead_dnc_clear": S("other_lead", rep_denied=True, post=True),
    "crm:opt_out_review": S("other_lead", rep_denied=True, post=True),
    "crm:opt_out_reviews": S(get_ok=MANAGER_AND_UP, rep_denied=True),
    # configuration: admin only
    "callkaro:config": S(get_ok=ADMIN_ONLY, rep_denied=True),
    "callkaro:save_config": S(rep_denied=True, post=True),
    "callkaro:generate_webhook_secret": S(rep_denied=True, post=True),
    "callkaro:retire_webhook_secrets": S(rep_denied=True, post=True),
    "callkaro:test_connection": S(rep_denied=True, post=True),
    "acefone:set_agent_number": S("other_member", rep_denied=True, post=True),
    "acefone:save_settings": S(rep_denied=True, post=True),
    "callkaro:add_agent": S(rep_denied=True, post=True),
    "callkaro:edit_agent": S("agent", get_ok=ADMIN_ONLY, rep_denied=True, post=True),
    "callkaro:set_agent_active": S("agent", rep_denied=True, post=True),
    "callkaro:assign_agent": S("agent", rep_denied=True, post=True),
    "callkaro:agents_api": S(get_ok=REP_AND_UP),
    # calls: a rep may call their own leads (scoping tested in the call tests)
    "callkaro:initiate_call": S(post=True),
    "callkaro:call_options": S(),
    "acefone:initiate_call": S(post=True),
    "acefone:call_options": S(),
    "telephony:scheduled_calls": S("other_lead", get_ok=MANAGER_AND_UP, rep_denied=True),
    "telephony:scheduled_call_change": S("other_lead_cancel", rep_denied=True, post=True),
    # campaigns: a rep builds their own; a manager's campaign is not theirs to see or act on
    "callkaro:campaign_list": S(get_ok=REP_AND_UP),
    "callkaro:campaign_new": S(get_ok=REP_AND_UP, post=True),
    "callkaro:campaigns_paused": S(get_ok=MANAGER_AND_UP, rep_denied=True),
    "callkaro:campaign_edit": S("manager_draft", get_ok=MANAGER_AND_UP, rep_denied=True, post=True),
    "callkaro:campaign_preview": S("manager_draft", get_ok=MANAGER_AND_UP, rep_denied=True, post=True),
    "callkaro:campaign_delete": S("manager_draft", rep_denied=True, post=True),
    "callkaro:campaign_detail": S("manager_campaign", get_ok=MANAGER_AND_UP, rep_denied=True),
    "callkaro:campaign_action": S("manager_campaign_pause", rep_denied=True, post=True),
    "callkaro:create_campaign": S(post=True),
    "callkaro:schedule_campaign_call": S(post=True),
    # dashboard: managers and admins
    "reporting:dashboard": S(get_ok=MANAGER_AND_UP, rep_denied=True),
    "reporting:dashboard_live": S(get_ok=MANAGER_AND_UP, rep_denied=True),
    "reporting:dashboard_export": S(get_ok=MANAGER_AND_UP, rep_denied=True),
    "reporting:dashboard_funnel": S(get_ok=MANAGER_AND_UP, rep_denied=True),
    "reporting:dashboard_funnel_export": S(get_ok=MANAGER_AND_UP, rep_denied=True),
    "reporting:dashboard_leaderboard_export": S(get_ok=MANAGER_AND_UP, rep_denied=True),
    # own authentication: a shared secret (webhooks) or local-only fakes (sandbox, when mounted)
    "callkaro:webhook": S(post=True, public=True),
    "acefone:webhook": S(post=True, public=True),
    "callkaro_sandbox:outbound": S(post=True, public=True),
    "callkaro_sandbox:campaign_v1": S(post=True, public=True),
    "callkaro_sandbox:campaign_v2": S(post=True, public=True),
    "callkaro_sandbox:delete_schedule_call": S(post=True, public=True),
    "acefone_sandbox:click_to_call": S(post=True, public=True),
    "acefone_sandbox:call_records": S(public=True),
    # Meta lead ads: the webhook signs its deliveries; the page is the admin's; import for managers up
    "metaleads:webhook": S(post=True, public=True),
    "metaleads:config": S(get_ok=ADMIN_ONLY, rep_denied=True),
    "metaleads:save_config": S(rep_denied=True, post=True),
    "metaleads:add_form": S(rep_denied=True, post=True),
    "metaleads:set_rota": S("meta_form", rep_denied=True, post=True),
    "metaleads:set_form_active": S("meta_form", rep_denied=True, post=True),
    "metaleads:set_away": S("other_member", rep_denied=True, post=True),
    "metaleads:sync_now": S(rep_denied=True, post=True),
    "metaleads:simulate": S(rep_denied=True, post=True),
    "metaleads:lead_import": S(get_ok=MANAGER_AND_UP, rep_denied=True, post=True),
    "metaleads_sandbox:form_leads": S(public=True),
    "metaleads_sandbox:object": S(public=True),
}
CSRF_FAILED = b"CSRF verification failed"
#: Public by design, and exempt from the CSRF check: they authenticate the sender themselves.
CSRF_EXEMPT = {name for name in EXPECTED if name.endswith(":webhook") or "_sandbox:" in name}


def _walk(patterns, namespace: str | None = None):
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                continue  # Django's admin has its own staff login and CSRF
            yield from _walk(p.url_patterns, p.namespace or namespace)
        elif isinstance(p, URLPattern):
            yield f"{namespace}:{p.name}" if namespace else str(p.name)


def url_names() -> list[str]:
    return sorted(set(_walk(get_resolver().url_patterns)))


@pytest.fixture
def world(db):
    members = {role: make_member(role, username=f"walk-{role}") for role in ROLES}
    other_rep = make_member(Role.REP, username="walk-other-rep")
    agent = CallKaroAgent.objects.create(agent_id="agent-walk", name="Walk")
    campaign = CallKaroCampaign.objects.create(
        name="Managers'", agent=agent, created_by=members[Role.MANAGER], status=CallKaroCampaign.Status.RUNNING
    )
    draft = CallKaroCampaign.objects.create(name="Managers' draft", agent=agent, created_by=members[Role.MANAGER])
    args = {
        "none": {},
        "other_lead": {"lead_id": LeadFactory(assigned_to=other_rep).pk},
        "other_lead_call": {"provider": "acefone", "call_log_id": _other_call(other_rep)},
        "other_lead_cancel": {"lead_id": LeadFactory(assigned_to=other_rep).pk, "action": "cancel"},
        "other_member": {"member_id": other_rep.pk},
        "agent": {"pk": agent.pk},
        "manager_campaign": {"pk": campaign.pk},
        "manager_campaign_pause": {"pk": campaign.pk, "action": "pause"},
        "manager_draft": {"pk": draft.pk},
        "meta_form": {"pk": MetaForm.objects.create(form_id="walk-form").pk},
    }
    return members, args


def _other_call(rep) -> int:
    lead = LeadFactory(assigned_to=rep)
    return AcefoneCallLog.objects.create(lead=lead, team_member=rep, to_number=str(lead.phone), agent_number="1").pk


def _url(name: str, args: dict) -> str:
    spec = EXPECTED[name]
    return reverse(name, kwargs=args[spec.args])


def _client(member, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(member.user)
    return client


def test_every_url_name_has_an_entry():
    names = url_names()
    assert "crm:lead_list" in names and "callkaro:webhook" in names
    missing = [n for n in names if n not in EXPECTED]
    assert missing == [], f"add these URL names to EXPECTED with their protection: {missing}"


@pytest.mark.parametrize("name", url_names())
def test_anonymous_is_sent_to_login(name, world, client):
    _, args = world
    spec = EXPECTED[name]
    if spec.public:
        pytest.skip("public by design: its own authentication")
    url = _url(name, args)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code == 302, f"{method.upper()} {url}: {response.status_code}"
        assert response["Location"].startswith(settings.LOGIN_URL)


@pytest.mark.parametrize("name", url_names())
def test_roles(name, world):
    members, args = world
    spec = EXPECTED[name]
    if spec.public:
        pytest.skip("public by design")
    url = _url(name, args)
    if spec.rep_denied:
        rep = _client(members[Role.REP])
        methods = ("post",) if spec.post and not spec.get_ok else ("get", "post") if spec.post else ("get",)
        for method in methods:
            status = getattr(rep, method)(url).status_code
            assert status in (403, 404), f"a rep got {status} on {method.upper()} {url}"
    for role in ROLES:
        status = _client(members[role]).get(url).status_code
        if role in spec.get_ok:
            assert status == 200, f"{role} got {status} on GET {url}"
        elif spec.get_ok:
            assert status in (403, 404), f"{role} got {status} on GET {url}"


@pytest.mark.parametrize("name", [n for n in url_names() if EXPECTED.get(n, Spec()).post])
def test_post_without_a_csrf_token_is_refused(name, world):
    members, args = world
    url = _url(name, args)
    if name == "login":
        client = Client(enforce_csrf_checks=True)
    else:  # the admin passes every permission check, so a 403 can only be the CSRF check
        client = _client(members[Role.ADMIN], enforce_csrf_checks=True)
    response = client.post(url, {"lead_id": "1", "name": "x"})
    if name in CSRF_EXEMPT:
        assert CSRF_FAILED not in response.content
        return
    assert response.status_code == 403, f"POST {url} without a CSRF token gave {response.status_code}"
    assert CSRF_FAILED in response.content


def test_the_csrf_check_can_pass_with_a_token(world):
    """The CSRF test proves something: the same POST with the token is not refused for CSRF."""
    members, _ = world
    client = _client(members[Role.REP], enforce_csrf_checks=True)
    client.get(reverse("crm:lead_create"))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(reverse("crm:lead_create"), {"name": "x"}, headers={"X-CSRFToken": token})
    assert response.status_code != 403
    assert CSRF_FAILED not in response.content
