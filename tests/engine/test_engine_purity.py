"""The pure core imports no I/O: engine.config takes text, engine.core takes events.

Every module of both packages is parsed (not imported: importing would run the module and
could hide a lazy import inside a function) and each `import`/`from ... import`/`__import__`
anywhere in it is checked. A failure names the module, the line and the import. engine.sim
is exempt: it writes real journals. The shell packages (hactl, journal) and engine.sim are
forbidden too, because importing them would bring their I/O along.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import engine

ENGINE_DIR = Path(engine.__file__).parent
PURE_PACKAGES = ("config", "core")

# Modules that read clocks, sockets, files, randomness or processes, or load code by name.
FORBIDDEN_ROOTS = frozenset(
    {
        "os",
        "time",
        "socket",
        "random",
        "trio",
        "pyroute2",
        "subprocess",
        "pathlib",
        "shutil",
        "io",
        "tempfile",
        "glob",
        "asyncio",
        "threading",
        "multiprocessing",
        "select",
        "selectors",
        "signal",
        "fcntl",
        "secrets",
        "uuid",
        "importlib",
        "ssl",
        "urllib",
        "http",
        "ctypes",
        "hactl",
        "journal",
    }
)
FORBIDDEN_MODULES = frozenset({"engine.sim"})


def _is_forbidden(module_name: str) -> bool:
    root = module_name.split(".")[0]
    return root in FORBIDDEN_ROOTS or any(
        module_name == name or module_name.startswith(f"{name}.") for name in FORBIDDEN_MODULES
    )


def forbidden_imports(source: str) -> list[tuple[int, str]]:
    """(line, imported module) for every I/O import in `source`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "__import__"
        ):
            names = ["__import__ (dynamic import)"]
        found.extend((line, name) for name in names if _is_dynamic_or_forbidden(name))
    return sorted(set(found))


def _is_dynamic_or_forbidden(name: str) -> bool:
    return name.startswith("__import__") or _is_forbidden(name)


def _pure_modules() -> list[Path]:
    modules = [
        path for package in PURE_PACKAGES for path in sorted((ENGINE_DIR / package).rglob("*.py"))
    ]
    assert modules, f"no modules found under {ENGINE_DIR}"
    return modules


@pytest.mark.parametrize(
    "module_path", _pure_modules(), ids=lambda path: str(path.relative_to(ENGINE_DIR.parent))
)
def test_pure_module_imports_no_io(module_path: Path) -> None:
    violations = forbidden_imports(module_path.read_text())
    module = ".".join(module_path.relative_to(ENGINE_DIR.parent).with_suffix("").parts)
    assert not violations, "\n".join(
        f"{module} (line {line}) imports {name}: the pure core must not do I/O"
        for line, name in violations
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import os\n", [(1, "os")]),
        ("import os.path as p\n", [(1, "os.path")]),
        ("from time import monotonic\n", [(1, "time"), (1, "time.monotonic")]),
        ("def f():\n    import socket\n", [(2, "socket")]),
        ("import trio\n", [(1, "trio")]),
        ("from pyroute2 import IPRoute\n", [(1, "pyroute2"), (1, "pyroute2.IPRoute")]),
        ("import random, subprocess\n", [(1, "random"), (1, "subprocess")]),
        ("from engine.sim import world\n", [(1, "engine.sim"), (1, "engine.sim.world")]),
        ("x = __import__('os')\n", [(1, "__import__ (dynamic import)")]),
        ("import ipaddress\nimport difflib\nfrom . import model\n", []),
        ("from engine.config.model import ClusterConfig\nimport timeit_like\n", []),
    ],
)
def test_checker_finds_io_imports(source: str, expected: list[tuple[int, str]]) -> None:
    assert forbidden_imports(source) == expected
