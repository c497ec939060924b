"""Certificates of completion: who has earned one, claiming, issuing and revoking, and the PDF.

A self-paced learner earns a course certificate by completing every live item of the course (lessons read, quizzes
passed, labs passed). In a class, the trainer decides which of the three count (CertificateRule; no row: all three).
A trainer may also issue one by hand to any student of the class, and revoke any with a reason. What a certificate
says is copied when it is issued; its public verification page (by an unguessable code) shows that and nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from classes.models import Class, Membership
from courseware.models import Course, Item, Progress
from delivery.models import Certificate, CertificateRule
from delivery.pdf import html_to_pdf

KIND_LABELS = {"lesson": "lessons read", "quiz": "quizzes passed", "lab": "labs passed"}


class NotEligibleError(Exception):
    """The learner has not completed what the certificate requires; the message says what is missing."""


@dataclass
class Standing:
    """One learner's progress towards one certificate: completed and total live items per kind."""

    required: list[str]
    done: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return all(self.done.get(kind, 0) >= self.total.get(kind, 0) for kind in self.required)

    @property
    def missing(self) -> list[str]:
        return [
            f"{self.total.get(kind, 0) - self.done.get(kind, 0)} of {self.total.get(kind, 0)} {KIND_LABELS[kind]}"
            for kind in self.required
            if self.done.get(kind, 0) < self.total.get(kind, 0)
        ]

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [
            {"kind": kind, "label": KIND_LABELS[kind], "done": self.done.get(kind, 0), "total": self.total.get(kind, 0),
             "required": kind in self.required}
            for kind in KIND_LABELS
        ]  # fmt: skip


def required_kinds(rule: CertificateRule | None) -> list[str]:
    if rule is None:
        return list(KIND_LABELS)
    flags = {"lesson": rule.require_lessons, "quiz": rule.require_quizzes, "lab": rule.require_labs}
    return [kind for kind, required in flags.items() if required]


def rule_for(klass: Class) -> CertificateRule | None:
    return CertificateRule.objects.filter(klass=klass).first()


def course_totals(course_ids: list[int]) -> dict[int, dict[str, int]]:
    """Live items per kind of each course (one query)."""
    totals: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        Item.objects.filter(course_id__in=course_ids, archived=False, module__archived=False)
        .values("course_id", "kind")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        totals[row["course_id"]][row["kind"]] = row["n"]
    return totals


def completed_counts(user_ids: list[int], course_ids: list[int]) -> dict[tuple[int, int], dict[str, int]]:
    """{(user id, course id): {kind: completed live items}} (one query)."""
    counts: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    rows = (
        Progress.objects.filter(
            user_id__in=user_ids,
            item__course_id__in=course_ids,
            item__archived=False,
            item__module__archived=False,
            status=Progress.Status.COMPLETED,
        )
        .values("user_id", "item__course_id", "item__kind")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        counts[(row["user_id"], row["item__course_id"])][row["item__kind"]] = row["n"]
    return counts


def standing_for(user: User, course: Course, klass: Class | None = None) -> Standing:
    required = required_kinds(rule_for(klass)) if klass is not None else list(KIND_LABELS)
    return Standing(
        required=required,
        done=completed_counts([user.pk], [course.pk]).get((user.pk, course.pk), {}),
        total=course_totals([course.pk]).get(course.pk, {}),
    )


def trainer_names(klass: Class) -> str:
    return ", ".join(sorted(instructor.display_name for instructor in klass.instructors.all()))


def live_certificate(user: User, course: Course, klass: Class | None) -> Certificate | None:
    return Certificate.objects.filter(user=user, course=course, klass=klass, revoked_at__isnull=True).first()


def _issue(user: User, course: Course, klass: Class | None, issued_by: User | None) -> Certificate:
    existing = live_certificate(user, course, klass)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Certificate.objects.create(
                user=user,
                course=course,
                klass=klass,
                learner_name=user.display_name,
                course_title=course.title,
                course_version=course.version,
                class_title=klass.title if klass else "",
                trainer_name=trainer_names(klass) if klass else "",
                issued_by=issued_by,
            )
    except IntegrityError:  # issued at the same moment by another request: that one stands
        found = live_certificate(user, course, klass)
        assert found is not None
        return found


def certificate_claim(user: User, course: Course, klass: Class | None = None) -> Certificate:
    """Issue the learner's certificate for a course (in `klass`, under its trainer's rule) once they have completed
    what it requires; the live one if it exists. Raises NotEligibleError saying what is missing."""
    if klass is not None and not Membership.objects.filter(klass=klass, user=user).exists():
        raise NotEligibleError("You are not a student of this class.")
    standing = standing_for(user, course, klass)
    if not standing.complete:
        raise NotEligibleError("Not complete yet: still to do " + "; ".join(standing.missing) + ".")
    return _issue(user, course, klass, None)


def certificate_issue(klass: Class, student: User, trainer: User) -> Certificate:
    """A trainer issues a student of the class their certificate, whatever the rule says (the trainer decides)."""
    if not Membership.objects.filter(klass=klass, user=student).exists():
        raise NotEligibleError("Only students of this class can be given its certificate.")
    return _issue(student, klass.course, klass, trainer)


def certificate_revoke(certificate: Certificate, trainer: User, reason: str) -> None:
    """Revoke with a reason (kept, shown on the verification page with the date); revoking twice changes nothing."""
    reason = " ".join(reason.split())
    if not reason:
        raise ValueError("Give a reason for revoking the certificate.")
    Certificate.objects.filter(pk=certificate.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=trainer, revoke_reason=reason[:500]
    )


def certificate_pdf(certificate: Certificate, verify_url: str) -> bytes:
    """The certificate as a one-page landscape PDF with its verification URL."""
    html = render_to_string("delivery/certificate_pdf.html", {"certificate": certificate, "verify_url": verify_url})
    pdf, _pages = html_to_pdf(html, {})
    return pdf
