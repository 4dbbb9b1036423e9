"""`hactl stonith`: cluster-glue's `stonith` command, flag for flag, plus `confirm NODE`.

Admins reach for `stonith -t external/ipmi -n` and `stonith -t TYPE ... -T reset node2` in a
crisis, so the flags are cluster-glue's (`-L -t -n -m -p -F -E -l -S -T -s -d`) and mean
the same; exit status is 0 on success and 1 on failure, 2 for a usage error. Typer cannot
express single-dash flags mixed with `name=value` words, so the command takes its words
raw and argparse reads them; `hactl stonith confirm NODE` (meatclient's job) is routed
before that. hactl-only settings are long options: `--timeout`, `--run-dir`,
`--external-dir`, `--fence-agent-dir`.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import trio
import typer

from hactl.stonith.device import (
    DEFAULT_EXTERNAL_DIRECTORIES,
    DEFAULT_FENCE_AGENT_DIRECTORIES,
    DEFAULT_RUN_DIRECTORY,
    DeviceSettings,
    FenceAction,
    FenceDevice,
    FenceDeviceError,
    StonithConfigError,
)
from hactl.stonith.factory import DeviceSpec, list_device_types, make_device
from hactl.stonith.meatware import MeatwareConfirmError, confirm
from hactl.stonith.parameters import parse_config_text

EXIT_SUCCESS = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
DEFAULT_TIMEOUT_S = 120.0
MEATWARE_WARNING = (
    'If node "{node}" has not been manually power-cycled or disconnected from all shared '
    "resources and networks, data on shared disks may become corrupted and migrated "
    "services might not work as expected.\nPlease verify that the name or address above "
    "corresponds to the node you just rebooted."
)


class UsageError(Exception):
    """Bad flags: reported with exit status 2, like argparse's own errors."""


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="hactl stonith", add_help=True, description=(
        "Fence nodes and inspect fencing devices, as cluster-glue's stonith(8). "
        "Also: hactl stonith confirm NODE (meatware)."))  # fmt: skip
    parser.add_argument("-L", dest="is_listing_types", action="store_true",
                        help="list the device types")  # fmt: skip
    parser.add_argument("-t", dest="device_type", help="device type")
    parser.add_argument("-n", dest="is_listing_names", action="store_true",
                        help="list the device type's parameter names")  # fmt: skip
    parser.add_argument("-m", dest="is_showing_metadata", action="store_true",
                        help="show the device type's metadata")  # fmt: skip
    parser.add_argument("-p", dest="parameter_string", help='parameters by position: "v1 v2"')
    parser.add_argument("-F", dest="parameter_file", help="read parameters from FILE")
    parser.add_argument("-E", dest="is_from_environment", action="store_true",
                        help="take parameters from environment variables")  # fmt: skip
    parser.add_argument("-l", dest="is_listing_hosts", action="store_true",
                        help="list the hosts the device controls")  # fmt: skip
    parser.add_argument("-S", dest="is_checking_status", action="store_true",
                        help="report the device's status")  # fmt: skip
    parser.add_argument("-T", dest="action", choices=[a.value for a in FenceAction],
                        help="what to do to NODE (default reset)")  # fmt: skip
    parser.add_argument("-s", dest="is_silent", action="store_true", help="silent")
    parser.add_argument("-d", "-v", dest="is_verbose", action="store_true", help="verbose")
    parser.add_argument("--timeout", dest="timeout_s", type=float, default=DEFAULT_TIMEOUT_S,
                        help="seconds to wait for the device (hactl)")  # fmt: skip
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIRECTORY,
                        help="meatware rendezvous directory (hactl)")  # fmt: skip
    parser.add_argument("--external-dir", type=Path, action="append",
                        help="directory of external/* scripts (hactl, repeatable)")  # fmt: skip
    parser.add_argument("--fence-agent-dir", type=Path, action="append",
                        help="directory of fence_* agents (hactl, repeatable)")  # fmt: skip
    parser.add_argument("words", nargs="*", help="name=value parameters and the NODE")
    return parser


class _EchoHandler(logging.Handler):
    """Device log lines to stderr, resolved at emit time (the CLI runner swaps stderr)."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"stonith: {record.levelname}: {self.format(record)}", err=True)


def _settings(options: argparse.Namespace) -> DeviceSettings:
    return DeviceSettings(
        run_directory=options.run_dir,
        external_directories=tuple(options.external_dir or DEFAULT_EXTERNAL_DIRECTORIES),
        fence_agent_directories=tuple(
            options.fence_agent_dir or DEFAULT_FENCE_AGENT_DIRECTORIES
        ),
    )


def _spec(options: argparse.Namespace, names_from_environment: Sequence[str]) -> DeviceSpec:
    positional: tuple[str, ...] = ()
    named: tuple[tuple[str, str], ...] = ()
    if options.parameter_string is not None:
        positional = tuple(options.parameter_string.split())
    if options.parameter_file is not None:
        try:
            text = Path(options.parameter_file).read_text()
        except OSError as error:
            raise StonithConfigError(f"-F {options.parameter_file}: {error.strerror}") from error
        positional, named = parse_config_text(text)
    if options.is_from_environment:
        named += tuple((name, os.environ[name]) for name in names_from_environment
                       if name in os.environ)  # fmt: skip
    named += tuple(
        (name, value) for name, _, value in (w.partition("=") for w in options.words if "=" in w)
    )
    return DeviceSpec(device_type=options.device_type, positional_parameters=positional,
                      named_parameters=named, origin="command line")  # fmt: skip


def _node(options: argparse.Namespace) -> str | None:
    nodes = [word for word in options.words if "=" not in word]
    if len(nodes) > 1:
        raise UsageError(f"one node at a time, got {' '.join(nodes)}")
    return nodes[0] if nodes else None


async def _describe(options: argparse.Namespace, settings: DeviceSettings) -> FenceDevice:
    spec = DeviceSpec(device_type=options.device_type, origin="command line")
    return await make_device(spec, settings=settings, is_describe_only=True)


async def _act(options: argparse.Namespace, settings: DeviceSettings) -> int:
    """Everything that needs a configured device: -l, -S, -T NODE."""
    timeout_ms = max(1, round(options.timeout_s * 1000))
    names: Sequence[str] = ()
    if options.is_from_environment:
        names = (await _describe(options, settings)).parameter_names()
    device = await make_device(_spec(options, names), settings=settings)
    status = EXIT_SUCCESS
    if options.is_listing_hosts:
        for host in await device.list_hosts(timeout_ms=timeout_ms):
            typer.echo(host)
    if options.is_checking_status:
        result = await device.status(timeout_ms=timeout_ms)
        _say(options, f"{device.device_type} device {'OK' if result.is_success else 'FAILED'}: "
                      f"{result.detail}", is_error=not result.is_success)  # fmt: skip
        status = max(status, EXIT_SUCCESS if result.is_success else EXIT_FAILURE)
    node = _node(options)
    if node is not None:
        action = FenceAction(options.action or FenceAction.RESET.value)
        result = await device.fence(node, action, timeout_ms=timeout_ms)
        _say(options, result.summary(), is_error=not result.is_success)
        if result.output_excerpt and (options.is_verbose or not result.is_success):
            _say(options, result.output_excerpt, is_error=True)
        status = max(status, EXIT_SUCCESS if result.is_success else EXIT_FAILURE)
    return status


def _say(options: argparse.Namespace, message: str, *, is_error: bool = False) -> None:
    if not options.is_silent or is_error:
        typer.echo(message, err=is_error)


async def _run(options: argparse.Namespace) -> int:
    settings = _settings(options)
    if options.is_listing_types:
        for name in list_device_types(settings):
            typer.echo(name)
        return EXIT_SUCCESS
    if options.device_type is None:
        raise UsageError("a device type is needed: -t TYPE (see -L)")
    if options.is_listing_names or options.is_showing_metadata:
        device = await _describe(options, settings)
        if options.is_listing_names:
            typer.echo(" ".join(device.parameter_names()))
        if options.is_showing_metadata:
            typer.echo(device.metadata())
        return EXIT_SUCCESS
    if options.action is not None and _node(options) is None:
        raise UsageError(f"-T {options.action} needs a NODE")
    if not (options.is_listing_hosts or options.is_checking_status or _node(options)):
        raise UsageError("nothing to do: give -l, -S, -n, -m or a NODE to fence")
    return await _act(options, settings)


def run_stonith(words: Sequence[str]) -> int:
    """The `stonith` command proper; returns the exit status."""
    parser = _parser()
    handler = _EchoHandler()
    device_logger = logging.getLogger("hactl.stonith")
    level_before = device_logger.level
    try:
        options = parser.parse_intermixed_args(list(words))
        handler.setLevel(logging.DEBUG if options.is_verbose else
                         logging.CRITICAL if options.is_silent else logging.WARNING)  # fmt: skip
        device_logger.addHandler(handler)
        device_logger.setLevel(logging.DEBUG)
        device_logger.propagate = False  # the echo handler already prints it
        return trio.run(_run, options)
    except SystemExit as exit_request:  # argparse's -h
        return int(exit_request.code or 0)
    except UsageError as error:
        typer.echo(f"hactl stonith: {error}\n{parser.format_usage().strip()}", err=True)
        return EXIT_USAGE
    except (StonithConfigError, FenceDeviceError) as error:
        typer.echo(f"hactl stonith: {error}", err=True)
        return EXIT_FAILURE
    finally:
        device_logger.removeHandler(handler)
        device_logger.propagate = True
        device_logger.setLevel(level_before)


def run_confirm(words: Sequence[str]) -> int:
    """`hactl stonith confirm [-y] [--run-dir DIR] NODE`: meatclient -c NODE."""
    parser = _ArgumentParser(prog="hactl stonith confirm", description=(
        "Confirm that NODE was power-cycled by hand, releasing a pending meatware fence."))
    parser.add_argument("node")
    parser.add_argument("-y", "--yes", dest="is_confirmed", action="store_true",
                        help="do not ask (for scripts)")  # fmt: skip
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIRECTORY)
    try:
        options = parser.parse_args(list(words))
    except UsageError as error:
        typer.echo(f"hactl stonith confirm: {error}\n{parser.format_usage().strip()}", err=True)
        return EXIT_USAGE
    typer.echo("\nWARNING!\n\n" + MEATWARE_WARNING.format(node=options.node) + "\n")
    if not options.is_confirmed and not typer.confirm("PROCEED?", default=False):
        typer.echo("hactl stonith confirm: operation canceled.")
        return EXIT_FAILURE
    try:
        confirm(options.node, options.run_dir)
    except MeatwareConfirmError as error:
        typer.echo(f"hactl stonith confirm: {error}", err=True)
        return EXIT_FAILURE
    typer.echo(f"hactl stonith confirm: reset of {options.node} confirmed.")
    return EXIT_SUCCESS


def register(app: typer.Typer) -> None:
    @app.command(
        "stonith",
        context_settings={
            "allow_extra_args": True,
            "ignore_unknown_options": True,
            "help_option_names": [],
        },
        add_help_option=False,
        help="Fence nodes and inspect fencing devices (cluster-glue stonith flags; "
        "`hactl stonith -h` for them), or `hactl stonith confirm NODE` for meatware.",
    )
    def stonith_command(ctx: typer.Context) -> None:
        words = list(ctx.args)
        if words[:1] == ["confirm"]:
            raise typer.Exit(run_confirm(words[1:]))
        raise typer.Exit(run_stonith(words))
