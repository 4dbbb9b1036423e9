"""Positional parameters are named in the device's order; the last name takes the rest."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hactl.stonith import DeviceSpec, StonithConfigError, make_device
from hactl.stonith.device import DeviceRequest, DeviceSettings
from hactl.stonith.null import NullDevice
from hactl.stonith.parameters import assign_parameters, parse_config_text, split_hostlist

WORDS = st.lists(st.text(alphabet="abcxyz019.-/", min_size=1, max_size=8), max_size=6)
NAMES = st.lists(st.sampled_from(["hostlist", "ipaddr", "login", "passwd"]), unique=True,
                 min_size=1, max_size=4)  # fmt: skip


def _request(positional: list[str], named: tuple[tuple[str, str], ...] = ()) -> DeviceRequest:
    return DeviceRequest(
        device_type="t", subtype=None, positional_parameters=tuple(positional),
        named_parameters=named, settings=DeviceSettings(), origin="ha.cf:1",
    )  # fmt: skip


@given(names=NAMES, positional=WORDS)
def test_no_positional_value_is_lost_and_order_is_kept(names: list[str],
                                                       positional: list[str]) -> None:  # fmt: skip
    assigned = assign_parameters(_request(positional), names)
    assert " ".join(assigned[name] for name in names if name in assigned) == " ".join(positional)
    assert list(assigned) == names[: len(assigned)]


@given(names=NAMES, positional=WORDS, value=st.text(min_size=1, max_size=5))
def test_named_parameters_win(names: list[str], positional: list[str], value: str) -> None:
    assigned = assign_parameters(_request(positional, ((names[0], value),)), names)
    assert assigned[names[0]] == value


def test_missing_required_and_unwanted_positional_parameters_are_errors() -> None:
    with pytest.raises(StonithConfigError, match=r"^ha.cf:1: stonith t: missing parameter ipaddr"):
        assign_parameters(_request(["a"]), ["hostlist", "ipaddr"], required=["ipaddr"])
    with pytest.raises(StonithConfigError, match="takes no positional parameters, got 2"):
        assign_parameters(_request(["a", "b"]), [])


def test_config_files_mix_positional_and_named_words() -> None:
    text = "# stonith.cfg\nmaster backup   # the hosts\n\nipaddr=198.18.0.201\n=odd\n"
    assert parse_config_text(text) == (("master", "backup", "=odd"), (("ipaddr", "198.18.0.201"),))
    assert split_hostlist("Master,backup  client") == ("master", "backup", "client")


async def test_a_type_and_command_line_words_open_a_device() -> None:
    device = await make_device(("null", ["master", "hostlist=master,backup"]))
    assert isinstance(device, NullDevice) and device.hosts == ("master", "backup")
    spec_device = await make_device(DeviceSpec(device_type="null", positional_parameters=("a",)))
    assert isinstance(spec_device, NullDevice) and spec_device.hosts == ("a",)
