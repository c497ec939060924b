"""Locust learners for bench/load.py (loopback only): sign in once, then in a loop read a lesson, submit a quiz,
run a lab command and wait for its result, and check the work and wait for that result, with a think time between.

Every learner signs in as LOAD_USER_PREFIX + a number taken in order (the learners bench/stack.py created). The lab
result is recorded as its own entry, "lab: command -> result" and "lab: check -> result": from the POST until the
long-poll answers with the finished run, the wait a learner sees. A learner stops after LOAD_MAX_CYCLES loops.
LOAD_MODE=labs: learners only run lab commands, with no think time (throughput of lab runs, for the scaling ratios).
"""

from __future__ import annotations

import itertools
import os
import re
import time
from pathlib import Path

from locust import HttpUser, between, constant, events, task
from locust.exception import StopUser

PASSWORD = "bench-password-123"  # noqa: S105 - the throwaway learners of bench/stack.py
PREFIX = os.environ.get("LOAD_USER_PREFIX", "learner")
MAX_CYCLES = int(os.environ.get("LOAD_MAX_CYCLES", "50"))
LABS_ONLY = os.environ.get("LOAD_MODE") == "labs"
SESSIONS = Path(os.environ["LOAD_SESSIONS"]).read_text().split() if os.environ.get("LOAD_SESSIONS") else []
COURSE = "/courses/hyperv/"
LAB = "/courses/hyperv/labs/io-trap-trace/"
_numbers = itertools.count()
HX = {"HX-Request": "true"}


def _token(html: str, name: str) -> str:
    match = re.search(rf'value="([0-9a-f-]{{36}})" id="{name}"', html)
    if not match:
        raise RuntimeError(f"no {name} on the page")
    return match.group(1)


def _quiz_answers(html: str) -> dict[str, list[str]]:
    """A full, valid-looking set of answers for whatever the form asks (first choice, positions 1..n)."""
    answers: dict[str, list[str]] = {}
    for _kind, name, value in re.findall(
        r'<input type="(radio|checkbox)" id="[^"]*" name="([^"]+)" value="([^"]+)"', html
    ):
        answers.setdefault(name, [value])
    for name in re.findall(r'<input type="number"[^>]* name="([^"]+)"', html):
        answers[name] = ["1"]
    positions: dict[str, int] = {}
    for name, options in re.findall(r'<select id="[^"]*" name="([^"]+)">(.*?)</select>', html, re.S):
        values = [v for v in re.findall(r'<option value="([^"]*)"', options) if v]
        question = name.rsplit(".", 1)[0]
        index = positions.get(question, 0)
        positions[question] = index + 1
        if values:
            answers[name] = [values[index % len(values)]]
    return answers


class Learner(HttpUser):
    wait_time = constant(0) if LABS_ONLY else between(1, 3)

    def on_start(self) -> None:
        number = next(_numbers)
        self.username = f"{PREFIX}{number:03d}"
        self.cycles = 0
        if SESSIONS:  # already signed in (steady-state runs): the learner's session, then any page for the CSRF cookie
            self.client.cookies.set("sessionid", SESSIONS[number % len(SESSIONS)])
            outline = self.client.get(COURSE, name="course outline").text
        else:
            outline = self._sign_in()
        self.lessons = sorted(set(re.findall(r'href="(/courses/hyperv/lessons/[^"/]+/)"', outline)))
        self.quizzes = sorted(set(re.findall(r'href="(/courses/hyperv/quizzes/[^"/]+/)"', outline)))

    def _sign_in(self) -> str:
        self.client.get("/accounts/login/", name="login (page)")
        with self.client.post(
            "/accounts/login/",
            {
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
            },
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"sign-in refused for {self.username}: {response.status_code}")
                raise StopUser()
        return str(self.client.get(COURSE, name="course outline").text)

    def _headers(self) -> dict[str, str]:
        return {**HX, "X-CSRFToken": self.client.cookies.get("csrftoken", "")}

    @task
    def cycle(self) -> None:
        if self.cycles >= MAX_CYCLES:
            raise StopUser()
        self.cycles += 1
        if not LABS_ONLY:
            self.client.get(self.lessons[self.cycles % len(self.lessons)], name="lesson")
            self.wait()
            self._quiz()
            self.wait()
        self._lab()

    def _quiz(self) -> None:
        url = self.quizzes[self.cycles % len(self.quizzes)]
        page = self.client.get(url, name="quiz (page)").text
        action = re.search(r'action="(/courses/hyperv/quizzes/[^"]+/submit)"', page)
        if not action:  # not started, or the last attempt is submitted: start one (a POST) where attempts are left
            start = re.search(r'action="(/courses/hyperv/quizzes/[^"]+/start)"', page)
            if not start:
                return
            page = self.client.post(start.group(1), headers={"X-CSRFToken": self.client.cookies.get("csrftoken", "")},
                                    name="quiz start").text  # fmt: skip
            action = re.search(r'action="(/courses/hyperv/quizzes/[^"]+/submit)"', page)
            if not action:
                raise RuntimeError("starting the quiz showed no form")
        with self.client.post(
            action.group(1), _quiz_answers(page), headers=self._headers(), name="quiz submit", catch_response=True
        ) as response:
            if response.status_code != 200 or "quiz-panel" not in response.text:
                response.failure(f"quiz submit answered {response.status_code}")

    def _lab(self) -> None:
        page = self.client.get(LAB, name="lab (page)").text
        if 'action="/labs/attempts/' not in page:  # the first visit: starting the lab is a POST
            page = self.client.post(LAB + "start", headers={"X-CSRFToken": self.client.cookies.get("csrftoken", "")},
                                    name="lab start").text  # fmt: skip
        attempt = re.search(r'action="/labs/attempts/(\d+)/console"', page)
        vm = re.search(r"io write 100KB on ([\w-]+)", page)
        if not attempt or not vm:
            raise RuntimeError("the lab page has no console")
        base = f"/labs/attempts/{attempt.group(1)}"
        self._run_and_wait(
            "lab: command -> result",
            f"{base}/console",
            {"source": f"io write 100KB on {vm.group(1)}", "client_token": _token(page, "console-token")},
        )
        if not LABS_ONLY:
            self.wait()
            self._run_and_wait("lab: check -> result", f"{base}/check", {"client_token": _token(page, "check-token")})
        if self.cycles % 20 == 0:  # a learner who has done this lab 20 times starts again (bounded replay)
            self.client.post(f"{base}/reset", headers={"X-CSRFToken": self.client.cookies.get("csrftoken", "")},
                             name="lab reset", allow_redirects=False)  # fmt: skip

    def _run_and_wait(self, label: str, url: str, data: dict[str, str]) -> None:
        started = time.perf_counter()
        error: Exception | None = None
        try:
            response = self.client.post(
                url, data, headers=self._headers(), name=label.split(":")[1].split("->")[0].strip() + " (POST)"
            )
            run = re.search(r'id="run-(\d+)"', response.text)
            if response.status_code != 200 or not run:
                said = " ".join(re.sub(r"<[^>]+>", " ", response.text).split())[:200]
                raise RuntimeError(f"{url} answered {response.status_code}: {said}")
            body = response.text
            for _ in range(3):  # each wait is bounded (25 s); a result that takes longer is an error here
                if 'aria-busy="false"' in body.split(f'id="run-{run.group(1)}"', 1)[1][:400]:
                    break
                body = self.client.get(
                    f"/labs/runs/{run.group(1)}/?wait=25", headers=HX, name="result (long-poll)"
                ).text
            else:
                raise RuntimeError("no result within 75 s")
        except Exception as exc:  # noqa: BLE001 - recorded as a failure of this step
            error = exc
        events.request.fire(
            request_type="LAB",
            name=label,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=error,
            context={},
        )

