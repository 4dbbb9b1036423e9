"""How the test clusters' httpd script starts its web server: compiled where it can be.

The service's start-up lies inside every failover the tests and `bench/failover.py`
measure, between the cluster IP coming up and the client's first answer. Python's
interpreter alone takes ~14 ms to start on the test VM (web_service.py, with `-S -I`);
the same server in C (web_service.c) listens ~1 ms after its start. So the C one is built
once per source version with the machine's C compiler, into a directory of this user's
in the temporary directory, and used when it builds. Without a compiler (or without the
C source, as in an installed copy) the resource script runs web_service.py: slower to
start, the same behaviour.
A source that does not compile is an error, not a silent fallback: the figures would
change without anyone noticing.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

TESTBED_DIR = Path(__file__).resolve().parent
C_SOURCE = TESTBED_DIR / "web_service.c"
PYTHON_SOURCE = TESTBED_DIR / "web_service.py"
COMPILE_TIMEOUT_S = 60


class WebServiceBuildError(RuntimeError):
    """web_service.c is there, and so is a compiler, but it did not build."""


def web_service_command() -> str:
    """The shell words that start the server; PORT PIDFILE PAGE follow them."""
    binary = compiled_web_service()
    if binary is not None:
        return shlex.quote(str(binary))
    return f"{shlex.quote(sys.executable)} -S -I {shlex.quote(str(PYTHON_SOURCE))}"


def compiled_web_service() -> Path | None:
    """The built server (building it first if needed), or None without compiler or source."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or not C_SOURCE.is_file():
        return None
    source = C_SOURCE.read_bytes()
    version = hashlib.sha256(source).hexdigest()[:16]
    binary = _private_build_dir() / f"web-service-{version}"
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    # Built under a name of its own, then renamed: labs starting in parallel never run a
    # half-written file.
    partial = binary.with_name(f"{binary.name}.{os.getpid()}.partial")
    result = subprocess.run(
        [compiler, "-O2", "-Wall", "-Werror", "-o", str(partial), str(C_SOURCE)],
        capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S,
    )  # fmt: skip
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise WebServiceBuildError(f"{compiler} {C_SOURCE}: {result.stderr.strip()}")
    os.replace(partial, binary)
    return binary


def _private_build_dir() -> Path:
    """A directory in the temporary directory that only this user can write.

    Tests run the built server as root: a path anyone could have made first in /tmp
    would let another user choose what runs. So the directory must be ours and closed.
    """
    directory = Path(tempfile.gettempdir()) / f"hactl-web-service-{os.getuid()}"
    directory.mkdir(mode=0o700, exist_ok=True)
    status = directory.lstat()  # a symlink is not followed: it fails the S_ISDIR check
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid() \
            or status.st_mode & 0o077:  # fmt: skip
        raise WebServiceBuildError(f"{directory} is not a private directory of this user")
    return directory
