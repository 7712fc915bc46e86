"""Meta lead ads: the configuration, the forms we watch, and each lead id we were told about."""

from __future__ import annotations

from django.db import models


class MetaLeadsConfig(models.Model):
    """The one configuration row. Secrets are stored encrypted (``crm.crypto``); blank means the environment's."""

    app_secret_encrypted = models.TextField(blank=True)
    app_secret_last4 = models.CharField(max_length=4, blank=True)
    verify_token_encrypted = models.TextField(blank=True)
    verify_token_last4 = models.CharField(max_length=4, blank=True)
    page_access_token_encrypted = models.TextField(blank=True)
    page_access_token_last4 = models.CharField(max_length=4, blank=True)
    graph_base_url = models.URLField(blank=True)
    backfill_interval = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds; blank: environment.")
    speed_to_lead_agent_id = models.CharField(
        max_length=100, null=True, blank=True, help_text="Null: the environment's; empty: speed-to-lead off."
    )
    metadata_answer_keys = models.JSONField(
        default=list, blank=True, help_text="Form questions whose answers go to the AI call as metadata."
    )
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey("crm.TeamMember", null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = "Meta lead-ads configuration"
        verbose_name_plural = "Meta lead-ads configuration"

    def __str__(self) -> str:
        return "Meta lead-ads configuration"


class MetaForm(models.Model):
    """A lead form: its backfill watermark and its round-robin turn (the row every assignment locks)."""

    form_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=160, blank=True)
    page_id = models.CharField(max_length=64, blank=True)
    backfill = models.BooleanField(default=True, help_text="Off for the import pseudo-form, which Meta does not know.")
    is_active = models.BooleanField(default=True)
    watermark = models.DateTimeField(null=True, blank=True, help_text="Newest lead time the backfill has seen.")
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    sync_attempts = models.PositiveSmallIntegerField(default=0, help_text="Failed syncs in a row (backoff).")
    rr_turn = models.PositiveIntegerField(default=0, help_text="Round-robin position in the weighted rota.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "form_id"]

    def __str__(self) -> str:
        return self.name or self.form_id


class MetaFormAssignee(models.Model):
    form = models.ForeignKey(MetaForm, on_delete=models.CASCADE, related_name="assignees")
    team_member = models.ForeignKey("crm.TeamMember", on_delete=models.CASCADE, related_name="+")
    weight = models.PositiveSmallIntegerField(default=1, help_text="Turns per round; 0 takes none.")

    class Meta:
        ordering = ["team_member__name", "pk"]
        constraints = [models.UniqueConstraint(fields=["form", "team_member"], name="meta_form_assignee_unique")]

    def __str__(self) -> str:
        return f"{self.team_member} x{self.weight} on {self.form}"


class MetaLeadDelivery(models.Model):
    """One Meta lead id, stored once (unique) whichever way it reached us: webhook, backfill or both."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to fetch"
        FETCHING = "fetching", "Fetching"
        CREATED = "created", "Lead created"
        MERGED = "merged", "Merged into an existing lead"
        FAILED = "failed", "Failed (will retry)"
        GAVE_UP = "gave_up", "Failed (gave up)"

    class Via(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        BACKFILL = "backfill", "Backfill"

    leadgen_id = models.CharField(max_length=64, unique=True)
    form_id = models.CharField(max_length=64, blank=True)
    page_id = models.CharField(max_length=64, blank=True)
    ad_id = models.CharField(max_length=64, blank=True)
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.WEBHOOK)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    lead = models.ForeignKey("crm.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    raw = models.JSONField(default=dict, blank=True, help_text="The webhook change, or the lead as fetched.")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="meta_delivery_due_idx")]
        verbose_name_plural = "Meta lead deliveries"

    def __str__(self) -> str:
        return f"Meta lead {self.leadgen_id} ({self.status})"


class MetaWebhookRejection(models.Model):
    """A delivery that failed its signature: a truncated record to investigate, never trusted."""

    received_at = models.DateTimeField(auto_now_add=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    reason = models.CharField(max_length=100)
    body_prefix = models.CharField(max_length=256, blank=True, help_text="The first bytes only.")
    body_length = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"Rejected Meta delivery ({self.reason})"


class SpeedToLeadCall(models.Model):
    """The one speed-to-lead call a lead may get: its unique lead is the guard against a second dial."""

    lead = models.OneToOneField("crm.Lead", on_delete=models.CASCADE, related_name="speed_to_lead")
    call_log_id = models.BigIntegerField(null=True, blank=True)
    window_opening = models.DateTimeField(null=True, blank=True, help_text="Held for this opening, when outside.")
    dial_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["window_opening"], name="speed_to_lead_window_idx")]

    def __str__(self) -> str:
        return f"Speed-to-lead for lead {self.lead_id}"


class MetaSandboxLead(models.Model):
    """The sandbox's own store of the leads it 'received' (only used with PROVIDER_SANDBOX)."""

    leadgen_id = models.CharField(max_length=64, unique=True)
    form_id = models.CharField(max_length=64)
    created_time = models.DateTimeField()
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["created_time", "id"]

    def __str__(self) -> str:
        return self.leadgen_id
