"""Who a campaign calls: a lead filter, or an uploaded CSV (phone, name and extra columns).

Both end as a stream of ``AudienceMember`` rows, so that preview and launch treat them alike.
Reps only ever reach their own leads: the filter goes through ``lead_queryset_for``.
``CampaignAudience`` is what a draft campaign's row (its filter, or its uploaded CSV) resolves to.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from crm.dnc import normalise_number
from crm.models import Lead, LeadActivity, LeadSource, TeamMember
from crm.selectors import lead_queryset_for, team_member_for
from telephony import calls
from telephony.eligibility_facts import STANDING_VALUES, LeadFacts, standing_annotations, standing_facts
from telephony.status import CallStatus

from ..models import CallKaroCampaign
from .permissions import is_campaign_manager
from .selectors import active_campaign_calls

PROGRESS_EVERY = 2000
PHONE_COLUMNS = ("phone", "phone_number", "mobile", "number", "to_number")
NAME_COLUMNS = ("name", "full_name", "lead_name")


@dataclass(frozen=True)
class LeadFilter:
    stage: str = ""
    source: str = ""
    assignee_id: int | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    not_called_days: int | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("created_from", "created_to"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LeadFilter:
        def _date(value: Any) -> dt.date | None:
            return dt.date.fromisoformat(value) if value else None

        def _int(value: Any) -> int | None:
            return int(value) if value not in (None, "") else None

        return cls(
            stage=data.get("stage") or "",
            source=data.get("source") or "",
            assignee_id=_int(data.get("assignee_id")),
            created_from=_date(data.get("created_from")),
            created_to=_date(data.get("created_to")),
            not_called_days=_int(data.get("not_called_days")),
        )


@dataclass(frozen=True)
class CsvRow:
    line: int
    phone: str  # E.164
    name: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class CsvParseResult:
    rows: list[CsvRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, message)
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # (line number, phone)


def lead_filter_for_user(lead_filter: LeadFilter, user: AbstractBaseUser) -> LeadFilter:
    """A rep's assignee choice is dropped: their own leads only, whatever the filter says."""
    if is_campaign_manager(user):
        return lead_filter
    return LeadFilter(**{**lead_filter.__dict__, "assignee_id": None})


def audience_filter_queryset(*, user: AbstractBaseUser, lead_filter: LeadFilter) -> QuerySet[Lead]:
    """The leads a filter selects, within what the user may see (reps: their own leads)."""
    qs = lead_queryset_for(user)
    if lead_filter.stage:
        qs = qs.filter(stage=lead_filter.stage)
    if lead_filter.source:
        qs = qs.filter(source=lead_filter.source)
    if lead_filter.assignee_id:
        qs = qs.filter(assigned_to_id=lead_filter.assignee_id)
    tz = timezone.get_current_timezone()
    if lead_filter.created_from:
        qs = qs.filter(created_at__gte=dt.datetime.combine(lead_filter.created_from, dt.time.min, tzinfo=tz))
    if lead_filter.created_to:
        end = dt.datetime.combine(lead_filter.created_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        qs = qs.filter(created_at__lt=end)
    if lead_filter.not_called_days:
        since = timezone.now() - dt.timedelta(days=lead_filter.not_called_days)
        # A call of either provider counts; one not yet placed (or withdrawn) does not.
        not_placed = [CallStatus.SCHEDULED, CallStatus.QUEUED, CallStatus.CANCELLED]
        qs = qs.filter(~calls.lead_call_exists(since=since, exclude_statuses=not_placed))
    return qs


#: File signatures of what people upload instead of a CSV.
BINARY_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook or a ZIP archive",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Word file",
    b"%PDF": "a PDF",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}


def csv_upload_problem(data: bytes) -> str:
    """What is wrong with an upload that should be UTF-8 CSV text, in words a person can act on; "" if fine."""
    for signature, kind in BINARY_SIGNATURES.items():
        if data.startswith(signature):
            return f"This is {kind}, not a CSV file: save it as “CSV UTF-8” and upload that."
    if b"\x00" in data[:65536]:
        hint = " (it looks like UTF-16: save as “CSV UTF-8”)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        return f"This is a binary file, not CSV text{hint}."
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.end >= len(data) and exc.start >= len(data) - 3:
            return ""  # a multi-byte character cut at the end of a sample: the whole file decides
        byte = data[exc.start : exc.start + 1].hex().upper()
        line = data[: exc.start].count(b"\n") + 1
        return (
            f"The file is not UTF-8 text: byte 0x{byte} on line {line} is not UTF-8 "
            "(probably Windows-1252 or Latin-1). Save it as “CSV UTF-8” and upload it again."
        )
    return ""


def audience_csv_parse(data: bytes | str, progress: Callable[[int], None] | None = None) -> CsvParseResult:
    """Read an upload. Bad rows are reported by line number and the good rows kept.

    ``progress(rows_read)`` is called every ``PROGRESS_EVERY`` rows (the worker's progress bar)."""
    result = CsvParseResult()
    if isinstance(data, bytes):
        problem = csv_upload_problem(data)
        if problem:
            result.errors.append((1, problem))
            return result
        text = data.decode("utf-8-sig")
    else:
        text = data
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    phone_col = next((h for h in headers if h in PHONE_COLUMNS), None)
    if phone_col is None:
        result.errors.append((1, "No phone column (expected one of: " + ", ".join(PHONE_COLUMNS) + ")"))
        return result
    name_col = next((h for h in headers if h in NAME_COLUMNS), None)
    seen: set[str] = set()
    for count, raw in enumerate(reader, start=1):
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
        line = reader.line_num
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if isinstance(v, str)}
        phone = normalise_number(row.get(phone_col, ""))
        if not phone:
            result.errors.append((line, f"Invalid phone number: {row.get(phone_col, '')!r}"))
            continue
        if phone in seen:
            result.duplicates.append((line, phone))
            continue
        seen.add(phone)
        extras = {k: v for k, v in row.items() if k and k not in (phone_col, name_col) and v}
        name = row.get(name_col, "") if name_col else ""
        result.rows.append(CsvRow(line=line, phone=phone, name=name or phone, metadata=extras))
    return result


@dataclass(frozen=True)
class AudienceMember:
    lead_id: int | None  # None: a CSV number with no lead yet (created on launch)
    phone: str
    assigned_to_id: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    line: int | None = None
    # Read with the member from the database (a filter audience): the checks then need no query.
    facts: LeadFacts | None = None  # the eligibility rule's standing facts
    listed: bool = False  # the number is on the do-not-call list
    busy: bool = False  # a call pending or live in another active campaign


def audience_from_filter(qs: QuerySet[Lead], *, chunk_size: int = 2000) -> Iterator[AudienceMember]:
    """Stream leads ordered by phone, so duplicates sit side by side and memory stays constant.

    Each row carries what the launch checks (the eligibility facts, the do-not-call list, other
    campaigns) as annotations: one query for the whole audience, none per chunk."""
    rows = (
        qs.filter(phone_invalid=False)
        .annotate(**standing_annotations(), busy=Exists(active_campaign_calls().filter(lead_id=OuterRef("pk"))))
        .order_by("phone", "id")
        .values_list("id", "assigned_to_id", "busy", *STANDING_VALUES)
    )
    for lead_id, assignee, busy, *values in rows.iterator(chunk_size=chunk_size):
        phone, listed = values[0], values[1]  # the stored number, and whether the list holds it
        facts = standing_facts(lead_id, *values)
        yield AudienceMember(lead_id, phone, assignee, facts=facts, listed=listed, busy=busy)


def audience_from_csv(
    parsed: CsvParseResult, *, user: AbstractBaseUser, create: bool = False
) -> tuple[list[AudienceMember], list[tuple[int, str]]]:
    """Match CSV numbers to existing leads (by phone), or, on launch, create them as ``csv_import``.

    A rep's upload may not reach another member's lead: that row becomes an error.
    """
    member = team_member_for(user)
    visible = lead_queryset_for(user)
    by_phone: dict[str, tuple[int, int | None]] = {}
    phones = [r.phone for r in parsed.rows]
    for i in range(0, len(phones), 1000):
        for lead_id, phone, assignee in (
            Lead.objects.filter(phone__in=phones[i : i + 1000])
            .order_by("id")
            .values_list("id", "phone", "assigned_to_id")
        ):
            by_phone.setdefault(str(phone), (lead_id, assignee))
    visible_ids = set(visible.filter(pk__in=[v[0] for v in by_phone.values()]).values_list("pk", flat=True))
    members: list[AudienceMember] = []
    errors: list[tuple[int, str]] = []
    for row in parsed.rows:
        found = by_phone.get(row.phone)
        if found and found[0] not in visible_ids:
            # The same words whether or not someone else owns the number: nothing about others' leads.
            errors.append((row.line, "Not one of your leads"))
            continue
        lead_id, assignee = found if found else (None, None)
        if lead_id is None and create:
            lead_id, assignee = _csv_lead_create(row, member)
        members.append(
            AudienceMember(
                lead_id=lead_id, phone=row.phone, assigned_to_id=assignee, metadata=row.metadata, line=row.line
            )
        )
    return members, errors


def _csv_lead_create(row: CsvRow, member: TeamMember | None) -> tuple[int, int | None]:
    assignee = member if member is not None and not member.user.has_perm("crm.view_all_leads") else None
    lead = Lead.objects.create(name=row.name[:160], phone=row.phone, source=LeadSource.CSV_IMPORT, assigned_to=assignee)
    LeadActivity.objects.create(
        lead=lead, kind=LeadActivity.Kind.CREATED, actor=member, new_value=lead.stage, message="Campaign CSV upload"
    )
    return lead.pk, lead.assigned_to_id


class CampaignAudience:
    """An audience ready to preview or launch, from a filter or a parsed CSV.

    ``errors`` holds the rows left out, by line, once ``members`` has run.
    """

    def __init__(
        self, *, user: AbstractBaseUser, lead_filter: LeadFilter | None = None, csv: CsvParseResult | None = None
    ) -> None:
        self.user, self.lead_filter, self.csv = user, lead_filter, csv
        self.errors: list[tuple[int | None, str]] = list(csv.errors) if csv is not None else []

    @classmethod
    def for_campaign(cls, campaign: CallKaroCampaign, user: AbstractBaseUser) -> CampaignAudience:
        """The audience a draft was saved with: its CSV file, or its lead filter."""
        if campaign.audience.get("kind") == "csv":
            if not campaign.audience_file:
                raise ValueError("The draft has no uploaded file")
            with campaign.audience_file.open("rb") as upload:
                return cls(user=user, csv=audience_csv_parse(upload.read()))
        # The filter is scoped to the user's leads by ``audience_filter_queryset`` (lead_queryset_for).
        return cls(user=user, lead_filter=LeadFilter.from_json(campaign.audience.get("filter") or {}))

    def description(self) -> dict[str, Any]:
        if self.lead_filter is not None:
            return {"kind": "filter", "filter": self.lead_filter.as_json()}
        return {"kind": "csv", "rows": len(self.csv.rows), "bad_rows": len(self.csv.errors)}

    def members(self, *, create: bool) -> Iterator[AudienceMember] | list[AudienceMember]:
        """The stream to preview (``create=False``) or launch (CSV numbers without a lead become leads)."""
        if self.lead_filter is not None:
            qs = audience_filter_queryset(user=self.user, lead_filter=self.lead_filter)
            flagged = qs.filter(phone_invalid=True).values_list("phone", flat=True)[:200]
            self.errors = [(None, f"{phone} (flagged invalid)") for phone in flagged]
            return audience_from_filter(qs)
        members, errors = audience_from_csv(self.csv, user=self.user, create=create)
        self.errors = list(self.csv.errors) + errors
        return members

    @property
    def csv_duplicates(self) -> int:
        return len(self.csv.duplicates) if self.csv is not None else 0
