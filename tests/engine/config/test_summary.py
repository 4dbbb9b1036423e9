"""What `hactl config check` prints: every part of the configuration, and never a secret."""

from __future__ import annotations

import json

from engine.config.build import parse_cluster_config
from engine.config.model import ClusterConfig
from engine.config.summary import config_document, render_summary

HACF = """\
node alpha beta
keepalive 500ms
deadtime 5
udpport 700
ucast eth0 198.18.0.2
mcast eth1 239.0.0.9 695 2 1
baud 38400
serial /dev/ttyS0
auto_failback legacy
ping 198.18.0.254
ping_group uplink 198.18.1.1 198.18.1.2
stonith_host * external/ipmi beta 198.18.0.9 admin HiddenPositional lanplus
stonith_host alpha fence_ipmilan ip=198.18.0.9 password=HiddenNamed
monitor httpd::extra 10 timeout=30 restarts=2
no_quorum_policy freeze
respawn hacluster /usr/lib/heartbeat/ipfail
apiauth ipfail gid=haclient
"""
HARESOURCES = "alpha IPaddr2::198.18.0.50/24/eth0/198.18.0.255 httpd::extra OCF::Dummy::d1\n"
AUTHKEYS = "auth 2\n1 md5 HiddenOld\n2 sha256 HiddenNew\n"


def config() -> ClusterConfig:
    return parse_cluster_config(
        HACF,
        HARESOURCES,
        AUTHKEYS,
        local_node="alpha",
        local_addresses=["198.18.0.1"],
        ocf_parameter_texts={"Dummy/d1": "state=/run/d1\n"},
    )


def test_summary_lists_everything() -> None:
    text = render_summary(config(), config_dir="/etc/ha.d")
    for expected in [
        "Configuration in /etc/ha.d is valid for node alpha.",
        "Nodes: alpha (this node), beta",
        "keepalive     500ms  (set)",
        "deadtime         5s  (set)",
        "warntime     2500ms  (derived)",
        "initdead        12s  (derived)",
        "UDP port: 700",
        "ucast eth0 to 198.18.0.2 port 700",
        "mcast eth1 group 239.0.0.9 port 695 ttl 2 loop on",
        "serial /dev/ttyS0 at 38400 baud",
        "Authentication: key 2, sha256 (2 key(s) accepted on receipt)",
        "auto_failback: legacy",
        "no_quorum_policy: freeze",
        "198.18.0.254",
        "group uplink: 198.18.1.1 198.18.1.2",
        "IPaddr2::198.18.0.50/24/eth0/198.18.0.255 (preferred node alpha), start order:",
        "1. IPaddr2::198.18.0.50/24/eth0/198.18.0.255: IPaddr2 198.18.0.50/24, on eth0, "
        "broadcast 198.18.0.255",
        "2. httpd::extra: script httpd extra",
        "3. OCF::Dummy::d1: OCF heartbeat:Dummy instance d1 (1 parameters)",
        "external/ipmi used from any node: 5 positional parameters",
        "fence_ipmilan used from alpha: 0 positional parameters; ip=198.18.0.9, password=<hidden>",
        "httpd::extra every 10s, timeout 30s, 2 restarts before failover",
        "Warnings (1):",
        "apiauth: not implemented by hactl",
    ]:
        assert expected in text, expected
    assert "Hidden" not in text


def test_json_document_is_serialisable_and_hides_secrets() -> None:
    document = config_document(config())
    text = json.dumps(document)
    assert "Hidden" not in text
    assert document["timings"]["keepalive_ms"] == 500
    assert document["timings"]["warntime_source"] == "derived"
    assert document["auth"] == {
        "active_index": 2,
        "method": "sha256",
        "keys": [{"index": 1, "method": "md5"}, {"index": 2, "method": "sha256"}],
    }
    assert document["media"][1] == {
        "type": "mcast",
        "interface": "eth1",
        "group": "239.0.0.9",
        "port": 695,
        "ttl": 2,
        "is_loopback": True,
    }
    assert document["fencing"][1]["named_parameters"] == {
        "ip": "198.18.0.9",
        "password": "<hidden>",
    }
    assert document["monitors"] == [
        {"resource": "httpd::extra", "interval_ms": 10_000, "timeout_ms": 30_000, "max_restarts": 2}
    ]
    assert document["groups"][0]["resources"][2]["parameters"] == {"state": "/run/d1"}
