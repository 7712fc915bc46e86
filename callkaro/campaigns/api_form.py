"""The JSON API binds the builder's own form: the same fields, bounds and messages as the page.

A JSON body is turned into the form's data (and its rows into the CSV upload an upload would be), so a
bad value or filter is a 400 with field errors, never a 500, and the API cannot accept what the page refuses.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q

from .. import selectors as callkaro_selectors
from .calls import CampaignError
from .forms import CampaignBuilderForm
from .inputs import audience_rows_csv

SETTING_KEYS = (
    "name",
    "start_at",
    "calling_hours_start",
    "calling_hours_end",
    "time_zone",
    "retry_owner",
    "max_retries",
    "priority",
    "pace_per_minute",
    "max_concurrent",
)
FILTER_KEYS = ("stage", "source", "assignee_id", "created_from", "created_to", "not_called_days")


def _agent_pk(body: dict[str, Any], user: AbstractBaseUser) -> Any:
    """The agent's row id for the form's choice field: the API names agents by Call Karo id (or row id)."""
    given = str(body.get("agent_id") or body.get("agent") or "")
    by_pk = Q(pk=int(given)) if given.isdigit() else Q(pk__in=[])
    agent = callkaro_selectors.agents_usable_by(user).filter(Q(agent_id=given) | by_pk).first()
    return agent.pk if agent else given


def _text(value: Any) -> Any:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else value


def builder_form_from_json(body: dict[str, Any], user: AbstractBaseUser) -> CampaignBuilderForm:
    """The builder form bound to a JSON body (``audience``: ``{"filter": {...}}`` or ``{"rows": [...]}``)."""
    # An omitted setting takes the page's initial value, as an untouched field of the builder would.
    initial = {name: field.initial for name, field in CampaignBuilderForm.base_fields.items()}
    data: dict[str, Any] = {key: _text(body[key]) if key in body else initial.get(key) for key in SETTING_KEYS}
    data["retry_owner"] = data.get("retry_owner") or "scheduler"
    data = {key: ("" if value is None else value) for key, value in data.items()}
    data["agent"] = _agent_pk(body, user)
    data["retry_gaps_minutes"] = _text(body.get("retry_gaps_minutes", "30"))
    data["days_of_week"] = body.get("days_of_week") or []
    spec = body.get("audience") or {}
    if not isinstance(spec, dict):
        raise CampaignError("audience must be an object")
    if "lead_ids" in spec:
        raise CampaignError("audience.lead_ids is not supported; use audience.filter or audience.rows")
    files = {}
    if "rows" in spec:
        data["audience_kind"] = "csv"
        files["csv_file"] = SimpleUploadedFile("api-rows.csv", audience_rows_csv(spec["rows"]), "text/csv")
    else:
        data["audience_kind"] = "filter"
        lead_filter = spec.get("filter") or {}
        if not isinstance(lead_filter, dict):
            raise CampaignError("audience.filter must be an object")
        data.update({key: _text(lead_filter.get(key)) for key in FILTER_KEYS if key in lead_filter})
    return CampaignBuilderForm(data, files, user=user)


def form_errors(form: CampaignBuilderForm) -> tuple[str, dict[str, list[str]]]:
    """The first error as one line (``field: message``), and every field's messages."""
    errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
    name = next(iter(errors))
    label = "agent" if name == "agent" else name
    first = errors[name][0] if name == "__all__" else f"{label}: {errors[name][0]}"
    return first, errors
