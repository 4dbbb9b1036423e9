"""Shared steps of the namespace tests: a cluster lab per test, waits, end-of-test checks.

Every check at the end of a test is the same: both journals verify, and replaying each
journal offline gives the view the node's own `hactl status` reported last.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from engine.core.codec import decode_event
from engine.core.replay import replay
from engine.core.view import cluster_view
from hactl.daemon.lab import ClusterLab, Timings, dump_logs, group_holder, wait_for
from hactl.testbed.netns import topology
from journal import read_records, verify_journal

ENGINE_KINDS = range(100, 200)


@contextlib.contextmanager
def cluster_lab(
    *, networks: tuple[str, ...] = ("main",), heartbeat_networks: tuple[str, ...] = ("main",),
    auto_failback: str = "on", timings: Timings | None = None,
    secrets: dict[str, str] | None = None, extra_environment: dict[str, str] | None = None,
    media_lines: tuple[str, ...] | None = None, with_fencing: bool = False,
    extra_ha_cf_lines: tuple[str, ...] = (),
    hactl_command: tuple[str, ...] = (sys.executable, "-m", "hactl"),
) -> Iterator[ClusterLab]:  # fmt: skip
    with topology(("master", "backup"), networks=networks) as net, \
            tempfile.TemporaryDirectory(prefix="hactl-lab-") as base:  # fmt: skip
        lab = ClusterLab(
            net=net, base_dir=Path(base), timings=timings or Timings(),
            auto_failback=auto_failback, heartbeat_networks=heartbeat_networks,
            extra_environment=extra_environment or {}, media_lines=media_lines,
            with_fencing=with_fencing, extra_ha_cf_lines=extra_ha_cf_lines,
            hactl_command=hactl_command,
        )  # fmt: skip
        lab.write_configs(secrets=secrets)
        try:
            yield lab
        except BaseException:
            print(dump_logs(lab))
            raise


def wait_holder(lab: ClusterLab, holder: str, *, observers: tuple[str, ...],
                timeout_s: float = 20) -> None:  # fmt: skip
    """Wait until every observer's status names `holder` for the group."""
    def agreed() -> bool:
        return all(group_holder(lab.status(role)) == holder for role in observers)

    wait_for(agreed, timeout_s=timeout_s, what=f"{observers} to see {holder} holding the group")


def wait_client_sees(lab: ClusterLab, node: str, *, timeout_s: float = 20) -> None:
    wait_for(lambda: lab.fetch() == node, timeout_s=timeout_s,
             what=f"the client to be served by {node} at the cluster IP")  # fmt: skip


def member(status: dict[str, object] | None, name: str) -> dict[str, object]:
    assert status is not None, "the node does not answer"
    cluster = status["cluster"]
    assert isinstance(cluster, dict)
    for entry in cluster["members"]:
        if entry["name"] == name:
            return dict(entry)
    raise AssertionError(f"{name} is not in {cluster['members']}")


def link_states(status: dict[str, object] | None, peer: str) -> dict[str, str]:
    return {link: state for link, state in member(status, peer)["links"]}  # type: ignore[attr-defined]


def replayed_view(lab: ClusterLab, role: str, *, last_seq: int) -> dict[str, object]:
    """The node's view from its journal alone (records up to `last_seq`), as status JSON."""
    from hactl.daemon.status import to_json_value

    directory = lab.state_dir(role) / "journal"
    events = [decode_event(record.kind, record.payload)  # type: ignore[arg-type]
              for record in read_records(directory)
              if record.kind in ENGINE_KINDS and record.seq <= last_seq]  # fmt: skip
    view = to_json_value(cluster_view(replay(events)))
    assert isinstance(view, dict)
    return view


def _durable_snapshot(lab: ClusterLab, role: str) -> tuple[dict[str, object], int] | None:
    """(status view, seq of the last record it reflects), once that record is durable."""
    status = lab.status(role)
    if status is None:
        return None
    journal = status["journal"]
    assert isinstance(journal, dict)
    last_seq = int(journal["next_seq"]) - 1
    wait_for(lambda: _sealed_seq(lab, role) >= last_seq, timeout_s=5,
             what=f"{role}'s journal to commit seq {last_seq}")  # fmt: skip
    cluster = status["cluster"]
    assert isinstance(cluster, dict)
    return cluster, last_seq


def is_settled(status: dict[str, object] | None) -> bool:
    if status is None:
        return True  # a stopped node has nothing in flight
    cluster = status["cluster"]
    assert isinstance(cluster, dict)
    is_groups_settled = all(
        group["local_phase"] in ("running", "stopped") for group in cluster["groups"]
    )
    is_members_settled = all(  # nobody booting (probing) or leaving
        member["phase"] in ("active", None) or member["status"] in ("dead", "left")
        for member in cluster["members"]
    )
    return is_groups_settled and is_members_settled


def _sealed_seq(lab: ClusterLab, role: str) -> int:
    status = lab.status(role)
    journal = status["journal"] if status is not None else {}
    return int(journal["sealed_seq"]) if isinstance(journal, dict) else -1


def check_journals_and_replay(lab: ClusterLab) -> None:
    """Stop the daemons where they stand, verify both journals, compare replay with status.

    The status names the journal position it reflects; once that record is durable the
    daemon is killed (-9, so nothing more is written) and the journal up to that record
    must replay to exactly the view the daemon reported.
    """
    snapshots = {}
    for role in lab.daemons:
        _wait_settled(lab, role)
        snapshot = _durable_snapshot(lab, role)
        if snapshot is not None:
            snapshots[role] = snapshot
    for role in list(lab.daemons):
        lab.kill_daemon(role)
    for role in lab.net.node_names:
        report = verify_journal(lab.state_dir(role) / "journal")
        assert report.is_ok, f"{role}: {report.problems}"
    for role, (live, last_seq) in snapshots.items():
        replayed = replayed_view(lab, role, last_seq=last_seq)
        assert replayed == live, f"{role}: replay disagrees with status"
        assert_cli_replay_agrees(lab, role, live)


def _wait_settled(lab: ClusterLab, role: str) -> None:
    def settled() -> bool:
        return is_settled(lab.status(role))

    wait_for(settled, timeout_s=20, what=f"{role}'s groups to finish starting or stopping")


def _settled(view: dict[str, object]) -> dict[str, object]:
    """The parts of a view that do not change while a cluster is steady (no clocks)."""
    members = [
        {key: value for key, value in member.items() if key != "last_heard_ms"}
        for member in view["members"]  # type: ignore[attr-defined]
    ]
    return {"phase": view["phase"], "is_quorate": view["is_quorate"], "members": members,
            "groups": view["groups"], "local_node": view["local_node"]}  # fmt: skip


def assert_cli_replay_agrees(lab: ClusterLab, role: str, live: dict[str, object]) -> None:
    """`hactl replay --json` of the whole journal, run as an admin would, agrees too."""
    shown = subprocess.run(
        [*lab.hactl_command, "replay", "--json", "--state-dir",
         str(lab.state_dir(role))],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    replayed, expected = _settled(json.loads(shown.stdout)), _settled(live)
    assert replayed == expected, f"{role}: hactl replay {replayed} != status {expected}"
