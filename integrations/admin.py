"""Supervisor screens for sources, runs, raw records, dead letters and webhooks."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.utils.html import format_html

from omnidesk.pagination import EstimatedCountPaginator
from orders.audit import AdminAccessLogged

from .adapters import adapter_class
from .models import DeadLetter, RawRecord, Source, SyncRun, WebhookDelivery
from .sync import dead_letter_replay
from .tasks import sync_enqueue


class ReadOnlyAdmin(admin.ModelAdmin):
    """Upstream data: looked at, never edited by hand. Its tables grow to millions of rows: an unfiltered list is
    counted by PostgreSQL's estimate, not by reading every row (:class:`~omnidesk.pagination.EstimatedCountPaginator`)."""

    paginator = EstimatedCountPaginator
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default, said now

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SourceForm(forms.ModelForm):
    base_url = forms.URLField(
        max_length=500,
        assume_scheme="https",
        help_text=Source._meta.get_field("base_url").help_text,
    )
    new_credentials = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text="KEY=VALUE per line, e.g. access_token=shpat_…. Merged into the stored credentials; "
        "stored values are encrypted and never shown. Leave empty to keep them. Changing the base URL, "
        "the adapter or the environment prefix drops the stored credentials: give them again.",
    )

    class Meta:
        model = Source
        fields = [
            "name",
            "kind",
            "adapter",
            "base_url",
            "enabled",
            "interval_seconds",
            "stale_after_seconds",
            "page_size",
            "credentials_env",
        ]
        help_texts = {  # the model's text predates the prefix rule (Source.clean); kept to need no migration
            "credentials_env": "Optional prefix of environment variables holding credentials, starting "
            "OMNIDESK_SOURCE_: with OMNIDESK_SOURCE_SHOP, OMNIDESK_SOURCE_SHOP_ACCESS_TOKEN=… supplies the "
            "credential 'access_token'. Environment values win over stored ones.",
        }

    def clean_new_credentials(self):
        values = {}
        for line in self.cleaned_data["new_credentials"].splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(f"Write KEY=VALUE, one per line (got {line.split('=')[0]!r}…)")
            values[key.strip()] = value.strip()
        return values

    request = None  # set by SourceAdmin.get_form: who is saving

    def clean(self):
        cleaned = super().clean()
        adapter = cleaned.get("adapter")
        moved = not self.instance.pk or {"base_url", "adapter"} & set(self.changed_data)
        try:
            anywhere = adapter and adapter_class(adapter).allowed_hosts is None
        except ValueError:
            anywhere = False
        if anywhere and moved and not (self.request and self.request.user.is_superuser):
            self.add_error("base_url", f"A {adapter} source may point at any https host: only a superuser sets it.")
        return cleaned

    def save(self, commit=True):
        source = super().save(commit=False)
        moved = bool(source.pk and {"base_url", "adapter", "credentials_env"} & set(self.changed_data))
        source.credentials_merge(self.cleaned_data.get("new_credentials"), moved=moved)
        if commit:
            source.save()
        return source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceForm
    list_display = [
        "name",
        "adapter",
        "kind",
        "enabled",
        "health_badge",
        "last_success_at",
        "consecutive_failures",
        "stale_badge",
    ]
    list_filter = ["kind", "adapter", "enabled"]
    readonly_fields = [
        "credential_names",
        "cursor",
        "last_attempt_at",
        "last_success_at",
        "last_error",
        "last_error_at",
        "consecutive_failures",
    ]
    actions = ["sync_now"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request  # a class made for this request by modelform_factory
        return form

    @admin.display(description="Stored credentials")
    def credential_names(self, obj):
        names = obj.credential_names
        return ", ".join(f"{name}=••••••" for name in names) if names else "none"

    @admin.display(description="Health")
    def health_badge(self, obj):
        return obj.health.label

    @admin.display(description="Stale?", boolean=True)
    def stale_badge(self, obj):
        return obj.is_stale

    @admin.action(description="Sync the selected sources now")
    def sync_now(self, request, queryset):
        for source in queryset:
            sync_enqueue(source, SyncRun.Trigger.ADMIN)
        self.message_user(request, f"Queued {queryset.count()} sync(s).", messages.SUCCESS)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "source",
        "status",
        "trigger",
        "started_at",
        "duration",
        "pages",
        "fetched",
        "created",
        "updated",
        "unchanged",
        "dead_lettered",
    ]
    list_filter = ["status", "source", "trigger"]
    date_hierarchy = "started_at"


@admin.register(RawRecord)
class RawRecordAdmin(AdminAccessLogged, ReadOnlyAdmin):
    list_display = ["source", "stream", "external_id", "first_seen_at", "content_hash"]
    list_filter = ["source", "stream"]
    search_fields = ["external_id"]
    show_full_result_count = False


@admin.register(DeadLetter)
class DeadLetterAdmin(AdminAccessLogged, ReadOnlyAdmin):
    list_display = [
        "source",
        "stream",
        "external_id",
        "short_reason",
        "created_at",
        "replay_count",
        "resolved_at",
    ]
    list_filter = ["source", "stream", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["external_id", "reason"]
    actions = ["replay"]

    @admin.display(description="Reason")
    def short_reason(self, obj):
        return format_html("<span title='{}'>{}</span>", obj.reason, obj.reason[:120])

    @admin.action(description="Replay: map and land the stored payload again (after a fix)")
    def replay(self, request, queryset):
        landed = sum(
            dead_letter_replay(dead_letter=dl)
            for dl in queryset.filter(resolved_at__isnull=True).select_related("source")
        )
        failed = queryset.filter(resolved_at__isnull=True).count()
        self.message_user(
            request,
            f"Replayed: {landed} landed, {failed} still failing (see their reasons).",
            messages.INFO,
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AdminAccessLogged, ReadOnlyAdmin):
    list_display = ["source", "topic", "event_id", "received_at", "processed_at", "error"]
    list_filter = ["source", "topic"]
    search_fields = ["event_id"]
