"""Forms the agent fills in: notes and the identity check."""

from __future__ import annotations

import re

from django import forms

from .models import Interaction, Note


def int_or_none(value) -> int | None:
    """A form or query value as an id, or None when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_CARD_LIKE = re.compile(r"(?:\d[ -]?){13,19}")


def luhn_valid(digits: str) -> bool:
    """The checksum every payment card number passes (and few other long numbers do)."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def has_card_number(text: str) -> bool:
    """True when the text contains something that looks like a full card number."""
    for candidate in _CARD_LIKE.findall(text or ""):
        digits = re.sub(r"\D", "", candidate)
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


class NoteForm(forms.ModelForm):
    order = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Note
        fields = ["body"]
        labels = {"body": "Note"}
        widgets = {"body": forms.Textarea(attrs={"rows": 2, "placeholder": "What was said or promised…"})}

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write something first.")
        if has_card_number(body):
            raise forms.ValidationError(
                "This looks like a card number. Never write card numbers in notes: the last four digits are enough."
            )
        return body


class VerifyForm(forms.ModelForm):
    class Meta:
        model = Interaction
        fields = ["method"]
        labels = {"method": "Verified with"}
        widgets = {"method": forms.TextInput(attrs={"placeholder": "e.g. order number + postcode"})}
