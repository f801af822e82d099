"""Keeping the store's disk use in bounds: quota eviction and crash-orphan cleanup.

Deletion runs in the opposite order to writing: rows first (committed), files after. A crash in between leaves
orphan files, which :func:`cleanup_orphans` removes, and never a row whose file is gone. A file is deleted only
inside the store's ``frames`` folder, whatever path a row holds (see :func:`files.confined`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from grace_core.errors import StoreError
from grace_core.store import audit, files
from grace_core.store.records import QuotaReport

if TYPE_CHECKING:
    from grace_core.store.database import Database

log = logging.getLogger(__name__)

_BATCH = 200  # frames evicted per transaction: short write locks, so the live writer is never held up for long


def usage_bytes(database: Database) -> int:
    return int(database.execute("SELECT COALESCE(SUM(bytes), 0) FROM frames").fetchone()[0])


def enforce_quota(
    database: Database, quota_bytes: int, after_delete: Callable[[list[str]], None], station: str = ""
) -> QuotaReport:
    """Delete the oldest unreviewed frames until usage ≤ quota; one audit row per batch. See QuotaReport.

    ``after_delete(paths)`` removes the evicted frames' files once their rows are committed (a local store); the
    central store's images go with their rows.
    """
    removed: list[int] = []
    freed = 0
    usage = usage_bytes(database)
    while usage > quota_bytes:
        batch, batch_bytes, paths = _evict_batch(database, usage - quota_bytes, station)
        if not batch:
            break
        after_delete(paths)  # after the commit: a crash here leaves orphans, not rows without files
        removed += batch
        freed += batch_bytes
        usage = usage_bytes(database)
    over = usage > quota_bytes
    message = ""
    if over:
        reviewed = int(database.execute("SELECT COUNT(*) FROM frames WHERE reviewed = 1").fetchone()[0])
        message = (
            f"The review store uses {_size(usage)}, over its {_size(quota_bytes)} quota, and the {reviewed} frames "
            "left are all reviewed; reviewed frames are never deleted automatically. Export or delete some, or "
            "raise the quota."
        )
    elif removed:
        message = f"Removed the {len(removed)} oldest unreviewed frames ({_size(freed)}) to stay within the quota."
    return QuotaReport(tuple(removed), freed, usage, quota_bytes, over, message)


def remove_stored(root: Path, rel: str) -> None:
    """Delete one stored file; a path that leads outside ``root/frames`` is refused with a warning."""
    try:
        path = files.confined(root, rel)
    except StoreError as exc:
        log.warning("not deleting %r while evicting: %s", rel, exc)
        return
    files.remove_quietly(path)


def _evict_batch(database: Database, excess: int, station: str) -> tuple[list[int], int, list[str]]:
    """Delete up to one batch of the oldest unreviewed frames covering ``excess`` bytes; returns ids, bytes, files.

    Selected and deleted in the same write transaction, so a frame reviewed meanwhile by another connection is
    never picked (PostgreSQL: the rows are locked as they are read, and one reviewed meanwhile no longer matches).
    """
    ids: list[int] = []
    paths: list[str] = []
    total = 0
    with database.write():
        rows = database.execute(
            "SELECT id, image_path, heatmap_path, bytes FROM frames WHERE reviewed = 0 "
            f"ORDER BY captured_at, id LIMIT ?{database.for_update}",
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
            database.execute(f"DELETE FROM frames WHERE id IN ({marks})", ids)  # boxes go by ON DELETE CASCADE
            details = {"reason": "quota", "frame_ids": ids, "bytes": total}
            audit.append(database, time.time(), "system", "evicted", None, details, station=station)
    return ids, total, paths


def cleanup_orphans(database: Database, root: Path, min_age_s: float) -> list[str]:
    """Remove files under ``root/frames`` that no row references and are older than ``min_age_s``.

    Empty day folders are removed too. Returns the removed files' paths relative to ``root`` (POSIX).
    """
    referenced: set[str] = set()
    for image_path, heatmap_path in database.execute("SELECT image_path, heatmap_path FROM frames"):
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
