"""Keep ultralytics offline.

ultralytics reaches out in three places that matter here: a connectivity probe at import (``YOLO_OFFLINE``), pip
auto-install of missing extras (``YOLO_AUTOINSTALL``) — both switched off in ``grace_core/__init__`` — and
``check_font``, which every dataset check and plot calls and which issues an HTTP request for ``Arial.ttf`` unless the
font is already in ultralytics' config directory. We give ultralytics its own config directory inside ours and put a
font there: matplotlib's DejaVu Sans (a dependency of ultralytics, freely licensed), under the names it asks for.

Call :func:`prepare` before the first ``import ultralytics``; :mod:`grace_core.nn` does.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from grace_core.paths import user_config_dir

_FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")


def _dejavu_sans() -> Path | None:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    font = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
    return font if font.is_file() else None


def ultralytics_config_dir() -> Path:
    """ultralytics' settings/font directory: ``YOLO_CONFIG_DIR/Ultralytics`` as ultralytics composes it."""
    return Path(os.environ["YOLO_CONFIG_DIR"]) / "Ultralytics"


def prepare() -> None:
    """Point ultralytics at our config dir and provide the fonts it would otherwise download. Idempotent."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(user_config_dir() / "ultralytics"))
    target_dir = ultralytics_config_dir()
    if all((target_dir / name).is_file() for name in _FONT_NAMES):
        return
    source = _dejavu_sans()
    if source is None:
        return  # ultralytics falls back to PIL's default font when the download fails
    target_dir.mkdir(parents=True, exist_ok=True)
    for name in _FONT_NAMES:
        target = target_dir / name
        if not target.is_file():
            tmp = target.with_suffix(".partial")
            shutil.copyfile(source, tmp)
            tmp.replace(target)
