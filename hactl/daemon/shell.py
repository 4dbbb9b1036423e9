"""The node's main loop: raft's Ready order, one input at a time.

    input (packet, timer, agent/fence/ping result, admin command, signal)
      -> engine event (with now_ms from the monotonic clock, wall time for people)
      -> journal append
      -> engine.step -> commands
      -> commit (fdatasync, worker thread) BEFORE carrying out any command that acts
      -> commands carried out (sends, resource actions, fencing, pings)
      -> their results come back as inputs

Only routine events skip the synchronous commit: those that lead to nothing but log lines
or a heartbeat repeating a status version already sent (a steady keepalive's received and
sent heartbeats). They are batched: a routine committer makes them durable within
`ROUTINE_COMMIT_S`, and any decisional record's commit takes them along, since the journal
is one chain. So a heartbeat is never sent, a resource never started, a node never fenced,
before the record that authorizes it is on disk; a quiet cluster costs one fsync a second
whatever its keepalive; and a crash loses at most the last second of routine heartbeats.

The loop sleeps until the engine's `next_deadline` or the next input, in one epoll
(hactl/daemon/input_wait.py), and reads the links' sockets itself. Everything slow runs
in tasks of the one root nursery (agents, fencing, pings) or in worker threads (commit,
config reads), so a slow disk or agent never delays a heartbeat decision. A failed commit
stops the node: after a failed fsync the kernel may have dropped the pages, and retrying
could acknowledge records that are gone.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import NoReturn, assert_never

import trio

from engine.config.model import ClusterConfig
from engine.core.codec import encode_event
from engine.core.commands import (
    Command,
    FenceNode,
    LogLevel,
    LogMessage,
    RaiseAlert,
    ReloadConfiguration,
    RunResourceAction,
    SelfFence,
    SendControlMessage,
    SendHeartbeat,
    SendPing,
    ShutdownComplete,
)
from engine.core.deadlines import next_deadline
from engine.core.events import (
    AdminAction,
    AdminCommandReceived,
    ConfigReloaded,
    Event,
    HeartbeatReceived,
    NodeStarted,
    PingResultReceived,
    ShutdownRequested,
    TimeAdvanced,
)
from engine.core.machine import step
from engine.core.messages import Scope
from engine.core.state import NodeState
from engine.core.view import group_holder
from hactl.daemon import records
from hactl.daemon.control.protocol import Caller, ControlRequest
from hactl.daemon.control.server import ControlHandlerError
from hactl.daemon.executor import Executor
from hactl.daemon.input_wait import InputWait
from hactl.daemon.reloading import ConfigLoader, ReloadError
from hactl.daemon.routine_commit import RoutineCommitter, report_in_trio
from hactl.daemon.seals import PeerSealKeeper
from hactl.daemon.steady import IncomingStatus, SealBytes
from hactl.daemon.transport.receiver import Delivered, Ignored, Refused, SecurityReporter
from hactl.daemon.transport.udp import Arrival, UdpTransport
from hactl.daemon.watchdog import Watchdog
from hactl.daemon.wire import (
    CONTROL_KIND,
    STATUS_KIND,
    BodyError,
    control_body,
    event_from_delivery,
    status_body,
)
from journal import Journal, JournalError

# How long routine records (steady heartbeats, refused-packet reports) may stay buffered.
# One commit costs an Ed25519 signature, a worker thread and an fdatasync; at keepalive
# 100 ms committing within 20 ms meant ~20 commits a second. A second bounds what a crash
# of this node can lose (routine heartbeat detail only) and how stale the journal seal
# that heartbeats carry to peers may be.
ROUTINE_COMMIT_S = 1.0
SELF_FENCE_EXIT_CODE = 70

logger = logging.getLogger("hactl.daemon")


class NodeStopped(Exception):
    """The node must stop now (a failed journal write, a self-fence outside production)."""

    def __init__(self, reason: str, exit_code: int) -> None:
        super().__init__(reason)
        self.exit_code = exit_code


@dataclass(slots=True)
class AdminTicket:
    """An admin command waiting for the loop to journal and step it."""

    request: ControlRequest
    caller: Caller
    done: trio.Event = field(default_factory=trio.Event)
    result: object = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SignalInput:
    signal_name: str  # "SIGTERM", "SIGINT", "SIGHUP"


Posted = Event | AdminTicket | SignalInput  # what other tasks hand the loop
Input = Arrival | Posted


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


_ACTIONS = {
    "standby": AdminAction.STANDBY,
    "takeover": AdminAction.TAKEOVER,
    "shutdown": AdminAction.SHUTDOWN,
    "reload": AdminAction.RELOAD,
    "acknowledge": AdminAction.ACKNOWLEDGE,
}
_QUIET_COMMANDS = (LogMessage, RaiseAlert)


@dataclass(slots=True, kw_only=True)
class Shell:
    config: ClusterConfig
    generation: int
    journal: Journal
    transport: UdpTransport
    executor: Executor
    loader: ConfigLoader
    nursery: trio.Nursery
    state: NodeState
    seals: PeerSealKeeper
    inputs: InputWait[Posted]
    security: SecurityReporter = field(default_factory=SecurityReporter)
    is_done: bool = False
    started_ms: int = field(default_factory=monotonic_ms)
    prior_believed_groups: tuple[str, ...] = ()  # from the journal, for start-up probes
    prior_incidents: tuple[str, ...] = ()
    holders: dict[str, str | None] = field(default_factory=dict)
    last_failover: dict[str, object] | None = None
    sent_status_version: int = -1  # the newest status version already sent (and durable)
    watchdog: Watchdog | None = None  # ha.cf `watchdog`: fed from this loop, so a hang starves it
    loop_seen_ms: int = 0  # when the loop last went round (the systemd watchdog checks it)
    # What a steady keepalive repeats, decoded or serialized once (hactl/daemon/steady.py).
    incoming: IncomingStatus = field(default_factory=IncomingStatus)
    seal_bytes: SealBytes = field(default_factory=SealBytes)

    # ---- the loop ----------------------------------------------------------------------

    async def run(self) -> None:
        """Start the engine, then handle inputs until it says the shutdown is complete."""
        committer = RoutineCommitter(
            self.journal, ROUTINE_COMMIT_S,
            on_failure=report_in_trio(self.nursery, self._stop_after_failed_commit),
        )  # fmt: skip
        committer.start()
        try:
            await self._run_loop()
        finally:
            committer.stop()

    async def _run_loop(self) -> None:
        await self.feed(NodeStarted(
            now_ms=monotonic_ms(), wall_time_ms=wall_ms(), generation=self.generation,
            config=self.config, believed_groups=self.prior_believed_groups,
            incidents=self.prior_incidents,
        ))  # fmt: skip
        while not self.is_done:
            self.loop_seen_ms = monotonic_ms()
            if self.watchdog is not None:
                self.watchdog.feed(self.loop_seen_ms)
            await self._handle_all(await self.inputs.wait(next_deadline(self.state)))
            if self.security.pending_counts:
                for report in self.security.flush(monotonic_ms()):
                    self._journal_refusals(report.reason, report.count, report.example)

    async def _handle_all(self, items: list[TimeAdvanced | Input]) -> None:
        for item in items:
            if self.is_done:  # what came with the shutdown's last step is not for us
                return
            await self._handle(item)

    async def _handle(self, item: Input) -> None:
        match item:
            case Arrival():
                await self._handle_arrival(item)
            case AdminTicket():
                await self._handle_admin(item)
            case SignalInput():
                await self._handle_signal(item)
            case _:
                await self.feed(item)

    async def feed(self, event: Event) -> None:
        """Journal `event`, step the engine, make it durable if it acts, carry it out."""
        kind, payload = encode_event(event)
        self.journal.append(kind, payload, monotonic_ns=event.now_ms * 1_000_000,
                            wall_ns=time.time_ns())  # fmt: skip
        self.state, commands = step(self.state, event)
        self._note_holder_changes()
        if self.executor.probed_addresses:  # issue 9: re-announce adopted addresses
            self.executor.announce_adopted_addresses(self.state)
        if self._is_commit_needed(event, commands):
            await self.commit()
        for command in commands:
            await self._carry_out(command)

    def _is_commit_needed(self, event: Event, commands: tuple[Command, ...]) -> bool:
        """Whether a command acts on something not yet durable (raft: persist, then send).

        A heartbeat repeating a status version that already went out authorizes nothing
        new (the records behind that version were committed before its first send), so
        the steady keepalive costs a batched commit, not a synchronous one per heartbeat.
        """
        if not isinstance(event, HeartbeatReceived | TimeAdvanced | PingResultReceived):
            return True
        for command in commands:
            if isinstance(command, _QUIET_COMMANDS):
                continue
            if (isinstance(command, SendHeartbeat)
                    and command.payload.status_version <= self.sent_status_version):
                continue  # fmt: skip
            return True
        return False

    def _note_holder_changes(self) -> None:
        """Remember the last time a group changed hands, for `hactl status`."""
        if self.state.config is None:
            return
        for name in self.state.groups:
            holder = group_holder(self.state, name)
            previous = self.holders.get(name)
            self.holders[name] = holder
            if holder is not None and previous is not None and holder != previous:
                self.last_failover = {"group": name, "from_node": previous, "to_node": holder,
                                      "wall_time_ms": wall_ms()}  # fmt: skip
                logger.info("group %s moved from %s to %s", name, previous, holder)

    async def commit(self) -> None:
        try:
            await trio.to_thread.run_sync(self.journal.commit)
        except JournalError as error:
            await self._stop_after_failed_commit(error)

    async def _stop_after_failed_commit(self, error: JournalError) -> NoReturn:
        logger.critical("journal commit failed, stopping the node: %s", error)
        raise NodeStopped(f"journal commit failed: {error}", exit_code=1) from error

    # ---- inputs ------------------------------------------------------------------------

    async def _handle_arrival(self, arrival: Arrival) -> None:
        reception = arrival.reception
        now_ms = arrival.monotonic_ns // 1_000_000
        match reception:
            case Delivered():
                await self._deliver(reception, now_ms)
            case Refused():
                self._note_refusal(reception, now_ms)
            case Ignored():
                pass
            case _:
                assert_never(reception)

    async def _deliver(self, delivered: Delivered, now_ms: int) -> None:
        try:
            event = event_from_delivery(delivered, now_ms, self.incoming)
        except BodyError as error:
            refused = Refused(reason="malformed_body", link=delivered.link,
                              sender=delivered.envelope.sender, detail=str(error))  # fmt: skip
            self.transport.receiver.refused_counts["malformed_body"] = (
                self.transport.receiver.refused_counts.get("malformed_body", 0) + 1
            )
            self._note_refusal(refused, now_ms)
            return
        if delivered.is_first_copy and delivered.envelope.seal is not None:
            self.seals.consider(delivered.envelope.sender, delivered.envelope.seal, now_ms)
        if event is not None:
            await self.feed(event)

    def _note_refusal(self, refused: Refused, now_ms: int) -> None:
        report = self.security.note(refused, now_ms)
        if report is not None:
            self._journal_refusals(report.reason, report.count, report.example)

    def _journal_refusals(self, reason: str, count: int, example: Refused) -> None:
        logger.warning("refused %d packet(s) (%s) on %s from %s: %s", count, reason,
                       example.link, example.sender or "?", example.detail)  # fmt: skip
        self.journal.append(
            records.PACKETS_REFUSED, [reason, count, example.link, example.sender, example.detail],
            monotonic_ns=time.monotonic_ns(), wall_ns=time.time_ns(),
        )  # fmt: skip

    async def _handle_admin(self, ticket: AdminTicket) -> None:
        request = ticket.request
        scope = Scope(request.scope) if request.scope is not None else Scope.ALL
        seq = self.journal.next_seq
        try:
            await self.feed(AdminCommandReceived(
                now_ms=monotonic_ms(), wall_time_ms=wall_ms(),
                action=_ACTIONS[request.command], scope=scope,
                uid=ticket.caller.uid, pid=ticket.caller.pid,
            ))  # fmt: skip
            ticket.result = {"accepted": True, "journal_seq": seq}
        except ReloadError as error:
            ticket.error = str(error)
        finally:
            ticket.done.set()

    async def _handle_signal(self, signal_input: SignalInput) -> None:
        logger.info("received %s", signal_input.signal_name)
        if signal_input.signal_name == "SIGHUP":
            # A failure is logged and journaled; the old configuration stays in force.
            with contextlib.suppress(ReloadError):
                await self._reload()
            return
        await self.feed(ShutdownRequested(now_ms=monotonic_ms()))

    # ---- commands ----------------------------------------------------------------------

    async def _carry_out(self, command: Command) -> None:
        match command:
            case SendHeartbeat():
                self.sent_status_version = max(self.sent_status_version,
                                               command.payload.status_version)  # fmt: skip
                status = status_body(command.payload)
                seal = self.seal_bytes.of(self.journal.latest_seal())
                await self.transport.send(kind=STATUS_KIND, body=status, destination=None,
                                          seal=seal)  # fmt: skip
            case SendControlMessage():
                body = control_body(command.message_id, command.message)
                await self.transport.send(kind=CONTROL_KIND, body=body,
                                          destination=command.to_node, seal=None)  # fmt: skip
            case RunResourceAction():
                self.nursery.start_soon(self.executor.run_resource_action, command)
            case FenceNode():
                self.nursery.start_soon(self.executor.fence, command)
            case SendPing():
                self.nursery.start_soon(self.executor.ping, command)
            case SelfFence():
                await self._self_fence(command)
            case LogMessage():
                logger.log(_LOG_LEVELS[command.level], "%s", command.message)
            case RaiseAlert():
                logger.warning("ALERT %s: %s", command.alert.value, command.message)
            case ReloadConfiguration():
                await self._reload()
            case ShutdownComplete():
                logger.info("shutdown complete")
                self.is_done = True
            case _:
                assert_never(command)

    async def _reload(self) -> None:
        try:
            config = await self.loader.load()
        except ReloadError as error:
            logger.error("reload refused, the running configuration stays: %s", error)
            self.journal.append(records.RELOAD_FAILED, [str(error)],
                                monotonic_ns=time.monotonic_ns(), wall_ns=time.time_ns())
            await self.commit()
            raise
        if config.media != self.config.media:
            logger.warning("reload: media changed; they take effect at the next restart")
        self.config = config
        self.executor.reconfigure(config)
        self.transport.set_auth(config.auth)
        self.transport.receiver.nodes = config.nodes
        await self.feed(ConfigReloaded(now_ms=monotonic_ms(), wall_time_ms=wall_ms(),
                                       config=config))  # fmt: skip

    async def _self_fence(self, command: SelfFence) -> None:
        logger.critical("SELF-FENCE: %s", command.reason)
        await self.executor.self_fence(command.reason)
        # Outside production (tests, demo) the "power off" is the daemon's death.
        raise NodeStopped(f"self-fenced: {command.reason}", exit_code=SELF_FENCE_EXIT_CODE)

    # ---- admin requests from the control socket ----------------------------------------

    async def handle_control(self, request: ControlRequest, caller: Caller) -> object:
        if request.command == "status":
            from hactl.daemon.status import status_snapshot

            return status_snapshot(self)
        ticket = AdminTicket(request=request, caller=caller)
        await self.inputs.send(ticket)
        await ticket.done.wait()
        if ticket.error is not None:
            raise ControlHandlerError(ticket.error)
        return ticket.result


_LOG_LEVELS = {
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.INFO: logging.INFO,
    LogLevel.WARNING: logging.WARNING,
    LogLevel.ERROR: logging.ERROR,
}
