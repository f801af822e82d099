"""Where a store keeps its frames' pictures: files beside a local store, rows in the central one.

Both keep the rule *never a row without its image*:

- :class:`FileImages` (a local SQLite store): the files are written (temp name, fsync, rename) **before** the row's
  transaction, and deleted only **after** the row's; a crash leaves at worst an orphan file (see
  ``docs/review-store.md``, *Write order*).
- :class:`BlobImages` (the central PostgreSQL store): the JPEG and PNG go into the ``images`` table **in the same
  transaction** as the frame's row, so both commit or neither does, and every reviewer's desk reaches them through
  the database alone. Deleting a frame deletes them (``ON DELETE CASCADE``).

Readers get the bytes (:meth:`read`) or, for code that copies files (the dataset export), a local file
(:meth:`local_file`): a local store's own file, or a copy the central store writes into its private cache folder.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Protocol

from grace_core.errors import StoreError
from grace_core.store import files, maintenance
from grace_core.store.database import Database
from grace_core.store.records import FrameRecord


class ImageStore(Protocol):
    in_database: bool

    def before_insert(self, payloads: dict[str, bytes]) -> list[Path]: ...

    def insert(self, database: Database, frame_id: int, image: bytes, heatmap: bytes | None) -> None: ...

    def discard(self, written: list[Path]) -> None: ...

    def read(self, database: Database, record: FrameRecord, heatmap: bool = False) -> bytes | None: ...

    def local_file(self, database: Database, record: FrameRecord, heatmap: bool = False) -> Path | None: ...

    def after_delete(self, paths: list[str]) -> None: ...

    def cleanup_orphans(self, database: Database, min_age_s: float) -> list[str]: ...

    def close(self) -> None: ...


class FileImages:
    """Image files under ``root/frames`` (see :mod:`grace_core.store.files`)."""

    in_database = False

    def __init__(self, root: Path) -> None:
        self.root = root

    def before_insert(self, payloads: dict[str, bytes]) -> list[Path]:
        return files.write_all(self.root, payloads)

    def insert(self, database: Database, frame_id: int, image: bytes, heatmap: bytes | None) -> None:
        return None  # already on disk

    def discard(self, written: list[Path]) -> None:
        for path in written:  # the row was rolled back: the files would only be orphans
            files.remove_quietly(path)

    def path(self, record: FrameRecord, heatmap: bool = False) -> Path | None:
        rel = record.heatmap_path if heatmap else record.image_path
        return files.confined(self.root, rel) if rel else None

    def read(self, database: Database, record: FrameRecord, heatmap: bool = False) -> bytes | None:
        path = self.path(record, heatmap)
        return path.read_bytes() if path is not None else None

    def local_file(self, database: Database, record: FrameRecord, heatmap: bool = False) -> Path | None:
        return self.path(record, heatmap)

    def after_delete(self, paths: list[str]) -> None:
        for rel in paths:
            maintenance.remove_stored(self.root, rel)

    def cleanup_orphans(self, database: Database, min_age_s: float) -> list[str]:
        return maintenance.cleanup_orphans(database, self.root, min_age_s)

    def close(self) -> None:
        return None


class BlobImages:
    """Images in the ``images`` table (PostgreSQL ``bytea``), written in the frame's own transaction."""

    in_database = True

    def __init__(self) -> None:
        self._cache: Path | None = None

    def before_insert(self, payloads: dict[str, bytes]) -> list[Path]:
        return []

    def insert(self, database: Database, frame_id: int, image: bytes, heatmap: bytes | None) -> None:
        database.execute(
            "INSERT INTO images (frame_id, image, heatmap) VALUES (?, ?, ?)", (frame_id, image, heatmap), binary=True
        )

    def discard(self, written: list[Path]) -> None:
        return None

    def read(self, database: Database, record: FrameRecord, heatmap: bool = False) -> bytes | None:
        column = "heatmap" if heatmap else "image"
        row = database.execute(f"SELECT {column} FROM images WHERE frame_id = ?", (record.id,), binary=True).fetchone()
        if row is None:
            if heatmap:
                return None
            raise StoreError(f"frame {record.id} ({record.uid}) has no image in {database.location}")
        return bytes(row[0]) if row[0] is not None else None

    def local_file(self, database: Database, record: FrameRecord, heatmap: bool = False) -> Path | None:
        """The image copied into this store's private cache folder (removed on close), named as a local store
        would name it (``<uid>.jpg``, ``<uid>_heat.png``)."""
        data = self.read(database, record, heatmap)
        if data is None:
            return None
        if self._cache is None:
            self._cache = Path(tempfile.mkdtemp(prefix="grace-central-images-"))
        path = self._cache / f"{record.uid}{'_heat.png' if heatmap else '.jpg'}"
        if not path.is_file():
            files.write_atomic(path, data, durable=False)
        return path

    def after_delete(self, paths: list[str]) -> None:
        return None  # gone with their rows

    def cleanup_orphans(self, database: Database, min_age_s: float) -> list[str]:
        return []  # a row and its images commit together: there are no orphans

    def close(self) -> None:
        if self._cache is not None:
            shutil.rmtree(self._cache, ignore_errors=True)
            self._cache = None
