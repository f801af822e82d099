"""Does this Linux desktop have the system libraries Qt's window plugin (xcb) needs? Imports no Qt (a missing
library would make that import fail before anything could explain it).

``python -m app.system_libs`` prints the exact install command when something is missing and exits 1; the launcher
(``scripts/run-app.sh``) runs it before starting the app on a screen. The wheel of PySide6 brings Qt itself, but not
these X11 libraries of the operating system: a fresh Debian/Ubuntu desktop often lacks a few of them, and Qt then
stops with "xcb-cursor0 or libxcb-cursor0 is needed to load the Qt xcb platform plugin".
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

DLOPENED = ("libxcb-cursor.so.0",)  # loaded by Qt at run time, so ldd does not list it


def xcb_plugin() -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def missing_libraries(plugin: Path) -> list[str]:
    """Shared libraries the xcb plugin needs and the system lacks (sonames, e.g. ``libxcb-icccm.so.4``)."""
    missing = []
    if shutil.which("ldd"):
        listing = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, check=False).stdout
        missing = re.findall(r"^\s*(\S+) => not found", listing, flags=re.MULTILINE)
    for soname in DLOPENED:
        name = soname.split(".so")[0].removeprefix("lib")
        if ctypes.util.find_library(name) is None:
            missing.append(soname)
    return sorted(set(missing))


def debian_package(soname: str) -> str:
    """Debian's package for a soname: ``libxcb-icccm.so.4`` → ``libxcb-icccm4``, ``libxkbcommon-x11.so.0`` →
    ``libxkbcommon-x11-0`` (a dash before the version when the name ends in a digit), ``libEGL.so.1`` → ``libegl1``."""
    base, _, version = soname.partition(".so.")
    version = version.split(".")[0]
    return (f"{base}-{version}" if base[-1].isdigit() else f"{base}{version}").lower()


def main() -> int:
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM", "xcb") != "xcb":
        return 0  # other systems ship what Qt needs; offscreen/wayland do not use the xcb plugin
    plugin = xcb_plugin()
    if plugin is None:
        return 0  # PySide6 is not installed yet: setup-venv.sh will say so
    missing = missing_libraries(plugin)
    if not missing:
        return 0
    packages = " ".join(dict.fromkeys(debian_package(s) for s in missing))
    print(
        f"GRACE Inspect's window needs system libraries this computer lacks: {', '.join(missing)}.\n"
        f"On Debian or Ubuntu install them with:\n\n    sudo apt install {packages}\n\n"
        "(other distributions: the packages that provide these files), then start it again.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
