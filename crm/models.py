"""CRM core: team members, leads from Meta lead ads and elsewhere, notes and activity."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from phonenumber_field.modelfields import PhoneNumberField


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    REP = "rep", "Sales rep"


class TeamMember(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_member")
    name = models.CharField(max_length=120)
    phone = PhoneNumberField(blank=True)
    acefone_agent_number = models.CharField(
        max_length=20, blank=True, help_text="Agent number or extension that Acefone rings first."
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.REP)
    manager = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    is_active = models.BooleanField(default=True)
    is_away = models.BooleanField(default=False, help_text="Away reps are skipped when new leads are assigned.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("view_all_leads", "Can see and call every team member's leads"),
            ("view_dashboard", "Can see the calling dashboard"),
            ("manage_campaigns", "Can build and run calling campaigns"),
            ("configure_calling", "Can configure calling providers and AI agents"),
            ("clear_do_not_call", "Can take a number off the do-not-call list and review opt-outs"),
        ]

    def __str__(self) -> str:
        return self.name


class LeadStage(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    INTERESTED = "interested", "Interested"
    FOLLOW_UP = "follow_up", "Follow-up"
    NOT_INTERESTED = "not_interested", "Not interested"
    SITE_VISIT = "site_visit", "Site visit"
    NEGOTIATION = "negotiation", "Negotiation"
    CONVERTED = "converted", "Converted"
    DEAD = "dead", "Dead"


class LeadSource(models.TextChoices):
    META_FACEBOOK = "meta_facebook", "Facebook lead ad"
    META_INSTAGRAM = "meta_instagram", "Instagram lead ad"
    WEBSITE = "website", "Website"
    REFERRAL = "referral", "Referral"
    WALK_IN = "walk_in", "Walk-in"
    CSV_IMPORT = "csv_import", "CSV import"
    MANUAL = "manual", "Manual"


class Lead(models.Model):
    name = models.CharField(max_length=160)
    phone = PhoneNumberField(db_index=True)
    phone_invalid = models.BooleanField(default=False, help_text="Set when a provider reported the number as invalid.")
    email = models.EmailField(blank=True)
    city = models.CharField(max_length=80, blank=True)
    time_zone = models.CharField(max_length=40, blank=True, help_text="Blank means the project's time zone.")
    source = models.CharField(max_length=20, choices=LeadSource.choices, default=LeadSource.MANUAL)
    meta_lead_id = models.CharField("Meta lead id", max_length=64, blank=True)
    meta_form_name = models.CharField(max_length=160, blank=True)
    meta_campaign_name = models.CharField(max_length=160, blank=True)
    meta_adset_name = models.CharField("Meta ad set name", max_length=160, blank=True)
    meta_ad_name = models.CharField(max_length=160, blank=True)
    meta_created_at = models.DateTimeField(
        "submitted on Meta at", null=True, blank=True, help_text="When the person sent the form (Meta's created_time)."
    )
    form_answers = models.JSONField(default=dict, blank=True, help_text="Every answer of the lead form, by question.")
    stage = models.CharField(max_length=20, choices=LeadStage.choices, default=LeadStage.NEW)
    assigned_to = models.ForeignKey(TeamMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    do_not_call = models.BooleanField(default=False)
    # The lead's call timeline, denormalised for the funnel (``telephony.lead_timeline`` writes it, only
    # ever moving a time earlier): the dial time of its first dialled call, of its first call by a person
    # (a provider that ``asks_wrap_up``), and of its first call with talk time.
    first_call_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_human_call_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_connect_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meta_lead_id"], condition=~Q(meta_lead_id=""), name="lead_meta_lead_id_unique"
            )
        ]
        indexes = [
            models.Index(fields=["assigned_to", "-created_at"], name="lead_assignee_created_idx"),
            models.Index(fields=["stage", "-created_at"], name="lead_stage_created_idx"),
            models.Index(fields=["source", "-created_at"], name="lead_source_created_idx"),
            models.Index(fields=["-created_at"], name="lead_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.phone})"


class LeadNote(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(TeamMember, null=True, blank=True, on_delete=models.SET_NULL)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Note on {self.lead_id}"


class LeadActivity(models.Model):
    """Who or what changed a lead, and why: a person, or a call's outcome."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STAGE = "stage", "Stage changed"
        DO_NOT_CALL = "do_not_call", "Do-not-call changed"
        PHONE_INVALID = "phone_invalid", "Phone flagged invalid"
        EDITED = "edited", "Edited"
        CALL = "call", "Call"
        FORM_AGAIN = "form_again", "Submitted a form again"
        FOLLOW_UP = "follow_up", "Follow-up"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(TeamMember, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=80, blank=True, help_text="A system actor, e.g. 'Call Karo webhook'.")
    old_value = models.CharField(max_length=80, blank=True)
    new_value = models.CharField(max_length=80, blank=True)
    call_ref = models.CharField(max_length=80, blank=True, help_text="provider:call-log id that caused it.")
    message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["lead", "-created_at"], name="activity_lead_created_idx")]
        verbose_name_plural = "lead activities"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on lead {self.lead_id}"


class DoNotCallEntry(models.Model):
    """A number nobody may dial, through either provider. Checked again just before every dial."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Added by hand"
        CALL_OPT_OUT = "call_opt_out", "Opt-out detected from a call"
        IMPORT = "import", "Imported"
        PROVIDER_DND = "provider_dnd", "Refused by the provider (DND)"
        CONFIRMED = "confirmed", "Opt-out heard in a call, confirmed by a manager"

    phone = models.CharField("number (E.164)", max_length=20, unique=True)
    reason = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(TeamMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "do-not-call number"

    def __str__(self) -> str:
        return self.phone


class FollowUp(models.Model):
    """Something a rep must do for a lead at a time: set by hand, by a human call's wrap-up, or from a
    callback the AI agent agreed with the customer. ``call_ref`` makes one call's follow-up idempotent."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Added by hand"
        WRAP_UP = "wrap_up", "After a call"
        AI_CALLBACK = "ai_callback", "Callback agreed on an AI call"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="follow_ups")
    owner = models.ForeignKey(TeamMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups")
    due_at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    call_ref = models.CharField(max_length=80, blank=True, help_text="provider:call-log id that set it.")
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["owner", "done_at", "due_at"], name="followup_owner_due_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "call_ref"], condition=~models.Q(call_ref=""), name="followup_one_per_call"
            )
        ]

    def __str__(self) -> str:
        return f"Follow-up for lead {self.lead_id} at {self.due_at:%Y-%m-%d %H:%M}"


class OptOutProposal(models.Model):
    """An opt-out heard in a transcript's free text: a proposal only, until a manager confirms it.

    Free text misfires ("don't call in the morning"), so it never writes the do-not-call list itself."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        CONFIRMED = "confirmed", "Confirmed: added to do-not-call"
        DISMISSED = "dismissed", "Dismissed"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="opt_out_proposals")
    phone = models.CharField(max_length=20)
    phrase = models.CharField(max_length=300, help_text="The customer's sentence that asked to stop calling.")
    call_ref = models.CharField(max_length=80, help_text="provider:call-log id it was heard on.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(TeamMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["call_ref"], name="opt_out_proposal_one_per_call")]
        indexes = [models.Index(fields=["status", "-created_at"], name="opt_out_proposal_status_idx")]

    def __str__(self) -> str:
        return f"Opt-out proposal for lead {self.lead_id} ({self.status})"
