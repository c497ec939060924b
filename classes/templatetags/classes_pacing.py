"""Pacing in courseware templates.

`{% closed_modules course as closed %}`: ids of the course's modules closed for the user by class pacing (no query
for a self-paced learner, see classes.pacing; two for a learner in a paced class).
`{% class_course_ids as in_class %}`: ids of the courses the user takes in a class (cached, no query).
"""

from __future__ import annotations

from typing import Any

from django import template

from classes import pacing

register = template.Library()


@register.simple_tag(takes_context=True)
def closed_modules(context: dict[str, Any], course: Any) -> frozenset[int]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or course is None:
        return frozenset()
    return pacing.closed_module_ids(user, course)


@register.simple_tag(takes_context=True)
def class_course_ids(context: dict[str, Any]) -> frozenset[int]:
    """Ids of the courses the user takes in a class (cached: no query)."""
    request = context.get("request")
    return pacing.enrolled_course_ids(getattr(request, "user", None))
