"""Classes pages: thin views over classes.services; htmx requests get the page's fragment alone.

Every view that takes a class id goes through services.class_get_for_instructor or class_get_for_member, so
another instructor's class, or a class a student is not in, is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import instructor_required
from classes import forms, services
from classes.dashboard import (
    FAILED_CHECKS_IN_A_ROW,
    IDLE_MINUTES,
    SORTS,
    dashboard_build,
    heatmap_build,
    student_detail,
)
from classes.gradebook import export_request, gradebook_columns, gradebook_rows
from classes.models import Class, Export, Invitation, Membership
from core.http import HtmxHttpRequest
from courseware.models import Item, Module, Quiz
from labs.models import Lab, LabRun


def _see_other(url: str) -> HttpResponse:
    response = redirect(url)
    response.status_code = 303
    return response


def _join_url(request: HtmxHttpRequest, klass: Class) -> str:
    return request.build_absolute_uri(reverse("classes:join_link", args=[klass.join_code]))


@login_required
@require_GET
def class_list(request: HtmxHttpRequest) -> HttpResponse:
    taught, joined = services.classes_for_user(request.user)
    invitations = services.invitations_for_user(request.user)
    return render(request, "classes/list.html", {"taught": taught, "joined": joined, "invitations": invitations})


@login_required
@require_POST
def invitation_answer(request: HtmxHttpRequest, invitation_id: int, answer: str) -> HttpResponse:
    """The invitee accepts or declines an invitation listed on their Classes page (404 for anyone else)."""
    if answer not in ("accept", "decline"):
        raise Http404("Accept or decline.")
    invitation = services.invitation_get_for_invitee(request.user, invitation_id)
    klass = invitation.klass
    if answer == "decline":
        services.invitation_decline(invitation, request.user)
        messages.info(request, f"You declined the invitation to {klass.title}.")
        return _see_other(reverse("classes:list"))
    try:
        services.invitation_accept(invitation, request.user)
    except ValueError as error:
        messages.error(request, str(error))
        return _see_other(reverse("classes:list"))
    if invitation.role == Invitation.Role.INSTRUCTOR:
        messages.success(request, f"You now co-teach {klass.title}.")
    else:
        messages.success(request, f"You joined {klass.title}.")
    return _see_other(reverse("classes:detail", args=[klass.pk]))


@instructor_required
@require_http_methods(["GET", "POST"])
def class_new(request: HtmxHttpRequest) -> HttpResponse:
    form = forms.ClassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        klass = services.class_create(
            request.user,
            data["course"], data["title"], data["starts_on"], data["ends_on"], data["paced"],
        )  # fmt: skip
        messages.success(request, f"Class created. Students join with the code {klass.join_code}.")
        return _see_other(reverse("classes:manage", args=[klass.pk]))
    return render(request, "classes/new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_GET
def class_detail(request: HtmxHttpRequest, class_id: int) -> HttpResponse:
    """The live dashboard for the class's instructors; a student's own class page for its students."""
    if request.user.is_instructor:
        try:
            klass = services.class_get_for_instructor(request.user, class_id)
        except Http404:
            klass = None
        if klass is not None:
            return _dashboard(request, klass)
    klass = services.class_get_for_member(request.user, class_id)
    columns = gradebook_columns(klass)
    return render(
        request,
        "classes/student_class.html",
        {
            "klass": klass,
            "columns": columns,
            "rows": gradebook_rows(klass, columns, only=request.user),
            "hand": services.open_hand(klass, request.user),
            "hand_form": forms.HandForm(),
            "modules": services.modules_with_state(klass) if klass.paced else [],
        },
    )


def _dashboard(request: HtmxHttpRequest, klass: Class) -> HttpResponse:
    sort = request.GET.get("sort", "name")
    board = dashboard_build(klass, sort)
    context = {
        "klass": klass,
        "board": board,
        "sorts": SORTS,
        "labs": [item for item in board.items if item.kind == Item.Kind.LAB],
        "thresholds": {
            "failed": FAILED_CHECKS_IN_A_ROW,
            "idle": IDLE_MINUTES,
        },
    }
    if request.htmx and request.htmx.target == "board":
        return render(request, "classes/dashboard.html#board", context)
    return render(request, "classes/dashboard.html", context)


@login_required
@require_GET
def heatmap(request: HtmxHttpRequest, class_id: int, lab: str) -> HttpResponse:
    klass = services.class_get_for_instructor(request.user, class_id)
    lab_obj = services.lab_for_class(klass, lab)
    context = {"klass": klass, "heat": heatmap_build(klass, lab_obj)}
    if request.htmx:
        return render(request, "classes/heatmap.html#heat", context)
    return render(request, "classes/heatmap.html", context)


@login_required
@require_GET
def gradebook(request: HtmxHttpRequest, class_id: int) -> HttpResponse:
    """All rows for the class's instructors; a student sees only their own row."""
    klass, teaching = _class_for_either(request, class_id)
    columns = gradebook_columns(klass)
    rows = gradebook_rows(klass, columns, only=None if teaching else request.user)
    context = {"klass": klass, "columns": columns, "rows": rows, "teaching": teaching}
    if teaching:
        context.update(_exports_context(klass))
    return render(request, "classes/gradebook.html", context)


def _exports_context(klass: Class) -> dict[str, object]:
    exports = list(klass.exports.defer("content")[:5])
    building = any(export.status in (Export.Status.PENDING, Export.Status.RUNNING) for export in exports)
    return {"klass": klass, "exports": exports, "building": building}


@login_required
@require_GET
def exports(request: HtmxHttpRequest, class_id: int) -> HttpResponse:
    """The export list alone: the gradebook polls it while an export is being built, then stops."""
    klass = services.class_get_for_instructor(request.user, class_id)
    return render(request, "classes/gradebook.html#exports", _exports_context(klass))


def _class_for_either(request: HtmxHttpRequest, class_id: int) -> tuple[Class, bool]:
    if request.user.is_instructor:
        try:
            return services.class_get_for_instructor(request.user, class_id), True
        except Http404:
            pass
    return services.class_get_for_member(request.user, class_id), False


@login_required
@require_POST
def gradebook_export(request: HtmxHttpRequest, class_id: int) -> HttpResponse:
    klass = services.class_get_for_instructor(request.user, class_id)
    export = export_request(klass, request.user)
    if export.status == Export.Status.READY:
        messages.success(request, f"The CSV of {export.rows} students is ready.")
    else:
        messages.info(request, "The CSV is being built; refresh this page in a moment for the download link.")
    return _see_other(reverse("classes:gradebook", args=[klass.pk]) + "#exports")


@login_required
@require_GET
def export_download(request: HtmxHttpRequest, class_id: int, export_id: int) -> HttpResponse:
    klass = services.class_get_for_instructor(request.user, class_id)
    export = get_object_or_404(Export.objects.filter(klass=klass), pk=export_id, status=Export.Status.READY)
    response = HttpResponse(bytes(export.content), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


@login_required
@require_GET
def student(request: HtmxHttpRequest, class_id: int, user_id: int) -> HttpResponse:
    klass = services.class_get_for_instructor(request.user, class_id)
    membership = services.student_get_for_class(klass, user_id)
    context = {"klass": klass, "student": membership.user, "membership": membership}
    context.update(student_detail(klass, membership.user))
    return render(request, "classes/student.html", context)


@login_required
@require_POST
def student_reset(request: HtmxHttpRequest, class_id: int, user_id: int, kind: str) -> HttpResponse:
    klass = services.class_get_for_instructor(request.user, class_id)
    membership = services.student_get_for_class(klass, user_id)
    form = forms.ResetForm(request.POST)
    back = reverse("classes:student", args=[klass.pk, user_id])
    if not form.is_valid():
        messages.error(request, "Give a reason for the reset; it is logged.")
        return _see_other(back)
    if kind not in ("lab", "quiz"):
        raise Http404("Only lab attempts and quiz attempts can be reset.")
    slug, reason = form.cleaned_data["item"], form.cleaned_data["reason"]
    try:
        if kind == "lab":
            lab = services.lab_for_class(klass, slug)
            services.lab_reset_for_student(klass, membership.user, lab, request.user, reason)
        else:
            quiz = get_object_or_404(Quiz.objects.select_related("item"), item__course=klass.course, item__slug=slug)
            services.quiz_reset_for_student(klass, membership.user, quiz, request.user, reason)
    except ValueError as error:
        messages.error(request, str(error))
        return _see_other(back)
    messages.success(request, f"Reset {slug} for {membership.user.display_name}; logged with your reason.")
    return _see_other(back)


@login_required
@require_http_methods(["GET", "POST"])
def pacing(request: HtmxHttpRequest, class_id: int) -> HttpResponse:
    klass = services.class_get_for_instructor(request.user, class_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "open_all":
            services.modules_open_all(klass, request.user)
            messages.success(request, "Every module is open for the class.")
        elif action in ("open", "close"):
            module = get_object_or_404(Module, course_id=klass.course_id, pk=request.POST.get("module") or 0)
            if action == "open":
                services.module_open(klass, module, request.user)
            else:
                services.module_close(klass, module)
            messages.success(request, f"{module.title}: {'opened' if action == 'open' else 'closed'}.")
        elif action in ("paced", "unpaced"):
            Class.objects.filter(pk=klass.pk).update(paced=action == "paced")
            messages.success(request, "Pacing is on." if action == "paced" else "Pacing is off: every module is open.")
        return _see_other(reverse("classes:pacing", args=[klass.pk]))
    klass.refresh_from_db(fields=["paced"])
    return render(request, "classes/pacing.html", {"klass": klass, "modules": services.modules_with_state(klass)})


@login_required
@require_http_methods(["GET", "POST"])
def manage(request: HtmxHttpRequest, class_id: int) -> HttpResponse:
    """Join code and link, inviting students (one by one or from a CSV) and co-instructors, pending invitations."""
    klass = services.class_get_for_instructor(request.user, class_id)
    csv_form, instructor_form = forms.CsvForm(), forms.InstructorForm()
    csv_result = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "regenerate":
            services.class_regenerate_code(klass)
            messages.success(request, f"New join code: {klass.join_code}. The old one no longer works.")
            return _see_other(reverse("classes:manage", args=[klass.pk]))
        if action == "csv":
            csv_form = forms.CsvForm(request.POST, request.FILES)
            if csv_form.is_valid():
                addresses = services.parse_addresses(csv_form.text())
                csv_result = services.invitations_create(klass, addresses, request.user)
        elif action == "instructor":
            instructor_form = forms.InstructorForm(request.POST)
            if instructor_form.is_valid():
                address = instructor_form.cleaned_data["instructor"].strip()
                services.invitations_create(klass, [address], request.user, Invitation.Role.INSTRUCTOR)
                messages.success(
                    request,
                    f"Invitation to co-teach recorded for “{address}”. If that is an instructor account here, its "
                    "owner sees the invitation on their Classes page and co-teaches once they accept.",
                )
                return _see_other(reverse("classes:manage", args=[klass.pk]))
        elif action == "cancel":
            invitation_id = request.POST.get("invitation", "")
            if invitation_id.isdigit() and services.invitation_cancel(klass, int(invitation_id)):
                messages.success(request, "Invitation withdrawn.")
            return _see_other(reverse("classes:manage", args=[klass.pk]) + "#invitations-title")
    context = {
        "klass": klass,
        "join_url": _join_url(request, klass),
        "csv_form": csv_form,
        "csv_result": csv_result,
        "instructor_form": instructor_form,
        "instructors": klass.instructors.order_by("username"),
        "member_count": Membership.objects.filter(klass=klass).count(),
        "invitations": services.invitations_pending(klass),
    }
    return render(request, "classes/manage.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def join(request: HtmxHttpRequest) -> HttpResponse:
    form = forms.JoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _join(request, form.cleaned_data["code"], Membership.Via.CODE, form)
    return render(request, "classes/join.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def join_link(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """The join link: GET shows the class and a button (a link alone never changes anything); POST joins."""
    form = forms.JoinForm(initial={"code": code})
    if request.method == "POST":
        return _join(request, code, Membership.Via.LINK, form)
    klass = Class.objects.select_related("course").filter(join_code=services.normalise_code(code)).first()
    return render(request, "classes/join.html", {"form": form, "link_class": klass, "code": code})


def _join(request: HtmxHttpRequest, code: str, via: str, form: forms.JoinForm) -> HttpResponse:
    try:
        klass, created = services.class_join(request.user, code, via)
    except services.JoinRateLimitedError as error:
        return render(request, "classes/join.html", {"form": form, "error": str(error)}, status=429)
    except services.JoinError as error:
        return render(request, "classes/join.html", {"form": form, "error": str(error)}, status=400)
    messages.success(request, f"You joined {klass.title}." if created else f"You are already in {klass.title}.")
    return _see_other(reverse("classes:detail", args=[klass.pk]))


@login_required
@require_GET
def notes(request: HtmxHttpRequest, class_id: int) -> HttpResponse:
    """The course's instructor overview, lesson notes and lab answer keys, for the class's instructors; printable."""
    klass = services.class_get_for_instructor(request.user, class_id)
    lessons = (
        Item.objects.filter(course_id=klass.course_id, archived=False, module__archived=False, kind=Item.Kind.LESSON)
        .select_related("module", "lesson")
        .order_by("position")
    )
    labs = (
        Lab.objects.filter(item__course_id=klass.course_id, item__archived=False)
        .select_related("item")
        .order_by("item__position")
    )
    return render(request, "classes/notes.html", {"klass": klass, "lessons": lessons, "labs": labs})


@login_required
@require_POST
def hand(request: HtmxHttpRequest, class_id: int) -> HttpResponse:
    """A student raises (or lowers) their hand; it appears in the instructors' queue."""
    klass = services.class_get_for_member(request.user, class_id)
    if request.POST.get("action") == "lower":
        services.hand_lower(klass, request.user)
        messages.success(request, "Hand lowered.")
    else:
        form = forms.HandForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        services.hand_raise(klass, request.user, note)
        messages.success(request, "Hand raised: your instructor sees it on their dashboard.")
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False):
        return _see_other(back)  # e.g. back to the lab the student raised their hand from
    return _see_other(reverse("classes:detail", args=[klass.pk]))


@login_required
@require_POST
def hand_resolve(request: HtmxHttpRequest, class_id: int, hand_id: int) -> HttpResponse:
    klass = services.class_get_for_instructor(request.user, class_id)
    services.hand_resolve(klass, hand_id, request.user)
    return _see_other(reverse("classes:detail", args=[klass.pk]) + "#hands")


@instructor_required
@require_GET
def attempt_replay(request: HtmxHttpRequest, attempt_id: int) -> HttpResponse:
    """An instructor's read-only view of an attempt of a student in one of their classes (staff: any attempt)."""
    attempt = services.lab_attempt_get_for_instructor(request.user, attempt_id)
    runs = list(attempt.runs.select_related("action").order_by("created_at", "pk"))
    for run in runs:
        setattr(run, "replay_trace_url", reverse("classes:replay_trace", args=[attempt.pk, run.pk]))  # noqa: B010
    context = {"attempt": attempt, "lab": attempt.lab, "actions": attempt.actions.all(), "runs": runs}
    return render(request, "classes/replay.html", context)


@instructor_required
@require_GET
def replay_trace(request: HtmxHttpRequest, attempt_id: int, run_id: int) -> HttpResponse:
    """The trace of one run of a student's attempt, for the instructors of that student's class (read-only)."""
    attempt = services.lab_attempt_get_for_instructor(request.user, attempt_id)
    run = get_object_or_404(LabRun.objects.defer(None).select_related("action"), pk=run_id, attempt=attempt)
    trace = run.io_trace()
    if trace is None:
        raise Http404("This run has no I/O trace.")
    context = {
        "run": run,
        "attempt": attempt,
        "lab": attempt.lab,
        "trace": trace,
        "replay": True,
        "replay_url": reverse("classes:replay", args=[attempt.pk]),
    }
    return render(request, "labs/trace.html", context)
