"""The local admin socket: `hactl status|standby|takeover|shutdown|reload` talk to it."""
