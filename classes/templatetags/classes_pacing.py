"""`{% closed_modules course as closed %}`: the ids of the course's modules closed for the user by class pacing.

No query for a self-paced learner (see classes.pacing); two for a learner in a paced class.
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
