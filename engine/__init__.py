"""The pure, deterministic core of hactl and its simulator.

`engine.config` turns configuration text into a typed `ClusterConfig`; `engine.core` is the
state machine (`step(state, event) -> (state, commands)`, `next_deadline(state)`); neither
reads a clock, socket, file or random source. `engine.sim` runs whole clusters of real
engines on a virtual clock.
"""
