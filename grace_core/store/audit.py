"""The audit trail: append-only rows for every change a person or the app makes to reviewed data."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grace_core.store.database import Database


def append(
    database: Database,
    at: float,
    actor: str,
    action: str,
    frame_id: int | None,
    details: dict[str, Any],
    station: str = "",
    uid: str | None = None,
) -> int:
    """Insert one audit row inside the caller's transaction (so the change and its record commit together).

    ``uid`` keys the row across stores (a copy into the central store never adds it twice); a new row gets a fresh
    one.
    """
    row_id = database.insert(
        "INSERT INTO audit (at, actor, action, frame_id, details_json, station, uid) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (at, actor, action, frame_id, json.dumps(details, sort_keys=True, default=str), station, uid or new_uid()),
    )
    return int(row_id or 0)


def new_uid() -> str:
    return uuid.uuid4().hex
