"""The test clusters' web service and client probe behave as the failover figures assume.

The service's `start` returns only once the port accepts, its `stop` only once the server
is gone; the probe keeps starting fetches while earlier ones hang on an absent address,
so it sees the first answer that becomes possible, not one timeout later.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from hactl.daemon.lab import (
    CLUSTER_IP,
    HTTP_PROBE,
    SERVICE_PORT,
    ClusterLab,
    read_probe_attempts,
    wait_for,
)
from hactl.testbed.netns import CLIENT_ROLE, Topology, topology
from hactl.testbed.web_service_build import PYTHON_SOURCE, compiled_web_service
from tests.hactl.agents.conftest import is_process_alive

pytestmark = pytest.mark.needs_root

CONNECT_ONCE = ("import _socket, sys; s = _socket.socket(); s.settimeout(2); "
                f"sys.exit(s.connect_ex(('127.0.0.1', {SERVICE_PORT})))")  # fmt: skip


def _httpd(lab: ClusterLab, role: str, action: str) -> subprocess.CompletedProcess[str]:
    return lab.net.run(role, [str(lab.config_dir(role) / "resource.d" / "httpd"), action])


def _accepts_now(net: Topology, role: str) -> bool:
    """One connection attempt, no retry: is the port accepting at this instant?"""
    return net.run(role, [sys.executable, "-S", "-I", "-c", CONNECT_ONCE]).returncode == 0


def test_httpd_start_returns_listening_and_stop_returns_gone() -> None:
    with topology(("master", "backup")) as net, \
            tempfile.TemporaryDirectory(prefix="hactl-svc-") as base:  # fmt: skip
        lab = ClusterLab(net=net, base_dir=Path(base))
        lab.write_configs()
        assert _httpd(lab, "master", "status").stdout.strip() == "stopped"
        for _round in range(3):  # failback starts it again right after a stop
            assert _httpd(lab, "master", "start").returncode == 0
            assert _accepts_now(net, "master")
            assert _httpd(lab, "master", "status").stdout.strip() == "running"
            pid = int((lab.node_dir("master") / "service" / "httpd.pid").read_text())
            assert _httpd(lab, "master", "start").returncode == 0  # already running: no-op
            assert int((lab.node_dir("master") / "service" / "httpd.pid").read_text()) == pid
            assert _httpd(lab, "master", "stop").returncode == 0
            assert not _accepts_now(net, "master")
            assert _httpd(lab, "master", "status").stdout.strip() == "stopped"
            assert not is_process_alive(pid)


FETCH_RAW = ("import _socket, sys; s = _socket.socket(); s.settimeout(2); "
             f"s.connect(('127.0.0.1', {SERVICE_PORT})); s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n'); "
             "sys.stdout.write(repr(b''.join(iter(lambda: s.recv(4096), b''))))")  # fmt: skip


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                    reason="no C compiler for web_service.c")
def test_the_compiled_and_the_python_service_answer_the_same_bytes() -> None:
    compiled = compiled_web_service()
    assert compiled is not None
    with topology(("master",)) as net, tempfile.TemporaryDirectory(prefix="hactl-svc-") as base:
        answers = []
        for argv in ([str(compiled)], [sys.executable, "-S", "-I", str(PYTHON_SOURCE)]):
            pid_file = Path(base) / "service.pid"
            # The server's child keeps what it inherited: not the pipe `run` reads to its end.
            started = net.run("master", ["sh", "-c", 'exec "$@" >/dev/null 2>&1 </dev/null', "sh",
                                         *argv, str(SERVICE_PORT), str(pid_file), "node one"])
            assert started.returncode == 0, started.stderr  # returns listening, forked
            pid = int(pid_file.read_text())
            try:
                answers.append(net.run("master", [sys.executable, "-c", FETCH_RAW]).stdout)
            finally:
                os.kill(pid, signal.SIGKILL)
                wait_for(functools.partial(_is_gone, pid), timeout_s=10, what="the server gone")
        assert answers[0] == answers[1]
        assert answers[0].endswith("\\r\\n\\r\\nnode one\\n'")


def _is_gone(pid: int) -> bool:  # for wait_for, which takes a callable without arguments
    return not is_process_alive(pid)



ANNOUNCE = ("import sys, trio; from hactl.agents.announce import announce_address; "
            "trio.run(lambda: announce_address(sys.argv[1], 'eth0', count=1, interval_ms=0))")


def _start_probe(net: Topology, output: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-S", "-I", str(HTTP_PROBE), CLUSTER_IP, str(SERVICE_PORT),
            "0.01", "1.5"]  # a fetch every 10 ms, each given up after 1.5 s
    with open(output, "wb") as sink:
        return net.start(CLIENT_ROLE, argv, stdout=sink, stderr=subprocess.DEVNULL)


def test_the_probe_sees_a_takeover_while_fetches_to_the_dead_holder_still_hang() -> None:
    with topology(("master", "backup")) as net, \
            tempfile.TemporaryDirectory(prefix="hactl-svc-") as base:  # fmt: skip
        lab = ClusterLab(net=net, base_dir=Path(base))
        lab.write_configs()
        for role in ("master", "backup"):
            assert _httpd(lab, role, "start").returncode == 0
        net.run("backup", ["ip", "addr", "add", f"{CLUSTER_IP}/24", "dev", "eth0"])
        output = Path(base) / "probe.txt"
        probe = _start_probe(net, output)
        try:
            wait_for(lambda: any(a.answer == "backup" for a in read_probe_attempts(output)),
                     timeout_s=10, what="the backup serving the client")  # fmt: skip
            # The holder dies: the client's cache still names its MAC, so fetches hang.
            net.cut_links("backup")
            cut_ns = time.monotonic_ns()
            wait_for(lambda: any(a.started_ns > cut_ns and a.answer == "-"
                                 for a in read_probe_attempts(output)),
                     timeout_s=10, what="a fetch to the dead holder to time out")  # fmt: skip
            net.run("master", ["ip", "addr", "add", f"{CLUSTER_IP}/24", "dev", "eth0"])
            announced = net.run("master", [sys.executable, "-c", ANNOUNCE, CLUSTER_IP])
            assert announced.returncode == 0, announced.stderr
            wait_for(lambda: any(a.answer == "master" for a in read_probe_attempts(output)),
                     timeout_s=10, what="an answer from the master")  # fmt: skip
            first = min((a for a in read_probe_attempts(output) if a.answer == "master"),
                        key=lambda a: a.ended_ns)  # fmt: skip
            # Fetches started before the takeover are still hanging when it is answered.
            wait_for(lambda: any(a.started_ns < first.started_ns and a.ended_ns > first.ended_ns
                                 for a in read_probe_attempts(output)),
                     timeout_s=10, what="a fetch started earlier ending after the answer")
        finally:
            net.kill(probe, signal.SIGTERM)
            for role in ("master", "backup"):
                _httpd(lab, role, "stop")
        attempts = read_probe_attempts(output)
        assert [a.ended_ns for a in attempts] == sorted(a.ended_ns for a in attempts)
        assert not [a for a in attempts if a.started_ns > cut_ns and a.answer == "backup"]
        assert {a.answer for a in attempts if a.started_ns > first.ended_ns} == {"master"}
