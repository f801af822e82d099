"""``ReviewStore``: flagged frames in a local store (SQLite in WAL mode, image files on disk) or a central one
(PostgreSQL, images in the database), behind one interface.

Where the store is comes from one string (:mod:`grace_core.store.location`): a folder or ``sqlite:///path`` (local,
today's store) or ``postgresql://user@host:port/db`` (central: several stations write to it, engineers review from
any desk). One ``ReviewStore`` holds one connection and belongs to the thread that opened it (sqlite3 refuses use
from another thread). Open one per thread or process: any number of them may work on the same store at once.
:meth:`ReviewStore.open` creates the store if needed (the live side); :meth:`ReviewStore.open_existing` only opens
one that is there, read-only by default (reports, exports, browsing).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from grace_core.engine.base import EngineInfo, Prediction
from grace_core.errors import StoreError
from grace_core.flagging import FlagDecision, Thresholds
from grace_core.paths import user_data_dir
from grace_core.render import heat_strength
from grace_core.store import audit, files, maintenance, opening, postgres, schema
from grace_core.store.database import Database, SqliteDatabase
from grace_core.store.facets import Facets, read_facets
from grace_core.store.images import BlobImages, FileImages, ImageStore
from grace_core.store.location import StoreLocation, parse_location
from grace_core.store.opening import DB_NAME, NoStoreError
from grace_core.store.query import ORDER_NEWEST_FIRST, FrameFilter
from grace_core.store.records import (
    DETECTION_COLUMNS,
    FRAME_COLUMNS,
    DetectionRecord,
    FrameRecord,
    QuotaReport,
)
from grace_core.store.reviewing import ReviewActions, VerdictChange
from grace_core.store.selection import Selection
from grace_core.types import Frame

__all__ = ["DB_NAME", "DEFAULT_QUOTA_BYTES", "NoStoreError", "ReviewStore", "VerdictChange", "default_root"]

DEFAULT_QUOTA_BYTES = 2 * 1024**3
MODEL_CLASSES_KEY = "model_classes:"  # meta key prefix: + model id → the model's class names (JSON list, in order)
STATION_ENV = "GRACE_STATION"

# One stored box, as the detections table holds it (without its ids)
BoxRow = tuple[int, str, float, float, float, float, float, str, int]  # class id, name, conf, x1 y1 x2 y2, origin, del


def default_root() -> Path:
    return user_data_dir() / "review"


def default_station() -> str:
    """This machine's station name when none is given: ``$GRACE_STATION``, else the host name."""
    return os.environ.get(STATION_ENV) or socket.gethostname() or "station"


def store_exists(where: str | Path | StoreLocation | None = None) -> bool:
    """Whether there is (probably) a store at ``where`` without creating or changing anything: a local store's
    database file, or a reachable central server whose database has the store's tables."""
    location = parse_location(where, default_root())
    if location.path is not None:
        return opening.exists(location.path)
    try:
        database = postgres.connect(location.url or "", readonly=True)
    except StoreError:
        return False
    try:
        return "frames" in postgres.tables(database)
    finally:
        database.close()


class ReviewStore(ReviewActions):
    """Flagged frames for review. Create with :meth:`open`; see ``docs/review-store.md``.

    ``root`` is the local store's folder (None for a central store, whose images are in the database);
    ``location`` says where the store is, for either; ``station`` is written into the frames and audit rows this
    object adds unless a call names another.
    """

    def __init__(
        self,
        root: Path | None,
        conn: sqlite3.Connection | Database,
        quota_bytes: int,
        readonly: bool = False,
        *,
        images: ImageStore | None = None,
        location: StoreLocation | None = None,
        station: str | None = None,
    ) -> None:
        if isinstance(conn, sqlite3.Connection):
            assert root is not None, "a SQLite store has a folder"
            conn = SqliteDatabase(conn, root / DB_NAME)
        self.root = root
        self.location = location or parse_location(root)
        self.db_path = root / DB_NAME if root is not None else None
        self.quota_bytes = quota_bytes
        self.readonly = readonly
        self.station = station or default_station()
        self._db: Database = conn
        self._conn = conn.conn  # the driver's connection (sqlite3 or psycopg), for tests that poke at it
        if images is None:
            images = FileImages(root) if root is not None else BlobImages()
        self._images = images
        self._classes_recorded: set[tuple[str, tuple[str, ...]]] = set()  # (model id, names) already in meta

    # -- lifecycle ---------------------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        root: Path | str | StoreLocation | None = None,
        quota_bytes: int = DEFAULT_QUOTA_BYTES,
        busy_timeout_s: float = 10.0,
        station: str | None = None,
    ) -> ReviewStore:
        """Open (creating or migrating) the store at ``root``: a folder, ``sqlite:///path`` or ``postgresql://…``
        (default: ``user_data_dir()/review``).

        Raises StoreError when the folder cannot be used, the database is damaged (``PRAGMA quick_check``) or was
        written by a newer app version; StoreUnavailable when a central server cannot be reached.
        """
        if quota_bytes <= 0:
            raise ValueError(f"quota_bytes must be positive, got {quota_bytes}")
        location = parse_location(root, default_root())
        if location.is_central:
            database = opening.create_central(location.url or "")
            return cls(None, database, quota_bytes, location=location, station=station)
        assert location.path is not None
        database = opening.create_sqlite(location.path, busy_timeout_s)
        return cls(location.path, database, quota_bytes, location=location, station=station)

    @classmethod
    def open_existing(
        cls,
        root: Path | str | StoreLocation | None = None,
        readonly: bool = True,
        quota_bytes: int = DEFAULT_QUOTA_BYTES,
        busy_timeout_s: float = 10.0,
        station: str | None = None,
    ) -> ReviewStore:
        """Open the store already at ``root`` (default: the app's); never create one.

        Read-only by default: reports, exports and browsing go through here, and nothing is written to the store
        (SQLite's ``mode=ro``, which may leave its ``-wal``/``-shm`` side files; PostgreSQL's read-only
        transactions). ``readonly=False`` is for the review tab, which records verdicts; it also upgrades an older
        store's schema, as :meth:`open` does.

        Raises NoStoreError when there is no store (no ``review.db``, an empty one, another program's database, a
        central database without the store's tables), and StoreError when it is damaged, newer than this app, or
        (read-only) older and not yet upgraded.
        """
        location = parse_location(root, default_root())
        if location.is_central:
            database = opening.existing_central(location.url or "", readonly)
            return cls(None, database, quota_bytes, readonly=readonly, location=location, station=station)
        assert location.path is not None
        found = opening.existing_sqlite(location.path, readonly, busy_timeout_s)
        if found is not None:
            return cls(location.path, found, quota_bytes, readonly=True, location=location, station=station)
        return cls.open(location, quota_bytes, busy_timeout_s, station=station)

    def close(self) -> None:
        self._db.close()
        self._images.close()

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        if isinstance(self._db, SqliteDatabase):
            return schema.user_version(self._db.conn)
        return postgres.schema_version(self._db)  # type: ignore[arg-type]

    @property
    def central(self) -> bool:
        """True for a central (PostgreSQL) store: images in the database, several stations writing."""
        return self.location.is_central

    @property
    def store_id(self) -> str:
        """This store's own id (``meta.store_id``, made when it was created or upgraded to schema v3)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
        return str(row[0]) if row is not None else ""

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Re-raise what the database says inside the block (a damaged file, a lost server) as a StoreError that
        names the store, so that callers show one message instead of a driver's traceback."""
        with self._db.errors():
            yield

    # -- writing flagged frames --------------------------------------------------------------------------------

    def add_frame(
        self,
        frame: Frame,
        decision: FlagDecision,
        prediction: Prediction,
        engine_info: EngineInfo,
        thresholds: Thresholds,
        source_kind: str | None = None,
        *,
        station: str | None = None,
        uid: str | None = None,
        coil: str | None = None,
        coil_m: float | None = None,
    ) -> int:
        """Store a flagged frame; returns its id. ``coil`` / ``coil_m``: the coil on the line and the metres of it
        passed at this frame (None: not known).

        A local store writes the files first (temp name, fsync, ``os.replace``), then the row and its boxes in one
        transaction: a crash leaves at worst an orphan file (see :meth:`cleanup_orphans`), never a row without its
        file. A central store writes the row, its boxes and its images in one transaction. The boxes kept are
        every model detection at or above its class's uncertain threshold, hidden classes included (visibility is
        a view setting, and reviewed labels must not lose real defects). ``uid`` keys the frame: adding a uid the
        store already holds changes nothing and returns that frame's id (a retried copy). Raises OSError when a
        file cannot be written (disk full) and sqlite3.Error / StoreError when the database cannot; nothing is
        left half-done.
        """
        self._require_writable()
        if decision.status not in ("defect", "uncertain"):
            raise ValueError(f"only flagged frames are stored, this one is {decision.status!r}")
        uid = uid or uuid.uuid4().hex
        heatmap = prediction.heatmap
        image_rel, heat_rel = files.relative_paths(uid, frame.timestamp, heatmap is not None)
        image = files.encode_jpeg(frame.image)
        heat = None
        if heatmap is not None and heat_rel is not None:
            # as shown: the display strength on the model's fixed scale (the raw gate sits at 0.999… on steel,
            # which 8 bits cannot tell apart)
            heat = files.encode_heatmap(heat_strength(heatmap, engine_info.heat_range))
        row = _frame_row(frame, decision, engine_info, thresholds, source_kind)
        row.update(
            uid=uid,
            image_path=image_rel,
            heatmap_path=heat_rel,
            bytes=len(image) + (len(heat) if heat is not None else 0),
            station=station or self.station,
            coil=coil or "",
            coil_m=None if coil_m is None else float(coil_m),
        )
        boxes = [(*box, "model", 0) for box in _model_boxes(prediction, engine_info.class_names, thresholds)]
        frame_id, _ = self.insert_frame(row, boxes, image, heat, (engine_info.model_id, engine_info.class_names))
        return frame_id

    def insert_frame(
        self,
        row: dict[str, Any],
        boxes: Sequence[BoxRow],
        image: bytes,
        heatmap: bytes | None,
        model_classes: tuple[str, Sequence[str]] | None = None,
    ) -> tuple[int, bool]:
        """Insert one frame as stored elsewhere (``row``: the ``frames`` columns but ``id``; its boxes; the JPEG and
        PNG bytes), all or nothing; returns (id, True), or (id of the frame already there, False) when the store
        holds its uid. :meth:`add_frame` and copies between stores (:mod:`grace_core.store.transfer`) use it."""
        self._require_writable()
        existing = self._frame_id(row["uid"])
        if existing is not None:  # a retried copy: before touching any file, which would be the stored frame's
            return existing, False
        payloads = {row["image_path"]: image}
        if heatmap is not None and row.get("heatmap_path"):
            payloads[row["heatmap_path"]] = heatmap
        written = self._images.before_insert(payloads)
        try:
            with self._db.write():
                frame_id = _insert_frame(self._db, row)
                if frame_id is None:  # another writer inserted this uid in between: theirs stands
                    found = self._frame_id(row["uid"])
                    assert found is not None
                    return found, False
                self._images.insert(self._db, frame_id, image, heatmap)
                if model_classes is not None:
                    self._record_model_classes(self._db, *model_classes)
                self._db.executemany(
                    "INSERT INTO detections (frame_id, class_id, class_name, confidence, x1, y1, x2, y2, origin, "
                    "deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(frame_id, *box) for box in boxes],
                )
        except BaseException:
            self._images.discard(written)  # rolled back: the files would only be orphans
            raise
        if model_classes is not None:
            self._classes_recorded.add((model_classes[0], tuple(model_classes[1])))
        return frame_id, True

    def _frame_id(self, uid: str) -> int | None:
        row = self._db.execute("SELECT id FROM frames WHERE uid = ?", (uid,)).fetchone()
        return int(row[0]) if row is not None else None

    def _record_model_classes(self, database: Database, model_id: str, class_names: Sequence[str]) -> None:
        """Keep the flagging model's full class list (in its order): the export's class list comes from it."""
        if (model_id, tuple(class_names)) in self._classes_recorded:
            return
        database.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (MODEL_CLASSES_KEY + model_id, json.dumps(list(class_names))),
        )

    # -- reading ------------------------------------------------------------------------------------------------

    def frame(self, frame_id: int) -> FrameRecord:
        """The frame with this id; StoreError if it is gone (deleted or evicted)."""
        row = self._db.execute(f"SELECT {FRAME_COLUMNS} FROM frames WHERE id = ?", (frame_id,)).fetchone()
        if row is None:
            raise StoreError(f"frame {frame_id} is not in the review store (deleted or evicted)")
        return FrameRecord.from_row(row)

    def frame_by_uid(self, uid: str) -> FrameRecord | None:
        """The frame with this uid (the key that stays the same in every store it is copied to), or None."""
        row = self._db.execute(f"SELECT {FRAME_COLUMNS} FROM frames WHERE uid = ?", (uid,)).fetchone()
        return FrameRecord.from_row(row) if row is not None else None

    def frames_in_order(self, after_id: int = 0, limit: int = 100) -> list[FrameRecord]:
        """Frames in the order they were stored (by id), after ``after_id``: what a spool forwards, a copy reads."""
        rows = self._db.execute(
            f"SELECT {FRAME_COLUMNS} FROM frames WHERE id > ? ORDER BY id LIMIT ?", (int(after_id), int(limit))
        ).fetchall()
        return [FrameRecord.from_row(row) for row in rows]

    def known_uids(self, uids: Sequence[str]) -> set[str]:
        """Which of ``uids`` the store already holds (one indexed query per 500)."""
        found: set[str] = set()
        for start in range(0, len(uids), 500):
            chunk = list(uids[start : start + 500])
            marks = ", ".join("?" for _ in chunk)
            rows = self._db.execute(f"SELECT uid FROM frames WHERE uid IN ({marks})", chunk).fetchall()
            found.update(str(row[0]) for row in rows)
        return found

    @property
    def database(self) -> Database:
        """The store's connection behind the seam (for the store package's own modules: copies, the spool)."""
        return self._db

    def detections(self, frame_id: int, include_deleted: bool = False) -> list[DetectionRecord]:
        sql = f"SELECT {DETECTION_COLUMNS} FROM detections WHERE frame_id = ?"
        if not include_deleted:
            sql += " AND deleted = 0"
        rows = self._db.execute(sql + " ORDER BY id", (frame_id,)).fetchall()
        return [DetectionRecord.from_row(row) for row in rows]

    def list_frames(self, where: FrameFilter | None = None, limit: int = 50, offset: int = 0) -> list[FrameRecord]:
        """Frames matching ``where``, newest first, one page (``limit`` rows after skipping ``offset``)."""
        sql, params = self._list_sql(where)
        rows = self._db.execute(sql, [*params, int(limit), int(offset)]).fetchall()
        return [FrameRecord.from_row(row) for row in rows]

    def position(self, frame_id: int, where: FrameFilter | None = None) -> int | None:
        """The frame's row in :meth:`list_frames` ``(where)`` (0: the newest), or None if it does not match."""
        clause, params = (where or FrameFilter()).where()
        joiner = " AND " if clause else "WHERE "
        found = self._db.execute(
            f"SELECT f.captured_at FROM frames f {clause}{joiner}f.id = ?", [*params, frame_id]
        ).fetchone()
        if found is None:
            return None
        at = found[0]
        newer = "(f.captured_at > ? OR (f.captured_at = ? AND f.id > ?))"  # the order of ORDER_NEWEST_FIRST
        sql = f"SELECT COUNT(*) FROM frames f {clause}{joiner}{newer}"
        return int(self._db.execute(sql, [*params, at, at, frame_id]).fetchone()[0])

    def model_classes(self, model_id: str) -> list[str] | None:
        """The full class list (in the model's order) of the model that flagged frames as ``model_id``.

        Recorded in ``meta`` with the model's frames; None for a model whose frames only an older version of the
        app saved (see :meth:`classes_seen`).
        """
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (MODEL_CLASSES_KEY + model_id,)).fetchone()
        return [str(name) for name in json.loads(row[0])] if row is not None else None

    def classes_seen(self, model_id: str) -> list[str]:
        """The classes the model's own boxes in the store carry (deleted ones too), by class id: the best guess at
        its class list when none was recorded."""
        rows = self._db.execute(
            "SELECT d.class_name FROM detections d JOIN frames f ON f.id = d.frame_id "
            "WHERE f.model_id = ? AND d.origin = 'model' GROUP BY d.class_name ORDER BY MIN(d.class_id), d.class_name",
            (model_id,),
        ).fetchall()
        return [str(row[0]) for row in rows]

    def count(self, where: FrameFilter | None = None) -> int:
        clause, params = (where or FrameFilter()).where()
        return int(self._db.execute(f"SELECT COUNT(*) FROM frames f {clause}", params).fetchone()[0])

    def query_plan(self, where: FrameFilter | None = None) -> list[str]:
        """The engine's plan for :meth:`list_frames` (to check a filter is indexed): SQLite's ``EXPLAIN QUERY
        PLAN`` details, or PostgreSQL's ``EXPLAIN`` lines."""
        sql, params = self._list_sql(where)
        if isinstance(self._db, SqliteDatabase):
            rows = self._db.execute("EXPLAIN QUERY PLAN " + sql, [*params, 50, 0]).fetchall()
            return [str(row["detail"]) for row in rows]
        return [str(row[0]) for row in self._db.execute("EXPLAIN " + sql, [*params, 50, 0]).fetchall()]

    def _list_sql(self, where: FrameFilter | None) -> tuple[str, list[Any]]:
        clause, params = (where or FrameFilter()).where()
        columns = ", ".join(f"f.{c.strip()}" for c in FRAME_COLUMNS.split(","))
        return f"SELECT {columns} FROM frames f {clause} {ORDER_NEWEST_FIRST} LIMIT ? OFFSET ?", params

    def image_file(self, record: FrameRecord) -> Path:
        """A local file holding the frame's image: a local store's own file (StoreError if its row points outside
        the store's ``frames`` folder), or a central store's image copied into a private cache folder."""
        path = self._images.local_file(self._db, record)
        assert path is not None
        return path

    def heatmap_file(self, record: FrameRecord) -> Path | None:
        return self._images.local_file(self._db, record, heatmap=True) if record.heatmap_path else None

    def image_bytes(self, record: FrameRecord, heatmap: bool = False) -> bytes | None:
        """The stored JPEG (or, with ``heatmap``, the PNG; None when the frame has none), as written."""
        if heatmap and not record.heatmap_path:
            return None
        return self._images.read(self._db, record, heatmap)

    def load_image(self, frame_id: int) -> np.ndarray:
        """The stored frame, BGR uint8."""
        record = self.frame(frame_id)
        if not self._images.in_database:
            return files.read_image(self.image_file(record))
        return files.decode_image(self.image_bytes(record) or b"", f"frame {frame_id} in {self.location}")

    def load_heatmap(self, frame_id: int) -> np.ndarray | None:
        """The stored heatmap, float32 in [0, 1] (within 1/255 of the original), or None if there was none."""
        record = self.frame(frame_id)
        if not self._images.in_database:
            path = self.heatmap_file(record)
            return files.read_heatmap(path) if path is not None else None
        data = self.image_bytes(record, heatmap=True)
        return files.decode_heatmap(data, f"frame {frame_id} in {self.location}") if data is not None else None

    def select(self, where: FrameFilter | None = None) -> Selection:
        """Read-only aggregate queries (counts per class, verdict, time bin…) over the frames matching ``where``."""
        return Selection(self._db, where or FrameFilter())

    def facets(self) -> Facets:
        """The class names, sources, models, stations and coils present: what the review tab's filters offer."""
        return read_facets(self._db)

    # -- disk use -----------------------------------------------------------------------------------------------

    def usage_bytes(self) -> int:
        """Total size of the stored frames' images (the database's own rows are not counted)."""
        return maintenance.usage_bytes(self._db)

    def enforce_quota(self) -> QuotaReport:
        """Evict the oldest unreviewed frames (rows, then files) until usage ≤ quota. Reviewed frames stay."""
        self._require_writable()
        return maintenance.enforce_quota(self._db, self.quota_bytes, self._images.after_delete, self.station)

    def cleanup_orphans(self, min_age_s: float = 60.0) -> list[str]:
        """Remove files under ``frames/`` that no row references (crash leftovers); returns their relative paths.

        Files younger than ``min_age_s`` are left alone: another thread or process may be about to insert their
        row. Pass 0 when nothing else writes to the store. :class:`FlaggedFrameWriter` runs it when it opens the store.
        A central store has no files, hence no orphans.
        """
        self._require_writable()
        return self._images.cleanup_orphans(self._db, min_age_s)

    def delete_frames(self, frame_ids: Sequence[int], actor: str, reason: str) -> int:
        """Delete frames (rows, then files) with one audit row; returns how many were there. The spool uses it
        for frames the central store has confirmed."""
        self._require_writable()
        ids = [int(i) for i in frame_ids]
        if not ids:
            return 0
        marks = ", ".join("?" for _ in ids)
        with self._db.write() as database:
            rows = database.execute(
                f"SELECT id, image_path, heatmap_path FROM frames WHERE id IN ({marks})", ids
            ).fetchall()
            database.execute(f"DELETE FROM frames WHERE id IN ({marks})", ids)
            details = {"reason": reason, "frame_ids": [int(row[0]) for row in rows]}
            audit.append(database, time.time(), actor, "deleted", None, details, station=self.station)
        self._images.after_delete([p for row in rows for p in (row[1], row[2]) if p])
        return len(rows)

    def _require_writable(self) -> None:
        if self.readonly:
            raise StoreError(f"the review store {self.location} was opened read-only; nothing was changed")


def _source_kind(frame: Frame) -> str:
    """``frame.meta["source_kind"]`` if the source set it, else the ``kind:`` prefix of the source id."""
    kind = frame.meta.get("source_kind")
    return str(kind) if kind else frame.source_id.partition(":")[0]


def _frame_row(
    frame: Frame, decision: FlagDecision, engine_info: EngineInfo, thresholds: Thresholds, source_kind: str | None
) -> dict[str, Any]:
    """The ``frames`` columns that describe the capture and the decision (not the files)."""
    width, height = frame.size
    model_id = engine_info.model_id
    return {
        "captured_at": float(frame.timestamp),
        "source_id": frame.source_id,
        "source_kind": source_kind if source_kind is not None else _source_kind(frame),
        "frame_index": int(frame.index),
        "width": width,
        "height": height,
        "status": decision.status,
        "model_id": model_id,
        "model_hash": model_id.rpartition("@")[2] if "@" in model_id else "",
        "thresholds_json": json.dumps(thresholds.to_dict(), sort_keys=True),
        "created_at": time.time(),
    }


def _model_boxes(
    prediction: Prediction, class_names: tuple[str, ...], thresholds: Thresholds
) -> list[tuple[int, str, float, float, float, float, float]]:
    detections = prediction.detections
    _, uncertain = thresholds.for_classes(class_names)
    rows = []
    for box, score, class_id in zip(detections.xyxy, detections.confidence, detections.class_id, strict=True):
        known = 0 <= class_id < len(class_names)
        if score < (uncertain[class_id] if known else np.float32(thresholds.default_uncertain)):
            continue
        name = class_names[class_id] if known else f"class_{int(class_id)}"
        rows.append((int(class_id), name, float(score), *(float(v) for v in box)))
    return rows


def _insert_frame(database: Database, row: dict[str, Any]) -> int | None:
    """Insert the row; its id, or None when the uid is already there (``ON CONFLICT DO NOTHING``)."""
    names = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    sql = f"INSERT INTO frames ({names}) VALUES ({marks}) ON CONFLICT (uid) DO NOTHING"
    return database.insert(sql, list(row.values()))
