"""Review stores as a failing disk or a hostile edit leaves them: damaged pages, tampered rows, folder snapshots."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from helpers.flagged_frames import T0, make_store

PAGE_SIZE = 4096  # SQLite's default page size, which the review store keeps


def fill_store(root: Path, n_frames: int) -> list[int]:
    """A real store at ``root`` holding ``n_frames`` flagged frames with two boxes each (files and rows)."""
    frames = [
        {"boxes": [(i % 4, 0.9, (1, 2, 30, 40)), ((i + 1) % 4, 0.7, (3, 4, 50, 60))], "t": T0 + i, "seed": i % 5}
        for i in range(n_frames)
    ]
    return make_store(root, frames)


def damage_middle_pages(db: Path, seed: int = 0) -> None:
    """Overwrite the middle half of a closed database with random bytes.

    Page 1 (the 100-byte header and the schema) stays intact, so SQLite opens the file and reads its version; only
    the pages behind it are garbage, as after a failing disk or a torn copy.
    """
    assert not db.with_name(db.name + "-wal").exists(), "close the store first: its last commits are still in the WAL"
    data = bytearray(db.read_bytes())
    start = max(len(data) // 4 // PAGE_SIZE, 1) * PAGE_SIZE
    end = 3 * len(data) // 4
    assert start >= PAGE_SIZE and end - start >= 4 * PAGE_SIZE, f"{db} is too small to damage realistically"
    rng = random.Random(seed)
    data[start:end] = rng.randbytes(end - start)
    db.write_bytes(bytes(data))


def tamper(db: Path, frame_id: int, **columns: object) -> None:
    """Set ``columns`` of one ``frames`` row behind the store's back (as a hostile edit of the file would)."""
    assignments = ", ".join(f"{name} = ?" for name in columns)
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE frames SET {assignments} WHERE id = ?", [*columns.values(), frame_id])
    conn.close()


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative POSIX path → content): equal snapshots mean nothing was touched."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
