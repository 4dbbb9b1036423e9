"""Bench: how long `hactl postmortem` takes on a long journal at keepalive 1 s.

Target (issue 10): answer for a month of journal at keepalive 1 s in under 1 s. A month is
about 2.6 M seconds; the receiving node journals one heartbeat per second per link and one
TimeAdvanced per second (its own heartbeat send), so about 5.2 M records on one link.

This writes a real signed journal of `--days` days (default 1; `--days 30` for the full
month, which takes a while to write) through the `journal` package: the engine's own
NodeStarted (a generated two-node configuration, keepalive 1 s, deadtime 10 s), then each
second a heartbeat from the peer and a TimeAdvanced, and at the end the peer falls silent
so there is one failover to explain. It then times, on the same journal:
  - read: `read_records` alone (the floor any answer pays without an index),
  - verify: `verify_journal` (every signature),
  - postmortem --no-index: load (verify + read) + re-step through the engine + detection,
  - postmortem, index cold: the first run, which verifies everything, replays everything
    and writes the verify cache and the postmortem index beside the segments,
  - postmortem, index warm: what `hactl postmortem --last` then costs (best of three):
    verify from the checkpoint (SHA-256 of the segments), load the index, detect,
and prints records/s and each figure scaled to a month.

Usage: .venv/bin/python bench/postmortem.py [--days 1] [--keep DIR | --cache-dir DIR]
                                            [--skip-full]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.core.codec import encode_event
from engine.core.events import HeartbeatReceived, NodeStarted, TimeAdvanced
from engine.core.messages import NodePhase, StatusPayload
from engine.sim.generated_config import ClusterShape, generate_config
from hactl.postmortem.index import load_journal_indexed
from hactl.postmortem.report import postmortem
from hactl.postmortem.sources import load_journals
from journal import Journal, read_records, verify_journal
from journal.checkpoint import cache_directory

SECONDS_PER_DAY = 86_400
MONTH_DAYS = 30
WALL_BASE_NS = 1_764_000_000_000_000_000
COMMIT_EVERY = 64  # records per group commit (the daemon commits about once per step)


def write_journal(directory: Path, *, days: float) -> int:
    shape = ClusterShape(node_count=2, group_count=1, link_count=1, keepalive_ms=1000,
                         deadtime_ms=10_000, warntime_ms=5000, initdead_ms=20_000,
                         is_fencing=False)  # fmt: skip
    config = dataclasses.replace(generate_config(shape), local_node="node2")
    seconds = int(days * SECONDS_PER_DAY)
    link = "bcast eth0"  # the generated configuration's first medium
    status = StatusPayload(phase=NodePhase.ACTIVE, status_version=3,
                           running_groups=tuple(group.name for group in config.groups),
                           live_members=config.nodes)  # fmt: skip
    count = 0
    with Journal.open(directory, node="node2", sync=False, monotonic_ns=0,
                      wall_ns=WALL_BASE_NS) as journal:  # fmt: skip
        def append(event: object, now_ms: int) -> None:
            nonlocal count
            kind, payload = encode_event(event)  # type: ignore[arg-type]
            journal.append(kind, payload, monotonic_ns=now_ms * 1_000_000,
                           wall_ns=WALL_BASE_NS + now_ms * 1_000_000)
            count += 1
            if count % COMMIT_EVERY == 0:
                journal.commit()

        append(NodeStarted(now_ms=0, wall_time_ms=WALL_BASE_NS // 1_000_000, generation=1,
                           config=config), 0)  # fmt: skip
        silent_from_s = seconds - 60  # the peer dies a minute before the end
        for second in range(1, seconds):
            now_ms = second * 1000
            if second < silent_from_s:
                append(HeartbeatReceived(now_ms=now_ms, from_node="node1", link=link,
                                         generation=1, seq=second, status=status), now_ms)
            append(TimeAdvanced(now_ms=now_ms + 500), now_ms + 500)
        journal.commit()
    return count


def timed(what: str, function: object) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()  # type: ignore[operator]
    return time.perf_counter() - started, result


def journal_for(arguments: argparse.Namespace, scratch: Path) -> tuple[Path, int, float | None]:
    """(directory, records, seconds to write it or None when reused from --cache-dir)."""
    if arguments.cache_dir is None:
        directory = arguments.keep or scratch / "node2"
        write_s, records = timed("write", lambda: write_journal(directory, days=arguments.days))
        assert isinstance(records, int)
        return directory, records, write_s
    home = arguments.cache_dir / f"days-{arguments.days:g}"
    directory = home / "node2"
    marker = home / "records"
    if not marker.exists():
        shutil.rmtree(home, ignore_errors=True)
        write_s, records = timed("write", lambda: write_journal(directory, days=arguments.days))
        marker.write_text(str(records))
        return directory, int(records), write_s  # type: ignore[call-overload]
    return directory, int(marker.read_text()), None


def indexed_answer(directory: Path) -> object:
    loaded = load_journal_indexed(directory)
    assert loaded is not None, "the bench journal verifies"
    journal, trace = loaded
    return postmortem([journal], {journal.node: trace})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--keep", type=Path, default=None, help="write the journal here")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="keep the generated journal here and reuse it on later runs "
                        "(a month takes a minute to write)")
    parser.add_argument("--skip-full", action="store_true",
                        help="skip the postmortem without index (minutes for a month)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hactl-bench-postmortem-") as scratch:
        directory, records, write_s = journal_for(arguments, Path(scratch))
        shutil.rmtree(cache_directory(directory), ignore_errors=True)  # the index starts cold
        read_s, _ = timed("read", lambda: sum(1 for _ in read_records(directory)))
        verify_s, _ = timed("verify", lambda: verify_journal(directory))
        figures = [("read (reference)", read_s), ("verify (full)", verify_s)]
        if not arguments.skip_full:
            full_s, _ = timed("postmortem", lambda: postmortem(load_journals([directory])))
            figures.append(("postmortem --no-index (verify+read+replay)", full_s))
        cold_s, _ = timed("cold", lambda: indexed_answer(directory))
        warm_s, report = timed("warm", lambda: indexed_answer(directory))
        warm_runs = [warm_s, *(timed("warm", lambda: indexed_answer(directory))[0]
                               for _ in range(2))]
        warm_s = min(warm_runs)
        figures += [("postmortem, index cold (first run builds it)", cold_s),
                    ("postmortem, index warm (the answer)", warm_s)]
    month = MONTH_DAYS / arguments.days
    written = "reused" if write_s is None else f"written in {write_s:.1f} s"
    print(f"journal: {arguments.days:g} day(s) at keepalive 1 s, {records} records ({written})")
    for name, seconds in figures:
        print(f"  {name:<46} {seconds:8.3f} s  {records / seconds:14,.0f} records/s  "
              f"month: {seconds * month:8.1f} s")
    print(f"  warm runs: {', '.join(f'{run:.3f}' for run in warm_runs)} s (target: month < 1 s)")
    last = report.last()  # type: ignore[attr-defined]
    print(f"  answer: {last.kind.value} of {last.subject} (outage {last.outage_ms} ms)"
          if last else "  answer: no incident (unexpected)")
    journal = report.journals[0]  # type: ignore[attr-defined]
    print(f"  checked: {journal.coverage}")


if __name__ == "__main__":
    main()
