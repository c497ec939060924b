"""The handbooks page and its downloads for every persona, the build request (trainers only, once per version),
progress while a worker builds, a machine without WeasyPrint's libraries, and pinned query counts."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from classes.models import Class
from courseware.models import Course
from delivery import handbooks, pdf
from delivery.models import Handbook

PERSONAS = ("anon", "alice", "bob", "ian", "olga", "stan")
TRAINERS = {"ian", "stan"}


@pytest.fixture(autouse=True)
def fake_pdf(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Views are tested without laying out a PDF (tests/delivery/test_handbook_pdfs.py renders real ones)."""
    built: list[str] = []

    def html_to_pdf(html: str, images: object, on_progress: object = None) -> tuple[bytes, int]:
        built.append(html)
        return b"%PDF-1.7 fake", 3

    monkeypatch.setattr(handbooks, "html_to_pdf", html_to_pdf)
    monkeypatch.setattr(handbooks, "pdf_missing", lambda: "")
    monkeypatch.setattr("delivery.views.pdf_missing", lambda: "")
    return built


def _ready(course: Course, kind: str) -> Handbook:
    return Handbook.objects.create(
        course=course, kind=kind, course_version=course.version, status="ready", content=b"%PDF-1.7 x", pages=2, size=10
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_handbook_access_for_every_persona(
    request: pytest.FixtureRequest, persona: str, course: Course, alice_in_class: Class
) -> None:
    client: Client = request.getfixturevalue(f"{persona}_client")
    _ready(course, "student")
    _ready(course, "instructor")
    page = client.get(reverse("delivery:handbooks", args=[course.slug]))
    student = client.get(reverse("delivery:handbook_download", args=[course.slug, "student"]))
    instructor = client.get(reverse("delivery:handbook_download", args=[course.slug, "instructor"]))
    build = client.post(reverse("delivery:handbook_build", args=[course.slug, "student"]))
    if persona == "anon":
        for response in (page, student, instructor, build):
            assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        return
    assert page.status_code == 200 and student.status_code == 200
    assert student["Content-Type"] == "application/pdf" and student.content == b"%PDF-1.7 x"
    html = page.content.decode()
    if persona in TRAINERS:
        assert instructor.status_code == 200 and "Instructor handbook" in html
        assert build.status_code == 303
    else:
        assert instructor.status_code == 403 and "Instructor handbook" not in html
        assert build.status_code == 403


def test_a_trainer_builds_a_handbook_once_per_version_with_progress(
    ian_client: Client, course: Course, klass: Class, fake_pdf: list[str], django_capture_on_commit_callbacks: object
) -> None:
    url = reverse("delivery:handbook_build", args=[course.slug, "instructor"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # type: ignore[operator]
        assert ian_client.post(url).status_code == 303
    handbook = Handbook.objects.get(course=course, kind="instructor")
    assert handbook.status == "pending" and len(callbacks) == 1  # the task is enqueued after commit

    page = ian_client.get(reverse("delivery:handbooks", args=[course.slug])).content.decode()
    assert "Waiting for a worker" in page and 'data-hx-trigger="every 2s' in page and "<progress" in page
    Handbook.objects.filter(pk=handbook.pk).update(status="running", progress=40, stage="Laying out page 20")
    fragment = ian_client.get(reverse("delivery:handbooks", args=[course.slug]), headers={"HX-Request": "true"})
    assert "Laying out page 20" in fragment.content.decode() and "<html" not in fragment.content.decode()
    Handbook.objects.filter(pk=handbook.pk).update(status="pending", progress=0, stage="")

    handbooks.handbook_build(handbook.pk)
    assert handbooks.handbook_build(handbook.pk) is None, "a second delivery builds nothing"
    handbook.refresh_from_db()
    assert (handbook.status, handbook.pages, handbook.progress) == ("ready", 3, 100)
    assert len(fake_pdf) == 1 and "Instructor notes (" in fake_pdf[0] and "Answer key:" in fake_pdf[0]
    page = ian_client.get(reverse("delivery:handbooks", args=[course.slug])).content.decode()
    assert "Download the PDF" in page and "data-hx-trigger" not in page, "polling stops once built"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # type: ignore[operator]
        ian_client.post(url)
    assert callbacks == [] and Handbook.objects.filter(course=course).count() == 1, "cached for this version"
    Course.objects.filter(pk=course.pk).update(version="2")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # type: ignore[operator]
        ian_client.post(url)
    assert len(callbacks) == 1 and Handbook.objects.filter(course=course, course_version="2").exists()


def test_student_handbook_has_no_instructor_material(course: Course, fake_pdf: list[str]) -> None:
    html = handbooks.handbook_html(course, "student")
    assert "NOTES-SECRET-INTRO" not in html and "SLIDE-NOTES-SECRET" not in html and "Answer key" not in html
    assert "Lab guide" in html and "Glossary" in html and 'href="#term-' in html
    assert "${" not in html, "lab variants print as named placeholders"
    instructor = handbooks.handbook_html(course, "instructor")
    assert "NOTES-SECRET-INTRO" in instructor and "SLIDE-NOTES-SECRET" in instructor


def test_a_failed_build_says_why_and_can_be_retried(
    ian_client: Client, course: Course, klass: Class, monkeypatch: pytest.MonkeyPatch
) -> None:
    handbook = Handbook.objects.create(course=course, kind="student", course_version=course.version)
    monkeypatch.setattr(handbooks, "html_to_pdf", _boom)
    with pytest.raises(RuntimeError):
        handbooks.handbook_build(handbook.pk)
    page = ian_client.get(reverse("delivery:handbooks", args=[course.slug])).content.decode()
    assert "The last build failed:</strong> no fonts" in page and "Try again" in page
    ian_client.post(reverse("delivery:handbook_build", args=[course.slug, "student"]))
    handbook.refresh_from_db()
    assert handbook.status == "pending" and handbook.error == ""


def _boom(*args: object, **kwargs: object) -> tuple[bytes, int]:
    raise RuntimeError("no fonts")


def test_without_weasyprint_libraries_the_page_says_what_is_missing(
    ian_client: Client, course: Course, klass: Class, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = "WeasyPrint's system libraries are missing (cannot load library 'libpango-1.0-0')"
    monkeypatch.setattr("delivery.views.pdf_missing", lambda: message)
    monkeypatch.setattr(handbooks, "pdf_missing", lambda: message)
    page = ian_client.get(reverse("delivery:handbooks", args=[course.slug])).content.decode()
    assert "PDFs cannot be made on this server." in page and "libpango-1.0-0" in page
    assert "Build the" not in page
    response = ian_client.post(reverse("delivery:handbook_build", args=[course.slug, "student"]), follow=True)
    assert "libpango-1.0-0" in response.content.decode() and not Handbook.objects.exists()


def test_pdf_missing_names_the_debian_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_pango(name: str, *args: object, **kwargs: object) -> object:
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0': not found")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    pdf.pdf_missing.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_pango)
    try:
        assert "libpango-1.0-0 libpangoft2-1.0-0" in pdf.pdf_missing()
        with pytest.raises(pdf.PdfUnavailableError):
            pdf.html_to_pdf("<p>x</p>", {})
    finally:
        monkeypatch.undo()
        pdf.pdf_missing.cache_clear()


def test_unknown_kind_or_course_is_404(ian_client: Client, course: Course, klass: Class) -> None:
    assert ian_client.get(reverse("delivery:handbook_download", args=[course.slug, "teacher"])).status_code == 404
    assert ian_client.post(reverse("delivery:handbook_build", args=[course.slug, "teacher"])).status_code == 404
    assert ian_client.get(reverse("delivery:handbooks", args=["nope"])).status_code == 404
    assert ian_client.get(reverse("delivery:handbook_download", args=[course.slug, "student"])).status_code == 404


@pytest.mark.parametrize("built", [0, 2])
def test_handbooks_page_query_count_is_pinned(
    ian_client: Client, course: Course, klass: Class, django_assert_num_queries: object, built: int
) -> None:
    for kind in ("student", "instructor")[:built]:
        _ready(course, kind)
    url = reverse("delivery:handbooks", args=[course.slug])
    ian_client.get(url)
    # course, teaches_course, handbooks of this version (the session and the user come from the cache)
    with django_assert_num_queries(3):  # type: ignore[operator]
        assert ian_client.get(url).status_code == 200
