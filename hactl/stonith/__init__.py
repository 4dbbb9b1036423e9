"""Fencing (STONITH): the device API the daemon fences through, and the devices themselves.

`make_device()` opens a device from ha.cf's `stonith`/`stonith_host` lines or from command
line parameters; every device answers `fence()`, `status()` and `list_hosts()` with
results that say device, target, operation, outcome and duration, for the journal.
"""

from hactl.stonith.device import (
    DeviceOperation,
    DeviceSettings,
    FenceAction,
    FenceDevice,
    FenceDeviceError,
    FenceResult,
    StonithConfigError,
)
from hactl.stonith.factory import DeviceSpec, applies_to, list_device_types, make_device

__all__ = [
    "DeviceOperation",
    "DeviceSettings",
    "DeviceSpec",
    "FenceAction",
    "FenceDevice",
    "FenceDeviceError",
    "FenceResult",
    "StonithConfigError",
    "applies_to",
    "list_device_types",
    "make_device",
]
