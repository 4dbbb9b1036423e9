"""The test-only fault hook: parsing and seeded, repeatable decisions."""

from __future__ import annotations

import pytest

from hactl.daemon.transport.faults import (
    FaultInjector,
    FaultSpec,
    FaultSpecError,
    parse_fault_spec,
)


def test_parse_full_spec() -> None:
    spec = parse_fault_spec("seed=7, drop=0.3,delay_ms=5-40,duplicate=0.1,reorder=0.2")
    assert spec == FaultSpec(seed=7, drop_ratio=0.3, delay_ms_min=5, delay_ms_max=40,
                             duplicate_ratio=0.1, reorder_ratio=0.2)  # fmt: skip


@pytest.mark.parametrize("text", ["drop", "drop=x", "jitter=3"])
def test_bad_specs_are_refused(text: str) -> None:
    with pytest.raises(FaultSpecError, match="HACTL_TEST_FAULTS"):
        parse_fault_spec(text)


def test_same_seed_same_decisions_and_ratios_roughly_hold() -> None:
    spec = FaultSpec(seed=3, drop_ratio=0.3, duplicate_ratio=0.2, delay_ms_max=10)
    first = [FaultInjector(spec).transmissions() for _ in range(1)]
    runs = [[FaultInjector(spec).transmissions() for _ in range(1)] for _ in range(2)]
    assert runs[0] == runs[1] == first
    injector = FaultInjector(spec)
    outcomes = [len(injector.transmissions()) for _ in range(2000)]
    assert 0.2 < outcomes.count(0) / 2000 < 0.4
    assert outcomes.count(2) > 0
    assert all(0 <= t.delay_ms <= 10 for _ in range(100) for t in injector.transmissions())


def test_off_by_default() -> None:
    injector = FaultInjector(FaultSpec())
    assert all(len(injector.transmissions()) == 1 for _ in range(100))
