"""The harness: N simulated nodes, each a real engine behind a simulated shell.

Each node does what the daemon's shell does, in the raft Ready order: an event arrives,
it is appended to the node's journal, the engine steps, the journal is committed when the
step was decisional, and only then are the commands carried out (messages sent over the
simulated network, resource and fence actions started on the device models, whose
results come back later as events). One timer per node is armed at `next_deadline`.
Everything runs on one virtual clock; randomness comes from one seeded `random.Random`.
Faults (`engine.sim.faults`) are applied here but chosen elsewhere; checks are made by
`engine.sim.checkers` against the model world.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass

from engine.config.model import ClusterConfig
from engine.sim import faults
from engine.sim.bridge import (
    Bridge,
    DaemonExits,
    Note,
    Ping,
    RunFence,
    RunResourceAction,
    SelfFence,
    Send,
    ShellAction,
)
from engine.sim.checkers import Checker, NodeView
from engine.sim.clock import EventQueue
from engine.sim.devices import FenceDeviceModel, ResourceAction, ResourceAgentModel
from engine.sim.generated_config import link_names
from engine.sim.network import DirectedLink, Network
from engine.sim.node_journal import JournalRecord, NodeJournal
from engine.sim.scenario_language import AdminScope, AdminVerb
from engine.sim.timeline import Timeline
from engine.sim.world import World


@dataclass(frozen=True, slots=True, kw_only=True)
class PacketArrival:
    destination: str
    source: str
    source_generation: int
    seq: int
    links: tuple[str, ...]  # the links of the copies arriving together (see `_send`)
    message: object
    is_first_copy_only: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PingAnswered:
    node: str
    generation: int
    address: str
    is_reachable: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionFinished:
    node: str
    generation: int
    action: RunResourceAction
    is_success: bool
    duration_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FenceFinished:
    node: str
    generation: int
    fence: RunFence
    is_success: bool
    duration_ms: int
    is_lie: bool = False  # a broken device reported success without powering off


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerDue:
    node: str
    generation: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultDue:
    fault: faults.Fault


Work = PacketArrival | PingAnswered | ActionFinished | FenceFinished | TimerDue | FaultDue


@dataclass(slots=True, kw_only=True)
class SimNode:
    name: str
    config: ClusterConfig
    journal: NodeJournal
    state: object | None = None  # None while the daemon is not running
    armed_ms: int | None = None
    members: dict[str, str] = dataclasses.field(default_factory=dict)
    links: dict[str, str] = dataclasses.field(default_factory=dict)
    next_seq: int = 1
    peer_generations: dict[str, int] = dataclasses.field(default_factory=dict)
    # (source, generation, seq) of the first-copy-only packets delivered (Send)
    first_copies: set[tuple[str, int, int]] = dataclasses.field(default_factory=set)
    is_ping_reachable: bool = True  # does this node's uplink reach the ping nodes


@dataclass(frozen=True, slots=True, kw_only=True)
class HarnessOptions:
    seed: int
    reboot_after_fence_ms: int | None = 5000  # fence action `reset`; None: `off`
    is_tracing_views: bool = True  # membership lines on the timeline (off for benches)


class SimulatedCluster:
    """A whole cluster on one virtual clock."""

    def __init__(
        self,
        config: ClusterConfig,
        bridge: Bridge,
        options: HarnessOptions,
        journal_factory: Callable[[str], NodeJournal],
        *,
        agents: ResourceAgentModel | None = None,
        fence_device: FenceDeviceModel | None = None,
    ) -> None:
        self.bridge = bridge
        self.options = options
        self.random_source = random.Random(options.seed)
        self.queue: EventQueue[Work] = EventQueue()
        self.network = Network(config.nodes, link_names(config), self.random_source)
        group_of_resource = {
            resource.resource_id: group.name
            for group in config.groups
            for resource in group.resources
        }
        self.world = World(config.nodes, group_of_resource)
        self.agents = agents or ResourceAgentModel()
        self.fence_device = fence_device or FenceDeviceModel()
        self.checker = Checker(config)
        self.timeline = Timeline()
        self.alias = {group.name: f"g{index}" for index, group in enumerate(config.groups, start=1)}
        self.nodes = {
            name: SimNode(
                name=name,
                config=dataclasses.replace(config, local_node=name),
                journal=journal_factory(name),
            )
            for name in config.nodes
        }
        for power in self.world.power.values():
            power.is_daemon_running = False
            power.generation = 0

    @property
    def now_ms(self) -> int:
        return self.queue.now_ms

    # ---- running ------------------------------------------------------------------------

    def run_until(self, end_ms: int) -> None:
        while (next_ms := self.queue.next_time_ms()) is not None and next_ms <= end_ms:
            self._handle(self.queue.pop())
        self.queue.advance_to(end_ms)

    def schedule_fault(self, at_ms: int, fault: faults.Fault) -> None:
        self.queue.schedule(at_ms, FaultDue(fault=fault))

    def _handle(self, work: Work) -> None:
        match work:
            case PacketArrival():
                self._deliver(work)
            case PingAnswered():
                node = self.nodes[work.node]
                if self._is_current(work.node, work.generation):
                    event = self.bridge.ping_result(
                        now_ms=self.now_ms, address=work.address, is_reachable=work.is_reachable
                    )
                    self._feed(node, event)
            case ActionFinished():
                self._finish_action(work)
            case FenceFinished():
                self._finish_fence(work)
            case TimerDue():
                node = self.nodes[work.node]
                if self._is_current(work.node, work.generation) and node.armed_ms == self.now_ms:
                    node.armed_ms = None
                    self._feed(node, self.bridge.timer(now_ms=self.now_ms))
            case FaultDue():
                self.apply(work.fault)
        if self.checker.restart_bound_ms is not None:
            self.checker.observe(self.now_ms, self.world)

    def _is_current(self, node: str, generation: int) -> bool:
        power = self.world.power[node]
        return power.is_daemon_running and power.generation == generation

    # ---- one engine step, in the Ready order ------------------------------------------------

    def _feed(self, node: SimNode, event: object) -> None:
        assert node.state is not None, f"{node.name}'s daemon is not running"
        kind, payload = self.bridge.encode(event)
        wall_ms = self.world.wall_ms(node.name, self.now_ms)
        node.journal.append(
            JournalRecord(
                kind=kind,
                payload=payload,
                monotonic_ns=self.now_ms * 1_000_000,
                wall_ns=wall_ms * 1_000_000,
            )
        )
        stepped = self.bridge.step(node.state, event)
        node.state = stepped.state
        if stepped.is_decisional:
            node.journal.commit()
        if self.options.is_tracing_views:
            self._trace_members(node)
        for action in stepped.actions:
            self._carry_out(node, action)
            if node.state is None:  # the daemon exited or fenced itself
                return
        self._arm_timer(node)

    def _arm_timer(self, node: SimNode) -> None:
        assert node.state is not None
        deadline_ms = self.bridge.next_deadline_ms(node.state)
        if deadline_ms is None or deadline_ms == node.armed_ms:
            return
        node.armed_ms = max(deadline_ms, self.now_ms)
        generation = self.world.power[node.name].generation
        self.queue.schedule(node.armed_ms, TimerDue(node=node.name, generation=generation))

    def _trace_members(self, node: SimNode) -> None:
        assert node.state is not None
        view = self.bridge.view(node.state)
        members = dict(view.members)
        old_members = node.members
        for peer, status in members.items():
            previous = node.members.get(peer)
            if previous is None and status == "init":
                continue  # a peer not heard from yet at boot is no news
            if peer != node.name and previous != status:
                self.timeline.add(self.now_ms, node.name, f"sees {peer} {status}")
        node.members = members
        for link, status in view.links.items():
            peer = link.split(" ", 1)[0]
            previous = node.links.get(link)
            # Only a link of a peer that stays up is news: a dead node's links die with it.
            is_peer_steady = members.get(peer) == "up" and old_members.get(peer) == "up"
            if previous is not None and previous != status and is_peer_steady:
                self.timeline.add(self.now_ms, node.name, f"sees link {link} {status}")
        node.links = dict(view.links)

    def view(self, name: str) -> NodeView | None:
        state = self.nodes[name].state
        return None if state is None else self.bridge.view(state)

    # ---- commands -------------------------------------------------------------------------

    def _carry_out(self, node: SimNode, action: ShellAction) -> None:
        generation = self.world.power[node.name].generation
        match action:
            case Send():
                self._send(node.name, action)
            case RunResourceAction():
                self._run_resource_action(node.name, generation, action)
            case RunFence():
                outcome = self.fence_device.attempt()
                target = action.target
                self.timeline.add(self.now_ms, node.name, f"fences {target}")
                finished = FenceFinished(
                    node=node.name,
                    generation=generation,
                    fence=action,
                    is_success=outcome.is_success,
                    duration_ms=outcome.duration_ms,
                    is_lie=self.fence_device.is_lying,
                )
                self.queue.schedule_after(outcome.duration_ms, finished)
            case SelfFence():
                self.timeline.add(self.now_ms, node.name, f"fences itself: {action.reason}")
                self._power_off(node.name, reason="self-fenced")
                self._schedule_reboot(node.name)
            case Ping():
                answer = PingAnswered(
                    node=node.name,
                    generation=generation,
                    address=action.address,
                    is_reachable=node.is_ping_reachable,
                )
                self.queue.schedule_after(1, answer)
            case Note():
                self.timeline.add(self.now_ms, node.name, action.text)
            case DaemonExits():
                self.timeline.add(self.now_ms, node.name, "daemon exits after clean shutdown")
                self._stop_daemon(node.name)

    def _send(self, source: str, send: Send) -> None:
        destinations = send.destinations
        if destinations is None:
            destinations = tuple(peer for peer in self.world.nodes if peer != source)
        node = self.nodes[source]
        sender = (source, self.world.power[source].generation, node.next_seq)
        node.next_seq += 1
        for destination in destinations:
            # Copies on several links that arrive at the same instant arrive as one, so the
            # engine hears them in one step (a heartbeat per link would double the steps).
            arriving: dict[int, list[str]] = {}
            for link in self.network.link_names:
                directed = DirectedLink(source=source, destination=destination, link=link)
                for delay_ms in self.network.transmit(directed):
                    links = arriving.setdefault(delay_ms, [])
                    if link in links:  # a duplicate on the same link comes on its own
                        self._schedule_arrival(delay_ms, destination, sender, (link,), send)
                    else:
                        links.append(link)
            for delay_ms, links in arriving.items():
                self._schedule_arrival(delay_ms, destination, sender, tuple(links), send)

    def _schedule_arrival(
        self,
        delay_ms: int,
        destination: str,
        sender: tuple[str, int, int],  # source, its generation, the packet's seq
        links: tuple[str, ...],
        send: Send,
    ) -> None:
        source, generation, seq = sender
        arrival = PacketArrival(
            destination=destination,
            source=source,
            source_generation=generation,
            seq=seq,
            links=links,
            message=send.message,
            is_first_copy_only=send.is_first_copy_only,
        )
        self.queue.schedule_after(delay_ms, arrival)

    def _deliver(self, arrival: PacketArrival) -> None:
        node = self.nodes[arrival.destination]
        if node.state is None:
            return  # a powered-off or stopped node hears nothing
        known_generation = node.peer_generations.get(arrival.source, 0)
        if arrival.source_generation < known_generation:
            return  # the shell refuses an older generation as a replay
        node.peer_generations[arrival.source] = arrival.source_generation
        if arrival.is_first_copy_only:
            copy = (arrival.source, arrival.source_generation, arrival.seq)
            if copy in node.first_copies:
                return  # another link's copy, or a duplicate: the shell drops it
            node.first_copies.add(copy)
        event = self.bridge.received(
            now_ms=self.now_ms,
            source=arrival.source,
            links=arrival.links,
            generation=arrival.source_generation,
            seq=arrival.seq,
            message=arrival.message,
        )
        self._feed(node, event)

    def _run_resource_action(self, node: str, generation: int, action: RunResourceAction) -> None:
        if action.action is ResourceAction.START:
            state = self.nodes[node].state
            assert state is not None
            self.checker.on_start_ordered(
                self.now_ms, node, action.resource_id, is_quorate=self.bridge.is_quorate(state)
            )
        outcome = self.agents.attempt(node, action.resource_id, action.action)
        finished = ActionFinished(
            node=node,
            generation=generation,
            action=action,
            is_success=outcome.is_success,
            duration_ms=outcome.duration_ms,
        )
        self.queue.schedule_after(outcome.duration_ms, finished)

    def _finish_action(self, finished: ActionFinished) -> None:
        name, action = finished.node, finished.action
        if (
            not self.world.power[name].is_powered
            or self.world.power[name].generation != finished.generation
        ):
            return  # the machine lost power (or rebooted) while the action ran
        is_running = self._apply_to_world(name, action, finished.is_success)
        node = self.nodes[name]
        if node.state is None:
            return  # the daemon died while its action ran; the world changed anyway
        event = self.bridge.resource_result(
            now_ms=self.now_ms,
            action=action,
            is_success=finished.is_success,
            is_running=is_running,
            duration_ms=finished.duration_ms,
        )
        self._feed(node, event)

    def _apply_to_world(self, node: str, action: RunResourceAction, is_success: bool) -> bool:
        """Carry a finished action into the world; returns whether the resource now runs."""
        resource_id = action.resource_id
        alias = self.alias[action.group]
        match action.action:
            case ResourceAction.START:
                if is_success and not self.world.is_running(node, resource_id):
                    self.checker.on_resource_started(self.now_ms, self.world, node, resource_id)
                    self.world.start(node, resource_id)
                    self._note_group_change(node, action.group, alias)
                elif not is_success:
                    self.timeline.add(self.now_ms, node, f"{alias}: start of {resource_id} failed")
            case ResourceAction.STOP:
                if is_success and self.world.is_running(node, resource_id):
                    self.world.stop(node, resource_id)
                    self._note_group_change(node, action.group, alias)
                elif not is_success:
                    self.timeline.add(self.now_ms, node, f"{alias}: stop of {resource_id} failed")
            case ResourceAction.STATUS | ResourceAction.MONITOR | ResourceAction.PROBE:
                if not is_success and self.world.is_running(node, resource_id):
                    # An injected monitor failure is a service that died under us.
                    self.world.stop(node, resource_id)
                    self.timeline.add(self.now_ms, node, f"{alias}: {resource_id} died")
        return self.world.is_running(node, resource_id)

    def _note_group_change(self, node: str, group: str, alias: str) -> None:
        resources = self.world.resources_of_group[group]
        held = [r for r in resources if self.world.is_running(node, r)]
        if len(held) == len(resources):
            self.timeline.add(self.now_ms, node, f"{alias} running")
        elif not held:
            self.timeline.add(self.now_ms, node, f"{alias} stopped")

    def _finish_fence(self, finished: FenceFinished) -> None:
        target = finished.fence.target
        if finished.is_success and not finished.is_lie:
            was_on = self.world.power[target].is_powered
            self._power_off(target, reason="fenced" if was_on else "fenced (already off)")
            self._schedule_reboot(target)
        verdict = "succeeded" if finished.is_success else "failed"
        self.timeline.add(self.now_ms, finished.node, f"fence of {target} {verdict}")
        node = self.nodes[finished.node]
        if node.state is None or not self._is_current(finished.node, finished.generation):
            return
        event = self.bridge.fence_result(
            now_ms=self.now_ms,
            fence=finished.fence,
            is_success=finished.is_success,
            duration_ms=finished.duration_ms,
        )
        self._feed(node, event)

    # ---- node life ------------------------------------------------------------------------

    def _schedule_reboot(self, name: str) -> None:
        """A fence `reset` (and a self-fence) power-cycles the node: it boots again later."""
        if self.options.reboot_after_fence_ms is not None:
            at_ms = self.now_ms + self.options.reboot_after_fence_ms
            self.schedule_fault(at_ms, faults.Boot(node=name))

    def _power_off(self, name: str, *, reason: str) -> None:
        if self.world.power[name].is_powered:
            self.timeline.add(self.now_ms, name, f"powered off ({reason})")
        self._stop_daemon(name)
        self.world.power_off(name)

    def _stop_daemon(self, name: str) -> None:
        node = self.nodes[name]
        if node.state is not None:
            node.journal.crash()  # whatever was not committed is lost, as on a real crash
        node.state = None
        node.armed_ms = None
        node.members = {}
        node.links = {}
        node.peer_generations = {}
        node.first_copies = set()
        self.world.crash_daemon(name)

    def boot(self, name: str) -> None:
        if self.world.is_live(name):
            return
        node = self.nodes[name]
        generation = self.world.boot(name)
        self.timeline.add(self.now_ms, name, f"daemon starts (generation {generation})")
        node.state = self.bridge.initial_state(node.config)
        wall_ms = self.world.wall_ms(name, self.now_ms)
        records = [(record.kind, record.payload) for record in node.journal.committed()]
        event = self.bridge.boot(
            node.config,
            now_ms=self.now_ms,
            wall_ms=wall_ms,
            generation=generation,
            journal_records=records,
        )
        self._feed(node, event)

    def stimulate_admin(self, name: str, verb: AdminVerb, scope: AdminScope) -> None:
        node = self.nodes[name]
        self.timeline.add(self.now_ms, name, f"admin: {verb.value} {scope.value}")
        if node.state is not None:
            wall_ms = self.world.wall_ms(name, self.now_ms)
            event = self.bridge.admin(now_ms=self.now_ms, wall_ms=wall_ms, verb=verb, scope=scope)
            self._feed(node, event)

    def stimulate_shutdown(self, name: str) -> None:
        node = self.nodes[name]
        self.timeline.add(self.now_ms, name, "admin: clean shutdown")
        if node.state is not None:
            self._feed(node, self.bridge.shutdown(now_ms=self.now_ms))

    def stimulate_ping(self, name: str, *, is_reachable: bool) -> None:
        node = self.nodes[name]
        verb = "reaches" if is_reachable else "loses"
        self.timeline.add(self.now_ms, name, f"uplink {verb} the ping nodes")
        node.is_ping_reachable = is_reachable

    # ---- faults -------------------------------------------------------------------------

    def apply(self, fault: faults.Fault) -> None:
        match fault:
            case faults.Crash():
                self._power_off(fault.node, reason="crash")
            case faults.CrashDaemon():
                if self.world.is_live(fault.node):
                    self.timeline.add(self.now_ms, fault.node, "daemon crashes, resources stay")
                    self._stop_daemon(fault.node)
            case faults.Boot():
                self.boot(fault.node)
            case faults.CutLinks():
                self.network.cut(fault.links)
                self.timeline.add(self.now_ms, "", f"cut {_links_text(fault.links)}")
            case faults.RestoreLinks():
                self.network.restore(fault.links)
                self.timeline.add(self.now_ms, "", f"restore {_links_text(fault.links)}")
            case faults.Partition():
                self.network.partition(fault.sides)
                sides = " | ".join(" ".join(side) for side in fault.sides)
                self.timeline.add(self.now_ms, "", f"partition {sides}")
            case faults.Heal():
                if not self.network.is_healthy():
                    self.timeline.add(self.now_ms, "", "network healed")
                self.network.heal()
            case faults.DegradeLinks():
                self.network.set_faults(fault.links, fault.faults)
                self.timeline.add(
                    self.now_ms, "", f"degrade {_links_text(fault.links)}: {fault.faults}"
                )
            case faults.FenceDeviceFails():
                self.fence_device.fail_next(fault.count)
            case faults.FenceDeviceHangs():
                self.fence_device.hang()
            case faults.FenceDeviceLies():
                self.fence_device.lie()
            case faults.FenceDeviceRepaired():
                self.fence_device.repair()
            case faults.ClockJump():
                self.world.power[fault.node].wall_offset_ms += fault.delta_ms
                text = f"wall clock jumps {fault.delta_ms:+d} ms"
                self.timeline.add(self.now_ms, fault.node, text)
            case faults.ResourceFails():
                self.agents.fail(fault.node, fault.resource_id, fault.action, fault.count)
            case faults.ResourcesRepaired():
                self.agents.clear()


def _links_text(links: tuple[DirectedLink, ...]) -> str:
    pairs = dict.fromkeys(
        f"{'-'.join(sorted((link.source, link.destination)))} {link.link}" for link in links
    )
    return ", ".join(pairs)
