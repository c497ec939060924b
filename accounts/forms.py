from django import forms
from django.contrib.auth.forms import UserCreationForm

from accounts.models import User

# One message whether the username or the email is taken, so the form never tells who has an account here.
NOT_AVAILABLE = (
    "We could not create an account with this username and email address. Choose another username; "
    "if you already have an account, sign in instead."
)


class SignupForm(UserCreationForm):  # type: ignore[type-arg]
    """Self sign-up: everyone starts as a student; staff promote instructors in the admin."""

    email = forms.EmailField(required=True, help_text="Used only to reset your password and by your instructor.")

    class Meta:
        model = User
        fields = ("username", "email")

    def clean_username(self) -> str:
        return str(self.cleaned_data["username"])  # the taken check is in clean(), worded neutrally

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()

    def validate_unique(self) -> None:
        """Neither "username taken" nor "email taken": one neutral message for both (see NOT_AVAILABLE)."""

    def clean(self) -> dict[str, object]:
        data = super().clean()
        username, email = data.get("username"), data.get("email")
        if username and email:
            taken = User.objects.filter(username__iexact=username).exists() or (
                User.objects.filter(email__iexact=email).exists()
            )
            if taken:
                raise forms.ValidationError(NOT_AVAILABLE, code="not_available")
        return data
