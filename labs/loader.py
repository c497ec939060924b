"""Store a course's labs when the course is loaded (called by courseware's load_course, in its transaction).

The manual, the answer key and the task list are rendered and sanitised here, at load time, with the course's
own link resolver, so `lesson:`/`glossary:`/`images/` links work in a lab manual as in a lesson.
"""

from __future__ import annotations

from typing import Any

from courseware.content import CourseSpec, LabSpec, make_resolver
from courseware.markdown import MarkdownRenderer
from courseware.models import Item
from labs.content import LabDefinition
from labs.models import Lab


def lab_store(item: Item, spec: LabSpec, course: CourseSpec) -> Lab:
    """Create or update the Lab row of `item` from its parsed lab.yaml."""
    parsed: Any = spec.parsed
    if not isinstance(parsed, LabDefinition):
        raise ValueError(f"lab '{spec.slug}' was not validated by the labs app")
    renderer = MarkdownRenderer(make_resolver(course))
    definition = dict(parsed.definition)
    definition["tasks_html"] = [renderer.render_inline(task).html for task in definition.get("tasks", [])]
    lab, _ = Lab.objects.update_or_create(
        item=item,
        defaults={
            "version": course.version,
            "minutes": parsed.minutes,
            "manual_html": renderer.render(parsed.manual_md).html,
            "answer_key_html": renderer.render(parsed.answer_key_md).html if parsed.answer_key_md else "",
            "definition": definition,
            "max_points": parsed.max_points,
        },
    )
    return lab
