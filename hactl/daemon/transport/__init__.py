"""Heartbeat packets on the wire: envelope codec, signatures, replay guard, UDP media.

The pure parts (`envelope`, `signing`, `replay_guard`, `receiver`, `faults`) take bytes
and times and return verdicts, so Hypothesis can throw anything at them; `media` and
`udp` are the thin trio layer that moves bytes to and from sockets.
"""
