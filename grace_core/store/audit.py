"""The audit trail: append-only rows for every change a person or the app makes to reviewed data."""

from __future__ import annotations

import json
import sqlite3
from typing import Any


def append(
    conn: sqlite3.Connection, at: float, actor: str, action: str, frame_id: int | None, details: dict[str, Any]
) -> int:
    """Insert one audit row inside the caller's transaction (so the change and its record commit together)."""
    cursor = conn.execute(
        "INSERT INTO audit (at, actor, action, frame_id, details_json) VALUES (?, ?, ?, ?, ?)",
        (at, actor, action, frame_id, json.dumps(details, sort_keys=True, default=str)),
    )
    return int(cursor.lastrowid or 0)
