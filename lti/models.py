"""LTI 1.3: the platforms (LMSs) registered with us, our signing keys, and who and what each launch links to."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils import timezone


class Platform(models.Model):
    """One registration of this tool in an LMS: what the LMS told us when staff registered the tool there."""

    name = models.CharField(max_length=200, help_text="For people: 'University Moodle'.")
    issuer = models.URLField(max_length=500, help_text="The platform's issuer (iss), e.g. https://moodle.example.edu.")
    client_id = models.CharField(max_length=200, help_text="The client id the platform gave this tool.")
    auth_login_url = models.URLField(max_length=500, help_text="The platform's OIDC authentication request URL.")
    auth_token_url = models.URLField(max_length=500, help_text="The platform's OAuth2 access token URL (AGS, NRPS).")
    auth_audience = models.CharField(
        max_length=500, blank=True, help_text="Token request audience, if not the token URL."
    )
    key_set_url = models.URLField(max_length=500, help_text="The platform's public keys (JWKS) URL.")
    frame_origins = models.TextField(
        blank=True,
        help_text="Extra origins allowed to frame our pages after a launch, one a line (the issuer's and the "
        "login URL's origins are always allowed).",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "client_id"], name="lti_platform_unique_client")]

    def __str__(self) -> str:
        return f"{self.name} ({self.issuer}, client {self.client_id})"

    @property
    def allowed_frame_origins(self) -> list[str]:
        """Origins that may frame our pages for learners who launched from this platform (CSP frame-ancestors)."""
        origins: list[str] = []
        candidates = [self.issuer, self.auth_login_url, *self.frame_origins.split()]
        for url in candidates:
            parts = urlsplit(url.strip())
            if parts.scheme in ("http", "https") and parts.netloc:
                origin = f"{parts.scheme}://{parts.netloc}"
                if origin not in origins:
                    origins.append(origin)
        return origins


class Deployment(models.Model):
    """A deployment id of the tool within a platform: launches for any other deployment id are refused."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="deployments")
    deployment_id = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "deployment_id"], name="lti_deployment_unique"),
        ]

    def __str__(self) -> str:
        return self.deployment_id


class ToolKey(models.Model):
    """An RSA key pair of the tool. The newest active key signs; older ones stay published until retired."""

    kid = models.CharField(max_length=100, unique=True, help_text="The key id (RFC 7638 thumbprint).")
    private_key = models.TextField(help_text="PEM, PKCS#8.")
    public_key = models.TextField(help_text="PEM.")
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True, help_text="No longer published nor used.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.kid


class Identity(models.Model):
    """The local account of a platform user: (issuer, subject) is the LMS's stable identifier for a person."""

    issuer = models.CharField(max_length=500)
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lti_identities")
    platform = models.ForeignKey(Platform, on_delete=models.SET_NULL, null=True, related_name="identities")
    created_at = models.DateTimeField(default=timezone.now)
    last_launch_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="lti_identity_unique")]

    def __str__(self) -> str:
        return f"{self.issuer} / {self.subject}"


class UsedNonce(models.Model):
    """A nonce of an accepted launch: a second launch with it is a replay, refused (kept until the token expires)."""

    issuer = models.CharField(max_length=500)
    nonce = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "nonce"], name="lti_nonce_unique")]

    def __str__(self) -> str:
        return self.nonce


class ResourceLink(models.Model):
    """A link placed in an LMS course (resource_link id within a deployment), the item it opens, and where its
    grades go (the AGS endpoints the platform sent in the launch)."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="links")
    deployment_id = models.CharField(max_length=200)
    resource_link_id = models.CharField(max_length=255)
    context_id = models.CharField(max_length=255, blank=True)
    item = models.ForeignKey("courseware.Item", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ags_scopes = models.JSONField(default=list, blank=True)
    lineitems_url = models.URLField(max_length=500, blank=True)
    lineitem_url = models.URLField(max_length=500, blank=True, help_text="Found or created on the first score sent.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "deployment_id", "resource_link_id"], name="lti_resource_link_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.platform.name}: {self.resource_link_id}"


class LinkLearner(models.Model):
    """A learner who launched a link: their scores on its item go to its line item under their LMS user id."""

    link = models.ForeignKey(ResourceLink, on_delete=models.CASCADE, related_name="learners")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=255, help_text="The learner's user id in the LMS (sub).")
    # One sender at a time per learner and link, so their scores reach the LMS in the order they happened.
    sending_lease = models.UUIDField(null=True, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["link", "user"], name="lti_link_learner_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.link_id}"


class ScoreOutbox(models.Model):
    """One score change to send to the LMS, written in the same transaction as the change (so it is never lost),
    sent in id order per learner and link, once (its `change` key is unique per learner and link)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        REJECTED = "rejected", "Rejected by the LMS"

    learner = models.ForeignKey(LinkLearner, on_delete=models.CASCADE, related_name="outbox")
    change = models.CharField(max_length=100, help_text="What changed, e.g. 'quiz-attempt:12' or 'lab-run:40'.")
    score_given = models.FloatField()
    score_maximum = models.FloatField()
    activity_progress = models.CharField(max_length=20)
    grading_progress = models.CharField(max_length=20, default="FullyGraded")
    timestamp = models.DateTimeField(help_text="When the change happened: the LMS keeps the newest, ignores repeats.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["learner", "change"], name="lti_outbox_change_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="lti_outbox_due")]

    def __str__(self) -> str:
        return f"{self.change} → {self.learner_id} ({self.status})"


class LmsClass(models.Model):
    """The class that mirrors an LMS course (context): its roster comes from the platform's NRPS."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="classes")
    context_id = models.CharField(max_length=255)
    klass = models.OneToOneField("classes.Class", on_delete=models.CASCADE, related_name="lms")
    memberships_url = models.URLField(max_length=500, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "context_id"], name="lti_lms_class_unique")]

    def __str__(self) -> str:
        return f"{self.platform.name}: {self.context_id}"
