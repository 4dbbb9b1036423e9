"""Peers' seals are journaled once each as they advance; a repeated one costs no parse."""

from __future__ import annotations

from pathlib import Path

from hactl.daemon.seals import PeerSealKeeper
from journal import Journal, kinds, read_records


def peer_seals(directory: Path) -> list[int]:
    return [record.seq for record in read_records(directory) if record.kind == kinds.PEER_SEAL]


def test_each_advancing_seal_is_journaled_once_and_garbage_is_counted(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "peer", node="backup", sync=False) as peer:
        peer.append(100, ["x"], monotonic_ns=1, wall_ns=1)
        first = peer.commit().to_bytes()
        peer.append(100, ["y"], monotonic_ns=2, wall_ns=2)
        second = peer.commit().to_bytes()
    with Journal.open(tmp_path / "ours", node="master", sync=False) as journal:
        keeper = PeerSealKeeper(journal=journal)
        for seal_bytes in (first, first, first, second, second, first):
            keeper.consider("backup", seal_bytes, now_ms=5)
        keeper.consider("backup", b"\xc1 not a seal", now_ms=6)
        keeper.consider("third", second, now_ms=7)  # backup's seal claimed by another node
        assert keeper.unreadable_count == 1
        assert keeper.latest_seq_by_peer == {"backup": peer.latest_seal().seq}
    assert len(peer_seals(tmp_path / "ours")) == 2
