"""Supervisor screens for the canonical data. Upstream facts are read-only here."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from integrations.admin import ReadOnlyAdmin

from . import users_admin  # noqa: F401 (registers the restricted user admin)
from .audit import AdminAccessLogged
from .catalogue.merges import customer_link_decide, customer_merge, customer_merge_reverse
from .counter.outbox import pushes_dispatch
from .desk.services import note_correct, note_write, notes_delete
from .freetext import NOTE_MAX, card_free
from .models import (
    AccessLog,
    ApiToken,
    Customer,
    CustomerIdentity,
    CustomerLink,
    CustomerMerge,
    CustomerMessage,
    DetectionRule,
    Flag,
    Interaction,
    MessageTemplate,
    Note,
    Order,
    OrderLine,
    OrderRecord,
    Payment,
    PickupPush,
    Return,
    Shipment,
    StockLevel,
    Store,
    StoreAlias,
    TimelineEvent,
    TrackingEvent,
    quantity_text,
)
from .timezones import screen_local


class ReadOnlyInline(admin.TabularInline):
    formfield_overrides = ReadOnlyAdmin.formfield_overrides
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StoreAliasInline(admin.TabularInline):
    model = StoreAlias
    extra = 0


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "timezone"]
    filter_horizontal = ["staff"]
    inlines = [StoreAliasInline]


class IdentityInline(ReadOnlyInline):
    model = CustomerIdentity
    fields = ["source", "external_id", "name", "email", "phone", "loyalty_id", "synced_at"]


@admin.register(Customer)
class CustomerAdmin(AdminAccessLogged, ReadOnlyAdmin):
    list_display = ["id", "name", "email", "phone", "loyalty_id", "updated_at"]
    search_fields = ["name", "email", "phone", "loyalty_id"]
    inlines = [IdentityInline]
    show_full_result_count = False
    actions = ["merge"]

    @admin.action(
        description="Merge the selected customers into the oldest (reversible under Customer merges)",
        permissions=["merge"],
    )
    def merge(self, request, queryset):
        ids = sorted(queryset.values_list("id", flat=True))
        if len(ids) < 2:
            self.message_user(request, "Select at least two customers to merge.", messages.WARNING)
            return
        customer_merge(survivor_id=ids[0], merged_ids=ids[1:], key="manual", by=request.user)
        self.message_user(request, f"Merged {len(ids) - 1} customer(s) into customer {ids[0]}.", messages.SUCCESS)

    def has_merge_permission(self, request):
        return request.user.has_perm("orders.add_customermerge")


@admin.register(CustomerMerge)
class CustomerMergeAdmin(AdminAccessLogged, ReadOnlyAdmin):
    list_display = [
        "created_at",
        "survivor",
        "merged_customer_id",
        "merged_name",
        "key",
        "source",
        "by",
        "reversed_at",
        "reversed_by",
    ]
    list_filter = [("reversed_at", admin.EmptyFieldListFilter), "source"]
    search_fields = ["key", "merged_snapshot"]
    raw_id_fields = ["survivor"]
    actions = ["reverse"]

    @admin.display(description="Merged customer")
    def merged_name(self, obj):
        return obj.merged_snapshot.get("name", "")

    @admin.action(
        description="Reverse the selected merges (restore the merged customer and what moved with it)",
        permissions=["reverse"],
    )
    def reverse(self, request, queryset):
        done = 0
        for merge in queryset.filter(reversed_at__isnull=True).order_by("-created_at"):
            customer_merge_reverse(merge=merge, by=request.user)
            done += 1
        self.message_user(request, f"Reversed {done} merge(s).", messages.SUCCESS)

    def has_reverse_permission(self, request):
        return request.user.has_perm("orders.change_customermerge")


@admin.register(CustomerLink)
class CustomerLinkAdmin(AdminAccessLogged, ReadOnlyAdmin):
    """Suggested links: two customers sharing one unverified key. Never merged on their own; settle them here
    (or on the customer's screen, where an agent with the verified caller on the line may too)."""

    list_display = ["created_at", "customer", "other", "key", "source", "decision", "decided_by", "decided_at"]
    list_filter = ["decision", "source"]
    search_fields = ["key", "customer__name", "other__name"]
    list_select_related = ["customer", "other", "source", "decided_by"]
    actions = ["same_person", "not_the_same"]

    @admin.action(description="Same person: merge each pair (the older customer stays)", permissions=["decide"])
    def same_person(self, request, queryset):
        self._decide(request, queryset, same=True)

    @admin.action(description="Not the same person: never suggest or merge the pair again", permissions=["decide"])
    def not_the_same(self, request, queryset):
        self._decide(request, queryset, same=False)

    def _decide(self, request, queryset, *, same: bool):
        done = 0
        for link in queryset.filter(decision=CustomerLink.Decision.OPEN).order_by("created_at"):
            if CustomerLink.objects.filter(pk=link.pk).exists():  # an earlier merge of this batch may have moved it
                customer_link_decide(link=link, same_person=same, by=request.user)
                done += 1
        self.message_user(request, f"Settled {done} suggestion(s).", messages.SUCCESS)

    def has_decide_permission(self, request):
        return request.user.has_perm("orders.change_customerlink")


@admin.register(CustomerIdentity)
class CustomerIdentityAdmin(AdminAccessLogged, ReadOnlyAdmin):
    list_display = [
        "source",
        "external_id",
        "customer",
        "email",
        "email_verified",
        "phone",
        "phone_verified",
        "synced_at",
    ]
    list_filter = ["source", "email_verified", "phone_verified"]
    search_fields = ["external_id", "email_normalised", "phone_e164"]
    list_select_related = ["source", "customer"]
    show_full_result_count = False


class RecordInline(ReadOnlyInline):
    model = OrderRecord
    fields = [
        "source",
        "external_id",
        "external_number",
        "raw_status",
        "status",
        "source_updated_at",
        "synced_at",
    ]


class LineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["source", "sku", "name", "amount", "unit_price", "fulfilment_location"]
    readonly_fields = ["amount"]

    @admin.display(description="quantity")
    def amount(self, line: OrderLine) -> str:
        """ "2", "2.5 m": as the desk says it, not the column's "2.500"."""
        return line.amount


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = [
        "source",
        "kind",
        "status",
        "amount",
        "currency",
        "card_brand",
        "card_last4",
        "processed_at",
    ]


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    fields = [
        "source",
        "carrier",
        "tracking_number",
        "status",
        "shipped_at",
        "estimated_delivery",
        "delivered_at",
        "last_event_at",
    ]


class ReturnInline(ReadOnlyInline):
    model = Return
    fields = ["source", "status", "amount", "requested_at", "received_at", "refunded_at"]


class FlagInline(ReadOnlyInline):
    model = Flag
    fields = ["code", "opened_at", "closed_at", "detail"]


class EventInline(ReadOnlyInline):
    model = TimelineEvent
    fk_name = "order"
    fields = ["store_time", "kind", "source", "summary"]
    readonly_fields = ["store_time"]
    ordering = ["occurred_at", "id"]

    @admin.display(description="When (store time)")
    def store_time(self, obj):
        return screen_local(obj.occurred_at, obj.order.store if obj.order_id else None)


@admin.register(Order)
class OrderAdmin(AdminAccessLogged, ReadOnlyAdmin):
    list_display = [
        "number",
        "customer",
        "channel",
        "fulfilment",
        "store",
        "status",
        "placed_at",
        "total",
        "currency",
    ]
    list_filter = ["status", "channel", "fulfilment", "store", "origin_source"]
    search_fields = ["number", "email"]
    list_select_related = ["customer", "store"]
    date_hierarchy = "placed_at"
    inlines = [
        RecordInline,
        LineInline,
        PaymentInline,
        ShipmentInline,
        ReturnInline,
        FlagInline,
        EventInline,
    ]
    show_full_result_count = False


@admin.register(OrderRecord)
class OrderRecordAdmin(AdminAccessLogged, ReadOnlyAdmin):
    list_display = [
        "source",
        "external_id",
        "external_number",
        "order",
        "raw_status",
        "status",
        "synced_at",
    ]
    list_filter = ["source", "status"]
    search_fields = ["external_id", "external_number"]
    list_select_related = ["source", "order"]
    show_full_result_count = False


class TrackingEventInline(ReadOnlyInline):
    model = TrackingEvent
    fields = ["occurred_at", "status", "message", "location"]


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdmin):
    list_display = [
        "tracking_number",
        "carrier",
        "order",
        "status",
        "shipped_at",
        "last_event_at",
        "delivered_at",
    ]
    list_filter = ["source", "carrier", "status"]
    search_fields = ["tracking_number"]
    list_select_related = ["order"]
    inlines = [TrackingEventInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "order",
        "kind",
        "status",
        "amount",
        "currency",
        "card_brand",
        "card_last4",
        "processed_at",
    ]
    list_filter = ["source", "kind", "status"]
    list_select_related = ["order"]


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdmin):
    list_display = ["order", "status", "amount", "requested_at", "received_at", "refunded_at"]
    list_filter = ["source", "status"]


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ["sku", "location", "on_hand_shown", "reserved", "counted_at", "source", "synced_at"]
    list_filter = ["source", "location"]
    search_fields = ["sku"]

    @admin.display(description="on hand", ordering="on_hand")
    def on_hand_shown(self, stock: StockLevel) -> str:
        """ "12", "12.5": a count by measure without the column's trailing zeros."""
        return quantity_text(stock.on_hand)


class NoteAdminForm(forms.ModelForm):
    body = forms.CharField(max_length=NOTE_MAX, validators=[card_free], widget=forms.Textarea)

    class Meta:
        model = Note
        fields = ["customer", "order", "body"]


@admin.register(Note)
class NoteAdmin(AdminAccessLogged, admin.ModelAdmin):
    """Notes go through the same services as the agents' (``note_write``): the timeline shows what the note says.

    A note added here is the supervisor's own; a change corrects its words only; a deleted note
    takes its timeline row with it.
    """

    form = NoteAdminForm
    list_display = ["created_at", "author", "customer", "order", "body"]
    search_fields = ["body"]
    raw_id_fields = ["customer", "order"]

    def get_readonly_fields(self, request, obj=None):
        return ["author", "created_at", "customer", "order"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            note_correct(note=obj, body=form.cleaned_data["body"])
            return
        note = note_write(customer=obj.customer, order=obj.order, author=request.user, body=obj.body)
        obj.pk, obj.author, obj.created_at = note.pk, note.author, note.created_at

    def delete_model(self, request, obj):
        notes_delete([obj])

    def delete_queryset(self, request, queryset):
        notes_delete(queryset)


@admin.register(Flag)
class FlagAdmin(AdminAccessLogged, ReadOnlyAdmin):
    list_display = ["code", "order", "opened_at", "closed_at", "detail"]
    list_filter = ["code", ("closed_at", admin.EmptyFieldListFilter)]
    raw_id_fields = ["order"]


@admin.register(DetectionRule)
class DetectionRuleAdmin(admin.ModelAdmin):
    """The supervisor's thresholds: one row per flag code, created by the migration; none added or removed."""

    list_display = ["code", "enabled", "threshold"]
    list_editable = ["enabled", "threshold"]
    fields = ["code", "enabled", "threshold"]
    readonly_fields = ["code"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TimelineEvent)
class TimelineEventAdmin(AdminAccessLogged, ReadOnlyAdmin):
    list_display = ["occurred_at", "kind", "source", "order", "customer", "summary"]
    list_filter = ["kind", "source"]
    raw_id_fields = ["order", "customer"]
    show_full_result_count = False


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    """Who looked at whose personal data, and when (never the data itself). Nobody can edit or delete it."""

    list_display = ("at", "username", "action", "customer_ids", "order_id")
    list_filter = ("action", "at")
    search_fields = ("username",)
    date_hierarchy = "at"

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Interaction)
class InteractionAdmin(AdminAccessLogged, ReadOnlyAdmin):
    list_display = ("created_at", "customer", "kind", "method", "author")
    list_filter = ("kind",)
    raw_id_fields = ("customer", "order")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens are created with ``manage.py create_api_token USERNAME``; here they are seen and revoked."""

    list_display = ("prefix", "user", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "prefix", "created_at", "last_used_at")
    fields = ("user", "prefix", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request):
        return False


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    """The words customers receive when an order slips, or when the counter has their pickup ready.

    Variables are listed under the body. Templates cannot be added or deleted: one exists per
    message OmniDesk knows how to send (the ready-for-pickup one falls back to built-in wording).
    """

    list_display = ("code", "subject", "auto_send")
    list_editable = ("auto_send",)
    readonly_fields = ("code",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomerMessage)
class CustomerMessageAdmin(AdminAccessLogged, ReadOnlyAdmin):
    list_display = ("created_at", "order", "about", "to", "subject", "status", "sent_by", "sent_at")
    list_filter = ("status", "about")
    raw_id_fields = ("flag", "order")


@admin.register(PickupPush)
class PickupPushAdmin(ReadOnlyAdmin):
    """The store counter's outbox: each pickup state owed to a system that holds the order.

    A row without "sent" has not been accepted yet; the task retries it with backoff and the
    sweep (every few minutes) after that. The last error says what the system answered.
    """

    list_display = ("created_at", "order", "target", "state", "attempts", "sent_at", "last_error")
    list_filter = (("sent_at", admin.EmptyFieldListFilter), "target", "state")
    raw_id_fields = ("order",)
    actions = ("send_now",)

    @admin.action(description="Send the selected pushes again now")
    def send_now(self, request, queryset):

        queued = pushes_dispatch(list(queryset.filter(sent_at__isnull=True).values_list("pk", flat=True)))
        self.message_user(request, f"{queued} push(es) queued; those already sent were left alone.")
