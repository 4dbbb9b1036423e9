"""The test service is built from C where a compiler is, and is web_service.py elsewhere."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hactl.testbed import web_service_build
from hactl.testbed.web_service_build import (
    PYTHON_SOURCE,
    WebServiceBuildError,
    compiled_web_service,
    web_service_command,
)

needs_compiler = pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                                    reason="no C compiler")  # fmt: skip


@needs_compiler
def test_the_built_server_is_used_and_built_once() -> None:
    binary = compiled_web_service()
    assert binary is not None and binary.is_file()
    built_ns = binary.stat().st_mtime_ns
    assert web_service_command() == str(binary)
    assert compiled_web_service() == binary
    assert binary.stat().st_mtime_ns == built_ns


def test_without_a_compiler_the_python_server_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", _no_program)
    assert compiled_web_service() is None
    assert web_service_command().endswith(f"-S -I {PYTHON_SOURCE}")


@needs_compiler
def test_a_source_that_does_not_compile_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "web_service.c"
    broken.write_text("int main(void) { return undeclared; }\n")
    monkeypatch.setattr(web_service_build, "C_SOURCE", broken)
    with pytest.raises(WebServiceBuildError, match="undeclared"):
        compiled_web_service()


def _no_program(_name: str) -> None:
    return None


@needs_compiler
def test_the_server_is_built_in_a_directory_only_this_user_can_write() -> None:
    binary = compiled_web_service()
    assert binary is not None
    status = binary.parent.lstat()
    assert status.st_uid == os.getuid() and status.st_mode & 0o077 == 0


@pytest.mark.parametrize("how", ["open to others", "a symlink to ours"])
def test_a_build_directory_that_is_not_private_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, how: str
) -> None:
    """Someone else could have made the directory first in /tmp: nothing built there runs."""
    monkeypatch.setattr(web_service_build.tempfile, "gettempdir", lambda: str(tmp_path))
    directory = tmp_path / f"hactl-web-service-{os.getuid()}"
    if how == "open to others":
        directory.mkdir(mode=0o700)
        directory.chmod(0o755)
    else:
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        directory.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(WebServiceBuildError, match="not a private directory"):
        web_service_build._private_build_dir()
