"""Template tags: the courses for pages outside the courseware app, and unique ids for stored HTML."""

from __future__ import annotations

import re

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from courseware import services

register = template.Library()


@register.simple_tag
def course_states(user: object) -> list[services.CourseState]:
    """Every course with `user`'s progress (3 queries), or an empty list for an anonymous visitor."""
    if not getattr(user, "is_authenticated", False):
        return []
    return services.progress_for_user(user)  # type: ignore[arg-type]


_ID_RE = re.compile(r'(\sid="|\shref="#|\saria-labelledby="|\saria-describedby="|\sfor=")([^"]+)"')


@register.filter
def prefix_ids(html: str, prefix: str) -> SafeString:
    """Prefix every id (and the in-page links and labels that point at one) in sanitised, stored HTML.

    Several stored documents on one page (answer keys, notes) share heading ids such as "answer-key-instructors";
    prefixing them per document keeps every id on the page unique. Input is already sanitised at load.
    """
    prefix = slugify(str(prefix))

    def _replace(match: re.Match[str]) -> str:
        values = " ".join(f"{prefix}-{value}" for value in match.group(2).split())
        return f'{match.group(1)}{values}"'

    return mark_safe(_ID_RE.sub(_replace, str(html)))  # noqa: S308 - stored HTML was sanitised with nh3 at load
