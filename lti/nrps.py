"""Names and Role Provisioning: an LMS course becomes a class here, with the LMS course's roster.

When an instructor launches a link from an LMS course, the course (context) gets a class taught by them, for the
course the link opens; its members are read from the platform's membership service (NRPS 2.0) right after, on
demand from the class's LMS page, and daily (beat). Learners get their local accounts then, before their first
launch, so the live dashboard, heatmap and gradebook list the whole LMS class. Membership goes through the classes
app's public functions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import requests
from django.db import transaction
from django.utils import timezone
from pylti1p3.exception import LtiException
from pylti1p3.names_roles import NamesRolesProvisioningService

from accounts.models import User
from classes import services as classes
from classes.models import Membership
from courseware.models import Course
from lti import services, tool
from lti.models import LmsClass, Platform

logger = logging.getLogger(__name__)

CLAIM_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CLASS_LENGTH = timedelta(days=365)  # an LMS class stays joinable for a year; the LMS decides who is in it
ROSTER_LIMIT = 5000  # members read per sync: beyond this the LMS course is not a class


@dataclass
class SyncReport:
    added: list[User] = field(default_factory=list)
    removed: list[User] = field(default_factory=list)
    instructors: list[User] = field(default_factory=list)
    members: int = 0


def lms_class_for_launch(platform: Platform, claims: dict[str, Any], user: User, course: Course) -> LmsClass | None:
    """The class of the LMS course an instructor launched from (created on their first launch), or None when the
    launch is not an instructor's or has no course context. Its roster sync is enqueued on commit."""
    context = claims.get(services.CLAIM_CONTEXT) or {}
    context_id = str(context.get("id") or "")[:255]
    if not context_id or not services.is_teaching(claims.get(services.CLAIM_ROLES)):
        return None
    memberships_url = str((claims.get(CLAIM_NRPS) or {}).get("context_memberships_url") or "")[:500]
    with transaction.atomic():
        lms_class = (
            LmsClass.objects.select_for_update()
            .select_related("klass")
            .filter(platform=platform, context_id=context_id)
            .first()
        )
        if lms_class is None:
            today = timezone.localdate()
            title = str(context.get("title") or context.get("label") or context_id)[:200]
            klass = classes.class_create(user, course, title, today, today + CLASS_LENGTH)
            lms_class = LmsClass.objects.create(
                platform=platform, context_id=context_id, klass=klass, memberships_url=memberships_url
            )
        else:
            lms_class.klass.instructors.add(user)
            if memberships_url and memberships_url != lms_class.memberships_url:
                LmsClass.objects.filter(pk=lms_class.pk).update(memberships_url=memberships_url)
                lms_class.memberships_url = memberships_url
    if lms_class.memberships_url:
        transaction.on_commit(lambda: enqueue_sync(lms_class.pk))
    return lms_class


def enqueue_sync(lms_class_id: int) -> None:
    from lti.tasks import sync_roster

    try:
        sync_roster.delay(lms_class_id)
    except Exception:  # noqa: BLE001 - the broker is down: the daily sync or the next launch catches up
        logger.warning("could not enqueue the roster sync of LMS class %s", lms_class_id)


def roster_sync(lms_class_id: int) -> SyncReport:
    """Read the LMS course's members and make the class match: active learners in, inactive or deleted ones out,
    teaching members as instructors. Raises LtiException or requests' errors when the LMS cannot be read (recorded
    on the LmsClass for its page)."""
    lms_class = LmsClass.objects.select_related("platform", "klass").get(pk=lms_class_id)
    platform, klass = lms_class.platform, lms_class.klass
    try:
        nrps = NamesRolesProvisioningService(
            tool.service_connector(platform), {"context_memberships_url": lms_class.memberships_url}
        )
        members = list(nrps.get_members())[:ROSTER_LIMIT]
    except (LtiException, requests.RequestException) as error:
        LmsClass.objects.filter(pk=lms_class.pk).update(last_error=str(error)[:2000])
        raise
    report = SyncReport(members=len(members))
    current = set(Membership.objects.filter(klass=klass).values_list("user_id", flat=True))
    teachers = set(klass.instructors.values_list("pk", flat=True))
    for member in members:
        subject = str(member.get("user_id") or "")
        if not subject:
            continue
        claims = {"sub": subject, services.CLAIM_ROLES: member.get("roles") or [], **_names(member)}
        user = services.identity_provision(platform, claims, launched=False)
        active = member.get("status", "Active") == "Active"
        if services.is_teaching(member.get("roles")):
            if active and user.pk not in teachers:
                klass.instructors.add(user)
                report.instructors.append(user)
        elif active and user.pk not in current:
            classes.membership_add(klass, user, Membership.Via.LMS)
            report.added.append(user)
        elif not active and user.pk in current:
            classes.membership_remove(klass, user)
            report.removed.append(user)
    LmsClass.objects.filter(pk=lms_class.pk).update(synced_at=timezone.now(), last_error="")
    return report


def _names(member: dict[str, Any]) -> dict[str, str]:
    return {key: member[key] for key in ("name", "given_name", "family_name", "email") if member.get(key)}


def rosters_sync_all() -> int:
    """Sync every LMS class that has a membership service; returns how many synced (failures are logged)."""
    synced = 0
    for lms_class_id in LmsClass.objects.exclude(memberships_url="").values_list("pk", flat=True):
        try:
            roster_sync(lms_class_id)
            synced += 1
        except (LtiException, requests.RequestException) as error:
            logger.warning("roster sync of LMS class %s failed: %s", lms_class_id, error)
    return synced
