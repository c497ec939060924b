from django import forms
from django.contrib.auth.forms import UserCreationForm

from accounts.models import User


class SignupForm(UserCreationForm):  # type: ignore[type-arg]
    """Self sign-up: everyone starts as a student; staff promote instructors in the admin."""

    email = forms.EmailField(required=True, help_text="Used only to reset your password and by your instructor.")

    class Meta:
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email
