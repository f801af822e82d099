"""Rules of the codebase that a refactor could silently break."""

import ast
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.no_network import NetworkBlocked

CORE = Path(__file__).resolve().parents[2] / "grace_core"
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "PySide2", "qtpy", "pyqtgraph", "superqt")


def test_core_source_never_imports_qt():
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in QT_MODULES]
    assert offenders == []


def test_importing_every_core_module_loads_no_qt():
    script = f"""
import importlib, json, pkgutil, sys
import grace_core
for info in pkgutil.walk_packages(grace_core.__path__, "grace_core."):
    importlib.import_module(info.name)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {QT_MODULES!r})))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_the_network_guard_is_active_here_and_in_subprocesses():
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("198.51.100.7", 80), timeout=1)
    done = subprocess.run(
        [sys.executable, "-c", "import socket; socket.getaddrinfo('github.com', 443)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "NetworkBlocked" in done.stderr


def test_ultralytics_finds_its_fonts_locally():
    from ultralytics.utils.checks import check_font

    import grace_core  # noqa: F401  (prepares ultralytics' config dir)
    from grace_core.offline import ultralytics_config_dir

    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        found = check_font(name)  # would be an HTTP request without the local copy; the guard would raise
        assert Path(found).parent == ultralytics_config_dir()
