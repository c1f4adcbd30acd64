"""Staff accounts in the admin: superusers get Django's full user admin; supervisors a restricted one.

A supervisor manages agents and store staff only: their names, e-mail, role (the
``agent`` or ``store_staff`` group), stores and active flag, and sends a password-reset
e-mail. No superuser or staff flag, no permissions, no password form, and no account
that is staff (other supervisors, superusers, themselves) — otherwise a supervisor
could make themselves superuser or take over another account.
"""

from __future__ import annotations

import secrets

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from .models import Store
from .roles import AGENT, STORE_STAFF

User = get_user_model()
MANAGED_ROLES = (AGENT, STORE_STAFF)


class StaffUserForm(forms.ModelForm):
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.filter(name__in=MANAGED_ROLES),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Role",
        help_text="agent: every store; store_staff: only the stores below.",
    )
    stores = forms.ModelMultipleChoiceField(
        queryset=Store.objects.order_by("name"), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "is_active", "groups"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["stores"].initial = list(self.instance.stores.values_list("pk", flat=True))

    def save(self, commit=True):
        user = super().save(commit=False)
        if not user.pk:
            # A password nobody knows: the person sets their own from the reset e-mail (which Django
            # sends only to accounts with a usable password).
            user.set_password(secrets.token_urlsafe(32))
        if commit:
            user.save()
            self._save_m2m()
        return user

    def _save_m2m(self):
        super()._save_m2m()
        self.instance.stores.set(self.cleaned_data["stores"])


STAFF_FIELDSETS = (
    (None, {"fields": ("username", "first_name", "last_name", "email", "is_active", "groups", "stores")}),
)


class StaffUserAdmin(UserAdmin):
    actions = ["password_reset_send"]

    def get_queryset(self, request):
        users = super().get_queryset(request)
        if request.user.is_superuser:
            return users
        return users.filter(is_superuser=False, is_staff=False)

    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return STAFF_FIELDSETS

    def get_form(self, request, obj=None, **kwargs):
        if request.user.is_superuser:
            return super().get_form(request, obj, **kwargs)
        kwargs["form"] = StaffUserForm
        return admin.ModelAdmin.get_form(self, request, obj, **kwargs)

    def get_list_filter(self, request):
        return super().get_list_filter(request) if request.user.is_superuser else ("is_active", "groups")

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied  # supervisors send a reset e-mail instead
        return super().user_change_password(request, id, form_url)

    @admin.action(description="Send a password-reset e-mail")
    def password_reset_send(self, request, queryset):
        sent = 0
        for user in queryset.exclude(email=""):
            form = PasswordResetForm({"email": user.email})
            if form.is_valid():
                form.save(request=request, use_https=request.is_secure(), domain_override=request.get_host())
                sent += 1
        self.message_user(request, f"Password-reset e-mail sent to {sent} user(s).", messages.SUCCESS)


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
