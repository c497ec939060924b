"""HTML to PDF with WeasyPrint, imported only when a PDF is made: the site starts on a machine without its system
libraries (Pango, HarfBuzz, fontconfig), and the handbook and certificate pages then say what is missing.

Course images are served to WeasyPrint from the database rows (no HTTP request, no filesystem path): a URL the
fetcher does not know is refused, so a PDF can never pull in anything outside the course.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

# The Debian packages WeasyPrint's system libraries come in (README "Quick start", .ci/run).
DEBIAN_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"
BASE_URL = "http://pdf.invalid/"  # never fetched: the fetcher answers from `images` or refuses
IMAGE_URL_RE = re.compile(r"^/courses/(?P<course>[a-z0-9-]+)/images/(?P<path>[^?#]+)")


class PdfUnavailableError(Exception):
    """WeasyPrint or one of its system libraries is missing; the message says what to install."""


@lru_cache(maxsize=1)
def pdf_missing() -> str:
    """Why PDFs cannot be made on this machine ('' when they can); probes once per process."""
    try:
        import weasyprint  # noqa: F401
    except ImportError:
        return "the Python package weasyprint is not installed: run make install (it is in requirements.txt)"
    except OSError as error:  # cffi could not load libpango, libgobject or libharfbuzz
        return (
            f"WeasyPrint's system libraries are missing ({error}): install the Debian packages {DEBIAN_PACKAGES} "
            "(apt-get install, see the README)"
        )
    return ""


def html_to_pdf(
    html: str, images: dict[str, tuple[str, bytes]], on_progress: Callable[[str], None] | None = None
) -> tuple[bytes, int]:
    """Lay out and write a PDF: (bytes, page count). `images` maps an image path to (content type, data);
    `on_progress` hears WeasyPrint's progress lines ("Step 5 - Creating layout - Page 12")."""
    document = render_document(html, images, on_progress)
    with _progress_to(on_progress):
        return document.write_pdf(), len(document.pages)


def render_document(
    html: str, images: dict[str, tuple[str, bytes]], on_progress: Callable[[str], None] | None = None
) -> Any:
    """Lay out the pages (a weasyprint Document), before writing: tests inspect where each block landed."""
    missing = pdf_missing()
    if missing:
        raise PdfUnavailableError(missing)
    import weasyprint
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class CourseImages(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            match = IMAGE_URL_RE.match(url.removeprefix(BASE_URL.rstrip("/")))
            if match is None or match.group("path") not in images:
                raise ValueError(f"not a course image: {url}")
            content_type, data = images[match.group("path")]
            return URLFetcherResponse(url, body=data, headers={"Content-Type": content_type})

    fetcher = CourseImages(allowed_protocols=("http",), allow_redirects=False)
    with _progress_to(on_progress):
        return weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render()


@contextmanager
def _progress_to(on_progress: Callable[[str], None] | None) -> Iterator[None]:
    """WeasyPrint logs every page at INFO: send those lines to `on_progress` and keep them out of the log."""
    progress = logging.getLogger("weasyprint.progress")
    handler = _ProgressHandler(on_progress)
    level, propagate = progress.level, progress.propagate
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    progress.propagate = False
    try:
        yield
    finally:
        progress.removeHandler(handler)
        progress.setLevel(level)
        progress.propagate = propagate


class _ProgressHandler(logging.Handler):
    def __init__(self, on_progress: Callable[[str], None] | None) -> None:
        super().__init__(logging.INFO)
        self.on_progress = on_progress

    def emit(self, record: logging.LogRecord) -> None:
        if self.on_progress is not None:
            self.on_progress(record.getMessage())
