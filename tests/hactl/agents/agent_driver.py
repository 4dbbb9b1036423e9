"""Test helper, run inside a node's namespace: carry out agent actions read from stdin.

One JSON command per line, one JSON answer per line. Starting Python costs about a second
on a busy CI machine, so a test starts this once per namespace instead of one
`hactl resource debug` process per action; the actions themselves go through the same
`run_agent_action` the daemon and the CLI use.

  {"op": "act", "action": "start", "spec": "IPaddr::...", "arp_count": 1, "arp_interval_ms": 0}
     -> {"outcome": "success", "detail": "...", "exit_code": null}
  {"op": "validate", "spec": SPEC} -> {"outcome": ..., "detail": ...}
  {"op": "sequence", "steps": [["start", SPEC], ["stop", SPEC]], "arp_count": 5, ...}
     -> {"results": [...]}: the steps share one announcement nursery, as in the daemon
  {"op": "keep_announcing", "address": "...", "interface": "eth0", "refresh_ms": 200,
   "duration_ms": 1000} -> {"done": true} after cancelling the refresh task
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Any

import trio

from engine.config.resources import parse_resource_spec
from hactl.agents import AgentAction, AgentContext, keep_announcing, run_agent_action, validate


async def act(command: dict[str, Any]) -> dict[str, Any]:
    context = AgentContext(
        arp_count=command.get("arp_count", 1), arp_interval_ms=command.get("arp_interval_ms", 0)
    )
    resource = parse_resource_spec(command["spec"])
    action = AgentAction(command["action"])
    result = await run_agent_action(resource, action, timeout_ms=20_000, context=context)
    return {"outcome": result.outcome.value, "detail": result.detail, "exit_code": result.exit_code}


async def check(command: dict[str, Any]) -> dict[str, Any]:
    result = await validate(parse_resource_spec(command["spec"]), AgentContext())
    return {"outcome": result.outcome.value, "detail": result.detail}


async def sequence(command: dict[str, Any]) -> dict[str, Any]:
    results = []
    async with trio.open_nursery() as nursery:
        context = AgentContext(
            arp_count=command["arp_count"],
            arp_interval_ms=command["arp_interval_ms"],
            announcement_nursery=nursery,
        )
        for action, spec in command["steps"]:
            result = await run_agent_action(
                parse_resource_spec(spec), AgentAction(action), timeout_ms=20_000, context=context
            )
            results.append({"outcome": result.outcome.value, "detail": result.detail})
    return {"results": results}


async def refresh(command: dict[str, Any]) -> dict[str, Any]:
    async with trio.open_nursery() as nursery:
        refresh_ms = command["refresh_ms"]
        await nursery.start(
            functools.partial(keep_announcing, refresh_ms=refresh_ms),
            command["address"],
            command["interface"],
        )
        await trio.sleep(command["duration_ms"] / 1000)
        nursery.cancel_scope.cancel()
    return {"done": True}


def main() -> None:
    for line in sys.stdin:
        command = json.loads(line)
        handlers = {"act": act, "validate": check, "sequence": sequence, "keep_announcing": refresh}
        handler = handlers[command["op"]]
        print(json.dumps(trio.run(handler, command)), flush=True)


if __name__ == "__main__":
    main()
