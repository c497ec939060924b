"""Access answers in templates (see core.access): `{% closed_modules course as closed %}` gives the ids of the
course's modules closed for the user; `{% enrolled_course_ids as in_class %}` the courses they take in a class."""

from __future__ import annotations

from typing import Any

from django import template

from core import access

register = template.Library()


def _user(context: dict[str, Any]) -> Any:
    return getattr(context.get("request"), "user", None)


@register.simple_tag(takes_context=True)
def closed_modules(context: dict[str, Any], course: Any) -> frozenset[int]:
    user = _user(context)
    if user is None or course is None:
        return frozenset()
    return access.closed_module_ids(user, course)


@register.simple_tag(takes_context=True)
def enrolled_course_ids(context: dict[str, Any]) -> frozenset[int]:
    return access.enrolled_course_ids(_user(context))
