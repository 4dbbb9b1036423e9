"""hactl: a high-availability cluster manager that keeps Heartbeat v1's files and behaviour,
and derives all state from a signed, append-only event journal."""

__version__ = "0.1.0"
