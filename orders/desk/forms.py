"""Forms staff fill in: notes, the identity check, their own settings."""

from __future__ import annotations

from zoneinfo import available_timezones

from django import forms

from ..freetext import NOTE_MAX, card_free
from ..models import Interaction, Note, StaffPreference


class NoteForm(forms.ModelForm):
    order = forms.IntegerField(required=False, widget=forms.HiddenInput)
    body = forms.CharField(
        label="Note",
        max_length=NOTE_MAX,
        validators=[card_free],
        error_messages={"required": "Write something first."},
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What was said or promised…"}),
    )

    class Meta:
        model = Note
        fields = ["body"]

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write something first.")
        return body


class VerifyForm(forms.ModelForm):
    method = forms.CharField(
        label="Verified with",
        required=False,
        max_length=Interaction._meta.get_field("method").max_length,
        validators=[card_free],
        widget=forms.TextInput(attrs={"placeholder": "e.g. order number + postcode"}),
    )

    class Meta:
        model = Interaction
        fields = ["method"]


def zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone, with "each store's own" first (the default)."""
    zones = sorted(zone for zone in available_timezones() if "/" in zone and not zone.startswith(("Etc/", "SystemV/")))
    return [("", "Each order's store's own zone"), ("UTC", "UTC"), *((zone, zone.replace("_", " ")) for zone in zones)]


class PreferenceForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label="Show times in",
        required=False,
        choices=zone_choices,
        error_messages={"invalid_choice": "%(value)s is not a time zone: pick one from the list, e.g. Europe/Paris."},
        help_text="One zone on every screen you open. Customer e-mails always use the store's.",
    )

    class Meta:
        model = StaffPreference
        fields = ["time_zone"]
