"""Grading on the server: every question type, partial credit, tolerance; tampered answers are refused."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from hypothesis import given
from hypothesis import strategies as st

from courseware import content, grading
from courseware.content import course_read
from tests.courseware.conftest import SAMPLE, TITLE_ONLY_HOOKS


def _questions() -> dict[str, list[dict]]:
    # Read at import time, so without the autouse fixture: swap the lab hooks by hand.
    saved = content.lab_hooks()
    content.lab_hooks_register(TITLE_ONLY_HOOKS)
    try:
        course, problems = course_read(SAMPLE)
    finally:
        if saved is not None:
            content.lab_hooks_register(saved)
    assert course is not None and not problems
    return {slug: quiz.questions for module in course.modules for slug, quiz in module.quizzes.items()}


QUIZZES = _questions()
BASICS = QUIZZES["basics-quiz"]
DEVICES = QUIZZES["devices-quiz"]


def _post(**fields: str | list[str]) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in fields.items():
        data.setlist(name.replace("__", "."), value if isinstance(value, list) else [value])
    return data


def _score(questions: list[dict], data: QueryDict) -> dict[str, float]:
    results = grading.grade(questions, grading.parse_answers(questions, data))
    return {qid: result["points"] for qid, result in results.items()}


def _option(question_id: str, text: str) -> str:
    question = next(q for q in DEVICES if q["id"] == question_id)
    return next(option["id"] for option in question["options"] if option["text"] == text)


def test_single_choice_scores_only_the_correct_choice() -> None:
    assert _score(BASICS, _post(**{"q.drivers": "partitions"}))["drivers"] == 1
    assert _score(BASICS, _post(**{"q.drivers": "hypervisor"}))["drivers"] == 0


@pytest.mark.parametrize(
    ("chosen", "points"),
    [
        (["vmms", "vmwp"], 2.0),
        (["vmms"], 1.0),
        (["vmms", "hypercalls"], 0.0),
        (["vmms", "vmwp", "hypercalls"], 1.0),
        ([], 0),
    ],
)
def test_multiple_choice_gives_partial_credit_right_minus_wrong(chosen: list[str], points: float) -> None:
    data = _post(**{"q.root-components": chosen}) if chosen else _post()
    assert _score(BASICS, data)["root-components"] == points


def test_multiple_choice_without_partial_credit_is_all_or_nothing() -> None:
    questions = [dict(q, partial_credit=False) if q["id"] == "root-components" else q for q in BASICS]
    assert _score(questions, _post(**{"q.root-components": ["vmms"]}))["root-components"] == 0
    assert _score(questions, _post(**{"q.root-components": ["vmms", "vmwp"]}))["root-components"] == 2


def test_true_false() -> None:
    assert _score(BASICS, _post(**{"q.dep": "true"}))["dep"] == 1
    assert _score(BASICS, _post(**{"q.dep": "false"}))["dep"] == 0


@pytest.mark.parametrize(("given_value", "points"), [("24", 1), ("24.0", 1), ("23", 0), ("", 0), ("2.4e1", 1)])
def test_numeric_answers_within_tolerance(given_value: str, points: int) -> None:
    assert _score(DEVICES, _post(**{"q.walk-refs": given_value}))["walk-refs"] == points


def test_numeric_tolerance_is_absolute() -> None:
    questions = [dict(q, tolerance=0.5) if q["id"] == "walk-refs" else q for q in DEVICES]
    assert _score(questions, _post(**{"q.walk-refs": "24.5"}))["walk-refs"] == 1
    assert _score(questions, _post(**{"q.walk-refs": "24.6"}))["walk-refs"] == 0


def test_ordering_is_right_only_in_the_authored_order() -> None:
    right = {"app": "1", "fs": "2", "vsc": "3", "vmbus": "4", "vsp": "5"}
    assert _score(DEVICES, _post(**{f"q.write-path.{k}": v for k, v in right.items()}))["write-path"] == 1
    swapped = dict(right, vsc="4", vmbus="3")
    assert _score(DEVICES, _post(**{f"q.write-path.{k}": v for k, v in swapped.items()}))["write-path"] == 0


def test_matching_scores_each_pair() -> None:
    both = {
        "q.op-role.start": _option("op-role", "VM Operator"),
        "q.op-role.scope": _option("op-role", "Administrator"),
    }
    assert _score(DEVICES, _post(**both))["op-role"] == 1
    one = dict(both, **{"q.op-role.scope": _option("op-role", "Network Admin")})
    assert _score(DEVICES, _post(**one))["op-role"] == 0.5


@pytest.mark.parametrize(
    ("questions", "fields", "message"),
    [
        (BASICS, {"q.drivers": "nope"}, "Unknown choice"),
        (BASICS, {"q.drivers": ["partitions", "hypervisor"]}, "takes one answer"),
        (BASICS, {"q.root-components": ["vmms", "vmms"]}, "sent twice"),
        (BASICS, {"q.nonexistent": "a"}, "Unknown question"),
        (BASICS, {"q.drivers.extra": "a"}, "Unexpected field"),
        (BASICS, {"q.dep": "maybe"}, "true or false"),
        (DEVICES, {"q.walk-refs": "many"}, "not a number"),
        (DEVICES, {"q.walk-refs": "inf"}, "not a finite number"),
        (DEVICES, {"q.write-path.app": "9"}, "out of range"),
        (DEVICES, {"q.write-path.ghost": "1"}, "Unknown entry"),
        (DEVICES, {"q.op-role.start": "o1"}, "Unknown option"),
        (DEVICES, {"q.op-role": "x"}, "Unexpected field"),
    ],
)
def test_tampered_answers_are_refused(questions: list[dict], fields: dict, message: str) -> None:
    with pytest.raises(grading.InvalidSubmissionError, match=message):
        grading.parse_answers(questions, _post(**fields))


def test_fields_that_are_not_answers_are_ignored() -> None:
    assert grading.parse_answers(BASICS, _post(csrfmiddlewaretoken="x")) == {}


def test_what_the_browser_sees_carries_no_key() -> None:
    for questions in QUIZZES.values():
        text = repr(grading.question_views(questions, seed=7, shuffle=True))
        for secret in ("correct", "explanation", "'answer'", "tolerance", "option'", "right'"):
            assert secret not in text
        assert "EXPLAIN-" not in text


def test_choice_order_is_stable_within_an_attempt_and_differs_between_seeds() -> None:
    first = grading.question_views(DEVICES, seed=1, shuffle=True)
    assert grading.question_views(DEVICES, seed=1, shuffle=True) == first
    orders = {tuple(i["id"] for i in grading.question_views(DEVICES, seed, True)[1]["items"]) for seed in range(20)}
    assert len(orders) > 5


def test_ordering_items_are_never_shown_in_the_right_order_and_unshuffled_options_are_sorted() -> None:
    for seed in range(50):
        view = grading.question_views(DEVICES, seed=seed, shuffle=False)
        assert [i["id"] for i in view[1]["items"]] != ["app", "fs", "vsc", "vmbus", "vsp"]
        assert [o["text"] for o in view[2]["options"]] == ["Administrator", "Network Admin", "VM Operator"]


@given(
    seed=st.integers(min_value=0, max_value=2**62),
    chosen=st.lists(st.sampled_from(["vmms", "vmwp", "hypercalls"]), unique=True),
    number=st.floats(allow_nan=False, allow_infinity=False, width=32),
)
def test_scores_stay_between_zero_and_the_points_whatever_the_answers(
    seed: int, chosen: list[str], number: float
) -> None:
    views = grading.question_views(BASICS, seed=seed, shuffle=True)
    assert sorted(c["id"] for c in views[0]["choices"]) == ["firmware", "hypervisor", "partitions"]
    data = _post(**{"q.root-components": chosen}) if chosen else _post()
    for questions, fields in ((BASICS, data), (DEVICES, _post(**{"q.walk-refs": repr(number)}))):
        results = grading.grade(questions, grading.parse_answers(questions, fields))
        for question in questions:
            assert 0 <= results[question["id"]]["points"] <= question["points"]


_FIELD_NAMES = st.sampled_from(
    ["q.drivers", "q.root-components", "q.dep", "q.walk-refs", "q.write-path.app", "q.write-path.vsp",
     "q.op-role.start", "q.op-role", "q.", "q.x.y.z", "csrfmiddlewaretoken", "q.write-path"]
)  # fmt: skip


@given(st.dictionaries(_FIELD_NAMES, st.lists(st.text(max_size=12), min_size=1, max_size=3), max_size=6))
def test_any_post_is_either_graded_or_refused_never_a_crash(fields: dict[str, list[str]]) -> None:
    data = QueryDict(mutable=True)
    for name, values in fields.items():
        data.setlist(name, values)
    for questions in (BASICS, DEVICES):
        try:
            answers = grading.parse_answers(questions, data)
        except grading.InvalidSubmissionError:
            continue
        results = grading.grade(questions, answers)
        assert set(results) == {question["id"] for question in questions}


def test_a_position_written_with_a_non_ascii_digit_is_refused_not_a_crash() -> None:
    with pytest.raises(grading.InvalidSubmissionError, match="out of range"):
        grading.parse_answers(DEVICES, _post(**{"q.write-path.app": "\u00b9"}))  # "¹": isdigit() yet not int()


def test_ordering_with_partial_credit_scores_each_item_in_its_right_place() -> None:
    questions = [dict(q, partial_credit=True) if q["id"] == "write-path" else q for q in DEVICES]
    right = {"app": "1", "fs": "2", "vsc": "3", "vmbus": "4", "vsp": "5"}
    swapped = dict(right, vsc="4", vmbus="3")
    assert _score(questions, _post(**{f"q.write-path.{k}": v for k, v in swapped.items()}))["write-path"] == 0.6


def test_the_ordering_result_shows_the_given_order_beside_the_right_one() -> None:
    question = next(q for q in DEVICES if q["id"] == "write-path")
    views = grading.question_views([question], seed=3, shuffle=True)
    swapped = {"app": 1, "fs": 2, "vsc": 4, "vmbus": 3, "vsp": 5}
    (entry,) = grading.reveal([question], views, {"write-path": swapped}, {})
    rows = entry["order_rows"]
    assert [row["position"] for row in rows] == [1, 2, 3, 4, 5]
    assert [row["correct"] for row in rows] == [True, True, False, False, True]
    assert rows[2]["right"] == question["items"][2]["html"] and rows[2]["given"] == question["items"][3]["html"]
