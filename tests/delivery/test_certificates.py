"""Certificates: earning one (course or class rule), claiming, the PDF, the public verification page, trainers
issuing and revoking, access for every persona, and pinned query counts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from classes.models import Class
from courseware.models import Course, Item, Progress
from delivery import certificates
from delivery.models import Certificate, CertificateRule
from delivery.pdf import pdf_missing

PERSONAS = ("anon", "alice", "bob", "ian", "olga", "stan")


def complete(user: User, course: Course, *kinds: str) -> None:
    """Mark every live item of these kinds completed for the user."""
    now = timezone.now()
    for item in Item.objects.filter(course=course, archived=False, kind__in=kinds):
        Progress.objects.update_or_create(
            user=user, item=item, defaults={"status": "completed", "completed_at": now, "last_activity_at": now}
        )


def test_a_course_certificate_needs_every_item(alice: User, course: Course) -> None:
    complete(alice, course, "lesson", "quiz")
    with pytest.raises(certificates.NotEligibleError, match=r"still to do 1 of 1 labs passed"):
        certificates.certificate_claim(alice, course)
    complete(alice, course, "lab")
    certificate = certificates.certificate_claim(alice, course)
    assert certificate.learner_name == "alice" and certificate.course_title == course.title
    assert certificate.klass is None and certificate.trainer_name == ""
    assert len(certificate.code) >= 22 and certificates.certificate_claim(alice, course) == certificate


def test_a_class_certificate_follows_the_trainers_rule(alice: User, ian: User, alice_in_class: Class) -> None:
    course = alice_in_class.course
    complete(alice, course, "lesson")
    with pytest.raises(certificates.NotEligibleError):
        certificates.certificate_claim(alice, course, alice_in_class)
    CertificateRule.objects.create(klass=alice_in_class, require_quizzes=False, require_labs=False)
    certificate = certificates.certificate_claim(alice, course, alice_in_class)
    assert certificate.class_title == alice_in_class.title and certificate.trainer_name == "ian"


def test_a_learner_outside_the_class_cannot_claim_its_certificate(bob: User, klass: Class) -> None:
    complete(bob, klass.course, "lesson", "quiz", "lab")
    with pytest.raises(certificates.NotEligibleError, match="not a student"):
        certificates.certificate_claim(bob, klass.course, klass)


def test_claim_page_lists_standing_and_issues_when_complete(alice_client: Client, alice: User, course: Course) -> None:
    complete(alice, course, "lesson")
    page = alice_client.get(reverse("delivery:my_certificates")).content.decode()
    assert "not complete yet" in page and "Get my certificate" not in page
    refused = alice_client.post(reverse("delivery:certificate_claim"), {"course": course.slug}, follow=True)
    assert "Not complete yet" in refused.content.decode() and not Certificate.objects.exists()
    complete(alice, course, "quiz", "lab")
    assert "Get my certificate" in alice_client.get(reverse("delivery:my_certificates")).content.decode()
    alice_client.post(reverse("delivery:certificate_claim"), {"course": course.slug})
    certificate = Certificate.objects.get(user=alice)
    page = alice_client.get(reverse("delivery:my_certificates")).content.decode()
    assert reverse("delivery:verify", args=[certificate.code]) in page


@pytest.mark.skipif(bool(pdf_missing()), reason="WeasyPrint cannot run here")
def test_the_certificate_pdf_has_name_course_date_class_trainer_and_url(
    alice_client: Client, alice: User, alice_in_class: Class
) -> None:
    certificate = certificates.certificate_issue(alice_in_class, alice, alice_in_class.created_by)
    response = alice_client.get(reverse("delivery:certificate_pdf", args=[certificate.code]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    out = Path(settings.VAR_DIR) / "certificates"
    out.mkdir(parents=True, exist_ok=True)
    pdf = out / "certificate.pdf"
    pdf.write_bytes(response.content)
    text = " ".join(
        subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "Certificate of completion" in text and "alice" in text and alice_in_class.course.title in text
    assert alice_in_class.title in text and "Trainer: ian" in text
    assert f"http://testserver/verify/{certificate.code}/" in text
    assert re.search(rf"Completed on {timezone.now():%-d %B %Y}", text)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(pdf), str(out / "certificate")], check=True)


def test_verification_page_confirms_without_revealing_more(
    anon_client: Client, alice: User, ian: User, alice_in_class: Class
) -> None:
    alice.email = "alice-private@example.test"
    alice.save()
    certificate = certificates.certificate_issue(alice_in_class, alice, ian)
    url = reverse("delivery:verify", args=[certificate.code])
    html = anon_client.get(url).content.decode()
    assert "✓ Valid." in html and "alice" in html and alice_in_class.title in html and "ian" in html
    assert "alice-private@example.test" not in html and "/students/" not in html and "score" not in html.lower()
    certificates.certificate_revoke(certificate, ian, "Issued to the wrong person")
    html = anon_client.get(url).content.decode()
    assert "✗ Revoked." in html and "✓ Valid." not in html
    assert "wrong person" not in html, "the reason stays with the trainers"
    unknown = anon_client.get(reverse("delivery:verify", args=["x" * 22]))
    assert unknown.status_code == 404 and "No certificate has this id" in unknown.content.decode()


def test_trainer_sets_the_rule_issues_and_revokes(ian_client: Client, alice: User, alice_in_class: Class) -> None:
    url = reverse("delivery:class_certificates", args=[alice_in_class.pk])
    ian_client.post(url, {"require_lessons": "on"})
    rule = CertificateRule.objects.get(klass=alice_in_class)
    assert (rule.require_lessons, rule.require_quizzes, rule.require_labs) == (True, False, False)
    page = ian_client.get(url).content.decode()
    assert "alice" in page and "(not required)" in page and "Not complete" in page

    ian_client.post(reverse("delivery:certificate_issue", args=[alice_in_class.pk, alice.pk]))
    certificate = Certificate.objects.get(user=alice, klass=alice_in_class)
    assert certificate.issued_by is not None and certificate.issued_by.username == "ian"
    revoke = reverse("delivery:certificate_revoke", args=[alice_in_class.pk, certificate.pk])
    refused = ian_client.post(revoke, {"reason": "  "}, follow=True)
    assert "Give a reason" in refused.content.decode()
    ian_client.post(revoke, {"reason": "Left on day one"})
    certificate.refresh_from_db()
    assert certificate.revoked and certificate.revoke_reason == "Left on day one"
    page = ian_client.get(url).content.decode()
    assert "A previous certificate was revoked." in page
    ian_client.post(reverse("delivery:certificate_issue", args=[alice_in_class.pk, alice.pk]))
    assert Certificate.objects.filter(user=alice, klass=alice_in_class, revoked_at__isnull=True).count() == 1


@pytest.mark.parametrize("persona", PERSONAS)
def test_certificate_access_for_every_persona(
    request: pytest.FixtureRequest, persona: str, alice: User, bob: User, ian: User, alice_in_class: Class
) -> None:
    client: Client = request.getfixturevalue(f"{persona}_client")
    certificate = certificates.certificate_issue(alice_in_class, alice, ian)
    page = client.get(reverse("delivery:class_certificates", args=[alice_in_class.pk]))
    issue = client.post(reverse("delivery:certificate_issue", args=[alice_in_class.pk, alice.pk]))
    revoke = client.post(
        reverse("delivery:certificate_revoke", args=[alice_in_class.pk, certificate.pk]), {"reason": "test"}
    )
    pdf = client.get(reverse("delivery:certificate_pdf", args=[certificate.code]))
    verify = client.get(reverse("delivery:verify", args=[certificate.code]))
    mine = client.get(reverse("delivery:my_certificates"))
    assert verify.status_code == 200, "the verification page is public"
    if persona == "anon":
        for response in (page, issue, revoke, pdf, mine):
            assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        return
    trainer = persona in ("ian", "stan")
    assert page.status_code == (200 if trainer else 404)
    assert issue.status_code == (303 if trainer else 404)
    assert revoke.status_code == (303 if trainer else 404)
    certificate.refresh_from_db()
    assert certificate.revoked == trainer
    # Only its learner downloads it; the trainers revoked it above, and a revoked certificate has no PDF.
    expected_pdf = 200 if persona == "alice" else 404
    assert pdf.status_code == (503 if expected_pdf == 200 and pdf_missing() else expected_pdf)
    assert mine.status_code == 200 and (certificate.code in mine.content.decode()) == (persona == "alice")


def test_issuing_to_someone_outside_the_class_is_404(ian_client: Client, bob: User, klass: Class) -> None:
    assert ian_client.post(reverse("delivery:certificate_issue", args=[klass.pk, bob.pk])).status_code == 404
    assert not Certificate.objects.exists()


def test_a_claim_for_a_class_one_is_not_in_is_404(bob_client: Client, klass: Class) -> None:
    response = bob_client.post(reverse("delivery:certificate_claim"), {"course": klass.course.slug, "class": klass.pk})
    assert response.status_code == 404
    bad = bob_client.post(reverse("delivery:certificate_claim"), {"course": klass.course.slug, "class": "1 OR 1"})
    assert bad.status_code == 404


def _students(klass: Class, n: int) -> None:
    from classes import services as class_services

    for i in range(n):
        user = User.objects.create(username=f"student{i}", role=User.Role.STUDENT)
        class_services.membership_add(klass, user, "csv")
        complete(user, klass.course, "lesson")
        if i % 2:
            certificates.certificate_issue(klass, user, klass.created_by)


@pytest.mark.parametrize("students", [2, 12])
def test_class_certificates_query_count_is_pinned(
    ian_client: Client, klass: Class, django_assert_num_queries: object, students: int
) -> None:
    _students(klass, students)
    url = reverse("delivery:class_certificates", args=[klass.pk])
    ian_client.get(url)
    # class, rule, members, totals, completed counts, certificates (the session and the user come from the cache)
    with django_assert_num_queries(6):  # type: ignore[operator]
        assert ian_client.get(url).status_code == 200


@pytest.mark.parametrize("classes", [1, 3])
def test_my_certificates_query_count_is_pinned(
    alice_client: Client, alice: User, ian: User, course: Course, django_assert_num_queries: object, classes: int
) -> None:
    from classes import services as class_services
    from tests.classes.conftest import make_class

    for i in range(classes):
        klass = make_class(ian, course, title=f"Week {i}")
        class_services.membership_add(klass, alice, "code")
    complete(alice, course, "lesson")
    certificates.certificate_issue(klass, alice, ian)
    url = reverse("delivery:my_certificates")
    alice_client.get(url)
    # certificates, memberships, started courses, courses, totals, completed counts (session and user: cache)
    with django_assert_num_queries(6):  # type: ignore[operator]
        assert alice_client.get(url).status_code == 200


def test_verification_page_query_count_is_pinned(
    anon_client: Client, alice: User, ian: User, alice_in_class: Class, django_assert_num_queries: object
) -> None:
    certificate = certificates.certificate_issue(alice_in_class, alice, ian)
    with django_assert_num_queries(1):  # type: ignore[operator]
        assert anon_client.get(reverse("delivery:verify", args=[certificate.code])).status_code == 200
