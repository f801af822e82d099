"""Review-store schema: DDL as numbered migration steps, tracked by ``PRAGMA user_version``.

Step N takes a database at version N-1 to version N. Steps are append-only: once released, a step is never edited
(databases in the field already ran it); change the schema by appending a new step. :func:`migrate` runs the
missing steps and bumps ``user_version`` in one transaction, so a crash mid-migration leaves the old version.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence

from grace_core.errors import StoreError

_V1 = (
    """CREATE TABLE frames (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        captured_at REAL NOT NULL,
        source_id TEXT NOT NULL,
        source_kind TEXT NOT NULL DEFAULT '',
        frame_index INTEGER NOT NULL,
        image_path TEXT NOT NULL,
        heatmap_path TEXT,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('defect', 'uncertain')),
        model_id TEXT NOT NULL,
        model_hash TEXT NOT NULL DEFAULT '',
        thresholds_json TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        reviewed INTEGER NOT NULL DEFAULT 0 CHECK (reviewed IN (0, 1)),
        verdict TEXT CHECK (verdict IN ('defect', 'false_alarm', 'unsure')),
        comment TEXT,
        created_at REAL NOT NULL
    )""",
    """CREATE TABLE detections (
        id INTEGER PRIMARY KEY,
        frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
        class_id INTEGER NOT NULL,
        class_name TEXT NOT NULL,
        confidence REAL NOT NULL,
        x1 REAL NOT NULL,
        y1 REAL NOT NULL,
        x2 REAL NOT NULL,
        y2 REAL NOT NULL,
        origin TEXT NOT NULL DEFAULT 'model' CHECK (origin IN ('model', 'reviewer')),
        deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
    )""",
    # No foreign key on frame_id: the audit trail must outlive the frames it mentions.
    """CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        frame_id INTEGER,
        details_json TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE INDEX idx_frames_captured_at ON frames(captured_at)",
    "CREATE INDEX idx_detections_frame_id ON detections(frame_id)",
)

# v2: indexes for the review tab's filters, and when a verdict was last set.
_V2 = (
    "CREATE INDEX idx_frames_reviewed_captured_at ON frames(reviewed, captured_at)",
    "CREATE INDEX idx_detections_class_name ON detections(class_name)",
    "CREATE INDEX idx_audit_frame_id ON audit(frame_id)",
    "ALTER TABLE frames ADD COLUMN reviewed_at REAL",
    "UPDATE frames SET reviewed_at = created_at WHERE reviewed = 1",
)


def _run(statements: Sequence[str]) -> Callable[[sqlite3.Connection], None]:
    def step(conn: sqlite3.Connection) -> None:
        for statement in statements:  # not executescript(): it would COMMIT our transaction
            conn.execute(statement)

    return step


def _v1(conn: sqlite3.Connection) -> None:
    _run(_V1)(conn)
    conn.execute("INSERT INTO meta (key, value) VALUES ('created_at', ?)", (repr(time.time()),))


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _run(_V2))
LATEST_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def too_new_message(found: int, where: str) -> str:
    return (
        f"{where} was written by a newer version of GRACE Inspect (review store schema v{found}; this version "
        f"reads up to v{LATEST_VERSION}). Update GRACE Inspect, or choose another review folder."
    )


def migrate(conn: sqlite3.Connection, target: int = LATEST_VERSION, where: str = "the review database") -> int:
    """Bring ``conn``'s database to ``target`` (default: latest) in one transaction; returns the version before.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Raises StoreError for a database newer than
    this code. ``BEGIN IMMEDIATE`` serialises concurrent openers: the second one sees the migrated version.
    """
    if not 0 <= target <= LATEST_VERSION:
        raise ValueError(f"target version must be in [0, {LATEST_VERSION}], got {target}")
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = user_version(conn)
        if found > LATEST_VERSION:
            raise StoreError(too_new_message(found, where))
        for step in MIGRATIONS[found:target]:
            step(conn)
        if target > found:
            conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found
