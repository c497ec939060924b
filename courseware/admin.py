"""Read-mostly admin for staff: content comes from git via load_course, so course rows are not edited here."""

from __future__ import annotations

from django.contrib import admin

from courseware.models import Course, Item, Progress, QuizAttempt


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "version", "loaded_at")
    readonly_fields = ("slug", "title", "version", "source_path", "loaded_at")
    exclude = ("summary_html", "audience_html", "instructor_overview_html", "glossary")

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("slug", "kind", "title", "course", "module", "position", "archived")
    list_filter = ("course", "kind", "archived")
    search_fields = ("slug", "title")
    readonly_fields = ("course", "module", "kind", "slug", "position", "title", "archived")

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Progress)
class ProgressAdmin(admin.ModelAdmin):
    list_display = ("user", "item", "status", "score_percent", "attempts", "last_activity_at")
    list_filter = ("status", "item__course", "item__kind")
    search_fields = ("user__username", "item__slug")
    raw_id_fields = ("user", "item")
    list_select_related = ("user", "item", "item__course")


@admin.register(QuizAttempt)
class QuizAttemptAdmin(admin.ModelAdmin):
    list_display = ("user", "quiz", "number", "submitted_at", "percent", "passed")
    list_filter = ("passed",)
    search_fields = ("user__username", "quiz__item__slug")
    raw_id_fields = ("user", "quiz")
    list_select_related = ("user", "quiz", "quiz__item", "quiz__item__course")
    readonly_fields = ("seed", "answers", "results")
