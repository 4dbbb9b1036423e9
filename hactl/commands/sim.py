"""`hactl sim`: run whole simulated clusters of real engines on a virtual clock.

One seed prints its timeline (membership changes, group moves, fences, alerts, with
simulated times); a range (`--seeds 1..500`) prints one verdict line per seed. Every
failure prints the `reproduce with: hactl sim ...` line that reruns exactly that seed.
Exit codes: 0 every seed passed, 1 a seed violated safety, liveness or replay, 2 usage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import typer

from engine.config.errors import ConfigError
from engine.config.model import ClusterConfig
from engine.sim.disk_journal import DiskJournal
from engine.sim.durations import DurationError, parse_duration_ms
from engine.sim.faults import FaultKinds
from engine.sim.generated_config import ClusterShape
from engine.sim.node_journal import NodeJournal
from engine.sim.seed_run import SeedResult, SeedRun, run_seed, summary_line
from hactl.config_files import load_config


def _seed_range(seed: int | None, seeds: str | None) -> range:
    if seed is not None and seeds is not None:
        raise typer.BadParameter("give --seed or --seeds, not both")
    if seeds is None:
        return range(seed if seed is not None else 1, (seed if seed is not None else 1) + 1)
    first, separator, last = seeds.partition("..")
    if not separator or not first.isdigit() or not last.isdigit() or int(last) < int(first):
        raise typer.BadParameter(f"--seeds {seeds!r}: write a range like 1..500")
    return range(int(first), int(last) + 1)


def _config_from_dir(config_dir: Path) -> ClusterConfig:
    """Read a real /etc/ha.d-style directory; the first `node` line is the local view."""
    first_node = None
    for line in (config_dir / "ha.cf").read_text(encoding="utf-8").splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] == "node":
            first_node = words[1].lower()
            break
    if first_node is None:
        raise typer.BadParameter(f"{config_dir / 'ha.cf'}: no `node` line")
    return load_config(config_dir, node=first_node, local_addresses=())


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedJob:
    """One seed to run, picklable so that --jobs can hand it to another process."""

    run: SeedRun
    out: Path | None
    is_many: bool


def run_job(job: SeedJob) -> SeedResult:
    factory: Callable[[str], NodeJournal] | None = None
    if job.out is not None:
        base = job.out / f"seed-{job.run.seed}" if job.is_many else job.out

        def factory(node: str) -> NodeJournal:
            return DiskJournal(base / node, node=node)

    return run_seed(job.run, journal_factory=factory, is_tracing_views=not job.is_many)


def _results(jobs: list[SeedJob], worker_count: int) -> Iterator[SeedResult]:
    """Results in seed order; with several workers, seeds run in parallel processes."""
    if worker_count <= 1 or len(jobs) <= 1:
        yield from map(run_job, jobs)
        return
    with ProcessPoolExecutor(max_workers=worker_count) as pool:
        yield from pool.map(run_job, jobs, chunksize=4)


def sim(
    nodes: int = typer.Option(2, "--nodes", min=2, max=32, help="Cluster size (2..32)."),
    groups: int = typer.Option(2, "--groups", min=0, help="Resource groups to spread."),
    links: int = typer.Option(2, "--links", min=1, max=2, help="Heartbeat links per node pair."),
    seed: int | None = typer.Option(None, "--seed", help="Run this one seed [default: 1]."),
    seeds: str | None = typer.Option(None, "--seeds", help="Run a range of seeds: A..B."),
    duration: str = typer.Option("2m", "--duration", help="Simulated time per seed (10m, 90s)."),
    fault_kinds: FaultKinds = typer.Option(FaultKinds.ALL, "--faults", help="Faults to inject."),
    config_dir: Path | None = typer.Option(
        None, "--config-dir", exists=True, file_okay=False, help="Simulate this ha.d directory."
    ),
    out: Path | None = typer.Option(
        None, "--out", file_okay=False, help="Keep each node's journal here (one dir per node)."
    ),
    jobs: int = typer.Option(1, "--jobs", min=1, help="Seeds run in parallel processes."),
) -> None:
    """Simulate a cluster with seeded faults and check safety, liveness and replay."""
    try:
        duration_ms = parse_duration_ms(duration)
    except DurationError as error:
        raise typer.BadParameter(str(error), param_hint="--duration") from None
    config = None
    if config_dir is not None:
        try:
            config = _config_from_dir(config_dir)
        except ConfigError as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(1) from None
    shape = ClusterShape(node_count=nodes, group_count=groups, link_count=links)
    seed_numbers = _seed_range(seed, seeds)
    is_many = len(seed_numbers) > 1
    seed_jobs = [
        SeedJob(
            run=SeedRun(
                seed=number,
                shape=shape,
                duration_ms=duration_ms,
                kinds=fault_kinds,
                config=config,
                config_dir=None if config_dir is None else str(config_dir),
            ),
            out=out,
            is_many=is_many,
        )
        for number in seed_numbers
    ]
    failed = 0
    for result in _results(seed_jobs, jobs):
        if not is_many:
            typer.echo(result.timeline)
        typer.echo(summary_line(result))
        if not result.is_ok:
            failed += 1
            _print_failure(result)
    if is_many:
        typer.echo(f"{len(seed_numbers) - failed} of {len(seed_numbers)} seeds passed")
    raise typer.Exit(1 if failed else 0)


def _print_failure(result: SeedResult) -> None:
    for violation in result.violations:
        typer.echo(f"  {violation}")
    typer.echo(result.reproduce_line())


def register(app: typer.Typer) -> None:
    app.command("sim")(sim)
