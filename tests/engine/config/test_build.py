"""parse_cluster_config: the three files together, and the checks only they allow."""

from __future__ import annotations

import pytest

from engine.config.build import parse_cluster_config
from engine.config.errors import ConfigError
from engine.config.model import MonitorPolicy, OcfResource

HACF = "node alpha beta\nauto_failback off\nbcast eth0\n"
HARESOURCES = "alpha IPaddr2::198.18.0.50/24/eth0 httpd\nbeta 198.18.0.60 OCF::Dummy::d1\n"
AUTHKEYS = "auth 1\n1 sha256 secret\n"
OCF_TEXTS = {"Dummy/d1": "# dummy\nstate=/run/d1.state\nfake='quoted value'\n"}


def build(
    hacf: str = HACF,
    haresources: str = HARESOURCES,
    authkeys: str = AUTHKEYS,
    *,
    local_node: str = "alpha",
    ocf_texts: dict[str, str] | None = None,
    authkeys_mode: int = 0o600,
) -> object:
    return parse_cluster_config(
        hacf,
        haresources,
        authkeys,
        local_node=local_node,
        authkeys_mode=authkeys_mode,
        ocf_parameter_texts=OCF_TEXTS if ocf_texts is None else ocf_texts,
    )


def problems_of(**changes: object) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        build(**changes)  # type: ignore[arg-type]
    return [str(problem) for problem in raised.value.problems]


def test_valid_cluster() -> None:
    config = parse_cluster_config(
        HACF, HARESOURCES, AUTHKEYS, local_node="Beta", ocf_parameter_texts=OCF_TEXTS
    )
    assert config.local_node == "beta"
    web, other = config.groups
    assert web.name == "IPaddr2::198.18.0.50/24/eth0"
    ocf = other.resources[1]
    assert isinstance(ocf, OcfResource)
    assert ocf.parameters == (("state", "/run/d1.state"), ("fake", "quoted value"))
    assert config.group("198.18.0.60") is other


def test_local_node_must_be_listed() -> None:
    assert problems_of(local_node="gamma") == [
        "ha.cf: node: this node, 'gamma', is not one of the nodes (alpha, beta) "
        "(add `node gamma` or pass --node with this node's name)"
    ]


def test_preferred_node_must_be_a_node() -> None:
    problems = problems_of(haresources="alpha httpd\ngamma smb\n")
    assert problems == [
        "haresources:2: gamma: preferred node of group smb is not a node in ha.cf "
        "(one of: alpha, beta)"
    ]


def test_missing_ocf_parameter_file_names_the_path() -> None:
    problems = problems_of(ocf_texts={})
    assert problems == [
        "haresources:2: OCF::Dummy::d1: parameter file conf/OCF/Dummy/d1 not found "
        "(create it with name=value lines, one per OCF parameter)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("state\n", "conf/OCF/Dummy/d1:1: state: is not a name=value line"),
        ("1x=2\n", "conf/OCF/Dummy/d1:1: 1x: is not a name=value line"),
        ("=2\n", "conf/OCF/Dummy/d1:1: =2: is not a name=value line"),
        ("a=1\na=2\n", "conf/OCF/Dummy/d1:2: a: is already set on line 1"),
    ],
)
def test_bad_ocf_parameter_file(text: str, expected: str) -> None:
    (problem,) = problems_of(ocf_texts={"Dummy/d1": text})
    assert problem.startswith(expected)


MONITORS: list[tuple[str, MonitorPolicy]] = [
    (
        "monitor httpd 10\n",
        MonitorPolicy(resource_id="httpd", interval_ms=10_000, timeout_ms=20_000, max_restarts=1),
    ),
    (
        "monitor httpd 500ms timeout=2 restarts=0\n",
        MonitorPolicy(resource_id="httpd", interval_ms=500, timeout_ms=2_000, max_restarts=0),
    ),
    (
        "monitor OCF::Dummy::d1 5 restarts=3\n",
        MonitorPolicy(
            resource_id="OCF::Dummy::d1", interval_ms=5_000, timeout_ms=20_000, max_restarts=3
        ),
    ),
    (
        "monitor 198.18.0.60 5\n",
        MonitorPolicy(
            resource_id="198.18.0.60", interval_ms=5_000, timeout_ms=20_000, max_restarts=1
        ),
    ),
    (
        "monitor IPaddr::198.18.0.60 5\n",
        MonitorPolicy(
            resource_id="198.18.0.60", interval_ms=5_000, timeout_ms=20_000, max_restarts=1
        ),
    ),
]


@pytest.mark.parametrize(("line", "expected"), MONITORS)
def test_monitor(line: str, expected: MonitorPolicy) -> None:
    config = parse_cluster_config(
        HACF + line, HARESOURCES, AUTHKEYS, local_node="alpha", ocf_parameter_texts=OCF_TEXTS
    )
    assert config.monitors == (expected,)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            "monitor htpd 10\n",
            "ha.cf:4: monitor: htpd is not a resource in haresources (did you mean httpd?)",
        ),
        (
            "monitor nothing 10\n",
            "ha.cf:4: monitor: nothing is not a resource in haresources "
            "(write the resource as in haresources)",
        ),
        (
            "monitor httpd 10\nmonitor httpd 20\n",
            "ha.cf:5: monitor: httpd already has a "
            "monitor line (keep one monitor line per resource)",
        ),
    ],
)
def test_monitor_errors(lines: str, expected: str) -> None:
    assert problems_of(hacf=HACF + lines) == [expected]


def test_problems_of_all_files_are_reported_together() -> None:
    problems = problems_of(
        hacf=HACF + "keeplive 2\n",
        haresources="alpha 198.18.0.999\n",
        authkeys="auth 3\n1 sha1 x\n",
        authkeys_mode=0o644,
    )
    assert [problem.split(":")[0] for problem in problems] == [
        "ha.cf",
        "haresources",
        "authkeys",
        "authkeys",
    ]


def test_warnings_of_all_files_are_kept() -> None:
    config = parse_cluster_config(
        "node alpha beta\nbcast eth0\napiauth x\n",
        "alpha httpd\n",
        "auth 1\n1 crc\n",
        local_node="alpha",
    )
    assert [str(warning).split(":")[0] for warning in config.warnings] == [
        "ha.cf",
        "ha.cf",
        "authkeys",
    ]


def test_cross_file_checks_run_even_when_files_have_other_problems() -> None:
    problems = problems_of(
        hacf=HACF + "keepalive 500 ms\n",
        haresources="gamma httpd\nalpha 198.18.0.999\n",
        local_node="delta",
    )
    assert [problem.split(" (")[0] for problem in problems] == [
        "ha.cf: node: this node, 'delta', is not one of the nodes",
        "ha.cf:4: keepalive 500 ms: the unit must follow the number without a space",
        "haresources:1: gamma: preferred node of group httpd is not a node in ha.cf",
        "haresources:2: 198.18.0.999: '198.18.0.999' is not an IP address",
    ]


def test_node_line_problem_does_not_cascade_into_preferred_node_errors() -> None:
    problems = problems_of(hacf="node alpha b/eta\nbcast eth0\n", haresources="beta httpd\n")
    assert problems == ["ha.cf:1: node: 'b/eta' is not a host name"]
