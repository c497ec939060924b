"""Benchmark: in Chromium, a lab command from Run to its result rendered, against a no-op htmx POST on the same page.

Not a test. Starts the production-like stack (bench/stack.py: gunicorn gthread, PostgreSQL, Redis, one Celery worker),
signs a learner in with Playwright (Debian's Chromium), opens the I/O lab and then, ROUNDS times, interleaves:
- baseline: an htmx POST of the no-op view (bench/bare.py) from the page, timed in the page until it is swapped in;
- run: the console's `io write 100KB on <vm>` submitted as a learner does, timed in the page (performance.now())
  until the finished run is in the run log (the POST, the worker, the pushed result, the swap).
Prints p50/p95 of both and the ratio of the p95s (aim <= 2x). Then the same runs on the embedded default (`make run`:
runserver, SQLite, filesystem transport, no Redis), whose median should stay under 300 ms.

Run: .venv/bin/python bench/push_bench.py [ROUNDS] [--only production|embedded]
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import PASSWORD, Stack, percentile  # noqa: E402
from tests.local_services import answers  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LAB = "/courses/hyperv/labs/io-trap-trace/"

RUN_JS = """async (command) => {
  const log = document.querySelector('#run-log');
  const before = new Set(Array.from(log.querySelectorAll('article.run'), (a) => a.id));
  const input = document.querySelector('#console-input');
  input.value = command;
  const started = performance.now();
  return await new Promise((resolve, reject) => {
    const said = () => (document.querySelector('#console-feedback') || {innerText: ''}).innerText;
    setTimeout(() => reject(new Error('no result in 30 s; the console said: ' + said())), 30000);
    const observer = new MutationObserver(() => {
      const done = Array.from(log.querySelectorAll("article.run[aria-busy='false']")).find((a) => !before.has(a.id));
      if (done) { observer.disconnect(); resolve([performance.now() - started, Date.now(), done.id]); }
    });
    observer.observe(log, {subtree: true, childList: true, attributes: true});
    input.form.requestSubmit();
  });
}"""

NOOP_JS = """async () => {
  let box = document.querySelector('#bench-noop');
  if (!box) { box = document.createElement('div'); box.id = 'bench-noop'; document.querySelector('main').append(box); }
  box.textContent = '';
  const started = performance.now();
  await htmx.ajax('POST', '/bench/noop/', {source: box, target: box, swap: 'innerHTML'});
  if (box.textContent !== 'ok') throw new Error('the no-op POST answered ' + box.textContent);
  return performance.now() - started;
}"""


def _measure(stack: Stack, rounds: int, with_baseline: bool) -> tuple[list[float], list[float], list[float]]:
    """(Run -> rendered, no-op POST, result stored -> rendered) in ms, one of each per counted round."""
    from playwright.sync_api import sync_playwright

    runs: list[float] = []
    noops: list[float] = []
    rendered: dict[int, float] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        page.set_default_timeout(30_000)
        page.goto(stack.url + "/accounts/login/")
        page.fill("#id_username", stack.usernames[0])
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click("main button[type=submit]")
        page.goto(stack.url + LAB)
        if page.locator("form button:has-text('Start the lab')").count():  # the first visit starts the attempt
            with page.expect_navigation():
                page.click("form button:has-text('Start the lab')")
        vm = page.evaluate("document.querySelector('.tasks').innerText.match(/io write 100KB on ([\\w-]+)/)[1]")
        command = f"io write 100KB on {vm}"
        for index in range(rounds + 3):
            noop = page.evaluate(NOOP_JS) if with_baseline else 0.0
            try:
                run, rendered_at, run_id = page.evaluate(RUN_JS, command)
            except Exception:
                print(f"round {index}: the run never showed; the learner's last runs:", file=sys.stderr)
                script = (
                    "from labs.models import LabRun\n"
                    "for r in LabRun.objects.order_by('-pk')[:4]: print(r.pk, r.status, r.created_at, r.claimed_at,"
                    " r.finished_at, r.deliveries)"
                )
                print(stack.manage("shell", "-c", script), file=sys.stderr)
                raise
            if index >= 3:  # warm-up rounds are not counted
                noops.append(noop)
                runs.append(run)
                rendered[int(run_id.removeprefix("run-"))] = rendered_at / 1000
            if index % 25 == 24:  # keep the page and the replayed log the size a learner has
                page.reload()
        browser.close()
    return runs, noops, _push_delays(stack, rendered)


def _push_delays(stack: Stack, rendered: dict[int, float]) -> list[float]:
    """For each run: from the worker's commit of the result (finished_at) to the browser's render (same clock)."""
    import json

    script = (
        "import json; from labs.models import LabRun\n"
        f"runs = LabRun.objects.filter(pk__in={list(rendered)})\n"
        "print(json.dumps({r.pk: r.finished_at.timestamp() for r in runs}))"
    )
    finished = json.loads(stack.manage("shell", "-c", script).strip().splitlines()[-1])
    return [(rendered[int(pk)] - at) * 1000 for pk, at in finished.items()]


def _report(title: str, values: list[float]) -> str:
    return f"{title}: p50 {statistics.median(values):6.1f} ms   p95 {percentile(values, 0.95):6.1f} ms"


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv and argv[0].isdigit() else 40
    only = argv[argv.index("--only") + 1] if "--only" in argv else ""
    if not Path(CHROMIUM).exists():
        print(f"skipped: no Chromium at {CHROMIUM} (set CHROMIUM_PATH)")
        return 0
    if only in ("", "production") and not (answers("127.0.0.1", 5432) and answers("127.0.0.1", 6379)):
        print("production-like part skipped: it needs PostgreSQL and Redis on 127.0.0.1")
    elif only in ("", "production"):
        with Stack("production", web=1, workers=1) as stack:
            runs, noops, pushes = _measure(stack, rounds, with_baseline=True)
        print(f"production-like: gunicorn 1 process x 8 threads, PostgreSQL, Redis, 1 Celery worker; {rounds} rounds")
        print(_report("  no-op htmx POST        ", noops))
        print(_report("  Run -> result rendered ", runs))
        print(_report("  of which stored -> shown", pushes) + "   (the push: notification, long-poll answer, swap)")
        print(f"  ratio (run p95 / no-op p95): {percentile(runs, 0.95) / percentile(noops, 0.95):.2f}x   aim <= 2x")
    if only in ("", "embedded"):
        with Stack("embedded", web=1, workers=1) as stack:
            runs, _, pushes = _measure(stack, rounds, with_baseline=False)
        print(f"embedded default (make run): runserver, SQLite, filesystem transport, no Redis; {rounds} rounds")
        print(_report("  Run -> result rendered ", runs) + "   aim: median < 300 ms")
        print(_report("  of which stored -> shown", pushes) + "   (row re-read every 30 ms, long-poll answer, swap)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
