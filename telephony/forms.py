"""The form every provider's call-start endpoint shares; each provider subclasses it with its own fields."""

from __future__ import annotations

from django import forms


class CallStartForm(forms.Form):
    """What every provider's call-start endpoint accepts; providers add their own fields."""

    lead_id = forms.IntegerField(min_value=1)
    #: A human call outside calling hours goes ahead only once the rep confirmed it.
    confirm_outside_hours = forms.BooleanField(required=False)
