"""Shadow paging vs SLAT, tagged vs untagged TLBs: the trade-offs a trainer teaches, produced by the formulas."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labs.sim.errors import InvalidParameter, NotSupported
from labs.sim.mmu import DEFAULT_MMU_PARAMS, WORKLOADS, MmuParams, Workload, nested_walk_refs, simulate
from labs.sim.trace import Trace

TS = WORKLOADS["terminal-services"]
THRASH = WORKLOADS["tlb-thrash-small-pages"]
THRASH_LARGE = WORKLOADS["tlb-thrash-large-pages"]


def test_terminal_services_reproduces_microsofts_10_to_2_percent_direction() -> None:
    shadow = simulate("shadow", True, TS)
    slat = simulate("slat", True, TS)
    assert 8 <= shadow.overhead_cpu_pct <= 12
    assert 1.5 <= slat.overhead_cpu_pct <= 3
    assert shadow.overhead_cpu_pct / slat.overhead_cpu_pct > 3


def test_slat_walk_cycles_are_charged_to_the_guest_not_to_the_hypervisor() -> None:
    """docs/sources.md#memory-translation: the hardware page walker runs in the guest's own time."""
    for mode in ("shadow", "slat"):
        for tagged in (True, False):
            r = simulate(mode, tagged, THRASH)
            assert r.hypervisor_cycles == r.exit_cycles + r.shadow_update_cycles
            assert r.guest_walk_cycles == r.walk_overhead_cycles + r.refill_cycles
            assert r.overhead_cycles == r.hypervisor_cycles + r.guest_walk_cycles
    shadow, slat = simulate("shadow", True, THRASH), simulate("slat", True, THRASH)
    assert slat.hypervisor_cpu_pct < shadow.hypervisor_cpu_pct  # SLAT lowers the hypervisor's CPU ...
    assert slat.guest_walk_cpu_pct > 10 * shadow.guest_walk_cpu_pct  # ... and raises the guest's TLB-miss cost
    assert any("charged to the guest" in line for line in slat.explanation)
    ts = simulate("slat", True, TS)
    assert ts.hypervisor_cpu_pct == 0.6 and ts.guest_walk_cpu_pct == 1.31 and ts.overhead_cpu_pct == 1.91


def test_percentages_flow_from_the_parameters_not_hard_coded() -> None:
    cheaper_exits = dataclasses.replace(DEFAULT_MMU_PARAMS, vm_exit_cycles=1_200)
    baseline = simulate("shadow", True, TS).overhead_cpu_pct
    assert simulate("shadow", True, TS, params=cheaper_exits).overhead_cpu_pct < baseline
    fewer_pt_writes = dataclasses.replace(TS, page_table_updates_per_s=3_000)
    assert simulate("shadow", True, fewer_pt_writes).overhead_cpu_pct < 8
    r = simulate("shadow", True, TS)
    assert r.overhead_cycles == r.exit_cycles + r.shadow_update_cycles + r.walk_overhead_cycles + r.refill_cycles
    assert r.hypervisor_cpu_pct == round(r.hypervisor_cycles * 100 / DEFAULT_MMU_PARAMS.cpu_hz, 2)
    assert r.overhead_cpu_pct == round(r.overhead_cycles * 100 / DEFAULT_MMU_PARAMS.cpu_hz, 2)


def test_shadow_traps_every_context_switch_and_page_table_write_slat_none() -> None:
    shadow = simulate("shadow", False, TS)
    slat = simulate("slat", False, TS)
    mmu_events = TS.context_switches_per_s + TS.page_table_updates_per_s + TS.page_faults_per_s + TS.invlpg_per_s
    assert shadow.shadow_updates == mmu_events
    assert shadow.vm_exits == mmu_events + TS.other_vm_exits_per_s
    assert slat.shadow_updates == 0
    assert slat.vm_exits == TS.other_vm_exits_per_s
    assert any("context switches 1,000/s x 1 VM exit each" in line for line in shadow.explanation)


def test_walk_refs_24_vs_4_from_the_formula() -> None:
    assert nested_walk_refs(4, 4) == 24
    assert nested_walk_refs(3, 4) == 19
    assert simulate("slat", True, THRASH).walk_refs_per_miss == 24
    assert simulate("shadow", True, THRASH).walk_refs_per_miss == 4
    deeper = dataclasses.replace(DEFAULT_MMU_PARAMS, nested_levels=5)
    assert simulate("slat", True, THRASH, params=deeper).walk_refs_per_miss == (4 + 1) * (5 + 1) - 1


def test_slat_loses_on_a_tlb_miss_heavy_workload_with_small_pages() -> None:
    shadow = simulate("shadow", True, THRASH)
    slat = simulate("slat", True, THRASH)
    assert slat.overhead_cpu_pct > shadow.overhead_cpu_pct
    assert slat.walk_refs_total == slat.tlb_misses * 24
    assert slat.walk_refs_total > 5 * shadow.walk_refs_total


def test_large_pages_reduce_slats_walk_cost() -> None:
    small = simulate("slat", True, THRASH)
    large = simulate("slat", True, THRASH_LARGE)
    assert large.walk_refs_per_miss < small.walk_refs_per_miss
    assert large.tlb_misses < small.tlb_misses  # the TLB reaches further with 2 MB pages
    assert large.walk_refs_total < small.walk_refs_total
    assert large.guest_walk_cpu_pct < small.guest_walk_cpu_pct


def test_large_pages_that_fit_the_tlb_reach_remove_capacity_misses() -> None:
    fits = dataclasses.replace(THRASH_LARGE, working_set_mb=128)  # 128 x 2 MB entries = 256 MB reach
    assert simulate("slat", True, fits).capacity_misses == 0


@pytest.mark.parametrize("mode", ["shadow", "slat"])
@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_tagged_tlb_cuts_flushes_about_64_times(mode: str, name: str) -> None:
    untagged = simulate(mode, False, WORKLOADS[name])
    tagged = simulate(mode, True, WORKLOADS[name])
    assert untagged.tlb_flushes == untagged.vm_exits
    assert tagged.tlb_flushes == untagged.vm_exits // 64
    assert 60 <= untagged.tlb_flushes / max(tagged.tlb_flushes, 1) <= 70
    assert tagged.overhead_cpu_pct < untagged.overhead_cpu_pct
    assert tagged.hypervisor_cpu_pct == untagged.hypervisor_cpu_pct  # flushes cost page walks, in guest time


def test_slat_unavailable_is_not_supported_with_the_reason() -> None:
    with pytest.raises(NotSupported) as exc:
        simulate("slat", True, TS, slat_available=False)
    assert "EPT (Intel) or RVI (AMD)" in exc.value.message and "Windows Server 2008 (R1)" in exc.value.message
    assert simulate("shadow", True, TS, slat_available=False).mode == "shadow"


def test_unknown_mode_is_invalid() -> None:
    with pytest.raises(InvalidParameter) as exc:
        simulate("nested", True, TS)
    assert exc.value.path == "mode"


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("context_switches_per_s", -1, "workload.context_switches_per_s"),
        ("page_table_updates_per_s", -5, "workload.page_table_updates_per_s"),
        ("page_touches_per_s", -1, "workload.page_touches_per_s"),
        ("working_set_mb", 0, "workload.working_set_mb"),
        ("page_size_kb", 8, "workload.page_size_kb"),
        ("invlpg_per_s", 1.5, "workload.invlpg_per_s"),
    ],
)
def test_impossible_workload_values_name_the_field(field: str, value: object, path: str) -> None:
    with pytest.raises(InvalidParameter) as exc:
        dataclasses.replace(TS, **{field: value})  # type: ignore[arg-type]
    assert exc.value.path == path


def test_impossible_params_name_the_field() -> None:
    with pytest.raises(InvalidParameter) as exc:
        MmuParams(vm_exit_cycles=-2_400)
    assert exc.value.path == "params.vm_exit_cycles"
    with pytest.raises(InvalidParameter) as exc:
        MmuParams(asid_switches_per_flush=0)
    assert exc.value.path == "params.asid_switches_per_flush"


def test_trace_gets_a_few_summarising_events_and_counters() -> None:
    t = Trace()
    r = simulate("shadow", True, TS, trace=t)
    kinds = [e["kind"] for e in t.events]
    assert "mmu.shadow_update" in kinds and "mmu.tlb_flush" in kinds
    assert len(t.events) <= 6
    walks = {"mmu.tlb_flush", "mmu.shadow_walk", "mmu.nested_walk"}
    assert all(e["mode"] == "hypervisor" for e in t.events if e["kind"] not in walks)
    assert all(e["mode"] == "hardware" and e["partition"] == "guest" for e in t.events if e["kind"] in walks)
    assert t.counters["mmu.vm_exits"] == r.vm_exits
    t2 = Trace()
    simulate("slat", True, TS, trace=t2)
    assert "mmu.nested_walk" in [e["kind"] for e in t2.events]
    assert "mmu.shadow_update" not in [e["kind"] for e in t2.events]


def test_result_is_json_and_deterministic() -> None:
    a = simulate("slat", False, TS).to_dict()
    b = simulate("slat", False, TS).to_dict()
    assert a == b
    json.dumps(a, sort_keys=True)
    for key in (
        "vm_exits",
        "shadow_updates",
        "tlb_flushes",
        "tlb_misses",
        "walk_refs_per_miss",
        "walk_refs_total",
        "hypervisor_cycles",
        "hypervisor_cpu_pct",
        "guest_walk_cycles",
        "guest_walk_cpu_pct",
        "overhead_cycles",
        "overhead_cpu_pct",
        "params",
        "explanation",
    ):
        assert key in a


rates = st.integers(min_value=0, max_value=5_000_000)


@given(
    cs=rates,
    pt=rates,
    pf=rates,
    inv=rates,
    other=rates,
    touches=rates,
    ws=st.integers(min_value=1, max_value=1_000_000),
    page=st.sampled_from([4, 2048]),
    mode=st.sampled_from(["shadow", "slat"]),
    tagged=st.booleans(),
)
def test_counters_never_negative_and_consistent(
    cs: int, pt: int, pf: int, inv: int, other: int, touches: int, ws: int, page: int, mode: str, tagged: bool
) -> None:
    w = Workload("w", cs, pt, pf, inv, other, ws, page, touches)
    r = simulate(mode, tagged, w)
    d = r.to_dict()
    for key in ("vm_exits", "shadow_updates", "tlb_flushes", "tlb_misses", "walk_refs_total", "hypervisor_cycles",
                "guest_walk_cycles"):
        assert d[key] >= 0
    assert d["overhead_cycles"] == d["hypervisor_cycles"] + d["guest_walk_cycles"]
    assert r.hypervisor_cpu_pct >= 0
    assert r.tlb_flushes <= r.vm_exits
    assert r.capacity_misses <= touches
    if mode == "slat":
        assert r.shadow_updates == 0
    # shadow never beats SLAT on exits; SLAT never beats shadow on walk length
    other_mode = simulate("slat" if mode == "shadow" else "shadow", tagged, w)
    shadow, slat = (r, other_mode) if mode == "shadow" else (other_mode, r)
    assert shadow.vm_exits >= slat.vm_exits
    assert slat.walk_refs_per_miss > shadow.walk_refs_per_miss
