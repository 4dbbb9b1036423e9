"""Starting and stopping one node: checks before anything is sent, then one trio run.

Start-up refuses early and clearly (exit 1) when the configuration is wrong, a medium
cannot be opened or the journal is damaged, before any packet goes out. Then a single
root nursery holds everything: the transport (its sockets, its delayed sends), the control
socket, the signal watcher, the systemd watchdog, agent and fence tasks, and the shell's
loop, which reads the sockets itself (hactl/daemon/input_wait.py); when
the shell's loop ends (shutdown complete) the nursery is cancelled and the process exits.
ha.cf's `watchdog DEVICE` is opened before the loop starts, fed by the loop, and disarmed
only after a clean shutdown (hactl/daemon/watchdog.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import trio

from engine.config.model import AuthMethod, ClusterConfig
from engine.core.machine import initial_state
from hactl.agents import AgentContext
from hactl.daemon import records
from hactl.daemon.collector import freeze_start_up_objects
from hactl.daemon.control.server import open_control_socket, serve_control
from hactl.daemon.executor import Executor
from hactl.daemon.generation import GenerationFileError, advance_generation
from hactl.daemon.index_keeper import keep_index_warm
from hactl.daemon.input_wait import InputWait
from hactl.daemon.logging_setup import add_configured_destinations, setup_logging
from hactl.daemon.notify import keep_watchdog_fed, notify, watchdog_interval_s
from hactl.daemon.options import DaemonOptions
from hactl.daemon.prior import belief_from_journal
from hactl.daemon.realtime import enter_realtime
from hactl.daemon.reloading import ConfigLoader, ReloadError
from hactl.daemon.seals import PeerSealKeeper
from hactl.daemon.shell import NodeStopped, Posted, Shell, SignalInput
from hactl.daemon.transport.faults import (
    FAULTS_ENVIRONMENT_VARIABLE,
    FaultInjector,
    FaultSpecError,
    parse_fault_spec,
)
from hactl.daemon.transport.media import LinkPlan, MediumError, plan_links
from hactl.daemon.transport.receiver import Receiver
from hactl.daemon.transport.udp import UdpTransport
from hactl.daemon.watchdog import Watchdog, WatchdogError
from hactl.stonith import DeviceSettings
from journal import Journal, JournalError

logger = logging.getLogger("hactl.daemon")
BLOCK_LOOP_VARIABLE = "HACTL_TEST_BLOCK_LOOP_S"  # TEST-ONLY; never set in production


class StartupError(Exception):
    """The node cannot start; the message says why and what to fix."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    options: DaemonOptions
    config: ClusterConfig
    plans: tuple[LinkPlan, ...]
    faults: FaultInjector | None


def run_daemon(options: DaemonOptions) -> int:
    """Run a node in the foreground until it shuts down; return the exit code."""
    setup_logging(options.node or os.uname().nodename.lower())
    try:
        prepared = prepare(options)
        generation = advance_generation(options.state_dir)
        journal = Journal.open(options.journal_dir, node=prepared.config.local_node, sync=True)
        belief = belief_from_journal(options.journal_dir)
    except (StartupError, GenerationFileError, JournalError, OSError) as error:
        logger.error("cannot start: %s", error)
        return 1
    logger.info("node %s starting, generation %d, journal %s", prepared.config.local_node,
                generation, options.journal_dir)  # fmt: skip
    _write_pid_file(options.pid_file)
    try:
        trio.run(_serve, prepared, generation, journal, belief)
    except (NodeStopped, MediumError, BaseExceptionGroup) as error:
        return _exit_code_for(error)
    finally:
        journal.close()
        _remove_pid_file(options.pid_file)
    logger.info("node %s stopped", prepared.config.local_node)
    return 0


def _exit_code_for(error: BaseException) -> int:
    """Log why the run ended early; nursery errors arrive wrapped in exception groups."""
    leaves = list(_leaves(error))
    for leaf in leaves:
        if isinstance(leaf, NodeStopped):
            logger.critical("node stopped: %s", leaf)
            return leaf.exit_code
    for leaf in leaves:
        if isinstance(leaf, MediumError):
            logger.error("cannot start: %s", leaf)
            return 1
    raise error


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def prepare(options: DaemonOptions) -> Prepared:
    """Everything that can be refused before a packet is sent."""
    try:
        config = ConfigLoader(config_dir=options.config_dir, node=options.node).load_now()
    except ReloadError as error:
        raise StartupError(str(error)) from None
    setup_logging(config.local_node)
    for problem in add_configured_destinations(config):
        logger.warning("logging: %s", problem)
    for warning in config.warnings:
        logger.warning("%s", warning)
    if config.auth.active_key.method is AuthMethod.CRC:
        logger.warning("authkeys: crc only detects corruption; anyone on the segment can "
                       "forge packets. Use sha256.")  # fmt: skip
    try:
        plans = plan_links(config.media)
    except MediumError as error:
        raise StartupError(str(error)) from None
    if config.is_realtime:
        enter_realtime()
    return Prepared(options=options, config=config, plans=plans, faults=_faults_from_env())


def _faults_from_env() -> FaultInjector | None:
    text = os.environ.get(FAULTS_ENVIRONMENT_VARIABLE)
    if not text:
        return None
    try:
        spec = parse_fault_spec(text)
    except FaultSpecError as error:
        raise StartupError(str(error)) from None
    logger.warning("TEST-ONLY fault injection is ON: %s", spec)
    return FaultInjector(spec)


async def _serve(
    prepared: Prepared,
    generation: int,
    journal: Journal,
    belief: tuple[tuple[str, ...], tuple[str, ...]],
) -> None:
    config, options = prepared.config, prepared.options
    async with trio.open_nursery() as nursery:
        receiver = Receiver(local_node=config.local_node, nodes=config.nodes,
                            udpport=config.udpport, auth=config.auth)  # fmt: skip
        transport = UdpTransport(
            local_node=config.local_node, udpport=config.udpport, generation=generation,
            auth=config.auth, plans=prepared.plans, receiver=receiver, faults=prepared.faults,
        )  # fmt: skip
        await nursery.start(transport.run)
        with contextlib.closing(InputWait[Posted](transport)) as inputs:
            inputs.watch_links()
            executor = Executor(
                config=config,
                context=agent_context(config, options, nursery),
                device_settings=DeviceSettings(local_node=config.local_node,
                                               run_directory=options.run_dir,
                                               is_production=options.is_production),
                post=inputs.send,
            )  # fmt: skip
            shell = Shell(
                config=config, generation=generation, journal=journal, transport=transport,
                executor=executor, nursery=nursery, state=initial_state(),
                loader=ConfigLoader(config_dir=options.config_dir, node=options.node),
                seals=PeerSealKeeper(journal=journal), inputs=inputs,
                prior_believed_groups=belief[0], prior_incidents=belief[1],
            )  # fmt: skip
            shell.watchdog = open_watchdog(config, journal, is_production=options.is_production)
            listener = await open_control_socket(options.run_dir)
            await nursery.start(serve_control, listener, shell.handle_control)
            nursery.start_soon(_watch_signals, inputs)
            nursery.start_soon(keep_index_warm, options.journal_dir)  # for postmortem
            block_s = os.environ.get(BLOCK_LOOP_VARIABLE)
            if block_s:
                nursery.start_soon(_block_loop_on_sigusr1, float(block_s))
            interval_s = watchdog_interval_s()
            if interval_s is not None:
                # The loop wakes at least every keepalive; silent for three, it is hung.
                hung_ms = 3 * config.timings.keepalive.value_ms
                nursery.start_soon(keep_watchdog_fed, interval_s,
                                   lambda: time.monotonic_ns() // 1_000_000 - shell.loop_seen_ms
                                   <= hung_ms)  # fmt: skip
            freeze_start_up_objects()  # no 30 ms full collection of them in a takeover
            notify("READY=1")
            await shell.run()
            if shell.watchdog is not None:  # a clean shutdown: the node must not be reset
                shell.watchdog.disarm()
                _journal_watchdog(journal, "disarmed", shell.watchdog.path, "")
                journal.commit()
            notify("STOPPING=1")
        nursery.cancel_scope.cancel()


def open_watchdog(config: ClusterConfig, journal: Journal, *, is_production: bool
                  ) -> Watchdog | None:  # fmt: skip
    """ha.cf's `watchdog DEVICE`, armed; None (logged and journaled) when it cannot be."""
    path = config.watchdog_device
    if path is None:
        return None
    try:
        watchdog = Watchdog.open(path, keepalive_ms=config.timings.keepalive.value_ms,
                                 is_production=is_production)  # fmt: skip
    except WatchdogError as error:
        logger.error("watchdog: cannot open %s; running without it", error.strerror)
        _journal_watchdog(journal, "cannot open", path, str(error.strerror))
        return None
    timeout = "timeout unknown" if watchdog.timeout_s is None else f"timeout {watchdog.timeout_s} s"
    logger.info("watchdog %s armed (%s), fed from the main loop", path, timeout)
    _journal_watchdog(journal, "armed", path, timeout)
    watchdog.on_problem = lambda problem: _journal_watchdog(journal, "cannot write", path, problem)
    return watchdog


def _journal_watchdog(journal: Journal, what: str, device: str, detail: str) -> None:
    journal.append(records.WATCHDOG, [what, device, detail],
                   monotonic_ns=time.monotonic_ns(), wall_ns=time.time_ns())  # fmt: skip


def agent_context(
    config: ClusterConfig, options: DaemonOptions, nursery: trio.Nursery
) -> AgentContext:
    """Where agents live, and ha.cf's gratuitous ARP settings (arp_count, arp_interval)."""
    announcement = config.address_announcement
    return AgentContext(
        config_dir=options.config_dir, arp_count=announcement.count,
        arp_interval_ms=announcement.interval_ms, arp_refresh_ms=announcement.refresh_ms,
        announcement_nursery=nursery,
    )  # fmt: skip


async def _watch_signals(inputs: InputWait[Posted]) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
        async for number in signals:
            await inputs.send(SignalInput(signal.Signals(number).name))


async def _block_loop_on_sigusr1(seconds: float) -> None:
    """TEST-ONLY (HACTL_TEST_BLOCK_LOOP_S): SIGUSR1 hangs the whole trio loop for a while,
    as a deadlocked daemon would, so tests can see the watchdog starve."""
    with trio.open_signal_receiver(signal.SIGUSR1) as signals:
        async for _ in signals:
            logger.warning("TEST-ONLY: blocking the loop for %g s (%s)", seconds,
                           BLOCK_LOOP_VARIABLE)  # fmt: skip
            time.sleep(seconds)  # deliberately blocking: every task of the loop stops
            logger.warning("TEST-ONLY: loop unblocked")


def _write_pid_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(f"{os.getpid()}\n")
    os.replace(temporary, path)


def _remove_pid_file(path: Path) -> None:
    try:
        if path.read_text().strip() == str(os.getpid()):
            path.unlink()
    except OSError:
        pass


def main_exit(options: DaemonOptions) -> None:
    sys.exit(run_daemon(options))
