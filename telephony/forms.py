"""The form every provider's call-start endpoint shares; each provider subclasses it with its own fields."""

from __future__ import annotations

from django import forms


class CallStartForm(forms.Form):
    """What every provider's call-start endpoint accepts; providers add their own fields."""

    lead_id = forms.IntegerField(min_value=1)
