"""LTI work that spans models: who a launch signs in, and where it lands.

The launch message itself is validated by pylti1p3 (lti/tool.py) before anything here runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from courseware.models import Course, Item, Module
from lti.models import Identity, Platform, UsedNonce

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_ROLES = CLAIM + "roles"
CLAIM_CUSTOM = CLAIM + "custom"
CLAIM_CONTEXT = CLAIM + "context"
CLAIM_RESOURCE_LINK = CLAIM + "resource_link"
CLAIM_DEPLOYMENT = CLAIM + "deployment_id"
CLAIM_MESSAGE_TYPE = CLAIM + "message_type"

# Context roles that teach (LTI 1.3 core, A.2.3 "Context roles", and TeachingAssistant, a sub-role of Instructor).
# Institution and system roles are ignored: a professor elsewhere in the university is a learner in this course.
TEACHING_ROLES = frozenset(
    {
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator",
        "http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper",
        "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
        # Simple names: deprecated in LTI 1.3 but still sent by some platforms for context roles.
        "Instructor",
        "Administrator",
        "ContentDeveloper",
    }
)

# Custom parameters that say where a link lands, from the least to the most specific.
TARGET_KINDS = ("module", "lesson", "quiz", "lab")
NONCE_KEEP = timedelta(hours=2)  # longer than any id_token lifetime we accept (exp is checked by PyJWT)


class LaunchError(Exception):
    """A launch we refuse; the message is shown to the person in the LMS frame."""


@dataclass(frozen=True)
class Target:
    course: Course
    module: Module | None
    item: Item | None

    @property
    def url(self) -> str:
        if self.item is not None:
            name = {"lesson": "courseware:lesson", "quiz": "courseware:quiz", "lab": "labs:lab"}[self.item.kind]
            return reverse(name, args=[self.course.slug, self.item.slug])
        outline = reverse("courseware:outline", args=[self.course.slug])
        return f"{outline}#module-{self.module.slug}" if self.module else outline

    def as_custom(self) -> dict[str, str]:
        """The custom parameters that point a resource link here (deep linking writes them into the LMS)."""
        custom = {"course": self.course.slug}
        if self.item is not None:
            custom[self.item.kind] = self.item.slug
        elif self.module is not None:
            custom["module"] = self.module.slug
        return custom


def is_teaching(roles: Any) -> bool:
    return isinstance(roles, list) and any(role in TEACHING_ROLES for role in roles)


def target_resolve(custom: Any) -> Target:
    """The course, module or item named by a link's custom parameters (course=<slug> and optionally one of
    module=, lesson=, quiz=, lab=)."""
    if not isinstance(custom, dict) or not custom.get("course"):
        raise LaunchError(
            "This link does not say which course to open: the LMS link needs the custom parameter course=<slug> "
            "(and optionally lesson=, quiz=, lab= or module=). Ask your instructor to add the activity again."
        )
    course = Course.objects.filter(slug=str(custom["course"])).first()
    if course is None:
        raise LaunchError(f"The course “{custom['course']}” does not exist here.")
    kinds = [kind for kind in TARGET_KINDS if custom.get(kind)]
    if len(kinds) > 1:
        raise LaunchError(f"This link names more than one place to open ({', '.join(kinds)}); it should name one.")
    if not kinds:
        return Target(course, None, None)
    kind, slug = kinds[0], str(custom[kinds[0]])
    if kind == "module":
        module = course.modules.filter(slug=slug, archived=False).first()
        if module is None:
            raise LaunchError(f"The module “{slug}” is not in the course “{course.title}”.")
        return Target(course, module, None)
    item = course.items.filter(kind=kind, slug=slug, archived=False).select_related("module").first()
    if item is None:
        raise LaunchError(f"The {kind} “{slug}” is not in the course “{course.title}”.")
    return Target(course, item.module, item)


def _username_for(issuer: str, subject: str) -> str:
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:16]
    return f"lti-{digest}"


def _text(value: Any, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def identity_sign_in(platform: Platform, claims: dict[str, Any], now: datetime | None = None) -> User:
    """The local account linked to the launch's (issuer, sub), created on first launch without a password."""
    return identity_provision(platform, claims, launched=True, now=now)


def identity_provision(
    platform: Platform, claims: dict[str, Any], launched: bool, now: datetime | None = None
) -> User:
    """The local account linked to (issuer, sub), created without a password if new (by a launch or a roster).

    Name and email are taken from the claims when the platform sends them (and refreshed each time); an LMS
    teaching role makes the account an instructor (never the reverse: we do not demote on a learner launch
    elsewhere). Staff rights never come from an LMS.
    """
    now = now or timezone.now()
    subject = _text(claims.get("sub"), 255)
    if not subject:
        raise LaunchError("The LMS did not say who you are (no user id in the launch); anonymous launches are refused.")
    identity = Identity.objects.select_related("user").filter(issuer=platform.issuer, subject=subject).first()
    if identity is None:
        user = User(username=_username_for(platform.issuer, subject))
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
                identity = Identity.objects.create(
                    issuer=platform.issuer, subject=subject, user=user, platform=platform
                )
        except IntegrityError:  # two first launches at once: the other one created it
            identity = Identity.objects.select_related("user").get(issuer=platform.issuer, subject=subject)
    user = identity.user
    changed: list[str] = []
    for field, value in (
        ("first_name", _text(claims.get("given_name"), 150)),
        ("last_name", _text(claims.get("family_name"), 150)),
        ("email", _text(claims.get("email"), 254)),
    ):
        if value and getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if not (user.first_name or user.last_name):
        full = _text(claims.get("name"), 150)
        if full:
            user.first_name = full
            changed.append("first_name")
    if is_teaching(claims.get(CLAIM_ROLES)) and user.role != User.Role.INSTRUCTOR:
        user.role = User.Role.INSTRUCTOR
        changed.append("role")
    if changed:
        user.save(update_fields=sorted(set(changed)))
    if launched:
        Identity.objects.filter(pk=identity.pk).update(last_launch_at=now, platform=platform)
    return user


def nonce_record(issuer: str, nonce: str, now: datetime | None = None) -> None:
    """Remember an accepted launch's nonce; a second launch with the same one is a replay (LaunchError)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            UsedNonce.objects.create(issuer=issuer, nonce=nonce[:255], expires_at=now + NONCE_KEEP)
    except IntegrityError:
        raise LaunchError("This launch was already used (replayed nonce). Start again from the LMS.") from None


def nonces_purge(now: datetime | None = None) -> int:
    return UsedNonce.objects.filter(expires_at__lt=now or timezone.now()).delete()[0]


def platform_for_claims(claims: dict[str, Any]) -> Platform:
    """The registration a validated launch came through (pylti1p3 already matched issuer and audience)."""
    aud = claims.get("aud")
    if isinstance(aud, list):
        client_id = aud[0] if len(aud) == 1 else claims.get("azp")
    else:
        client_id = aud
    platform = Platform.objects.filter(issuer=claims.get("iss"), client_id=client_id, is_active=True).first()
    if platform is None:
        raise LaunchError("This LMS is not registered with Hyper-V Lab.")
    return platform
