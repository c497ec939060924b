"""Staff register each LMS (platform) here with what the LMS shows when the tool is added to it."""

from __future__ import annotations

from django.contrib import admin

from lti.models import Deployment, Identity, LmsClass, Platform, ResourceLink, ScoreOutbox, ToolKey


class DeploymentInline(admin.TabularInline):
    model = Deployment
    extra = 1


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = ("name", "issuer", "client_id", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "issuer", "client_id")
    inlines = [DeploymentInline]
    fieldsets = [
        (None, {"fields": ("name", "is_active")}),
        ("From the LMS", {"fields": ("issuer", "client_id", "auth_login_url", "auth_token_url", "key_set_url")}),
        ("Rarely needed", {"fields": ("auth_audience", "frame_origins"), "classes": ("collapse",)}),
    ]


@admin.register(ToolKey)
class ToolKeyAdmin(admin.ModelAdmin):
    """Read-only: keys are made and retired by `manage.py lti_rotate_keys`; the private key is never shown."""

    list_display = ("kid", "created_at", "retired_at")
    fields = ("kid", "public_key", "created_at", "retired_at")
    readonly_fields = fields

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ("user", "issuer", "subject", "platform", "last_launch_at")
    search_fields = ("user__username", "subject", "issuer")
    readonly_fields = ("issuer", "subject", "user", "platform", "created_at", "last_launch_at")

    def has_add_permission(self, request: object) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by launches, grade passback and roster syncs; staff look, they do not edit."""

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(ResourceLink)
class ResourceLinkAdmin(ReadOnlyAdmin):
    list_display = ("resource_link_id", "platform", "context_id", "item", "lineitem_url", "updated_at")
    list_filter = ("platform",)
    search_fields = ("resource_link_id", "context_id")


@admin.register(ScoreOutbox)
class ScoreOutboxAdmin(ReadOnlyAdmin):
    list_display = ("change", "learner", "score_given", "score_maximum", "status", "attempts", "next_attempt_at")
    list_filter = ("status",)
    search_fields = ("change", "learner__subject", "learner__user__username")


@admin.register(LmsClass)
class LmsClassAdmin(ReadOnlyAdmin):
    list_display = ("klass", "platform", "context_id", "synced_at", "last_error")
