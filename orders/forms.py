"""Forms the agent fills in: notes and the identity check."""

from __future__ import annotations

from django import forms

from .freetext import NOTE_MAX, card_free
from .models import Interaction, Note


def int_or_none(value) -> int | None:
    """A form or query value as an id, or None when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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
