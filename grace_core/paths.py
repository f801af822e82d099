"""Where things live: bundled resources (checkout or frozen bundle) and per-user directories."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "grace-inspect"
_PACKAGE_ROOT = Path(__file__).resolve().parent


def _bundle_root() -> Path:
    """The folder that holds ``resources/``: the repo root in a checkout, PyInstaller's ``_MEIPASS`` when frozen."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    return Path(frozen_root) if frozen_root else _PACKAGE_ROOT.parent


def resource_path(*parts: str) -> Path:
    """Path of a bundled resource, e.g. ``resource_path("models", "grace-s.pt")``; works in a frozen bundle too."""
    return _bundle_root().joinpath("resources", *parts)


def package_file(*parts: str) -> Path:
    """Path of a data file shipped inside the ``grace_core`` package (model YAMLs)."""
    return _PACKAGE_ROOT.joinpath(*parts)


def _user_dir(kind: str, override_env: str) -> Path:
    override = os.environ.get(override_env)
    base = Path(override) if override else Path(getattr(platformdirs, f"user_{kind}_dir")(APP_NAME, appauthor=False))
    base.mkdir(parents=True, exist_ok=True)
    return base


def user_config_dir() -> Path:
    """Per-user settings (``GRACE_CONFIG_DIR`` overrides)."""
    return _user_dir("config", "GRACE_CONFIG_DIR")


def user_data_dir() -> Path:
    """Per-user data: review store, runs (``GRACE_DATA_DIR`` overrides)."""
    return _user_dir("data", "GRACE_DATA_DIR")


def user_cache_dir() -> Path:
    """Per-user cache (``GRACE_CACHE_DIR`` overrides)."""
    return _user_dir("cache", "GRACE_CACHE_DIR")


def free_path(parent: Path, name: str) -> Path:
    """``parent/name``, or ``parent/name-2``, ``-3`` … if taken (for new run, dataset and export folders)."""
    candidate, number = Path(parent) / name, 2
    while candidate.exists():
        candidate, number = Path(parent) / f"{name}-{number}", number + 1
    return candidate
