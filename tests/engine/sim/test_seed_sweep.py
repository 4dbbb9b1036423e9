"""CI's seed sweep: 500 random seeds with every fault kind, each checked for safety,
liveness and replay. Marked slow but always run; `make soak` runs thousands more.

Seeds are spread over both cores with a process pool (each seed is independent and a
pure function of its number). Cluster size varies with the seed (2 to 4 nodes, 1 or 2
links) so one sweep covers two-node fencing races and three/four-node quorum. A failure
prints the exact `hactl sim` line that replays it; a seed that finds an engine bug should
become a scenario under tests/scenarios/ once the bug is fixed.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import pytest

from engine.sim.faults import FaultKinds
from engine.sim.generated_config import ClusterShape
from engine.sim.seed_run import SeedRun, reproduce_line, run_seed

SEED_COUNT = 500
DURATION_MS = 45_000  # 5 s boot, ~19 s of faults, then the settle time before liveness

def sweep_run(seed: int) -> SeedRun:
    node_count = 2 + seed % 3
    return SeedRun(
        seed=seed,
        shape=ClusterShape(
            node_count=node_count, group_count=node_count, link_count=1 + (seed // 3) % 2
        ),
        duration_ms=DURATION_MS,
        kinds=FaultKinds.ALL,
    )


def check_seed(seed: int) -> list[str]:
    """The failure report of one seed: empty when it passed."""
    run = sweep_run(seed)
    result = run_seed(run, is_tracing_views=False)
    if result.is_ok:
        return []
    return [*(str(violation) for violation in result.violations), reproduce_line(run)]


@pytest.mark.slow
def test_five_hundred_random_seeds_with_all_faults() -> None:
    workers = min(4, os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        reports = list(pool.map(check_seed, range(1, SEED_COUNT + 1), chunksize=5))
    failures = [line for report in reports for line in report]
    assert not failures, "\n".join(failures)
