"""Bench: the journal's durability cost, append CPU cost, verification and recovery rates.

All figures come from one run on the disk under test (the directory given with --dir,
default a temporary directory under /var/tmp, which is disk-backed unlike /tmp on some
hosts):
  - raw append + fdatasync latency of the disk: the physical limit of a durable commit;
  - durable commit latency p50/p99 of one heartbeat-like record, and its ratio to the raw
    fdatasync p50 (target <= 2x);
  - throughput with commits of 1, 10, 100 and 1000 records;
  - append CPU cost in records/s (target >= 200k/s), sync off, no commit in the loop;
  - verify rate with seal signatures checked and unchecked (target >= 250k/s checked);
  - recovery time of a 64 MiB segment with a torn tail;
  - bytes per heartbeat record and per seal, and MB/day for a 2-node cluster at keepalive
    100 ms under three commit policies (the daemon decides which).
Prints figures only; nothing is asserted. Usage: .venv/bin/python bench/journal.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

# This file is named journal.py, and Python puts its directory first on sys.path, where
# it would shadow the `journal` package it measures.
_BENCH_DIRECTORY = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _BENCH_DIRECTORY]

import msgpack  # noqa: E402

from journal import Journal, kinds, verify_journal  # noqa: E402
from journal.testing import frames, segment_paths  # noqa: E402

HEARTBEAT_KIND = 103  # the engine's HeartbeatReceived
WALL_BASE_NS = 1_764_000_000_000_000_000
SEGMENT_64_MIB = 64 * 1024 * 1024


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _heartbeat(journal: Journal, index: int) -> int:
    return journal.append(HEARTBEAT_KIND, ["beta", "eth0", index],
                          monotonic_ns=index * 100_000_000,
                          wall_ns=WALL_BASE_NS + index * 100_000_000)


def latencies_us(directory: Path, runs: int) -> tuple[list[float], list[float]]:
    """(raw append+fdatasync, journal commit of one record) samples, taken alternately so
    that both see the same disk conditions on a shared machine."""
    path = directory / "raw-fdatasync"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    record = os.urandom(170)  # about one heartbeat record plus its seal
    raw, commit = [], []
    try:
        with Journal.open(directory / "commit-one", node="alpha", sync=True, monotonic_ns=0,
                          wall_ns=WALL_BASE_NS) as journal:
            for index in range(runs):
                started = time.perf_counter()
                os.write(descriptor, record)
                os.fdatasync(descriptor)
                raw.append((time.perf_counter() - started) * 1e6)
                started = time.perf_counter()
                _heartbeat(journal, index + 1)
                journal.commit()
                commit.append((time.perf_counter() - started) * 1e6)
    finally:
        os.close(descriptor)
        path.unlink()
    return raw, commit


def commit_throughput(directory: Path, group: int, records: int) -> float:
    with Journal.open(directory / f"group-{group}", node="alpha", sync=True, monotonic_ns=0,
                      wall_ns=WALL_BASE_NS) as journal:
        started = time.perf_counter()
        for index in range(records):
            _heartbeat(journal, index + 1)
            if (index + 1) % group == 0:
                journal.commit()
        journal.commit()
        return records / (time.perf_counter() - started)


def append_rate(directory: Path, records: int) -> tuple[float, float]:
    """(records per CPU second, records per wall second) for append alone."""
    with Journal.open(directory / "append", node="alpha", sync=False, monotonic_ns=0,
                      wall_ns=WALL_BASE_NS) as journal:
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        for index in range(records):
            _heartbeat(journal, index + 1)
        assert journal.head  # appends defer hashing and framing to here: count them too
        cpu_s = time.process_time() - started_cpu
        wall_s = time.perf_counter() - started_wall
    return records / cpu_s, records / wall_s


def write_unsynced(directory: Path, records: int, group: int,
                   segment_bytes_max: int = SEGMENT_64_MIB) -> None:
    with Journal.open(directory, node="alpha", sync=False, monotonic_ns=0, wall_ns=WALL_BASE_NS,
                      segment_bytes_max=segment_bytes_max) as journal:
        for index in range(records):
            _heartbeat(journal, index + 1)
            if (index + 1) % group == 0:
                journal.commit()


def verify_rates(directory: Path, records: int, group: int
                 ) -> tuple[tuple[float, float], tuple[float, float], int]:
    """((CPU, wall) records/s with signatures checked, the same unchecked, seals)."""
    target = directory / f"verify-{group}"
    write_unsynced(target, records, group)
    rates = []
    for check_signatures in (True, False):
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        report = verify_journal(target, check_signatures=check_signatures)
        cpu_s = time.process_time() - started_cpu
        wall_s = time.perf_counter() - started_wall
        assert report.is_ok, report.problems
        rates.append((report.records / cpu_s, report.records / wall_s))
    shutil.rmtree(target)
    return rates[0], rates[1], report.seals


def recovery_seconds(directory: Path, group: int, quick: bool) -> tuple[float, int, int]:
    target = directory / "recovery"
    size_goal = SEGMENT_64_MIB // (8 if quick else 1)
    with Journal.open(target, node="alpha", sync=False, monotonic_ns=0, wall_ns=WALL_BASE_NS,
                      segment_bytes_max=SEGMENT_64_MIB * 2) as journal:
        index = 0
        segment = segment_paths(target)[-1]
        while segment.stat().st_size < size_goal:
            for _ in range(10_000):
                index += 1
                _heartbeat(journal, index)
                if index % group == 0:
                    journal.commit()
            journal.commit()
    size = segment.stat().st_size
    with open(segment, "ab") as file:
        file.write(b"\x99\x00\x00\x00torn" + os.urandom(40))  # a torn frame at the end
    started = time.perf_counter()
    with Journal.open(target, node="alpha", sync=True) as reopened:
        elapsed = time.perf_counter() - started
        assert reopened.recovery is not None
    shutil.rmtree(target)
    return elapsed, size, index


def record_sizes(directory: Path) -> tuple[int, int]:
    """(bytes of one heartbeat frame, bytes of one seal frame) as stored."""
    target = directory / "sizes"
    with Journal.open(target, node="alpha", sync=False, monotonic_ns=0,
                      wall_ns=WALL_BASE_NS) as journal:
        for index in range(1, 100):
            _heartbeat(journal, 1_000_000 + index)
        journal.commit()
    stored = frames(segment_paths(target)[-1].read_bytes())[1:]
    sizes = {msgpack.unpackb(frame.body)[1]: frame.end - frame.offset for frame in stored}
    return sizes[HEARTBEAT_KIND], sizes[kinds.SEAL]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="Directory on the disk to test.")
    parser.add_argument("--quick", action="store_true", help="Smaller runs (a smoke test).")
    options = parser.parse_args()
    base = options.dir if options.dir is not None else Path("/var/tmp")
    base.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="hactl-bench-journal-", dir=base))
    quick = options.quick
    runs = 100 if quick else 1000
    try:
        print(f"journal bench in {directory} ({os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f}: wall-clock rates suffer when the machine is shared, "
              "CPU-time rates much less)")
        raw, commit = latencies_us(directory, runs)
        raw_p50, commit_p50 = _percentile(raw, 0.5), _percentile(commit, 0.5)
        print(f"raw append+fdatasync: p50 {raw_p50:.0f} us  p99 {_percentile(raw, 0.99):.0f} us"
              f"  ({runs} runs)")
        print(f"commit of 1 record:   p50 {commit_p50:.0f} us  "
              f"p99 {_percentile(commit, 0.99):.0f} us  ratio p50 to raw fdatasync "
              f"{commit_p50 / raw_p50:.2f}x (target <= 2x)")
        for group in (1, 10, 100, 1000):
            records = max(group * (20 if quick else 100), 200 if quick else 2000)
            rate = commit_throughput(directory, group, records)
            shutil.rmtree(directory / f"group-{group}")
            print(f"throughput, commits of {group:>4}: {rate:>10,.0f} records/s durable")
        cpu_rate, wall_rate = append_rate(directory, 100_000 if quick else 1_000_000)
        print(f"append: {cpu_rate:,.0f} records/s of CPU ({wall_rate:,.0f}/s wall) "
              f"(target >= 200,000)")
        verify_runs = ((100, 50_000 if quick else 500_000), (1, 5_000 if quick else 20_000))
        for group, records in verify_runs:
            checked, unchecked, seals = verify_rates(directory, records, group)
            print(f"verify, commits of {group:>3} ({seals:,} seals): with signatures checked "
                  f"{checked[0]:,.0f} records/s of CPU ({checked[1]:,.0f}/s wall); unchecked "
                  f"{unchecked[0]:,.0f}/s of CPU ({unchecked[1]:,.0f}/s wall) (target >= 250,000)")
        seconds, size, records = recovery_seconds(directory, 100, quick)
        print(f"recovery: open of a {size / 2**20:.0f} MiB segment ({records:,} records) with "
              f"a torn tail: {seconds:.2f} s ({records / seconds:,.0f} records/s)")
        heartbeat_bytes, seal_bytes = record_sizes(directory)
        print(f"bytes: heartbeat record {heartbeat_bytes} B, seal {seal_bytes} B")
        _print_volume(heartbeat_bytes, seal_bytes)
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _print_volume(heartbeat_bytes: int, seal_bytes: int) -> None:
    """2 nodes, keepalive 100 ms, one link: each node journals 10 received heartbeats/s."""
    day_s = 86_400
    heartbeats_per_s = 10
    policies = {
        "a commit per heartbeat": heartbeats_per_s * (heartbeat_bytes + seal_bytes),
        "heartbeats committed once a second": heartbeats_per_s * heartbeat_bytes + seal_bytes,
        "one run record + commit a second": heartbeat_bytes + 8 + seal_bytes,
    }
    for name, bytes_per_s in policies.items():
        print(f"volume, 2 nodes at keepalive 100 ms, {name}: "
              f"{bytes_per_s * day_s / 1e6:.0f} MB/day per node (limit: well under 50)")


if __name__ == "__main__":
    main()
