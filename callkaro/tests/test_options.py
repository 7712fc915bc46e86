"""``CallKaroOptions``: the one options value, its limits, its one retry-gap parser and its conversions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from callkaro.campaigns.calls import CampaignError
from callkaro.campaigns.forms import CampaignBuilderForm
from callkaro.campaigns.inputs import settings_from_data
from callkaro.forms import CallKaroCallStartForm
from callkaro.models import CallKaroAgent, CallKaroCallLog
from callkaro.options import (
    LANGUAGES,
    CallKaroOptions,
    CallKaroOptionsInvalid,
    clean_gap_between_retries,
)


@pytest.mark.parametrize(
    ("given", "parsed"),
    [
        (None, None),
        ("", None),
        ([], None),
        (5, 5),
        ("5", 5),
        (" 30 ", 30),
        ("5,10", [5, 10]),
        ("5, 10,", [5, 10]),
        ("[5, 10]", [5, 10]),
        ("[5]", [5]),
        ([5], [5]),
        (["5", 10], [5, 10]),
        (1440, 1440),
        ([1] * 10, [1] * 10),
    ],
)
def test_the_one_retry_gap_parser_accepts(given, parsed):
    assert clean_gap_between_retries(given) == parsed


@pytest.mark.parametrize(
    "given",
    ["soon", [5, "x"], 0, "0", 1441, -5, True, [True], 5.5, "5.5", "[5,", [1] * 11, {"a": 1}, "5;10"],
)
def test_the_one_retry_gap_parser_refuses(given):
    with pytest.raises(CallKaroOptionsInvalid) as exc:
        clean_gap_between_retries(given)
    assert exc.value.field == "gap_between_retries"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("given", "call_ok", "campaign_ok"),
    [("30,60", True, True), ("0", False, False), ("x", False, False), ("1441", False, False), ("[5]", True, True)],
)
def test_the_call_form_and_the_campaign_parse_gaps_alike(manager, given, call_ok, campaign_ok):
    """Before, the call panel refused 0 and 1441 while campaigns took them: one parser now."""
    agent = CallKaroAgent.objects.create(agent_id="a-1", name="A")
    form = CallKaroCallStartForm({"lead_id": 1, "gap_between_retries": given})
    assert form.is_valid() is call_ok
    try:
        settings_from_data({"name": "C", "agent_id": agent.agent_id, "retry_gaps_minutes": given}, manager.user)
        campaign_accepted = True
    except CampaignError:
        campaign_accepted = False
    assert campaign_accepted is campaign_ok
    builder = CampaignBuilderForm({"retry_gaps_minutes": given}, user=manager.user)
    builder.is_valid()
    assert ("retry_gaps_minutes" in builder.errors) is not campaign_ok


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"number_of_retries": 11}, "number_of_retries"),
        ({"number_of_retries": -1}, "number_of_retries"),
        ({"number_of_retries": True}, "number_of_retries"),
        ({"priority": 101}, "priority"),
        ({"priority": -101}, "priority"),
        ({"language": "fr"}, "language"),
        ({"min_trigger_time": "9:00"}, "min_trigger_time"),
        ({"max_trigger_time": "24:00"}, "max_trigger_time"),
        ({"carry_over": "maybe"}, "carry_over"),
        ({"schedule_at": dt.datetime(2026, 1, 1, 10, 0)}, "schedule_at"),
    ],
)
def test_an_invalid_value_is_never_built(fields, field):
    with pytest.raises(CallKaroOptionsInvalid) as exc:
        CallKaroOptions(agent_id="a", **fields)
    assert exc.value.field == field


def test_limits_and_languages_are_the_documented_ones():
    assert set(LANGUAGES) == {"hi", "en", "kn", "mr", "ta", "te", "bn", "gu", "ml"}
    edge = CallKaroOptions(agent_id="a", number_of_retries=10, priority=-100, min_trigger_time=dt.time(0, 0))
    assert (edge.number_of_retries, edge.priority, edge.min_trigger_time) == (10, -100, "00:00")


def test_from_form_data_and_json_alike():
    from_form = CallKaroOptions.from_data(
        {"agent_id": "a", "number_of_retries": "2", "gap_between_retries": "5,10", "priority": "-3", "when": "now"}
    )
    from_json = CallKaroOptions.from_data({"agent_id": "a", "number_of_retries": 2, "gap_between_retries": [5, 10]})
    assert from_form.number_of_retries == from_json.number_of_retries == 2
    assert from_form.gap_between_retries == from_json.gap_between_retries == [5, 10]
    assert from_form.priority == -3


@pytest.mark.django_db
def test_one_value_to_the_row_back_and_to_the_body(lead):
    when = dt.datetime(2026, 11, 20, 6, 0, tzinfo=ZoneInfo("UTC"))
    options = CallKaroOptions(
        agent_id="ag-1",
        schedule_at=when,
        language="ta",
        number_of_retries=2,
        gap_between_retries="15,30",
        priority=4,
        min_trigger_time="09:00",
        max_trigger_time="20:00",
        carry_over=True,
    )
    row = CallKaroCallLog.objects.create(lead=lead, to_number="+919812345678", **options.to_row_fields())
    row.refresh_from_db()
    back = CallKaroOptions.from_row(row, agent_id="ag-1", schedule_at=when)
    assert back == options
    assert back.to_body(to_number="+919812345678", time_zone="Asia/Kolkata", metadata={"lead_id": 1}) == {
        "to_number": "+919812345678",
        "agent_id": "ag-1",
        "metadata": {"lead_id": 1},
        "schedule_at": "2026-11-20T11:30:00",
        "min_trigger_time": "09:00",
        "max_trigger_time": "20:00",
        "carry_over": True,
        "number_of_retries": 2,
        "gap_between_retries": [15, 30],
        "priority": 4,
        "language": "ta",
    }
    initial = options.to_initial()
    assert (initial["gap_between_retries"], initial["when"], initial["priority"]) == ("15,30", "later", 4)
    form = CallKaroCallStartForm(
        {"lead_id": 1, **{k: v for k, v in initial.items() if k not in ("when", "schedule_at")}}
    )
    assert form.is_valid(), form.errors
    again = CallKaroOptions.from_data(form.cleaned_data, schedule_at=when, min_trigger_time="09:00")
    assert again == dataclasses.replace(options, max_trigger_time="")  # the panel form has no trigger times


def test_unset_options_stay_out_of_the_body():
    assert CallKaroOptions(agent_id="a").to_body(to_number="+12", time_zone="UTC") == {
        "to_number": "+12",
        "agent_id": "a",
    }
    with pytest.raises(CallKaroOptionsInvalid):
        CallKaroOptions().to_body(to_number="+12", time_zone="UTC")
