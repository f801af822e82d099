"""Keeping the store's disk use in bounds: quota eviction and crash-orphan cleanup.

Deletion runs in the opposite order to writing: rows first (committed), files after. A crash in between leaves
orphan files, which :func:`cleanup_orphans` removes, and never a row whose file is gone. A file is deleted only
inside the store's ``frames`` folder, whatever path a row holds (see :func:`files.confined`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from pathlib import Path

from grace_core.errors import StoreError
from grace_core.store import audit, db, files
from grace_core.store.records import QuotaReport

log = logging.getLogger(__name__)

_BATCH = 200  # frames evicted per transaction: short write locks, so the live writer is never held up for long


def usage_bytes(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(SUM(bytes), 0) FROM frames").fetchone()[0])


def enforce_quota(conn: sqlite3.Connection, root: Path, quota_bytes: int) -> QuotaReport:
    """Delete the oldest unreviewed frames until usage ≤ quota; one audit row per batch. See QuotaReport."""
    removed: list[int] = []
    freed = 0
    usage = usage_bytes(conn)
    while usage > quota_bytes:
        batch, batch_bytes, paths = _evict_batch(conn, usage - quota_bytes)
        if not batch:
            break
        for rel in paths:  # after the commit: a crash here leaves orphans, not rows without files
            _remove_stored(root, rel)
        removed += batch
        freed += batch_bytes
        usage = usage_bytes(conn)
    over = usage > quota_bytes
    message = ""
    if over:
        reviewed = int(conn.execute("SELECT COUNT(*) FROM frames WHERE reviewed = 1").fetchone()[0])
        message = (
            f"The review store uses {_size(usage)}, over its {_size(quota_bytes)} quota, and the {reviewed} frames "
            "left are all reviewed; reviewed frames are never deleted automatically. Export or delete some, or "
            "raise the quota."
        )
    elif removed:
        message = f"Removed the {len(removed)} oldest unreviewed frames ({_size(freed)}) to stay within the quota."
    return QuotaReport(tuple(removed), freed, usage, quota_bytes, over, message)


def _remove_stored(root: Path, rel: str) -> None:
    """Delete one stored file; a path that leads outside ``root/frames`` is refused with a warning."""
    try:
        path = files.confined(root, rel)
    except StoreError as exc:
        log.warning("not deleting %r while evicting: %s", rel, exc)
        return
    files.remove_quietly(path)


def _evict_batch(conn: sqlite3.Connection, excess: int) -> tuple[list[int], int, list[str]]:
    """Delete up to one batch of the oldest unreviewed frames covering ``excess`` bytes; returns ids, bytes, files.

    Selected and deleted in the same write transaction, so a frame reviewed meanwhile by another connection is
    never picked.
    """
    ids: list[int] = []
    paths: list[str] = []
    total = 0
    with db.write(conn):
        rows = conn.execute(
            "SELECT id, image_path, heatmap_path, bytes FROM frames WHERE reviewed = 0 "
            "ORDER BY captured_at, id LIMIT ?",
            (_BATCH,),
        ).fetchall()
        for row in rows:
            if total >= excess:
                break
            ids.append(int(row["id"]))
            paths += [p for p in (row["image_path"], row["heatmap_path"]) if p]
            total += int(row["bytes"])
        if ids:
            marks = ", ".join("?" for _ in ids)
            conn.execute(f"DELETE FROM frames WHERE id IN ({marks})", ids)  # boxes go by ON DELETE CASCADE
            details = {"reason": "quota", "frame_ids": ids, "bytes": total}
            audit.append(conn, time.time(), "system", "evicted", None, details)
    return ids, total, paths


def cleanup_orphans(conn: sqlite3.Connection, root: Path, min_age_s: float) -> list[str]:
    """Remove files under ``root/frames`` that no row references and are older than ``min_age_s``.

    Empty day folders are removed too. Returns the removed files' paths relative to ``root`` (POSIX).
    """
    referenced: set[str] = set()
    for image_path, heatmap_path in conn.execute("SELECT image_path, heatmap_path FROM frames"):
        referenced.add(image_path)
        if heatmap_path:
            referenced.add(heatmap_path)
    frames_dir = root / files.FRAMES_DIR
    cutoff = time.time() - min_age_s
    removed: list[str] = []
    for folder, _, names in os.walk(frames_dir, topdown=False):
        for name in names:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if rel in referenced:
                continue
            try:
                if path.stat().st_mtime > cutoff:
                    continue
                path.unlink()
            except OSError:
                continue  # gone already, or not ours to remove; the next cleanup tries again
            removed.append(rel)
        if Path(folder) != frames_dir:
            with contextlib.suppress(OSError):  # not empty: fine. A writer re-creates its folder if needed.
                Path(folder).rmdir()
    return removed


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    value, unit = n / 1024, "KB"
    for bigger in ("MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"
