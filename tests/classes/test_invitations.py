"""Instructors invite; people accept (issue 13 item 2). Nobody joins a class, or co-teaches it, without accepting;
no response tells whether an email or username has an account; an instructor sees a student's work only once
the student is in the class."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import User
from classes import services
from classes.gradebook import gradebook_csv
from classes.models import Class, Invitation, Membership
from courseware.models import Course
from labs.models import Lab
from labs.services import lab_attempt_current

pytestmark = pytest.mark.django_db


def _invite(client: Client, klass: Class, text: str) -> str:
    response = client.post(reverse("classes:manage", args=[klass.pk]), {"action": "csv", "students": text})
    assert response.status_code == 200
    return response.content.decode()


def _status(html: str) -> str:
    """The message shown after a POST (the page around it carries a fresh CSRF token each time)."""
    return re.search(r'<div role="status" class="message">.*?</div>', html, flags=re.S).group(0)  # type: ignore[union-attr]


def _answer(client: Client, invitation: Invitation, answer: str) -> int:
    return client.post(reverse("classes:invitation_answer", args=[invitation.pk, answer])).status_code


def test_a_csv_invites_and_adds_nobody_until_each_person_accepts(
    klass: Class, alice: User, bob: User, ian: User, ian_client: Client, alice_client: Client, bob_client: Client
) -> None:
    html = _invite(ian_client, klass, "username\nalice\nBOB@example.test\nnobody\nian\n")
    assert "3 invitations recorded: alice, BOB@example.test, nobody" in html
    assert "Already in or teaching this class: ian" in html
    assert not Membership.objects.exists()
    mine = Invitation.objects.get(user=alice)
    assert "Hyper-V week" in alice_client.get(reverse("classes:list")).content.decode()
    assert _answer(alice_client, mine, "accept") == 303
    assert Membership.objects.get(user=alice).via == Membership.Via.INVITATION
    assert _answer(bob_client, Invitation.objects.get(user=bob), "decline") == 303
    assert not Membership.objects.filter(user=bob).exists()
    assert Invitation.objects.get(user=bob).status == Invitation.Status.DECLINED
    again = services.invitations_create(klass, ["alice", "nobody"], ian)
    assert [u.username for u in again.in_class] == ["alice"] and again.waiting == ["nobody"]


def test_a_csv_file_can_be_uploaded(klass: Class, alice: User, ian_client: Client) -> None:
    upload = SimpleUploadedFile("class.csv", b"\xef\xbb\xbfemail\nalice@example.test\n", content_type="text/csv")
    ian_client.post(reverse("classes:manage", args=[klass.pk]), {"action": "csv", "file": upload})
    assert Invitation.objects.get(user=alice).address == "alice@example.test"
    assert not Membership.objects.exists()


@pytest.mark.parametrize(("known", "unknown"), [("alice", "nobody"), ("alice@example.test", "ghost@example.test")])
def test_inviting_says_the_same_whether_or_not_an_account_exists(
    klass: Class, alice: User, ian_client: Client, known: str, unknown: str
) -> None:
    answers = [_status(_invite(ian_client, klass, address)).replace(address, "ADDRESS") for address in (known, unknown)]
    assert answers[0] == answers[1] and "1 invitation recorded: ADDRESS" in answers[0]
    page = ian_client.get(reverse("classes:manage", args=[klass.pk])).content.decode()
    assert page.count("(student, ") == 2  # both wait for an answer, alike


def test_co_instructors_are_invited_and_co_teach_once_they_accept(
    klass: Class, olga: User, alice: User, ian_client: Client, olga_client: Client, alice_client: Client
) -> None:
    manage = reverse("classes:manage", args=[klass.pk])
    bodies = []
    for address in ("olga", "alice", "nobody"):  # an instructor, a student, no account: one answer
        response = ian_client.post(manage, {"action": "instructor", "instructor": address}, follow=True)
        assert response.status_code == 200
        messages = re.findall(r'<p class="message [^"]*">(.*?)</p>', response.content.decode(), flags=re.S)
        assert messages and "Invitation to co-teach recorded for “ADDRESS”" in messages[0].replace(address, "ADDRESS")
        bodies.append(" ".join(messages).replace(address, "ADDRESS"))
    assert bodies[0] == bodies[1] == bodies[2]
    assert olga_client.get(reverse("classes:detail", args=[klass.pk])).status_code == 404
    assert not Invitation.objects.filter(user=alice).exists()  # a student account cannot co-teach
    assert _answer(olga_client, Invitation.objects.get(user=olga), "accept") == 303
    assert olga_client.get(reverse("classes:detail", args=[klass.pk])).status_code == 200


def test_an_instructor_is_not_enrolled_as_a_student_without_consent(
    klass: Class, olga: User, ian_client: Client
) -> None:
    _invite(ian_client, klass, "olga")
    assert not Membership.objects.filter(user=olga).exists()


def test_only_the_invitee_answers_an_invitation(
    klass: Class, alice: User, ian: User, bob_client: Client, ian_client: Client, alice_client: Client
) -> None:
    services.invitations_create(klass, ["alice"], ian)
    invitation = Invitation.objects.get(user=alice)
    for client in (bob_client, ian_client):
        assert _answer(client, invitation, "accept") == 404
    assert alice_client.get(reverse("classes:invitation_answer", args=[invitation.pk, "accept"])).status_code == 405
    assert _answer(alice_client, invitation, "maybe") == 404
    assert not Membership.objects.exists()
    assert _answer(alice_client, invitation, "accept") == 303
    assert _answer(alice_client, invitation, "accept") == 404  # answered already


def test_an_invited_student_s_work_stays_hidden_until_they_accept(
    klass: Class, alice: User, ian: User, ian_client: Client, course: Course
) -> None:
    lab = Lab.objects.get(item__course=course, item__slug="io-trap-trace")
    attempt = lab_attempt_current(alice, lab)
    services.invitations_create(klass, ["alice"], ian)
    assert ian_client.get(reverse("classes:student", args=[klass.pk, alice.pk])).status_code == 404
    assert ian_client.get(reverse("classes:replay", args=[attempt.pk])).status_code == 404
    content, rows = gradebook_csv(klass)
    assert rows == 0 and b"alice@example.test" not in content
    services.invitation_accept(Invitation.objects.get(user=alice), alice)
    assert ian_client.get(reverse("classes:student", args=[klass.pk, alice.pk])).status_code == 200
    assert ian_client.get(reverse("classes:replay", args=[attempt.pk])).status_code == 200


def test_the_instructor_may_withdraw_an_invitation_and_another_instructor_may_not(
    klass: Class, alice: User, ian: User, ian_client: Client, olga_client: Client, alice_client: Client
) -> None:
    services.invitations_create(klass, ["alice"], ian)
    invitation = Invitation.objects.get(user=alice)
    manage = reverse("classes:manage", args=[klass.pk])
    assert olga_client.post(manage, {"action": "cancel", "invitation": invitation.pk}).status_code == 404
    assert ian_client.post(manage, {"action": "cancel", "invitation": invitation.pk}).status_code == 303
    assert not Invitation.objects.exists()
    assert _answer(alice_client, invitation, "accept") == 404


def test_an_invitation_to_an_email_without_an_account_waits_for_the_sign_up(
    klass: Class, ian: User, anon_client: Client
) -> None:
    services.invitations_create(klass, ["Carol@Example.test"], ian)
    password = "a-long-and-unusual-passphrase"
    data = {"username": "carol", "email": "carol@example.test", "password1": password, "password2": password}
    assert anon_client.post(reverse("signup"), data).status_code == 302
    carol = User.objects.get(username="carol")
    assert "Hyper-V week" in anon_client.get(reverse("classes:list")).content.decode()
    assert _answer(anon_client, Invitation.objects.get(user=carol), "accept") == 303
    assert Membership.objects.filter(klass=klass, user=carol).exists()
