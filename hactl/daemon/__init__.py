"""The node daemon: the trio shell around the pure engine.

Everything with side effects lives here (sockets, files, signals, processes); the engine
decides, the shell does. Sub-packages: `transport` (heartbeat packets on the wire),
`control` (the local admin socket); modules: `generation` (restart counter), `shell`
(the Ready loop), `notify`/`realtime`/`logging_setup` (process plumbing).
"""
