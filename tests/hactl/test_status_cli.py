"""`hactl status` and the admin commands through typer's CliRunner (no daemon needed)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hactl.cli import app
from hactl.commands.status import render_status

DOCUMENT: dict[str, object] = {
    "node": "backup", "pid": 42, "generation": 3, "uptime_ms": 75_000,
    "journal": {"directory": "/var/lib/hactl/journal", "next_seq": 146, "sealed_seq": 144,
                "sealed_head": "c8e511ffccb0e27f00"},
    "transport": {"sent_packets": 37, "refused_packets": {"bad_signature": 4},
                  "send_errors": {}},
    "last_failover": {"group": "IPaddr::198.18.0.50", "from_node": "master",
                      "to_node": "backup", "wall_time_ms": 1_700_000_000_000},
    "cluster": {
        "phase": "active", "is_quorate": True,
        "members": [
            {"name": "backup", "status": "active", "phase": "active", "generation": 3,
             "links": []},
            {"name": "master", "status": "dead", "phase": "active", "generation": 1,
             "links": [["bcast eth0", "dead"], ["bcast eth1", "up"]]},
        ],
        "groups": [{"name": "IPaddr::198.18.0.50", "holder": "backup",
                    "preferred_node": "master", "local_phase": "running",
                    "resources": [["IPaddr::198.18.0.50", "running"], ["httpd", "running"]]}],
    },
}  # fmt: skip


def test_status_reads_at_a_glance() -> None:
    text = render_status(DOCUMENT)
    assert text.startswith("Node backup: active, quorate (pid 42, generation 3, up 1m15s)")
    assert "Journal: /var/lib/hactl/journal seq 145, sealed at 144 head c8e511ffccb0e27f" in text
    assert "master       dead     active    gen 1    links: bcast eth0 dead, bcast eth1 up" in text
    assert "IPaddr::198.18.0.50: held by backup (preferred master; here running)" in text
    assert "IPaddr::198.18.0.50 running, httpd running" in text
    assert "Last failover: IPaddr::198.18.0.50 from master to backup at" in text
    assert "refused: bad_signature 4" in text


def test_no_daemon_is_exit_1_with_the_socket_and_how_to_start_one(tmp_path: Path) -> None:
    runner = CliRunner()
    for arguments in (["status"], ["standby", "local"], ["takeover"], ["shutdown"], ["reload"]):
        result = runner.invoke(app, [*arguments, "--run-dir", str(tmp_path)])
        assert result.exit_code == 1, arguments
        assert f"{tmp_path}/control.sock" in result.output
        assert "hactl daemon --config-dir" in result.output


def test_a_bad_scope_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["standby", "everything"])
    assert result.exit_code == 2
