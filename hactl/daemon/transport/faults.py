"""TEST-ONLY fault injection on sent packets: drop, delay, duplicate, reorder.

This kernel has no netem, so tests that need delay, duplication or reordering switch this
hook on (FoundationDB's buggify idea: faults at a named point in production code). It is
off unless the daemon is started with the environment variable `HACTL_TEST_FAULTS`, e.g.
`HACTL_TEST_FAULTS="seed=7,drop=0.1,delay_ms=0-40,duplicate=0.05,reorder=0.05"`; never
set it in production. Decisions come from a seeded RNG, so a failing run can be repeated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

FAULTS_ENVIRONMENT_VARIABLE = "HACTL_TEST_FAULTS"


class FaultSpecError(ValueError):
    """`HACTL_TEST_FAULTS` could not be parsed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultSpec:
    seed: int = 0
    drop_ratio: float = 0.0
    delay_ms_min: int = 0
    delay_ms_max: int = 0
    duplicate_ratio: float = 0.0
    reorder_ratio: float = 0.0  # held back one extra delay_ms_max, so later packets overtake


@dataclass(frozen=True, slots=True, kw_only=True)
class Transmission:
    """Send one copy after `delay_ms`."""

    delay_ms: int


def parse_fault_spec(text: str) -> FaultSpec:
    values: dict[str, str] = {}
    for item in text.replace(" ", "").split(","):
        if not item:
            continue
        name, separator, value = item.partition("=")
        if not separator:
            raise FaultSpecError(f"{FAULTS_ENVIRONMENT_VARIABLE}: {item!r} is not name=value")
        values[name] = value
    try:
        delay_min, _, delay_max = values.pop("delay_ms", "0").partition("-")
        spec = FaultSpec(
            seed=int(values.pop("seed", "0")),
            drop_ratio=float(values.pop("drop", "0")),
            delay_ms_min=int(delay_min),
            delay_ms_max=int(delay_max or delay_min),
            duplicate_ratio=float(values.pop("duplicate", "0")),
            reorder_ratio=float(values.pop("reorder", "0")),
        )
    except ValueError as error:
        raise FaultSpecError(f"{FAULTS_ENVIRONMENT_VARIABLE}: {error}") from None
    if values:
        raise FaultSpecError(f"{FAULTS_ENVIRONMENT_VARIABLE}: unknown {sorted(values)}")
    return spec


@dataclass(slots=True)
class FaultInjector:
    spec: FaultSpec
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.spec.seed)

    def transmissions(self) -> list[Transmission]:
        """What to do with one packet: no copy (dropped), one, or two."""
        spec = self.spec
        if self.rng.random() < spec.drop_ratio:
            return []
        copies = 2 if self.rng.random() < spec.duplicate_ratio else 1
        sent: list[Transmission] = []
        for _ in range(copies):
            delay_ms = self.rng.randint(spec.delay_ms_min, spec.delay_ms_max)
            if self.rng.random() < spec.reorder_ratio:
                delay_ms += spec.delay_ms_max + 1
            sent.append(Transmission(delay_ms=delay_ms))
        return sent
