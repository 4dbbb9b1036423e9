"""ha.cf `watchdog DEVICE`: fed from the main loop, starved by a hang, disarmed by 'V'.

Only regular files and FIFOs in a temporary directory stand in for the device; the module
itself refuses a character device under tests, and no test names /dev/watchdog.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import select
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
import trio
import trio.testing

from hactl.daemon import records
from hactl.daemon.lab import wait_for
from hactl.daemon.notify import keep_watchdog_fed
from hactl.daemon.watchdog import DISARM_BYTE, FEED_BYTE, Watchdog, WatchdogError
from journal.kinds import kind_name, summarize
from tests.hactl.daemon.namespace_support import cluster_lab, wait_holder

KEEPALIVE_MS = 200
HANG_S = 2.0


def test_feeding_writes_one_byte_at_most_every_half_keepalive(tmp_path: Path) -> None:
    device = tmp_path / "watchdog"
    device.touch()
    watchdog = Watchdog.open(str(device), keepalive_ms=KEEPALIVE_MS, is_production=False)
    assert watchdog.timeout_s is None  # a file answers no WDIOC_GETTIMEOUT
    assert watchdog.feed(1000)
    assert not watchdog.feed(1099)  # under half a keepalive since the last byte
    assert watchdog.feed(1100)
    assert device.read_bytes() == FEED_BYTE * 2
    watchdog.disarm()
    assert device.read_bytes() == FEED_BYTE * 2 + DISARM_BYTE
    assert not watchdog.feed(5000)  # closed: nothing more is written


def test_close_without_disarm_leaves_no_magic_byte(tmp_path: Path) -> None:
    device = tmp_path / "watchdog"
    device.touch()
    watchdog = Watchdog.open(str(device), keepalive_ms=KEEPALIVE_MS, is_production=False)
    watchdog.feed(0)
    watchdog.close()  # a crash, a self-fence: the device stays armed
    assert device.read_bytes() == FEED_BYTE


def test_a_character_device_is_refused_under_tests_before_it_is_opened() -> None:
    # /dev/null is a harmless character device: it is only stat()ed, never opened.
    with pytest.raises(WatchdogError, match="only a regular file or FIFO"):
        Watchdog.open("/dev/null", keepalive_ms=KEEPALIVE_MS, is_production=True)


def test_a_missing_device_or_a_fifo_nobody_reads_cannot_be_opened(tmp_path: Path) -> None:
    with pytest.raises(WatchdogError):
        Watchdog.open(str(tmp_path / "missing"), keepalive_ms=KEEPALIVE_MS, is_production=False)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(WatchdogError) as raised:
        Watchdog.open(str(fifo), keepalive_ms=KEEPALIVE_MS, is_production=False)
    assert raised.value.errno == errno.ENXIO


def test_a_write_error_is_reported_once_and_feeding_goes_on_trying(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    problems: list[str] = []
    watchdog = Watchdog.open(str(fifo), keepalive_ms=KEEPALIVE_MS, is_production=False)
    watchdog.on_problem = problems.append
    assert watchdog.feed(0)
    os.close(reader)  # the "device" goes away: EPIPE from now on
    assert not watchdog.feed(1000)
    assert not watchdog.feed(2000)
    assert len(problems) == 1 and "pipe" in problems[0].lower()
    watchdog.close()


class FifoRecorder:
    """Reads the daemon's watchdog FIFO in a thread: (monotonic_ns, bytes) per read."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        # Read-write, so the daemon's open never sees "no reader" and we never see EOF.
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self.reads: list[tuple[int, bytes]] = []
        self.is_stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.is_stopping:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                self.reads.append((time.monotonic_ns(), os.read(self.fd, 4096)))

    def stop(self) -> bytes:
        self.is_stopping = True
        self.thread.join()
        with_rest = b"".join(data for _, data in self.reads)
        with contextlib.suppress(BlockingIOError):
            with_rest += os.read(self.fd, 4096)
        os.close(self.fd)
        return with_rest

    def feed_times_ns(self) -> list[int]:
        return [stamp for stamp, data in list(self.reads) for _ in data.replace(DISARM_BYTE, b"")]

    def longest_gap_s(self) -> float:
        stamps = self.feed_times_ns()
        return max((b - a for a, b in itertools.pairwise(stamps)), default=0) / 1e9


@pytest.mark.needs_root
@pytest.mark.slow
def test_the_daemon_feeds_while_its_loop_runs_starves_it_when_hung_and_disarms_on_exit() -> None:
    environment = {"HACTL_TEST_BLOCK_LOOP_S": str(HANG_S)}
    with cluster_lab(extra_environment=environment) as lab:
        recorder = FifoRecorder(lab.base_dir / "watchdog-master")
        try:
            with (lab.config_dir("master") / "ha.cf").open("a") as ha_cf:
                ha_cf.write(f"watchdog {lab.base_dir / 'watchdog-master'}\n")
            process = lab.start("master")  # alone: the backup is never started
            wait_holder(lab, "master", observers=("master",), timeout_s=30)
            wait_for(lambda: len(recorder.feed_times_ns()) >= 5, timeout_s=20,
                     what="the watchdog fed while the loop runs")  # fmt: skip
            fed_before = len(recorder.feed_times_ns())

            daemon_pid = int((lab.run_dir("master") / "hactl.pid").read_text())
            os.kill(daemon_pid, signal.SIGUSR1)  # our daemon, by PID: its loop hangs HANG_S
            wait_for(lambda: "loop unblocked" in lab.log_text("master"), timeout_s=30,
                     what="the test hang to end")  # fmt: skip
            wait_for(lambda: len(recorder.feed_times_ns()) > fed_before + 2, timeout_s=20,
                     what="feeding to resume after the hang")  # fmt: skip
            assert recorder.longest_gap_s() >= 0.75 * HANG_S  # no byte while the loop hung

            lab.admin("master", "shutdown")
            assert process.wait(timeout=60) == 0
            written = recorder.stop()
            assert written.endswith(DISARM_BYTE) and written.count(DISARM_BYTE) == 1
            shown = lab.hactl("master", "journal", "show", "--state-dir",
                              str(lab.state_dir("master")))  # fmt: skip
            assert "watchdog" in shown.stdout and "armed" in shown.stdout, shown.stderr
            assert "disarmed" in shown.stdout
        finally:
            if not recorder.is_stopping:
                recorder.stop()


def test_the_systemd_watchdog_is_only_fed_while_the_loop_goes_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as supervisor:
        supervisor.bind(str(path))
        supervisor.setblocking(False)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        is_alive = [True]

        def received() -> int:
            count = 0
            with contextlib.suppress(BlockingIOError):
                while supervisor.recv(64) == b"WATCHDOG=1":
                    count += 1
            return count

        counts: list[int] = []

        async def supervise() -> None:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(keep_watchdog_fed, 1.0, lambda: is_alive[0])
                await trio.sleep(3.5)  # virtual time: pings at 0, 1, 2, 3
                counts.append(received())
                is_alive[0] = False  # the loop hangs on an await
                await trio.sleep(3.0)
                counts.append(received())
                is_alive[0] = True
                await trio.sleep(2.0)
                counts.append(received())
                nursery.cancel_scope.cancel()

        trio.run(supervise, clock=trio.testing.MockClock(autojump_threshold=0))
    assert counts == [4, 0, 2]


def test_watchdog_records_have_a_name_and_a_summary() -> None:
    assert kind_name(records.WATCHDOG) == "watchdog"
    line = summarize(records.WATCHDOG, ["cannot open", "/tmp/x", "No such file"])
    assert line == "watchdog /tmp/x: cannot open (No such file)"
