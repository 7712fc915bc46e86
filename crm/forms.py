from __future__ import annotations

from django import forms
from phonenumber_field.formfields import PhoneNumberField

from .models import Lead, LeadNote, LeadSource, LeadStage
from .selectors import team_members_assignable


def secret_field(
    label: str, *, max_length: int = 500, help_text: str = "Leave blank to keep the saved value."
) -> forms.CharField:
    """A key, token or secret typed on a settings page: never sent back to the browser (``render_value``
    off, not even in the field), blank keeps what is saved, and browsers are asked not to fill it."""
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=help_text,
    )


class RefusesLongInput:
    """Leaves out the browser's ``maxlength``, which silently cuts pasted text: an over-long value is
    sent and refused with the form's message ("at most N characters") instead of being truncated."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.pop("maxlength", None)


class LeadForm(RefusesLongInput, forms.ModelForm):
    phone = PhoneNumberField(
        region="IN",
        help_text="Indian mobiles may be typed as 98123 45678; other countries need +country code.",
        error_messages={"invalid": "Enter a valid phone number, e.g. +91 98123 45678."},
    )

    class Meta:
        model = Lead
        fields = [
            "name",
            "phone",
            "email",
            "city",
            "source",
            "stage",
            "assigned_to",
            "do_not_call",
            "meta_lead_id",
            "meta_form_name",
            "meta_campaign_name",
            "meta_adset_name",
            "meta_ad_name",
        ]

    def __init__(self, *args, can_assign: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.do_not_call:
            # Taken off the list only by a manager or admin, with a reason, on the lead page (crm.opt_out).
            self.fields["do_not_call"].disabled = True
            self.fields["do_not_call"].help_text = "A manager or admin takes a number off the list, with a reason."
        if can_assign:
            self.fields["assigned_to"].queryset = team_members_assignable()
        else:
            del self.fields["assigned_to"]


class LeadFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Name or phone", "aria-label": "Search by name or phone"}),
    )
    stage = forms.ChoiceField(
        required=False,
        choices=[("", "All stages"), *LeadStage.choices],
        widget=forms.Select(attrs={"aria-label": "Stage"}),
    )
    source = forms.ChoiceField(
        required=False,
        choices=[("", "All sources"), *LeadSource.choices],
        widget=forms.Select(attrs={"aria-label": "Source"}),
    )
    assignee = forms.ModelChoiceField(
        required=False, queryset=None, empty_label="Everyone", widget=forms.Select(attrs={"aria-label": "Assigned to"})
    )

    def __init__(self, *args, can_filter_assignee: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if can_filter_assignee:
            self.fields["assignee"].queryset = team_members_assignable()
        else:
            del self.fields["assignee"]


class LeadNoteForm(RefusesLongInput, forms.ModelForm):
    class Meta:
        model = LeadNote
        fields = ["body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 2, "placeholder": "Add a note"})}
        labels = {"body": "Note"}
