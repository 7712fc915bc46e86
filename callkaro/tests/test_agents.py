"""AI agents: the admin adds, edits, disables and assigns them; each user sees only theirs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from callkaro import selectors, services
from callkaro.models import CallKaroAgent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _env(settings):
    settings.CALLKARO_DEFAULT_AGENT_ID = ""
    settings.CALLKARO_API_KEY = ""


@pytest.fixture
def agents(rep, rep2):
    priya = services.agent_create(agent_id="ag-priya", name="Priya", language="hi")
    arjun = services.agent_create(agent_id="ag-arjun", name="Arjun", language="en")
    off = services.agent_create(agent_id="ag-off", name="Retired", language="en")
    services.agent_assign(agent=priya, team_members=[rep])
    services.agent_assign(agent=arjun, team_members=[rep2])
    services.agent_assign(agent=off, team_members=[rep])
    services.agent_set_active(agent=off, is_active=False)
    return {"priya": priya, "arjun": arjun, "off": off}


def test_admin_adds_an_agent(admin_client_member):
    resp = admin_client_member.post(
        reverse("callkaro:add_agent"),
        {"agent_id": "ag-new", "name": "New agent", "language": "ta", "description": "Tamil leads"},
    )
    assert resp.status_code == 302
    agent = CallKaroAgent.objects.get(agent_id="ag-new")
    assert (agent.name, agent.language, agent.is_active) == ("New agent", "ta", True)


def test_adding_an_agent_validates_server_side(admin_client_member, agents):
    resp = admin_client_member.post(
        reverse("callkaro:add_agent"), {"agent_id": "ag-priya", "name": "", "language": "xx"}
    )
    assert resp.status_code == 400
    body = resp.content.decode()
    assert "already exists" in body and "This field is required" in body and "valid choice" in body
    resp = admin_client_member.post(
        reverse("callkaro:add_agent"), {"agent_id": "has space", "name": "X", "language": "en"}
    )
    assert resp.status_code == 400 and "agent id exactly" in resp.content.decode()
    assert CallKaroAgent.objects.count() == 3


def test_admin_edits_an_agent(admin_client_member, agents):
    url = reverse("callkaro:edit_agent", args=[agents["priya"].pk])
    page = admin_client_member.get(url)
    assert page.status_code == 200 and "Priya" in page.content.decode()
    resp = admin_client_member.post(url, {"agent_id": "ag-priya-2", "name": "Priya 2", "language": "mr"})
    assert resp.status_code == 302
    agents["priya"].refresh_from_db()
    assert (agents["priya"].agent_id, agents["priya"].name, agents["priya"].language) == ("ag-priya-2", "Priya 2", "mr")
    # Another agent's id is refused.
    resp = admin_client_member.post(url, {"agent_id": "ag-arjun", "name": "Priya 2", "language": "mr"})
    assert resp.status_code == 400


def test_admin_disables_and_enables_an_agent(admin_client_member, agents):
    url = reverse("callkaro:set_agent_active", args=[agents["priya"].pk])
    admin_client_member.post(url, {"is_active": "0"})
    agents["priya"].refresh_from_db()
    assert agents["priya"].is_active is False
    admin_client_member.post(url, {"is_active": "1"})
    agents["priya"].refresh_from_db()
    assert agents["priya"].is_active is True


def test_admin_assigns_an_agent_to_team_members(admin_client_member, agents, rep, rep2):
    url = reverse("callkaro:assign_agent", args=[agents["arjun"].pk])
    assert admin_client_member.post(url, {"team_members": [rep.pk, rep2.pk]}).status_code == 302
    assert set(agents["arjun"].team_members.all()) == {rep, rep2}
    admin_client_member.post(url, {})
    assert not agents["arjun"].team_members.exists()
    assert admin_client_member.post(url, {"team_members": ["999999"]}).status_code == 400


def test_a_rep_sees_their_assigned_active_agents_plus_the_default(rep, agents, settings):
    assert list(selectors.agents_usable_by(rep.user)) == [agents["priya"]]
    settings.CALLKARO_DEFAULT_AGENT_ID = "ag-arjun"
    assert set(selectors.agents_usable_by(rep.user)) == {agents["priya"], agents["arjun"]}


def test_managers_and_admins_see_every_active_agent(manager, admin_member, agents):
    for member in (manager, admin_member):
        assert set(selectors.agents_usable_by(member.user)) == {agents["priya"], agents["arjun"]}


def test_the_agents_api_lists_what_the_user_may_use(rep_client, rep2_client, manager_client, agents, settings):
    settings.CALLKARO_DEFAULT_AGENT_ID = "ag-priya"
    resp = rep_client.get(reverse("callkaro:agents_api"))
    assert resp.status_code == 200
    assert resp.json() == [{"agent_id": "ag-priya", "name": "Priya", "language": "hi", "is_default": True}]
    rep2_rows = rep2_client.get(reverse("callkaro:agents_api")).json()
    assert [r["agent_id"] for r in rep2_rows] == ["ag-arjun", "ag-priya"]  # assigned + the default
    assert [r["agent_id"] for r in manager_client.get(reverse("callkaro:agents_api")).json()] == [
        "ag-arjun",
        "ag-priya",
    ]


def test_the_agents_api_needs_login(db, client):
    assert client.get(reverse("callkaro:agents_api")).status_code == 302


def test_the_config_page_lists_agents_with_their_assignees(admin_client_member, agents, rep):
    body = admin_client_member.get(reverse("callkaro:config")).content.decode()
    assert "ag-priya" in body and rep.name in body and "disabled" in body


# --- demo data ----------------------------------------------------------------------------------
def test_demo_seed_is_idempotent_and_assigns_the_demo_reps(rep, rep2, settings):
    import io

    from callkaro import demo
    from callkaro.config import config_row, get_effective_config

    settings.PROVIDER_SANDBOX = False
    demo.seed(io.StringIO())
    demo.seed(io.StringIO())
    assert CallKaroAgent.objects.filter(agent_id__startswith="demo-").count() == len(demo.DEMO_AGENTS)
    assert set(CallKaroAgent.objects.get(agent_id="demo-priya-hi").team_members.all()) == {rep}
    assert get_effective_config().default_agent_id == demo.DEFAULT_AGENT_ID
    assert not config_row().api_key_encrypted  # no key stored when not talking to the sandbox


def test_demo_seed_never_stores_a_value_the_environment_sets(rep, settings):
    import io

    from callkaro import demo
    from callkaro.config import config_row, get_effective_config

    settings.PROVIDER_SANDBOX = True
    settings.CALLKARO_DEFAULT_AGENT_ID = "env-agent"
    settings.CALLKARO_API_KEY = "env-key-1234"
    settings.CALLKARO_WEBHOOK_SECRET = "env-secret-5678"
    demo.seed(io.StringIO())
    row = config_row()
    assert row is None or (not row.default_agent_id and not row.api_key_encrypted and not row.webhook_secrets_encrypted)
    config = get_effective_config()
    assert (config.default_agent_id, config.api_key, config.webhook_secrets) == (
        "env-agent",
        "env-key-1234",
        ["env-secret-5678"],
    )


def test_demo_seed_with_the_sandbox_saves_a_key_and_secret_so_calls_work_offline(rep, settings):
    import io

    from callkaro import demo
    from callkaro.config import get_effective_config

    settings.PROVIDER_SANDBOX = True
    settings.CALLKARO_WEBHOOK_SECRET = ""
    demo.seed(io.StringIO())
    first = get_effective_config()
    assert first.is_configured and first.api_key.startswith("sandbox-") and len(first.webhook_secrets) == 1
    demo.seed(io.StringIO())
    assert get_effective_config() == first  # a second run changes nothing
