"""The pure state machine of one hactl node: `step(state, event) -> (state, commands)`.

Feed `NodeStarted` (which carries the configuration and generation) to `initial_state()`,
then every event the shell observes; carry out the returned commands in order; call again
with `TimeAdvanced` at `next_deadline(state)`. Nothing here reads a clock, socket, file or
random source. See docs/engine.md for the theory of operation.
"""

from engine.core.deadlines import next_deadline
from engine.core.machine import initial_state, step
from engine.core.state import NodeState

__all__ = ["NodeState", "initial_state", "next_deadline", "step"]
