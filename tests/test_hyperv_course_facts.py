"""The shipped Hyper-V course says only what a reader can check, and states the simulator's numbers as it computes them.

- No learner-visible text says "seed" (an internal word for the course's source articles) or names the non-existent
  "Windows Server 2000".
- Drift: where a lesson, a quiz or an answer key states a number that `labs.sim` computes (crossings of an emulated
  write, PFNs of a synthetic one, 2-D walk references, live-migration passes and blackout), the test runs the
  simulator through its Python API and compares.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from courseware.content import CourseSpec, LessonSpec, QuizSpec, course_read
from labs.content import validate_lab_folder
from labs.sim import guests, mmu
from labs.sim.host import Host
from labs.sim.migration import (
    DEFAULT_MIGRATION_PARAMS,
    DEFAULT_QUICK_MIGRATION_PARAMS,
    MigrationRequest,
    QuickMigrationRequest,
    migrate,
    quick_migrate,
)

COURSE = Path(__file__).resolve().parent.parent / "courseware" / "content" / "hyperv"
SEED_WORD = re.compile(r"\bseeds?\b", re.IGNORECASE)
KB = 1024


@cache
def course() -> CourseSpec:
    spec, problems = course_read(COURSE)
    assert spec is not None and not problems, problems
    return spec


def lesson(slug: str) -> LessonSpec:
    for module in course().modules:
        if slug in module.lessons:
            return module.lessons[slug]
    raise AssertionError(f"no lesson {slug!r}")


def quiz_question(quiz_slug: str, question_id: str) -> dict[str, Any]:
    for module in course().modules:
        quiz: QuizSpec | None = module.quizzes.get(quiz_slug)
        if quiz is not None:
            for question in quiz.questions:
                if question["id"] == question_id:
                    return question
    raise AssertionError(f"no question {question_id!r} in quiz {quiz_slug!r}")


def _strings(value: Any, skip_keys: frozenset[str] = frozenset({"id", "type"})) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in skip_keys:
                yield from _strings(item, skip_keys)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item, skip_keys)


def _svg_text(data: bytes) -> str:
    return re.sub(r"<[^>]+>", " ", data.decode("utf-8"))


def learner_visible_texts() -> Iterator[tuple[str, str]]:
    """(where, text) for everything a learner can read: pages, quizzes, glossary, diagrams, lab manuals and checks."""
    spec = course()
    yield "course.yaml", " ".join([spec.title, spec.summary_md, spec.audience_md])
    for module in spec.modules:
        yield f"{module.folder}/module.yaml", f"{module.title} {module.summary}"
        for slug, item in module.lessons.items():
            yield f"lesson {slug}", " ".join([item.title, *item.objectives, item.body_md, item.body_html])
        for slug, quiz in module.quizzes.items():
            for question in quiz.questions:
                yield f"quiz {slug} question {question['id']}", " ".join(_strings(question))
            yield f"quiz {slug}", quiz.title
    for entry in spec.glossary:
        yield f"glossary {entry['slug']}", " ".join(_strings(entry, frozenset({"slug"})))
    for path, image in spec.images.items():
        if path.endswith(".svg"):
            yield f"images/{path}", _svg_text(image.data)
    for folder in sorted((COURSE / "labs").iterdir()):
        problems, lab = validate_lab_folder(folder)
        assert lab is not None, problems
        definition = lab.definition
        yield f"lab {lab.slug} manual", lab.manual_md
        yield f"lab {lab.slug} title", lab.title
        for key in ("tasks", "questions", "checks"):
            yield f"lab {lab.slug} {key}", " ".join(_strings(definition.get(key, []), frozenset({"id", "expect"})))


@pytest.mark.django_db
def test_no_learner_visible_text_says_seed() -> None:
    offenders = [
        f"{where}: …{text[max(0, m.start() - 60) : m.end() + 60]}…"
        for where, text in learner_visible_texts()
        for m in [SEED_WORD.search(text)]
        if m
    ]
    assert not offenders, "learner-visible text says 'seed':\n" + "\n".join(offenders)


@pytest.mark.django_db
def test_no_learner_visible_text_names_windows_server_2000() -> None:
    offenders = [where for where, text in learner_visible_texts() if "Windows Server 2000" in text]
    assert not offenders, "no 'Windows Server 2000' (the product is Windows 2000 Server): " + ", ".join(offenders)


def test_the_seed_check_itself_catches_the_word() -> None:
    assert SEED_WORD.search("as the Seed author says")
    assert SEED_WORD.search("both seeds")
    assert not SEED_WORD.search("seeded shuffle, proceeds")


# --- drift: the simulator's numbers, stated the same way everywhere --------------------------------------------


def _host_with_two_guests() -> Host:
    no_is = "windows-no-integration-services"
    scenario = {
        "host": {
            "name": "HV01",
            "cpu": {"vendor": "intel", "arch": "x64", "virtualization": True, "slat": True},
            "os": {"version": "2008 R2", "installation": "full", "edition": "enterprise"},
            "hyperv_role": True,
            "bcd": {"hypervisorlaunchtype": "auto"},
        },
        "vms": [
            {"name": "legacy", "guest": no_is, "memory_mb": 512, "state": "running"},
            {"name": "enlightened", "guest": "windows-enlightened", "memory_mb": 1024, "state": "running"},
        ],
    }
    return Host(scenario, 1)


@cache
def emulated_write() -> dict[str, Any]:
    return _host_with_two_guests().io("legacy", "write", 100 * KB)


@cache
def synthetic_write() -> dict[str, Any]:
    return _host_with_two_guests().io("enlightened", "write", 100 * KB)


def test_the_io_trap_lesson_states_the_simulators_crossings() -> None:
    result = emulated_write()
    counters, arithmetic = result["counters"], result["arithmetic"]
    accesses, per_access = arithmetic["port_accesses"], arithmetic["crossings_per_port_access"]
    port_crossings, completions = arithmetic["port_access_crossings"], arithmetic["completion_crossings"]
    root, total = counters["root_user_transitions"], counters["user_kernel_transitions"]
    assert port_crossings + completions == root
    body = lesson("cost-of-an-io-trap").body_md
    assert f"**{accesses} × {per_access} = {port_crossings}**" in body
    assert f"**{port_crossings} + {completions} = {root}**" in body
    assert f"**{root} + {total - root} = {total}**" in body
    assert f"| {root} (model: {port_crossings} for the port accesses, {completions} for the completions) |" in body
    assert f"{arithmetic['commands']} commands and {accesses} port accesses" in body


def test_the_crossings_quiz_answer_is_the_simulators_root_count() -> None:
    question = quiz_question("architecture-quiz", "model-crossings")
    counters = emulated_write()["counters"]
    assert question["answer"] == counters["root_user_transitions"]
    assert f"{counters['user_kernel_transitions']} transitions in all" in " ".join(_strings(question))


def test_the_io_trap_answer_key_and_diagram_state_the_simulators_numbers() -> None:
    counters = emulated_write()["counters"]
    key = (COURSE / "labs" / "io-trap-trace" / "answer-key.md").read_text()
    root, total = counters["root_user_transitions"], counters["user_kernel_transitions"]
    assert re.search(rf"\bit is {root}\b", key), "the answer key's emulated-root-crossings value"
    assert re.search(rf"`user_kernel_transitions` shows {total}\b", key), "the answer key's total with the guest's call"
    assert re.search(rf"\bit\s+is {counters['port_accesses']}\b", key), "the answer key's port accesses"
    svg = _svg_text((COURSE / "images" / "03-emulated-vs-synthetic-path.svg").read_bytes())
    assert f"{counters['port_accesses']} per 100 KB write" in svg


def test_the_synthetic_write_pfns_match_everywhere() -> None:
    result = synthetic_write()
    pfns = result["arithmetic"]["pfns_total"]
    assert result["counters"]["root_user_transitions"] == 0
    assert quiz_question("architecture-quiz", "pfn-count")["answer"] == pfns
    assert f"**{pfns}** page numbers" in lesson("vsp-vsc-vmbus").body_md
    assert f"{pfns} page numbers" in lesson("cost-of-an-io-trap").body_md
    glossary = {entry["slug"]: entry["definition_html"] for entry in course().glossary}
    assert f"one packet of {pfns} page numbers" in glossary["gpa-direct"]


def test_the_walk_references_match_the_simulator() -> None:
    refs = mmu.nested_walk_refs(4, 4)
    assert quiz_question("memory-quiz", "walk-refs")["answer"] == refs
    assert f"**{refs} references**" in lesson("tagged-tlb-and-when-slat-hurts").body_md
    svg = _svg_text((COURSE / "images" / "04-shadow-vs-nested-walk.svg").read_bytes())
    assert f"= {refs}" in svg


def _about_mb(value: float) -> str:
    return f"about {round(value):,} MB"


def test_the_live_migration_table_is_what_the_simulator_computes() -> None:
    body = lesson("live-migration-passes").body_md
    rows = {line.split("|")[1].strip(): line for line in body.splitlines() if line.startswith("| ")}
    quiet = migrate(MigrationRequest("quiet", 4096, 30))
    busy = migrate(MigrationRequest("busy", 4096, 100))
    assert quiet.converged and not busy.converged
    for number in (2, 3, 4, 5):
        row = rows[str(number)]
        assert _about_mb(quiet.passes[number - 1].mb_sent) in row, row
        assert _about_mb(busy.passes[number - 1].mb_sent) in row, row
    assert f"about {round(quiet.passes[0].seconds)} s" in rows["1"]
    ellipsis = rows["…"]
    assert f"at pass {len(busy.passes)}" in ellipsis and _about_mb(busy.passes[-1].mb_sent) in ellipsis
    assert f"after pass {len(quiet.passes)}" in ellipsis
    pass7 = quiet.passes[6].mb_sent
    assert round(pass7) == 1 and "about 1 MB at pass 7" in ellipsis
    left = rows["Left for the blackout"]
    assert f"about {round(quiet.blackout_ms)} ms" in left
    assert _about_mb(busy.final_pages * DEFAULT_MIGRATION_PARAMS.page_size_kb / KB) in left
    assert f"about {round(busy.blackout_ms / 1000)} seconds" in left


def test_the_pass_limit_matches_the_simulator() -> None:
    limit = DEFAULT_MIGRATION_PARAMS.max_passes
    assert quiz_question("high-availability-quiz", "max-passes")["answer"] == limit
    assert f"**{limit} passes**" in lesson("live-migration-passes").body_md
    busy = migrate(MigrationRequest("busy", 4096, 100))
    assert len(busy.passes) == limit


def test_simulator_output_that_learners_read_never_says_seed() -> None:
    host = _host_with_two_guests()
    shown: list[Any] = [
        emulated_write(),
        synthetic_write(),
        migrate(MigrationRequest("busy", 4096, 100)).to_dict(),
        migrate(MigrationRequest("quiet", 4096, 30)).to_dict(),
        guests.ic_matrix(),
        host.backup_vm("enlightened"),
        host.backup_vm("legacy"),
    ]
    offenders = [text for text in _strings(shown, frozenset()) if SEED_WORD.search(text)]
    assert not offenders, offenders


def _lab_yaml(slug: str) -> dict[str, Any]:
    problems, lab = validate_lab_folder(COURSE / "labs" / slug)
    assert lab is not None, problems
    return lab.definition


def test_the_live_migration_answer_key_states_the_simulators_passes_and_blackouts() -> None:
    definition = _lab_yaml("live-migration")
    key = (COURSE / "labs" / "live-migration" / "answer-key.md").read_text()
    memory_mb = next(vm["memory_mb"] for vm in definition["scenario"]["vms"] if vm["name"] == "${vm}")
    rates = definition["variants"]["busy_rate"]["choices"]
    for rate in rates:
        busy = migrate(MigrationRequest("busy", memory_mb, rate))
        assert not busy.converged and len(busy.passes) == DEFAULT_MIGRATION_PARAMS.max_passes
        assert f"{round(busy.blackout_ms):,} ms" in key, (rate, busy.blackout_ms)
        assert f"{busy.blackout_ms / 1000:.1f}" in key, (rate, busy.blackout_ms)
    night = migrate(MigrationRequest("night", memory_mb, 20))
    assert night.converged
    assert f"**night-passes** {len(night.passes)}" in key
    assert f"{night.final_pages} pages are left" in key
    assert f"blackout about {round(night.blackout_ms)} ms" in key
    answers = {q["id"]: q.get("answer") for q in definition["questions"]}
    assert answers["night-passes"] == len(night.passes)
    assert answers["busy-passes"] == DEFAULT_MIGRATION_PARAMS.max_passes


def test_the_slat_lab_answer_key_states_the_simulators_walk_references() -> None:
    key = (COURSE / "labs" / "slat-vs-shadow" / "answer-key.md").read_text()
    assert f"**walk-refs-4k** {mmu.nested_walk_refs(4, 4)} = (4+1)(4+1)−1" in key
    assert f"**walk-refs-2m** {mmu.nested_walk_refs(3, 4)} = (3+1)(4+1)−1" in key


def test_the_quick_migration_table_is_what_the_simulator_computes() -> None:
    body = lesson("quick-migration-vs-live-migration").body_md
    rows = {line.split("|")[1].strip(): line for line in body.splitlines() if line.startswith("| ")}
    params = DEFAULT_QUICK_MIGRATION_PARAMS
    assert f"{params.storage_mb_s} MB/s" in body and f"group move of {params.group_move_ms // 1000} s" in body
    assert f"{params.device_state_kb} KB" in body
    for memory_mb in (1024, 4096, 8192):
        result = quick_migrate(QuickMigrationRequest("vm", memory_mb)).to_dict()
        row = rows[f"{memory_mb:,} MB"]
        assert f"about {result['save_seconds']:.1f} s" in row, (row, result["save_seconds"])
        assert f"about {result['restore_seconds']:.1f} s" in row
        assert f"| {result['group_move_seconds']:g} s |" in row
        assert f"about {round(result['downtime_seconds'])} s" in row, (row, result["downtime_seconds"])
    night = migrate(MigrationRequest("night", 8192, 20))
    assert f"needs {len(night.passes)}\npasses and a blackout of about {round(night.blackout_ms)} ms" in body


def test_the_2d_walk_is_charged_to_the_guest_as_the_quiz_and_lesson_say() -> None:
    result = mmu.simulate("slat", True, mmu.WORKLOADS["terminal-services"])
    assert result.guest_walk_cycles >= result.walk_overhead_cycles > 0
    assert result.hypervisor_cycles + result.guest_walk_cycles == result.overhead_cycles
    assert result.hypervisor_cycles < result.overhead_cycles
    question = quiz_question("memory-quiz", "walk-charged-to")
    assert [choice["id"] for choice in question["choices"] if choice.get("correct")] == ["guest"]
    assert "**guest's own run time**" in lesson("tagged-tlb-and-when-slat-hurts").body_md


def test_the_slower_network_example_is_what_the_simulator_computes() -> None:
    body = " ".join(lesson("live-migration-passes").body_md.split())
    shared_gbps = DEFAULT_MIGRATION_PARAMS.shared_network_mbps / 1000
    for gbps in (1.0, shared_gbps):
        result = migrate(MigrationRequest("vm", 8192, 20, network_gbps=gbps))
        expected = (
            f"{len(result.passes)} passes, about {round(result.total_seconds)} s"
            if gbps == 1.0
            else f"{len(result.passes)} passes, about {round(result.total_seconds)} s and about"
        )
        assert expected in body, (gbps, expected)
        assert f"about {round(result.blackout_ms)} ms" in body
    assert f"({DEFAULT_MIGRATION_PARAMS.shared_network_mbps} Mbps of shared cluster networks)" in body


def _backup_host() -> Host:
    scenario: dict[str, Any] = {
        "host": {
            "name": "HV01",
            "cpu": {"vendor": "intel", "arch": "x64", "virtualization": True, "slat": True},
            "os": {"version": "2008 R2", "installation": "full", "edition": "enterprise"},
            "hyperv_role": True,
            "bcd": {"hypervisorlaunchtype": "auto"},
        },
        "vms": [
            {"name": kind, "guest": kind, "memory_mb": 512, "state": "running"}
            for kind in ("windows-enlightened", "windows-xp", "windows-2000-server", "linux-ic-2.1")
        ],
    }
    return Host(scenario, 1)


def test_the_backup_conditions_are_listed_in_the_simulators_order() -> None:
    keywords = {
        "backup-is-installed": "is installed in the guest",
        "backup-is-running": "That service is **running**",
        "vm-running": "The VM is **running**",
        "snapshot-location-same-volume": "**snapshot file location**",
        "basic-disks-only": "**basic disks**",
        "volumes-support-shadow-copies": "**shadow copy** (NTFS)",
        "cluster-group-online": "**cluster group is online**",
        "shadow-storage-same-volume": "**shadow storage**",
    }
    result = _backup_host().backup_vm("windows-enlightened", "dpm")
    assert result["mode"] == "online"
    body = lesson("backup-prerequisites").body_md
    rows = {line.split("|")[1].strip(): line for line in body.splitlines() if line.startswith("| ")}
    names = [condition["condition"] for condition in result["conditions"]]
    assert names == list(keywords)
    for number, name in enumerate(names, start=1):
        assert keywords[name] in rows[str(number)], (number, name, rows[str(number)])


def test_the_guests_backed_up_by_saved_state_are_the_simulators() -> None:
    host = _backup_host()
    table = {
        line.split("|")[1].strip(): line
        for line in lesson("enlightened-guests").body_md.splitlines()
        if line.startswith("| Windows")
    }
    for kind, row_name in (
        ("windows-enlightened", "Windows Server 2008"),
        ("windows-xp", "Windows XP Professional SP2 or SP3"),
        ("windows-2000-server", "Windows 2000 Server / Advanced Server SP4"),
    ):
        result = host.backup_vm(kind)
        has_backup_is = result["mode"] == "online"
        assert ("| Yes |" in table[row_name]) == has_backup_is, (kind, result["mode"], table[row_name])
        if not has_backup_is:
            assert result["mode"] == "saved-state" and result["failed"] == "backup-is-installed"
    linux = host.backup_vm("linux-ic-2.1")
    assert linux["mode"] == "saved-state" and linux["failed"] == "backup-is-installed"
    assert "A running Linux guest of that era is therefore backed up in saved state" in " ".join(
        lesson("host-level-backup-dpm").body_md.split()
    )
