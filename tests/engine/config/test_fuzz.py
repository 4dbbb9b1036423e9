"""Any text in, a configuration or a ConfigError out: never another exception.

Arbitrary text finds lexing bugs (odd blanks, surrogates, NULs); lines assembled from real
directive words and plausible values reach deep into each handler. When a configuration
does come back, the start-up rules must hold for it.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.config.authkeys import parse_authkeys
from engine.config.build import parse_cluster_config
from engine.config.directives import KNOWN
from engine.config.errors import ConfigError
from engine.config.hacf import HaCf, parse_hacf
from engine.config.haresources import parse_haresources
from engine.config.model import ClusterConfig
from engine.config.ocf_parameters import parse_ocf_parameters

VALUE_WORDS = [
    "on",
    "off",
    "legacy",
    "yes",
    "respawn",
    "stop",
    "freeze",
    "eth0",
    "eth1",
    "lo",
    "198.18.0.1",
    "198.18.0.2",
    "239.0.0.1",
    "fd00::1",
    "694",
    "65535",
    "0",
    "1",
    "2",
    "4",
    "5",
    "10",
    "30",
    "500ms",
    "200us",
    "0.5",
    "ms",
    "us",
    "*",
    "null",
    "a=b",
    "timeout=5",
    "restarts=2",
    "alpha",
    "beta",
    "/dev/ttyS0",
    "19200",
    "httpd",
    "#",
    ",",
    "\\",
    "",
]
RESOURCE_PIECES = [
    "IPaddr",
    "IPaddr2",
    "OCF",
    "httpd",
    "Dummy",
    "heartbeat:Dummy",
    "d1",
    "198.18.0.50",
    "fd00::1",
    "24",
    "255.255.255.0",
    "eth0",
    "198.18.0.255",
    "",
    "..",
    "9x",
]
LOCAL_ADDRESSES = ["198.18.0.1", "fd00::1", "127.0.0.1"]

words = st.one_of(st.sampled_from(VALUE_WORDS), st.text(max_size=8))
hacf_lines = st.builds(
    lambda directive, values, separator: separator.join([directive, *values]),
    st.sampled_from([*sorted(KNOWN), "Node", "keeplive", "#node"]),
    st.lists(words, max_size=6),
    st.sampled_from([" ", "\t", ",", "  "]),
)
hacf_texts = st.one_of(st.text(), st.lists(hacf_lines, max_size=15).map("\n".join))
resource_specs = st.lists(st.sampled_from(RESOURCE_PIECES), min_size=1, max_size=5).flatmap(
    lambda pieces: st.lists(
        st.sampled_from(["::", "/", ":"]), min_size=len(pieces) - 1, max_size=len(pieces) - 1
    ).map(
        lambda separators: (
            pieces[0] + "".join(s + p for s, p in zip(separators, pieces[1:], strict=True))
        )
    )
)
haresources_lines = st.builds(
    lambda node, specs, ending: " ".join([node, *specs]) + ending,
    st.sampled_from(["alpha", "beta", "Gamma", "", "#"]),
    st.lists(resource_specs, max_size=4),
    st.sampled_from(["", " \\", "\\", " # c"]),
)
haresources_texts = st.one_of(st.text(), st.lists(haresources_lines, max_size=8).map("\n".join))
authkeys_lines = st.one_of(
    st.builds("auth {}".format, st.sampled_from(["1", "2", "15", "16", "0", "x", ""])),
    st.builds(
        "{} {} {}".format,
        st.sampled_from(["1", "2", "15", "99", "-1"]),
        st.sampled_from(["crc", "md5", "sha1", "sha256", "SHA256", "md4", ""]),
        st.text(max_size=10),
    ),
)
authkeys_texts = st.one_of(st.text(), st.lists(authkeys_lines, max_size=6).map("\n".join))
modes = st.integers(min_value=0, max_value=0o7777)


def check_hacf_invariants(config: HaCf) -> None:
    timings = config.timings
    assert config.nodes and config.media
    assert all(node == node.lower() for node in config.nodes)
    assert timings.deadtime.value_ms > 2 * timings.keepalive.value_ms
    assert timings.initdead.value_ms >= timings.deadtime.value_ms
    assert timings.deadping.value_ms > 2 * timings.keepalive.value_ms
    assert 1 <= config.udpport <= 65535


@given(hacf_texts, st.lists(st.sampled_from(LOCAL_ADDRESSES), max_size=2))
def test_hacf_returns_config_or_config_error(text: str, local_addresses: list[str]) -> None:
    try:
        config = parse_hacf(text, local_addresses=local_addresses)
    except ConfigError as error:
        assert error.problems
        return
    check_hacf_invariants(config)


@given(haresources_texts)
def test_haresources_returns_groups_or_config_error(text: str) -> None:
    try:
        groups = parse_haresources(text)
    except ConfigError:
        return
    names = [group.name for group in groups]
    assert len(names) == len(set(names))
    assert all(group.resources for group in groups)


@given(authkeys_texts, modes)
def test_authkeys_returns_keys_or_config_error(text: str, mode: int) -> None:
    try:
        authkeys = parse_authkeys(text, mode=mode)
    except ConfigError:
        return
    assert mode & 0o077 == 0
    assert authkeys.auth.active_key.index == authkeys.auth.active_index


@given(st.text())
def test_ocf_parameters_return_pairs_or_config_error(text: str) -> None:
    try:
        parameters = parse_ocf_parameters(text, file_name="conf/OCF/Dummy/d1")
    except ConfigError:
        return
    assert all(name.isidentifier() for name, _ in parameters)


@given(hacf_texts, haresources_texts, authkeys_texts, st.sampled_from(["alpha", "beta", "x"]))
def test_whole_configuration_or_config_error(
    hacf: str, haresources: str, authkeys: str, local_node: str
) -> None:
    try:
        config = parse_cluster_config(
            hacf,
            haresources,
            authkeys,
            local_node=local_node,
            ocf_parameter_texts={"Dummy/d1": "a=1\n"},
        )
    except ConfigError:
        return
    assert isinstance(config, ClusterConfig)
    assert config.local_node in config.nodes
    assert all(group.preferred_node in config.nodes for group in config.groups)


@given(st.sampled_from(["node alpha beta", "node alpha\nnode beta"]), st.lists(hacf_lines))
def test_valid_start_survives_any_additional_lines(head: str, lines: list[str]) -> None:
    text = "\n".join([head, "bcast eth0", *lines])
    try:
        config = parse_hacf(text)
    except ConfigError:
        return
    check_hacf_invariants(config)
