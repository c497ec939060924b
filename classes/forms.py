"""Forms of the classes app: every field has a label; dates are plain date inputs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from classes.models import Class
from courseware.models import Course


class DateInput(forms.DateInput):
    input_type = "date"


class ClassForm(forms.ModelForm):
    course = forms.ModelChoiceField(queryset=Course.objects.order_by("title"), empty_label=None)
    course.label_from_instance = lambda course: course.title  # type: ignore[method-assign]  # titles, not slugs

    class Meta:
        model = Class
        fields = ["course", "title", "starts_on", "ends_on", "paced"]
        labels = {
            "title": "Class title",
            "starts_on": "First day",
            "ends_on": "Last day",
            "paced": "Pace the class: I open modules one by one",
        }
        widgets = {"starts_on": DateInput(), "ends_on": DateInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["starts_on"].initial = today
        self.fields["ends_on"].initial = today + timezone.timedelta(days=5)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The last day cannot be before the first day.")
        return data


class JoinForm(forms.Form):
    code = forms.CharField(
        label="Join code",
        max_length=20,
        help_text="The 8 letters and digits your instructor gave you.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )


class CsvForm(forms.Form):
    students = forms.CharField(
        label="Students to invite (usernames or emails)",
        help_text="One per line, or a CSV file's contents; a header row 'username' or 'email' is ignored.",
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
    )
    file = forms.FileField(label="Or upload a CSV file", required=False)

    def text(self) -> str:
        parts = [self.cleaned_data.get("students") or ""]
        upload = self.cleaned_data.get("file")
        if upload:
            parts.append(upload.read(1_000_000).decode("utf-8-sig", errors="replace"))
        return "\n".join(parts)


class InstructorForm(forms.Form):
    instructor = forms.CharField(label="Co-instructor's username or email", max_length=254)


class ResetForm(forms.Form):
    item = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(label="Reason (logged)", max_length=500)


class HandForm(forms.Form):
    note = forms.CharField(label="What do you need help with? (optional)", max_length=300, required=False)
