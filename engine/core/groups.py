"""Running one resource group on this node: the order of agent actions and their results.

One action per group is in flight at a time. Start goes left to right: a resource never
checked since this node started gets `status` first, and is skipped when already running;
stop goes right to left over every resource that may run. A failed start marks the group
failed here (reconcile then releases it: stop what was started, let a peer try). A failed
stop is retried every second, ten times, then the group is STOP_FAILED and the caller
orders self-fencing. A failed monitor restarts the failed resource and those after it, in
place, up to the policy's limit; beyond it the group is marked failed and moves away.

The functions return the new run plus a `GroupSignal` for the caller, who owns the
node-wide consequences (failed marks, alerts, self-fencing, release notices).
"""

from __future__ import annotations

import enum

from engine.config.model import ClusterConfig, MonitorPolicy, ResourceGroup
from engine.core.commands import RunResourceAction
from engine.core.constants import (
    ACTION_TIMEOUT_MS,
    STATUS_TIMEOUT_MS,
    STOP_RETRY_INTERVAL_MS,
    STOP_RETRY_LIMIT,
)
from engine.core.effects import Effects
from engine.core.events import ActionOutcome, ResourceAction, ResourceActionCompleted
from engine.core.evolve import evolve_group_run
from engine.core.state import GroupPhase, GroupRun, PendingAction, ResourceStatus


class GroupSignal(enum.Enum):
    NONE = "none"
    BECAME_RUNNING = "became_running"
    BECAME_STOPPED = "became_stopped"
    START_FAILED = "start_failed"
    MONITOR_FAILED = "monitor_failed"  # restarting in place
    MONITOR_EXHAUSTED = "monitor_exhausted"  # too many restarts: fail over
    STOP_GAVE_UP = "stop_gave_up"  # self-fence
    PROBED = "probed"  # every resource of the group probed


def new_group_run(group: ResourceGroup, *, is_probing: bool = False) -> GroupRun:
    count = len(group.resources)
    return GroupRun(
        name=group.name,
        phase=GroupPhase.PROBING if is_probing else GroupPhase.STOPPED,
        resource_ids=tuple(resource.resource_id for resource in group.resources),
        resources=(ResourceStatus.UNKNOWN,) * count,
        restart_counts=(0,) * count,
        monitor_due_ms=(None,) * count,
    )


def monitor_policy(config: ClusterConfig, resource_id: str) -> MonitorPolicy | None:
    for policy in config.monitors:
        if policy.resource_id == resource_id:
            return policy
    return None


# ---- driving: issue the next action toward holding or releasing ---------------------------


def drive(
    run: GroupRun,
    *,
    should_hold: bool,
    may_start: bool,
    config: ClusterConfig,
    now_ms: int,
    fx: Effects,
) -> tuple[GroupRun, GroupSignal]:
    """Take the next step toward holding (`should_hold`) or releasing the group."""
    if run.pending is not None or run.phase in (
        GroupPhase.STOP_FAILED,
        GroupPhase.PROBING,
        GroupPhase.CLAIMING,  # reconcile moves it on (claims.py)
    ):
        return run, GroupSignal.NONE
    if not should_hold and run.phase in (
        GroupPhase.STARTING,
        GroupPhase.RUNNING,
        GroupPhase.RESTARTING,
    ):
        run = evolve_group_run(
            run,
            phase=GroupPhase.STOPPING,
            restart_from_index=None,
            monitor_due_ms=(None,) * len(run.resources),
        )
    match run.phase:
        case GroupPhase.STOPPED:
            if should_hold and may_start:
                return _start_step(
                    evolve_group_run(run, phase=GroupPhase.STARTING), config, now_ms, fx
                )
            return run, GroupSignal.NONE
        case GroupPhase.STARTING:
            return _start_step(run, config, now_ms, fx)
        case GroupPhase.RUNNING:
            return _monitor_step(run, config, now_ms, fx), GroupSignal.NONE
        case GroupPhase.RESTARTING:
            return _restart_step(run, config, now_ms, fx)
        case GroupPhase.STOPPING:
            return _stop_step(run, now_ms, fx)
        case GroupPhase.STOP_FAILED | GroupPhase.PROBING | GroupPhase.CLAIMING:
            raise AssertionError("returned above")


def _start_step(
    run: GroupRun, config: ClusterConfig, now_ms: int, fx: Effects
) -> tuple[GroupRun, GroupSignal]:
    for index, status in enumerate(run.resources):
        if status is ResourceStatus.RUNNING:
            continue
        if status is ResourceStatus.UNKNOWN:
            return _issue(
                run, index, ResourceAction.STATUS, STATUS_TIMEOUT_MS, fx
            ), GroupSignal.NONE
        return _issue(run, index, ResourceAction.START, ACTION_TIMEOUT_MS, fx), GroupSignal.NONE
    return _running(run, config, now_ms), GroupSignal.BECAME_RUNNING


def _running(run: GroupRun, config: ClusterConfig, now_ms: int) -> GroupRun:
    due = tuple(
        None if policy is None else now_ms + policy.interval_ms
        for policy in (monitor_policy(config, rid) for rid in run.resource_ids)
    )
    return evolve_group_run(run, phase=GroupPhase.RUNNING, monitor_due_ms=due)


def probe_step(
    run: GroupRun, config: ClusterConfig, now_ms: int, fx: Effects
) -> tuple[GroupRun, GroupSignal]:
    """Probe the next resource; when all are probed, take the phase the results call for.

    Fully running: RUNNING (adopted if placement agrees, else reconcile stops it). Partly
    running (or unknown: a failed probe): STARTING, so reconcile either completes or stops
    it. Nothing running: STOPPED, with statuses forgotten so a later start checks again.
    """
    assert run.phase is GroupPhase.PROBING and run.pending is None
    for index, status in enumerate(run.resources):
        if status is ResourceStatus.UNKNOWN:
            return _issue(run, index, ResourceAction.PROBE, STATUS_TIMEOUT_MS, fx), GroupSignal.NONE
    if all(status is ResourceStatus.RUNNING for status in run.resources):
        return _running(run, config, now_ms), GroupSignal.PROBED
    if all(status is ResourceStatus.STOPPED for status in run.resources):
        forgotten = (ResourceStatus.UNKNOWN,) * len(run.resources)
        return evolve_group_run(
            run, phase=GroupPhase.STOPPED, resources=forgotten
        ), GroupSignal.PROBED
    return evolve_group_run(run, phase=GroupPhase.STARTING), GroupSignal.PROBED


def _stop_step(run: GroupRun, now_ms: int, fx: Effects) -> tuple[GroupRun, GroupSignal]:
    if run.stop_retry_ms is not None:
        return run, GroupSignal.NONE  # waiting a second before the next try
    for index in range(len(run.resources) - 1, -1, -1):
        if run.resources[index] in (ResourceStatus.RUNNING, ResourceStatus.FAILED):
            return _issue(run, index, ResourceAction.STOP, ACTION_TIMEOUT_MS, fx), GroupSignal.NONE
    stopped = evolve_group_run(run, phase=GroupPhase.STOPPED, stop_attempt_count=0)
    return stopped, GroupSignal.BECAME_STOPPED


def _restart_step(
    run: GroupRun, config: ClusterConfig, now_ms: int, fx: Effects
) -> tuple[GroupRun, GroupSignal]:
    assert run.restart_from_index is not None
    if run.stop_retry_ms is not None:
        return run, GroupSignal.NONE
    for index in range(len(run.resources) - 1, run.restart_from_index - 1, -1):
        if run.resources[index] in (ResourceStatus.RUNNING, ResourceStatus.FAILED):
            return _issue(run, index, ResourceAction.STOP, ACTION_TIMEOUT_MS, fx), GroupSignal.NONE
    starting = evolve_group_run(run, phase=GroupPhase.STARTING, restart_from_index=None)
    return _start_step(starting, config, now_ms, fx)


def _monitor_step(run: GroupRun, config: ClusterConfig, now_ms: int, fx: Effects) -> GroupRun:
    for index, due_ms in enumerate(run.monitor_due_ms):
        if due_ms is not None and due_ms <= now_ms:
            policy = monitor_policy(config, run.resource_ids[index])
            assert policy is not None
            return _issue(run, index, ResourceAction.MONITOR, policy.timeout_ms, fx)
    return run


def _issue(
    run: GroupRun, index: int, action: ResourceAction, timeout_ms: int, fx: Effects
) -> GroupRun:
    action_id = fx.new_action_id()
    fx.emit(
        RunResourceAction(
            action_id=action_id,
            group=run.name,
            resource_id=run.resource_ids[index],
            action=action,
            timeout_ms=timeout_ms,
        )
    )
    pending = PendingAction(action_id=action_id, resource_index=index, action=action)
    return evolve_group_run(run, pending=pending)


# ---- completing: apply an action's result ------------------------------------------------


def complete(
    run: GroupRun, event: ResourceActionCompleted, config: ClusterConfig, now_ms: int
) -> tuple[GroupRun, GroupSignal]:
    pending = run.pending
    assert pending is not None and pending.action_id == event.action_id
    run = evolve_group_run(run, pending=None)
    index = pending.resource_index
    is_success = event.outcome is ActionOutcome.SUCCESS
    match pending.action:
        case ResourceAction.STATUS:
            status = ResourceStatus.RUNNING if is_success else ResourceStatus.STOPPED
            return _set_resource(run, index, status), GroupSignal.NONE
        case ResourceAction.PROBE:
            return _set_resource(run, index, _probed_status(event.outcome)), GroupSignal.NONE
        case ResourceAction.START:
            if is_success:
                return _set_resource(run, index, ResourceStatus.RUNNING), GroupSignal.NONE
            return _set_resource(run, index, ResourceStatus.FAILED), GroupSignal.START_FAILED
        case ResourceAction.STOP:
            return _complete_stop(run, index, event.outcome, now_ms)
        case ResourceAction.MONITOR:
            return _complete_monitor(run, index, is_success, config, now_ms)


def _probed_status(outcome: ActionOutcome) -> ResourceStatus:
    match outcome:
        case ActionOutcome.SUCCESS:
            return ResourceStatus.RUNNING
        case ActionOutcome.NOT_RUNNING:
            return ResourceStatus.STOPPED
        case ActionOutcome.FAILED | ActionOutcome.TIMED_OUT:
            return ResourceStatus.FAILED  # unknown: it may run, so it is stopped unless kept


def _complete_stop(
    run: GroupRun, index: int, outcome: ActionOutcome, now_ms: int
) -> tuple[GroupRun, GroupSignal]:
    if outcome in (ActionOutcome.SUCCESS, ActionOutcome.NOT_RUNNING):
        run = evolve_group_run(run, stop_attempt_count=0)
        return _set_resource(run, index, ResourceStatus.STOPPED), GroupSignal.NONE
    failures = run.stop_attempt_count + 1
    run = _set_resource(run, index, ResourceStatus.FAILED)
    if failures > STOP_RETRY_LIMIT:
        return evolve_group_run(run, phase=GroupPhase.STOP_FAILED, stop_attempt_count=failures), (
            GroupSignal.STOP_GAVE_UP
        )
    retry_ms = now_ms + STOP_RETRY_INTERVAL_MS
    return evolve_group_run(
        run, stop_attempt_count=failures, stop_retry_ms=retry_ms
    ), GroupSignal.NONE


def _complete_monitor(
    run: GroupRun, index: int, is_success: bool, config: ClusterConfig, now_ms: int
) -> tuple[GroupRun, GroupSignal]:
    policy = monitor_policy(config, run.resource_ids[index])
    if run.phase is not GroupPhase.RUNNING or policy is None:
        return run, GroupSignal.NONE  # the group moved on while the check ran
    if is_success:
        due = list(run.monitor_due_ms)
        due[index] = now_ms + policy.interval_ms
        return evolve_group_run(run, monitor_due_ms=tuple(due)), GroupSignal.NONE
    counts = list(run.restart_counts)
    counts[index] += 1
    run = _set_resource(run, index, ResourceStatus.FAILED)
    run = evolve_group_run(
        run, restart_counts=tuple(counts), monitor_due_ms=(None,) * len(run.resources)
    )
    if counts[index] > policy.max_restarts:
        return run, GroupSignal.MONITOR_EXHAUSTED
    return evolve_group_run(run, phase=GroupPhase.RESTARTING, restart_from_index=index), (
        GroupSignal.MONITOR_FAILED
    )


def _set_resource(run: GroupRun, index: int, status: ResourceStatus) -> GroupRun:
    resources = list(run.resources)
    resources[index] = status
    return evolve_group_run(run, resources=tuple(resources))


def expire_group_timers(run: GroupRun, now_ms: int) -> tuple[GroupRun, bool]:
    """Clear a stop retry wait that has passed; report whether the group needs driving."""
    needs_drive = False
    if run.stop_retry_ms is not None and run.stop_retry_ms <= now_ms:
        run = evolve_group_run(run, stop_retry_ms=None)
        needs_drive = True
    if run.phase is GroupPhase.RUNNING and run.pending is None:
        needs_drive = needs_drive or any(
            due is not None and due <= now_ms for due in run.monitor_due_ms
        )
    return run, needs_drive
