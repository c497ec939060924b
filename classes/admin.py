"""Admin for staff: look up classes, memberships and the reset log (instructors use the class pages)."""

from __future__ import annotations

from django.contrib import admin

from classes.models import Class, Membership, ResetLog


class MembershipInline(admin.TabularInline):
    model = Membership
    raw_id_fields = ("user",)
    extra = 0


@admin.register(Class)
class ClassAdmin(admin.ModelAdmin):
    list_display = ("title", "course", "starts_on", "ends_on", "paced", "join_code")
    list_filter = ("course", "paced")
    search_fields = ("title", "join_code")
    raw_id_fields = ("created_by",)
    filter_horizontal = ("instructors",)
    inlines = [MembershipInline]


@admin.register(ResetLog)
class ResetLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "klass", "student", "item", "kind", "instructor", "reason")
    list_filter = ("kind",)
    search_fields = ("student__username", "instructor__username", "reason")
    list_select_related = ("klass", "student", "item", "instructor")
    readonly_fields = ("klass", "student", "instructor", "item", "kind", "reason", "detail", "created_at")

    def has_add_permission(self, request: object) -> bool:
        return False
