"""``KEY=VALUE`` options of the command line (``--set``, ``--dscbsm-set``) → a dict of typed values."""

from __future__ import annotations

from grace_core.errors import GraceError


def parse_settings(items: list[str], option: str) -> dict:
    """``KEY=VALUE`` strings → a dict; values are read as YAML scalars (``0.5`` → float, ``SGD`` → str)."""
    import yaml

    settings = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise GraceError(f"{option} expects KEY=VALUE, got {item!r}")
        parsed = yaml.safe_load(value) if value.strip() else ""
        if isinstance(parsed, (dict, list)):
            raise GraceError(f"{option} {key}: give a single value, got {value!r}")
        settings[key.strip()] = parsed
    return settings
