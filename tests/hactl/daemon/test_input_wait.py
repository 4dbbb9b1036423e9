"""The loop's one waiting point: its deadline (a timerfd), posted inputs and link sockets.

The sockets are a real `UdpTransport` on the loopback interface, receiving real signed
datagrams, as test_echo.py's are; binding to a device needs root.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence

import pytest
import trio
import trio.testing

from engine.config.model import AuthConfig, AuthKey, AuthMethod
from engine.core.events import TimeAdvanced
from hactl.daemon.input_wait import DATAGRAMS_PER_WAKE, InputWait
from hactl.daemon.timer_fd import TimerFd
from hactl.daemon.transport.envelope import Envelope, encode_envelope
from hactl.daemon.transport.media import RECEIVE_BUFFER_BYTES, LinkPlan
from hactl.daemon.transport.receiver import Delivered, Receiver
from hactl.daemon.transport.udp import Arrival, UdpTransport
from hactl.daemon.trio_quiet import quiet_trio, trio_epoll_fd

KEY = AuthKey(index=1, method=AuthMethod.SHA256, secret=b"cluster secret")
AUTH = AuthConfig(active_index=1, keys=(KEY,))


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


# ---- the timerfd ---------------------------------------------------------------------


@pytest.fixture
def timer() -> Iterator[tuple[TimerFd, select.epoll]]:
    timer = TimerFd()
    poller = select.epoll()
    poller.register(timer.fd, select.EPOLLIN)
    yield timer, poller
    poller.close()
    timer.close()


def test_the_timer_fires_at_its_instant_not_before(timer: tuple[TimerFd, select.epoll]) -> None:
    timerfd, poller = timer
    instant_ns = time.monotonic_ns() + 30_000_000
    timerfd.arm_at_ns(instant_ns)
    assert poller.poll(5) != []
    assert time.monotonic_ns() >= instant_ns


def test_a_past_instant_fires_at_once_and_rearming_makes_it_quiet(
    timer: tuple[TimerFd, select.epoll],
) -> None:
    timerfd, poller = timer
    timerfd.arm_at_ns(time.monotonic_ns() - 1_000_000)
    assert poller.poll(5) != []
    timerfd.note_fired()
    timerfd.arm_at_ns(time.monotonic_ns() + 60_000_000_000)
    assert poller.poll(0) == []  # settime reset the expiry: no read needed


def test_disarmed_after_firing_it_stays_quiet(timer: tuple[TimerFd, select.epoll]) -> None:
    timerfd, poller = timer
    timerfd.arm_at_ns(1)  # long past
    assert poller.poll(5) != []
    timerfd.note_fired()
    timerfd.arm_at_ns(None)
    assert poller.poll(0.05) == []


# ---- the wait --------------------------------------------------------------------------


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def wait_on_lo() -> AsyncIterator[tuple[InputWait[str], int]]:
    port = free_udp_port()
    plan = LinkPlan(link="ucast lo", interface="lo", port=port, is_broadcast=False,
                    unicast_peers=("127.0.0.1",), multicast_groups=())  # fmt: skip
    receiver = Receiver(local_node="backup", nodes=("master", "backup"), udpport=694,
                        auth=AUTH)  # fmt: skip
    transport = UdpTransport(local_node="backup", udpport=694, generation=1, auth=AUTH,
                             plans=(plan,), receiver=receiver)  # fmt: skip
    async with trio.open_nursery() as nursery:
        await nursery.start(transport.run)
        wait = InputWait[str](transport)
        wait.watch_links()
        yield wait, port
        wait.close()
        nursery.cancel_scope.cancel()


def send_from_master(port: int, seq: int) -> None:
    envelope = Envelope(udpport=694, sender="master", destination=None, generation=1,
                        seq=seq, kind=1, body=None, seal=None)  # fmt: skip
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(encode_envelope(envelope, KEY), ("127.0.0.1", port))


def seqs(items: Sequence[object]) -> list[int]:
    found = []
    for item in items:
        assert isinstance(item, Arrival) and isinstance(item.reception, Delivered)
        found.append(item.reception.envelope.seq)
    return found


@pytest.mark.needs_root
async def test_a_deadline_comes_back_as_time_advanced(
    wait_on_lo: tuple[InputWait[str], int],
) -> None:
    wait, _ = wait_on_lo
    deadline_ms = monotonic_ms() + 30
    items = await wait.wait(deadline_ms)
    assert len(items) == 1
    assert isinstance(items[0], TimeAdvanced) and items[0].now_ms >= deadline_ms


@pytest.mark.needs_root
async def test_a_posted_input_wakes_a_wait_without_deadline(
    wait_on_lo: tuple[InputWait[str], int],
) -> None:
    wait, _ = wait_on_lo
    async with trio.open_nursery() as nursery:
        nursery.start_soon(wait.send, "admin command")
        assert await wait.wait(None) == ["admin command"]


@pytest.mark.needs_root
async def test_a_posted_input_is_taken_without_sleeping(
    wait_on_lo: tuple[InputWait[str], int],
) -> None:
    wait, _ = wait_on_lo
    await wait.send("agent result")
    assert await wait.wait(monotonic_ms() + 60_000) == ["agent result"]


@pytest.mark.needs_root
async def test_datagrams_come_in_order_and_at_most_a_batch_per_wake(
    wait_on_lo: tuple[InputWait[str], int],
) -> None:
    wait, port = wait_on_lo
    count = DATAGRAMS_PER_WAKE + 3
    for seq in range(1, count + 1):
        send_from_master(port, seq)
    first = await wait.wait(None)
    second = await wait.wait(None)
    assert seqs(first) == list(range(1, DATAGRAMS_PER_WAKE + 1))
    assert seqs(second) == list(range(DATAGRAMS_PER_WAKE + 1, count + 1))


@pytest.mark.needs_root
async def test_a_due_deadline_comes_before_what_was_read_after_it(
    wait_on_lo: tuple[InputWait[str], int],
) -> None:
    wait, port = wait_on_lo
    send_from_master(port, 1)
    deadline_ms = monotonic_ms()
    await trio.sleep(0.002)
    await wait.send("signal")
    items = await wait.wait(deadline_ms)
    assert isinstance(items[0], TimeAdvanced)
    assert seqs(items[1:2]) == [1]
    assert isinstance(items[1], Arrival)
    assert items[0].now_ms <= items[1].monotonic_ns // 1_000_000
    assert items[2:] == ["signal"]


@pytest.mark.needs_root
async def test_a_wait_after_the_timer_fired_sleeps_again(
    wait_on_lo: tuple[InputWait[str], int],
) -> None:
    wait, port = wait_on_lo
    assert isinstance((await wait.wait(monotonic_ms() + 10))[0], TimeAdvanced)
    # The fired timer must not leave the epoll readable: this wait sleeps until the packet.
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_send_later, port)
        assert seqs(await wait.wait(None)) == [7]


async def _send_later(port: int) -> None:
    await trio.sleep(0.05)
    send_from_master(port, 7)


@pytest.mark.needs_root
async def test_the_link_socket_can_queue_seconds_of_heartbeats(
    wait_on_lo: tuple[InputWait[str], int],
) -> None:
    wait, _ = wait_on_lo
    (sock,) = wait.transport.link_sockets()
    # Linux reports twice what was set (its bookkeeping share); at least what we asked.
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= RECEIVE_BUFFER_BYTES


# ---- trio's other tasks while the loop sleeps in its own epoll (trio_quiet.py) ---------
# A task left stuck would run only when the loop's deadline (30 s) woke it, and the wait
# would return TimeAdvanced instead of what the task posts.


@pytest.fixture
async def quiet_wait() -> AsyncIterator[InputWait[str]]:
    """A wait with no links (nothing bound, no root needed): deadlines and posted inputs."""
    receiver = Receiver(local_node="backup", nodes=("master", "backup"), udpport=694,
                        auth=AUTH)  # fmt: skip
    transport = UdpTransport(local_node="backup", udpport=694, generation=1, auth=AUTH,
                             plans=(), receiver=receiver)  # fmt: skip
    wait = InputWait[str](transport)
    yield wait
    wait.close()


async def test_the_daemons_trio_lets_the_loop_sleep_outside_it(
    quiet_wait: InputWait[str],
) -> None:
    """The trio this project runs on still has the epoll the quiet wait needs."""
    assert trio_epoll_fd() is not None
    assert isinstance((await quiet_wait.wait(monotonic_ms()))[0], TimeAdvanced)
    assert quiet_wait.is_sleeping_outside_trio


async def test_a_task_woken_by_its_socket_runs_while_the_loop_sleeps(
    quiet_wait: InputWait[str],
) -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.setblocking(False)

        async def reader() -> None:
            await trio.lowlevel.wait_readable(ours)
            await quiet_wait.send(ours.recv(16).decode())

        async with trio.open_nursery() as nursery:
            nursery.start_soon(reader)
            threading.Timer(0.05, theirs.send, (b"from a pipe",)).start()
            assert await quiet_wait.wait(monotonic_ms() + 30_000) == ["from a pipe"]
    assert quiet_wait.is_sleeping_outside_trio


async def test_a_task_sleeping_to_a_trio_deadline_runs_while_the_loop_sleeps(
    quiet_wait: InputWait[str],
) -> None:
    async def sleeper() -> None:
        await trio.sleep(0.05)
        await quiet_wait.send("after its sleep")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sleeper)
        started_ms = monotonic_ms()
        assert await quiet_wait.wait(monotonic_ms() + 60_000) == ["after its sleep"]
        assert monotonic_ms() - started_ms >= 50


async def test_a_worker_threads_result_reaches_its_task_while_the_loop_sleeps(
    quiet_wait: InputWait[str],
) -> None:
    async def committer() -> None:
        await quiet_wait.send(await trio.to_thread.run_sync(_slow_result))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(committer)
        assert await quiet_wait.wait(monotonic_ms() + 30_000) == ["from a thread"]


def _slow_result() -> str:
    time.sleep(0.05)
    return "from a thread"


async def test_a_task_needing_many_steps_is_not_starved(quiet_wait: InputWait[str]) -> None:
    """A control request takes several scheduler rounds; the loop must not sleep between."""

    async def many_steps() -> None:
        for _ in range(20):
            await trio.lowlevel.checkpoint()
        await quiet_wait.send("done")

    # Starved, they would run only once the loop's deadline woke it: TimeAdvanced first.
    deadline_ms = monotonic_ms() + 30_000
    items: list[object] = []
    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(many_steps)
        while len(items) < 3:
            items += await quiet_wait.wait(deadline_ms)
    assert items == ["done", "done", "done"]


def test_under_a_fake_clock_the_loop_waits_through_trio() -> None:
    async def check() -> None:
        assert await quiet_trio() is None

    trio.run(check, clock=trio.testing.MockClock())


async def test_a_deadline_set_while_the_loop_sleeps_is_kept(quiet_wait: InputWait[str]) -> None:
    """A task woken by I/O that then sleeps to a trio deadline: the loop must see it."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.setblocking(False)

        async def woken_then_sleeping() -> None:
            await trio.lowlevel.wait_readable(ours)
            ours.recv(16)
            await trio.sleep(0.05)
            await quiet_wait.send("slept after its wake-up")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(woken_then_sleeping)
            assert await quiet_wait.wait(monotonic_ms() + 5) != []  # the loop's own deadline
            threading.Timer(0.02, theirs.send, (b"x",)).start()
            assert await quiet_wait.wait(monotonic_ms() + 30_000) == ["slept after its wake-up"]


async def test_a_deadline_of_the_loops_own_cancel_scope_ends_its_wait(
    quiet_wait: InputWait[str],
) -> None:
    assert isinstance((await quiet_wait.wait(monotonic_ms()))[0], TimeAdvanced)
    # Woken by its timerfd, without a scheduler round after it: what it knew of trio's
    # deadlines stays, and only the scope below changes them.
    assert isinstance((await quiet_wait.wait(monotonic_ms() + 5))[0], TimeAdvanced)
    with trio.move_on_after(0.05) as scope:
        await quiet_wait.wait(monotonic_ms() + 30_000)
    assert scope.cancelled_caught
