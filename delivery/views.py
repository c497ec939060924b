"""Classroom delivery pages: present mode (slides and a presenter view), trace presentation, handbooks, certificates.

Thin views: access through delivery.access, work in delivery.services. Slides were rendered when the course was
loaded (courseware.slides), so a present page reads one lesson row and renders no Markdown.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from classes.models import Class, Membership
from classes.services import class_get_for_instructor, student_get_for_class, teaches_course
from core.http import HtmxHttpRequest
from courseware.models import Course, Item, Progress, heavy_course_fields
from delivery import certificates as certificates_service
from delivery import handbooks as handbooks_service
from delivery import services
from delivery.access import require_trainer
from delivery.models import Certificate, CertificateRule, Handbook
from delivery.pdf import PdfUnavailableError, pdf_missing


def _see_other(url: str) -> HttpResponse:
    """Redirect after a POST with 303, so that reloading the next page never re-submits."""
    response = redirect(url)
    response.status_code = 303
    return response


def _lesson_for_trainer(request: HtmxHttpRequest, course: str, lesson: str) -> Item:
    item = get_object_or_404(
        Item.objects.select_related("course", "lesson").defer(*heavy_course_fields(), "lesson__body_html"),
        course__slug=course,
        slug=lesson,
        kind=Item.Kind.LESSON,
        archived=False,
    )
    require_trainer(request.user, item.course_id)
    return item


def _deck_context(item: Item) -> dict[str, Any]:
    lesson = item.lesson
    slides = lesson.slides or [{"title": item.title, "kind": "title", "html": "", "notes_html": ""}]
    return {
        "course": item.course,
        "item": item,
        "lesson": lesson,
        "slides": slides,
        "count": len(slides),
        "has_slide_notes": any(slide.get("notes_html") for slide in slides),
        "channel": f"hvlab-present:{item.course.slug}:{item.slug}",
    }


@login_required
@require_GET
def present(request: HtmxHttpRequest, course: str, lesson: str) -> HttpResponse:
    """The lesson as full-screen slides for the room; the presenter view follows it over a BroadcastChannel."""
    item = _lesson_for_trainer(request, course, lesson)
    return render(request, "delivery/present.html", _deck_context(item))


@login_required
@require_GET
def presenter(request: HtmxHttpRequest, course: str, lesson: str) -> HttpResponse:
    """The presenter's window: current and next slide, the notes for the slide, and a timer against the minutes."""
    item = _lesson_for_trainer(request, course, lesson)
    return render(request, "delivery/presenter.html", _deck_context(item))


@login_required
@require_GET
def present_trace(request: HtmxHttpRequest, course: str, path: str) -> HttpResponse:
    """A reference I/O trace (one 100 KB disk write, emulated or synthetic) full-screen, stepped with the keyboard."""
    course_obj = get_object_or_404(Course.objects.only("pk", "slug", "title"), slug=course)
    require_trainer(request.user, course_obj.pk)
    if path not in services.REFERENCE_TRACES:
        raise Http404("No such reference trace: choose emulated or synthetic.")
    return render(
        request,
        "delivery/present_trace.html",
        {
            "course": course_obj,
            "path": path,
            "trace": services.reference_trace(path),
            "label": services.REFERENCE_TRACES[path]["label"],
            "other": "synthetic" if path == "emulated" else "emulated",
        },
    )


# --- Handbooks ----------------------------------------------------------------------------------------------------


def _handbook_context(request: HtmxHttpRequest, course: Course) -> dict[str, Any]:
    trainer = teaches_course(request.user, course.pk)
    kinds = [Handbook.Kind.STUDENT, Handbook.Kind.INSTRUCTOR] if trainer else [Handbook.Kind.STUDENT]
    found = {
        handbook.kind: handbook
        for handbook in Handbook.objects.defer("content").filter(course=course, course_version=course.version)
    }
    building = any(handbook.status in (Handbook.Status.PENDING, Handbook.Status.RUNNING) for handbook in found.values())
    return {
        "course": course,
        "trainer": trainer,
        "building": building,
        "missing": pdf_missing(),
        "entries": [{"kind": kind, "label": Handbook.Kind(kind).label, "handbook": found.get(kind)} for kind in kinds],
    }


def _course_for_handbooks(course: str) -> Course:
    return get_object_or_404(Course.objects.only("pk", "slug", "title", "version"), slug=course)


@login_required
@require_GET
def handbooks(request: HtmxHttpRequest, course: str) -> HttpResponse:
    """The course's handbooks of the current version: status, progress while a worker builds one, download."""
    course_obj = _course_for_handbooks(course)
    context = _handbook_context(request, course_obj)
    template = "delivery/handbooks.html#list" if request.htmx else "delivery/handbooks.html"
    return render(request, template, context)


@login_required
@require_POST
def handbook_build(request: HtmxHttpRequest, course: str, kind: str) -> HttpResponse:
    """Ask a worker to build a handbook of the current version (trainers only); a built one is kept, not rebuilt."""
    course_obj = _course_for_handbooks(course)
    require_trainer(request.user, course_obj.pk)
    if kind not in Handbook.Kind.values:
        raise Http404("No such handbook.")
    try:
        handbooks_service.handbook_request(course_obj, kind)
    except PdfUnavailableError as error:
        messages.error(request, f"PDFs cannot be made on this server: {error}")
    return _see_other(reverse("delivery:handbooks", args=[course_obj.slug]))


@login_required
@require_GET
def handbook_download(request: HtmxHttpRequest, course: str, kind: str) -> HttpResponse:
    """The built PDF of the current version: the student handbook for any signed-in user, the instructor one for
    trainers only."""
    course_obj = _course_for_handbooks(course)
    if kind not in Handbook.Kind.values:
        raise Http404("No such handbook.")
    if kind == Handbook.Kind.INSTRUCTOR:
        require_trainer(request.user, course_obj.pk)
    handbook = get_object_or_404(
        Handbook, course=course_obj, kind=kind, course_version=course_obj.version, status=Handbook.Status.READY
    )
    response = HttpResponse(bytes(handbook.content), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{handbook.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- Certificates -------------------------------------------------------------------------------------------------


@login_required
@require_GET
def my_certificates(request: HtmxHttpRequest) -> HttpResponse:
    """The learner's certificates, and for each course they started (on their own or in a class) what is left."""
    user = request.user
    certificates = list(Certificate.objects.filter(user=user))
    memberships = list(Membership.objects.filter(user=user).select_related("klass__course", "klass__certificate_rule"))
    started = set(
        Progress.objects.filter(user=user, item__archived=False).values_list("item__course_id", flat=True).distinct()
    )
    course_ids = sorted(started | {membership.klass.course_id for membership in memberships})
    courses = {course.pk: course for course in Course.objects.filter(pk__in=course_ids).only("pk", "slug", "title")}
    totals = certificates_service.course_totals(course_ids)
    done = certificates_service.completed_counts([user.pk], course_ids)
    live = {(c.course_id, c.klass_id): c for c in certificates if not c.revoked}
    candidates = []
    for membership in memberships:
        klass = membership.klass
        rule = getattr(klass, "certificate_rule", None)
        candidates.append(
            {
                "course": courses[klass.course_id],
                "klass": klass,
                "certificate": live.get((klass.course_id, klass.pk)),
                "standing": certificates_service.Standing(
                    required=certificates_service.required_kinds(rule),
                    done=done.get((user.pk, klass.course_id), {}),
                    total=totals.get(klass.course_id, {}),
                ),
            }
        )
    for course_id in sorted(started, key=lambda pk: courses[pk].title):
        candidates.append(
            {
                "course": courses[course_id],
                "klass": None,
                "certificate": live.get((course_id, None)),
                "standing": certificates_service.Standing(
                    required=list(certificates_service.KIND_LABELS),
                    done=done.get((user.pk, course_id), {}),
                    total=totals.get(course_id, {}),
                ),
            }
        )
    return render(request, "delivery/my_certificates.html", {"certificates": certificates, "candidates": candidates})


@login_required
@require_POST
def certificate_claim(request: HtmxHttpRequest) -> HttpResponse:
    course = get_object_or_404(Course, slug=request.POST.get("course", ""))
    klass = None
    class_id = request.POST.get("class", "")
    if class_id:
        if not class_id.isdigit():
            raise Http404("No such class.")
        klass = get_object_or_404(Class, pk=int(class_id), course=course, memberships__user=request.user)
    try:
        certificate = certificates_service.certificate_claim(request.user, course, klass)
    except certificates_service.NotEligibleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Your certificate for {certificate.course_title} is ready.")
    return _see_other(reverse("delivery:my_certificates"))


def _certificate_for_viewer(user: Any, code: str) -> Certificate:
    """The learner's own certificate, or one of a class the user teaches (staff: any); 404 otherwise."""
    certificate = get_object_or_404(Certificate.objects.select_related("klass"), code=code)
    if certificate.user_id == user.pk or getattr(user, "is_staff", False):
        return certificate
    if certificate.klass is not None and certificate.klass.instructors.filter(pk=user.pk).exists():
        return certificate
    raise Http404("No such certificate of yours.")


@login_required
@require_GET
def certificate_pdf(request: HtmxHttpRequest, code: str) -> HttpResponse:
    certificate = _certificate_for_viewer(request.user, code)
    if certificate.revoked:
        raise Http404("This certificate was revoked.")
    verify_url = request.build_absolute_uri(reverse("delivery:verify", args=[certificate.code]))
    try:
        pdf = certificates_service.certificate_pdf(certificate, verify_url)
    except PdfUnavailableError as error:
        return render(request, "delivery/pdf_unavailable.html", {"missing": str(error)}, status=503)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.code}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def verify(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """Public: confirms a certificate by its unguessable code, showing only what the certificate itself says."""
    certificate = Certificate.objects.filter(code=code).first()
    if certificate is None:
        return render(request, "delivery/verify_unknown.html", status=404)
    response = render(request, "delivery/verify.html", {"certificate": certificate})
    response["X-Robots-Tag"] = "noindex"
    return response


def _class_certificates_context(klass: Class) -> dict[str, Any]:
    rule = certificates_service.rule_for(klass)
    required = certificates_service.required_kinds(rule)
    members = [m.user for m in Membership.objects.filter(klass=klass).select_related("user").order_by("user__username")]
    totals = certificates_service.course_totals([klass.course_id]).get(klass.course_id, {})
    done = certificates_service.completed_counts([user.pk for user in members], [klass.course_id])
    live: dict[int, Certificate] = {}
    revoked: set[int] = set()
    for certificate in Certificate.objects.filter(klass=klass):
        if certificate.revoked:
            revoked.add(certificate.user_id)
        else:
            live[certificate.user_id] = certificate
    rows = [
        {
            "user": user,
            "standing": certificates_service.Standing(
                required=required, done=done.get((user.pk, klass.course_id), {}), total=totals
            ),
            "certificate": live.get(user.pk),
            "revoked": user.pk in revoked,
        }
        for user in members
    ]
    return {"klass": klass, "required": required, "rows": rows}


@login_required
def class_certificates(request: HtmxHttpRequest, class_id: int) -> HttpResponse:
    """A class's certificates for its trainers: the rule, each student's standing, issue and revoke."""
    klass = class_get_for_instructor(request.user, class_id)
    if request.method == "POST":
        CertificateRule.objects.update_or_create(
            klass=klass,
            defaults={
                "require_lessons": "require_lessons" in request.POST,
                "require_quizzes": "require_quizzes" in request.POST,
                "require_labs": "require_labs" in request.POST,
            },
        )
        messages.success(request, "The certificate rule is saved.")
        return _see_other(reverse("delivery:class_certificates", args=[klass.pk]))
    if request.method != "GET":
        return HttpResponse(status=405)
    return render(request, "delivery/class_certificates.html", _class_certificates_context(klass))


@login_required
@require_POST
def certificate_issue(request: HtmxHttpRequest, class_id: int, user_id: int) -> HttpResponse:
    klass = class_get_for_instructor(request.user, class_id)
    student = student_get_for_class(klass, user_id).user
    certificate = certificates_service.certificate_issue(klass, student, request.user)
    messages.success(request, f"Certificate issued to {certificate.learner_name}.")
    return _see_other(reverse("delivery:class_certificates", args=[klass.pk]))


@login_required
@require_POST
def certificate_revoke(request: HtmxHttpRequest, class_id: int, certificate_id: int) -> HttpResponse:
    klass = class_get_for_instructor(request.user, class_id)
    certificate = get_object_or_404(Certificate.objects.filter(klass=klass), pk=certificate_id)
    try:
        certificates_service.certificate_revoke(certificate, request.user, request.POST.get("reason", ""))
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{certificate.learner_name}'s certificate is revoked.")
    return _see_other(reverse("delivery:class_certificates", args=[klass.pk]))
