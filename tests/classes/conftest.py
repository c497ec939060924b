"""Classes fixtures: the sample course with the shipped I/O lab, a class taught by ian, alice in it."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import User
from classes import services
from classes.models import Class, Invitation
from courseware.models import Course
from courseware.services import course_load
from tests.labs.conftest import SHIPPED_LABS

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sample-course"


def build_class_course(folder: Path) -> Path:
    """The sample course (3 modules, quizzes) with its placeholder lab replaced by the shipped io-trap-trace lab."""
    shutil.copytree(SAMPLE, folder)
    shutil.rmtree(folder / "labs" / "io-trap-trace")
    shutil.copytree(SHIPPED_LABS / "io-trap-trace", folder / "labs" / "io-trap-trace")
    return folder


@pytest.fixture
def course(db: None, tmp_path: Path) -> Course:
    return course_load(build_class_course(tmp_path / "sample-course")).course


def make_class(instructor: User, course: Course, paced: bool = False, **extra: object) -> Class:
    today = timezone.localdate()
    return services.class_create(
        instructor, course, extra.pop("title", "Hyper-V week"), today, today + timedelta(days=4), paced
    )


def invite_and_accept(klass: Class, username: str, role: str = "student") -> User:
    """An instructor of `klass` invites `username`, who accepts: the only way an instructor brings someone in."""
    user = User.objects.get(username=username)
    services.invitations_create(klass, [username], klass.instructors.first(), role)  # type: ignore[arg-type]
    services.invitation_accept(Invitation.objects.get(klass=klass, user=user, status="pending"), user)
    return user


@pytest.fixture
def klass(ian: User, course: Course) -> Class:
    return make_class(ian, course)


@pytest.fixture
def alice_in_class(klass: Class, alice: User) -> Class:
    services.membership_add(klass, alice, "code")
    return klass
