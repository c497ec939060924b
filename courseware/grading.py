"""Quiz questions as the learner sees them, parsing of submitted answers, and grading: all on the server.

The stored key (Quiz.questions) is only read here. `question_views` strips every answer and explanation; `reveal`
adds them back and is only called once the quiz's show_answers policy allows it (services.quiz_answers_visible).

Form field names: `q.<question>` for single, multiple, true_false and numeric; `q.<question>.<item>` for
ordering (a position 1..n) and matching (an option id). Ids are [a-z0-9-], so the dots are unambiguous.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict

TRUE_FALSE_CHOICES = [{"id": "true", "html": "True"}, {"id": "false", "html": "False"}]


class InvalidSubmissionError(Exception):
    """A submission that a browser showing our form cannot produce (unknown ids, values out of range)."""


def _rng(seed: int, question_id: str) -> random.Random:
    return random.Random(f"{seed}:{question_id}")


def _shuffled(entries: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    order = list(entries)
    rng.shuffle(order)
    if len(order) > 1 and [entry["id"] for entry in order] == [entry["id"] for entry in entries]:
        order = order[1:] + order[:1]  # never show an ordering question already solved
    return order


def question_views(questions: list[dict[str, Any]], seed: int, shuffle: bool) -> list[dict[str, Any]]:
    """What the learner's browser may see: prompts and options in this attempt's order, with no key."""
    views = []
    for number, question in enumerate(questions, start=1):
        rng = _rng(seed, question["id"])
        view: dict[str, Any] = {
            "number": number,
            "id": question["id"],
            "type": question["type"],
            "points": question["points"],
            "prompt_html": question["prompt_html"],
            "field": f"q.{question['id']}",
        }
        if question["type"] in ("single", "multiple"):
            choices = [{"id": choice["id"], "html": choice["html"]} for choice in question["choices"]]
            view["choices"] = _shuffled(choices, rng) if shuffle else choices
        elif question["type"] == "true_false":
            view["choices"] = TRUE_FALSE_CHOICES
        elif question["type"] == "numeric":
            view["unit"] = question.get("unit", "")
        elif question["type"] == "ordering":
            # Always shuffled: in authored order the answer would be on the page.
            items = [{"id": item["id"], "html": item["html"]} for item in question["items"]]
            view["items"] = _shuffled(items, rng)
            view["positions"] = list(range(1, len(items) + 1))
        elif question["type"] == "matching":
            view["pairs"] = [{"id": pair["id"], "left_html": pair["left_html"]} for pair in question["pairs"]]
            options = [dict(option) for option in question["options"]]
            # Unshuffled options are sorted, so that their order never mirrors the pairs'.
            view["options"] = _shuffled(options, rng) if shuffle else sorted(options, key=lambda o: o["text"].lower())
        views.append(view)
    return views


def parse_answers(questions: list[dict[str, Any]], data: QueryDict | Mapping[str, Any]) -> dict[str, Any]:
    """Turn POST data into {question id: answer}; raises InvalidSubmissionError on anything our form cannot send."""
    by_id = {question["id"]: question for question in questions}
    answers: dict[str, Any] = {}
    for name in data:
        if not name.startswith("q."):
            continue
        parts = name.split(".")
        question = by_id.get(parts[1]) if len(parts) in (2, 3) else None
        if question is None:
            raise InvalidSubmissionError(f"Unknown question in field '{name[:80]}'.")
        values = data.getlist(name) if isinstance(data, QueryDict) else _as_list(data[name])
        kind = question["type"]
        if (
            kind in ("ordering", "matching")
            and len(parts) != 3
            or kind not in ("ordering", "matching")
            and len(parts) != 2
        ):
            raise InvalidSubmissionError(f"Unexpected field '{name[:80]}'.")
        if kind in ("single", "true_false", "numeric", "ordering", "matching") and len(values) > 1:
            raise InvalidSubmissionError(f"Question '{question['id']}' takes one answer.")
        if kind == "single":
            _check_choice(question, values[0])
            answers[question["id"]] = values[0]
        elif kind == "multiple":
            if len(set(values)) != len(values):
                raise InvalidSubmissionError(f"A choice of question '{question['id']}' was sent twice.")
            for value in values:
                _check_choice(question, value)
            answers[question["id"]] = sorted(values)
        elif kind == "true_false":
            if values[0] not in ("true", "false"):
                raise InvalidSubmissionError(f"Question '{question['id']}' takes true or false.")
            answers[question["id"]] = values[0] == "true"
        elif kind == "numeric":
            answers[question["id"]] = _parse_number(question, values[0])
        elif kind == "ordering":
            answers.setdefault(question["id"], {})[_check_sub(question, "items", parts[2])] = _parse_position(
                question, values[0]
            )
        elif kind == "matching":
            option = values[0]
            if option and option not in {entry["id"] for entry in question["options"]}:
                raise InvalidSubmissionError(f"Unknown option for question '{question['id']}'.")
            answers.setdefault(question["id"], {})[_check_sub(question, "pairs", parts[2])] = option or None
    return answers


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _check_choice(question: dict[str, Any], value: str) -> None:
    if value not in {choice["id"] for choice in question["choices"]}:
        raise InvalidSubmissionError(f"Unknown choice for question '{question['id']}'.")


def _check_sub(question: dict[str, Any], key: str, sub: str) -> str:
    if sub not in {entry["id"] for entry in question[key]}:
        raise InvalidSubmissionError(f"Unknown entry '{sub[:40]}' in question '{question['id']}'.")
    return sub


def _parse_number(question: dict[str, Any], value: str) -> float | None:
    if value.strip() == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise InvalidSubmissionError(f"The answer to question '{question['id']}' is not a number.") from None
    if not math.isfinite(number):
        raise InvalidSubmissionError(f"The answer to question '{question['id']}' is not a finite number.")
    return number


def _parse_position(question: dict[str, Any], value: str) -> int | None:
    if value == "":
        return None
    # isascii(): str.isdigit() accepts "¹" and other digits that int() refuses.
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= len(question["items"]):
        raise InvalidSubmissionError(f"A position in question '{question['id']}' is out of range.")
    return int(value)


def grade(questions: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Score every question: {id: {points, max_points, correct}}; points in the quiz's own units."""
    results = {}
    for question in questions:
        answer = answers.get(question["id"])
        fraction = _fraction(question, answer)
        results[question["id"]] = {
            "points": round(question["points"] * fraction, 4),
            "max_points": question["points"],
            "correct": fraction >= 1.0,
        }
    return results


def _fraction(question: dict[str, Any], answer: Any) -> float:
    kind = question["type"]
    if answer is None:
        return 0.0
    if kind == "single":
        return 1.0 if any(c["id"] == answer and c["correct"] for c in question["choices"]) else 0.0
    if kind == "multiple":
        correct = {choice["id"] for choice in question["choices"] if choice["correct"]}
        chosen = set(answer)
        if chosen == correct:
            return 1.0
        if not question.get("partial_credit"):
            return 0.0
        return max(0, len(chosen & correct) - len(chosen - correct)) / len(correct)
    if kind == "true_false":
        return 1.0 if answer == question["answer"] else 0.0
    if kind == "numeric":
        return 1.0 if abs(float(answer) - question["answer"]) <= question["tolerance"] + 1e-9 else 0.0
    if kind == "ordering":
        expected = {item["id"]: index for index, item in enumerate(question["items"], start=1)}
        placed = sum(1 for item_id, position in expected.items() if answer.get(item_id) == position)
        if placed == len(expected):
            return 1.0
        # With partial_credit (the author's choice): each item in its right place earns its share.
        return placed / len(expected) if question.get("partial_credit") else 0.0
    if kind == "matching":
        right = sum(1 for pair in question["pairs"] if answer.get(pair["id"]) == pair["option"])
        return right / len(question["pairs"])
    return 0.0


def reveal(
    questions: list[dict[str, Any]], views: list[dict[str, Any]], answers: dict[str, Any], results: dict[str, Any]
) -> list[dict[str, Any]]:
    """The views with the learner's answers, the key and explanations added: only once the policy allows it."""
    by_id = {question["id"]: question for question in questions}
    revealed = []
    for view in views:
        question = by_id[view["id"]]
        answer = answers.get(view["id"])
        entry = dict(view)
        entry["result"] = results.get(view["id"], {"points": 0, "max_points": question["points"], "correct": False})
        entry["explanation_html"] = question.get("explanation_html", "")
        kind = question["type"]
        if kind in ("single", "multiple"):
            chosen = set(answer or []) if kind == "multiple" else {answer}
            key = {choice["id"]: choice for choice in question["choices"]}
            entry["choices"] = [
                {
                    **choice,
                    "chosen": choice["id"] in chosen,
                    "correct": key[choice["id"]]["correct"],
                    "explanation_html": key[choice["id"]].get("explanation_html", ""),
                }
                for choice in view["choices"]
            ]
        elif kind == "true_false":
            entry["your_answer"] = "—" if answer is None else ("True" if answer else "False")
            entry["correct_answer"] = "True" if question["answer"] else "False"
        elif kind == "numeric":
            entry["your_answer"] = "—" if answer is None else f"{answer:g}"
            tolerance = f" ± {question['tolerance']:g}" if question["tolerance"] else ""
            entry["correct_answer"] = f"{question['answer']:g}{tolerance}"
        elif kind == "ordering":
            given = answer or {}
            entry["correct_order"] = [item["html"] for item in question["items"]]
            right = {item["id"]: index for index, item in enumerate(question["items"], start=1)}
            by_position = {given.get(item["id"]): item for item in view["items"] if given.get(item["id"])}
            # Row n: the step the learner put at position n beside the step that belongs there.
            entry["order_rows"] = [
                {
                    "position": position,
                    "given": by_position[position]["html"] if position in by_position else "",
                    "right": item["html"],
                    "correct": position in by_position and right.get(by_position[position]["id"]) == position,
                }
                for position, item in enumerate(question["items"], start=1)
            ]
            entry["your_order"] = [{"html": item["html"], "position": given.get(item["id"])} for item in view["items"]]
        elif kind == "matching":
            given = answer or {}
            options = {option["id"]: option["text"] for option in question["options"]}
            entry["pairs"] = [
                {
                    "left_html": pair["left_html"],
                    "right": pair["right"],
                    "given": options.get(given.get(pair["id"]) or "", "—"),
                    "correct": given.get(pair["id"]) == pair["option"],
                }
                for pair in question["pairs"]
            ]
        revealed.append(entry)
    return revealed
