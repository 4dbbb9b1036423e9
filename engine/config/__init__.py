"""Heartbeat-compatible configuration: ha.cf, haresources and authkeys text to `ClusterConfig`.

Pure: every function here takes text (and a file name for messages), never a path; the
I/O loader is `hactl.config_files.load_config`. Start with `parse_cluster_config`.
"""

from engine.config.authkeys import parse_authkeys
from engine.config.build import parse_cluster_config
from engine.config.errors import ConfigError, ConfigProblem
from engine.config.hacf import parse_hacf
from engine.config.haresources import parse_haresources

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "parse_authkeys",
    "parse_cluster_config",
    "parse_hacf",
    "parse_haresources",
]
