"""``ReviewStore``: flagged frames in SQLite (WAL) plus their image files on disk.

One ``ReviewStore`` holds one SQLite connection and belongs to the thread that opened it (sqlite3 refuses use
from another thread). Open one per thread or process: any number of them may work on the same folder at once.
:meth:`ReviewStore.open` creates the store if needed (the live side); :meth:`ReviewStore.open_existing` only opens
one that is there, read-only by default (reports, exports, browsing).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from grace_core.engine.base import EngineInfo, Prediction
from grace_core.errors import StoreError
from grace_core.flagging import FlagDecision, Thresholds
from grace_core.paths import user_data_dir
from grace_core.render import heat_strength
from grace_core.store import audit, db, files, maintenance, schema
from grace_core.store.facets import Facets, read_facets
from grace_core.store.query import ORDER_NEWEST_FIRST, FrameFilter
from grace_core.store.records import (
    AUDIT_COLUMNS,
    DETECTION_COLUMNS,
    FRAME_COLUMNS,
    VERDICTS,
    AuditRecord,
    DetectionRecord,
    FrameRecord,
    QuotaReport,
)
from grace_core.store.selection import Selection
from grace_core.types import Frame

DB_NAME = "review.db"
DEFAULT_QUOTA_BYTES = 2 * 1024**3
MODEL_CLASSES_KEY = "model_classes:"  # meta key prefix: + model id → the model's class names (JSON list, in order)


def default_root() -> Path:
    return user_data_dir() / "review"


class NoStoreError(StoreError):
    """There is no review store in the folder: no database file, an empty one, or another program's database.

    ``found_file`` tells "nothing there yet" (a new installation) from "something that is not a store".
    """

    def __init__(self, root: Path, detail: str, found_file: bool) -> None:
        super().__init__(f"no review store at {root} ({detail}); nothing was created or changed")
        self.root = root
        self.found_file = found_file


class ReviewStore:
    """Flagged frames for review. Create with :meth:`open`; see ``docs/review-store.md``."""

    def __init__(self, root: Path, conn: sqlite3.Connection, quota_bytes: int, readonly: bool = False) -> None:
        self.root = root
        self.db_path = root / DB_NAME
        self.quota_bytes = quota_bytes
        self.readonly = readonly
        self._conn = conn
        self._classes_recorded: set[tuple[str, tuple[str, ...]]] = set()  # (model id, names) already in meta

    # -- lifecycle ---------------------------------------------------------------------------------------------

    @classmethod
    def open(
        cls, root: Path | None = None, quota_bytes: int = DEFAULT_QUOTA_BYTES, busy_timeout_s: float = 10.0
    ) -> ReviewStore:
        """Open (creating or migrating) the store in ``root`` (default: ``user_data_dir()/review``).

        Raises StoreError when the folder cannot be used, the database is damaged (``PRAGMA quick_check``) or was
        written by a newer app version.
        """
        if quota_bytes <= 0:
            raise ValueError(f"quota_bytes must be positive, got {quota_bytes}")
        root = Path(root) if root is not None else default_root()
        try:
            (root / files.FRAMES_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the review folder {root}: {exc}") from exc
        db_path = root / DB_NAME
        conn = db.connect(db_path, busy_timeout_s)
        try:
            db.quick_check(conn, db_path)  # damage shows here, named, not as an empty list or a mid-query error
            if schema.user_version(conn) != schema.LATEST_VERSION:  # no write lock when the schema is current
                schema.migrate(conn, where=str(db_path))  # creates, upgrades, or refuses a newer database
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise db.as_store_error(db_path, exc) from exc
        except BaseException:
            conn.close()
            raise
        return cls(root, conn, quota_bytes)

    @classmethod
    def open_existing(
        cls,
        root: Path | None = None,
        readonly: bool = True,
        quota_bytes: int = DEFAULT_QUOTA_BYTES,
        busy_timeout_s: float = 10.0,
    ) -> ReviewStore:
        """Open the store already in ``root`` (default: the app's); never create one.

        Read-only by default: reports, exports and browsing go through here, and nothing is written to the folder
        (SQLite's ``mode=ro``; it may leave its ``-wal``/``-shm`` side files). ``readonly=False`` is for the review
        tab, which records verdicts; it also upgrades an older store's schema, as :meth:`open` does.

        Raises NoStoreError when there is no store (no ``review.db``, an empty one, another program's database),
        and StoreError when it is damaged, newer than this app, or (read-only) older and not yet upgraded.
        """
        root = Path(root) if root is not None else default_root()
        db_path = root / DB_NAME
        if not db_path.is_file():
            raise NoStoreError(root, f"no {DB_NAME} there", found_file=False)
        conn = db.connect(db_path, busy_timeout_s, readonly=True)  # looked at first without writing a byte
        try:
            db.quick_check(conn, db_path)
            _check_existing(conn, root, readonly)
        except BaseException:
            conn.close()
            raise
        if readonly:
            return cls(root, conn, quota_bytes, readonly=True)
        conn.close()
        return cls.open(root, quota_bytes, busy_timeout_s)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return schema.user_version(self._conn)

    # -- writing flagged frames --------------------------------------------------------------------------------

    def add_frame(
        self,
        frame: Frame,
        decision: FlagDecision,
        prediction: Prediction,
        engine_info: EngineInfo,
        thresholds: Thresholds,
        source_kind: str | None = None,
    ) -> int:
        """Store a flagged frame; returns its id.

        Files first (temp name, fsync, ``os.replace``), then the row and its boxes in one transaction: a crash
        leaves at worst an orphan file (see :meth:`cleanup_orphans`), never a row without its file. The boxes
        kept are every model detection at or above its class's uncertain threshold, hidden classes included
        (visibility is a view setting, and reviewed labels must not lose real defects). Raises OSError when a
        file cannot be written (disk full) and sqlite3.Error when the database cannot; nothing is left half-done.
        """
        self._require_writable()
        if decision.status not in ("defect", "uncertain"):
            raise ValueError(f"only flagged frames are stored, this one is {decision.status!r}")
        uid = uuid.uuid4().hex
        heatmap = prediction.heatmap
        image_rel, heat_rel = files.relative_paths(uid, frame.timestamp, heatmap is not None)
        payloads = {image_rel: files.encode_jpeg(frame.image)}
        if heatmap is not None and heat_rel is not None:
            # as shown: the display strength on the model's fixed scale (the raw gate sits at 0.999… on steel,
            # which 8 bits cannot tell apart)
            payloads[heat_rel] = files.encode_heatmap(heat_strength(heatmap, engine_info.heat_range))
        written = files.write_all(self.root, payloads)
        row = _frame_row(frame, decision, engine_info, thresholds, source_kind)
        row.update(
            uid=uid,
            image_path=image_rel,
            heatmap_path=heat_rel,
            bytes=sum(len(data) for data in payloads.values()),
        )
        boxes = _model_boxes(prediction, engine_info.class_names, thresholds)
        try:
            with db.write(self._conn) as conn:
                frame_id = _insert_frame(conn, row)
                self._record_model_classes(conn, engine_info)
                conn.executemany(
                    "INSERT INTO detections (frame_id, class_id, class_name, confidence, x1, y1, x2, y2, origin) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'model')",
                    [(frame_id, *box) for box in boxes],
                )
        except sqlite3.Error:
            for path in written:  # rolled back: the files would only be orphans
                files.remove_quietly(path)
            raise
        self._classes_recorded.add((engine_info.model_id, tuple(engine_info.class_names)))
        return frame_id

    def _record_model_classes(self, conn: sqlite3.Connection, engine_info: EngineInfo) -> None:
        """Keep the flagging model's full class list (in its order): the export's class list comes from it."""
        if (engine_info.model_id, tuple(engine_info.class_names)) in self._classes_recorded:
            return
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            (MODEL_CLASSES_KEY + engine_info.model_id, json.dumps(list(engine_info.class_names))),
        )

    # -- reading ------------------------------------------------------------------------------------------------

    def frame(self, frame_id: int) -> FrameRecord:
        """The frame with this id; StoreError if it is gone (deleted or evicted)."""
        row = self._conn.execute(f"SELECT {FRAME_COLUMNS} FROM frames WHERE id = ?", (frame_id,)).fetchone()
        if row is None:
            raise StoreError(f"frame {frame_id} is not in the review store (deleted or evicted)")
        return FrameRecord.from_row(row)

    def detections(self, frame_id: int, include_deleted: bool = False) -> list[DetectionRecord]:
        sql = f"SELECT {DETECTION_COLUMNS} FROM detections WHERE frame_id = ?"
        if not include_deleted:
            sql += " AND deleted = 0"
        rows = self._conn.execute(sql + " ORDER BY id", (frame_id,)).fetchall()
        return [DetectionRecord.from_row(row) for row in rows]

    def list_frames(self, where: FrameFilter | None = None, limit: int = 50, offset: int = 0) -> list[FrameRecord]:
        """Frames matching ``where``, newest first, one page (``limit`` rows after skipping ``offset``)."""
        sql, params = self._list_sql(where)
        rows = self._conn.execute(sql, [*params, int(limit), int(offset)]).fetchall()
        return [FrameRecord.from_row(row) for row in rows]

    def position(self, frame_id: int, where: FrameFilter | None = None) -> int | None:
        """The frame's row in :meth:`list_frames` ``(where)`` (0: the newest), or None if it does not match."""
        clause, params = (where or FrameFilter()).where()
        joiner = " AND " if clause else "WHERE "
        found = self._conn.execute(
            f"SELECT f.captured_at FROM frames f {clause}{joiner}f.id = ?", [*params, frame_id]
        ).fetchone()
        if found is None:
            return None
        at = found[0]
        newer = "(f.captured_at > ? OR (f.captured_at = ? AND f.id > ?))"  # the order of ORDER_NEWEST_FIRST
        sql = f"SELECT COUNT(*) FROM frames f {clause}{joiner}{newer}"
        return int(self._conn.execute(sql, [*params, at, at, frame_id]).fetchone()[0])

    def model_classes(self, model_id: str) -> list[str] | None:
        """The full class list (in the model's order) of the model that flagged frames as ``model_id``.

        Recorded in ``meta`` with the model's frames; None for a model whose frames only an older version of the
        app saved (see :meth:`classes_seen`).
        """
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (MODEL_CLASSES_KEY + model_id,)).fetchone()
        return [str(name) for name in json.loads(row[0])] if row is not None else None

    def classes_seen(self, model_id: str) -> list[str]:
        """The classes the model's own boxes in the store carry (deleted ones too), by class id: the best guess at
        its class list when none was recorded."""
        rows = self._conn.execute(
            "SELECT d.class_name FROM detections d JOIN frames f ON f.id = d.frame_id "
            "WHERE f.model_id = ? AND d.origin = 'model' GROUP BY d.class_name ORDER BY MIN(d.class_id), d.class_name",
            (model_id,),
        ).fetchall()
        return [str(row[0]) for row in rows]

    def count(self, where: FrameFilter | None = None) -> int:
        clause, params = (where or FrameFilter()).where()
        return int(self._conn.execute(f"SELECT COUNT(*) FROM frames f {clause}", params).fetchone()[0])

    def query_plan(self, where: FrameFilter | None = None) -> list[str]:
        """SQLite's ``EXPLAIN QUERY PLAN`` lines for :meth:`list_frames` (to check a filter is indexed)."""
        sql, params = self._list_sql(where)
        rows = self._conn.execute("EXPLAIN QUERY PLAN " + sql, [*params, 50, 0]).fetchall()
        return [str(row["detail"]) for row in rows]

    def _list_sql(self, where: FrameFilter | None) -> tuple[str, list[Any]]:
        clause, params = (where or FrameFilter()).where()
        columns = ", ".join(f"f.{c.strip()}" for c in FRAME_COLUMNS.split(","))
        return f"SELECT {columns} FROM frames f {clause} {ORDER_NEWEST_FIRST} LIMIT ? OFFSET ?", params

    def image_file(self, record: FrameRecord) -> Path:
        """The frame's image file; StoreError if its row points outside the store's ``frames`` folder."""
        return files.confined(self.root, record.image_path)

    def heatmap_file(self, record: FrameRecord) -> Path | None:
        return files.confined(self.root, record.heatmap_path) if record.heatmap_path else None

    def load_image(self, frame_id: int) -> np.ndarray:
        """The stored frame, BGR uint8."""
        return files.read_image(self.image_file(self.frame(frame_id)))

    def load_heatmap(self, frame_id: int) -> np.ndarray | None:
        """The stored heatmap, float32 in [0, 1] (within 1/255 of the original), or None if there was none."""
        path = self.heatmap_file(self.frame(frame_id))
        return files.read_heatmap(path) if path is not None else None

    # -- review and audit ---------------------------------------------------------------------------------------

    def set_verdict(self, frame_id: int, verdict: str, actor: str, comment: str | None = None) -> None:
        """Record the operator's verdict (marks the frame reviewed). ``comment=None`` keeps the current comment.

        The previous verdict and comment go to the audit trail.
        """
        self._require_writable()
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
        with db.write(self._conn) as conn:
            old = conn.execute("SELECT verdict, comment FROM frames WHERE id = ?", (frame_id,)).fetchone()
            if old is None:
                raise StoreError(f"frame {frame_id} is not in the review store (deleted or evicted)")
            new_comment = old["comment"] if comment is None else comment
            now = time.time()
            conn.execute(
                "UPDATE frames SET verdict = ?, comment = ?, reviewed = 1, reviewed_at = ? WHERE id = ?",
                (verdict, new_comment, now, frame_id),
            )
            details = {"from": old["verdict"], "to": verdict, "comment_from": old["comment"], "comment": new_comment}
            audit.append(conn, now, actor, "verdict", frame_id, details)

    def restore_verdict(self, frame_id: int, verdict: str | None, reviewed_at: float | None, actor: str) -> None:
        """Undo a verdict: put back the one before (``None``: the frame is unreviewed again). The comment stays.

        Audited as ``verdict_undone`` (from → to, reason "undo"); nothing is erased from the trail.
        """
        self._require_writable()
        if verdict is not None and verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS} or None, got {verdict!r}")
        with db.write(self._conn) as conn:
            old = conn.execute("SELECT verdict FROM frames WHERE id = ?", (frame_id,)).fetchone()
            if old is None:
                raise StoreError(f"frame {frame_id} is not in the review store (deleted or evicted)")
            conn.execute(
                "UPDATE frames SET verdict = ?, reviewed = ?, reviewed_at = ? WHERE id = ?",
                (verdict, int(verdict is not None), reviewed_at if verdict is not None else None, frame_id),
            )
            details = {"from": old["verdict"], "to": verdict, "reason": "undo"}
            audit.append(conn, time.time(), actor, "verdict_undone", frame_id, details)

    def set_comment(self, frame_id: int, comment: str | None, actor: str) -> bool:
        """Save the reviewer's comment without a verdict (the frame stays as reviewed or unreviewed as it was).

        Audited as ``comment`` (from → to). Returns False, writing nothing, when the comment is unchanged.
        """
        self._require_writable()
        comment = comment or None
        with db.write(self._conn) as conn:
            old = conn.execute("SELECT comment FROM frames WHERE id = ?", (frame_id,)).fetchone()
            if old is None:
                raise StoreError(f"frame {frame_id} is not in the review store (deleted or evicted)")
            if old["comment"] == comment:
                return False
            conn.execute("UPDATE frames SET comment = ? WHERE id = ?", (comment, frame_id))
            audit.append(conn, time.time(), actor, "comment", frame_id, {"from": old["comment"], "to": comment})
        return True

    def add_box(
        self, frame_id: int, class_id: int, class_name: str, xyxy: tuple[float, float, float, float], actor: str
    ) -> int:
        """A reviewer's box (origin 'reviewer', confidence 1); audited. Returns the detection id."""
        self._require_writable()
        with db.write(self._conn) as conn:
            self._require_frame(conn, frame_id)
            x1, y1, x2, y2 = (float(v) for v in xyxy)
            cursor = conn.execute(
                "INSERT INTO detections (frame_id, class_id, class_name, confidence, x1, y1, x2, y2, origin) "
                "VALUES (?, ?, ?, 1.0, ?, ?, ?, ?, 'reviewer')",
                (frame_id, int(class_id), class_name, x1, y1, x2, y2),
            )
            box_id = int(cursor.lastrowid or 0)
            details = {"detection_id": box_id, "class_name": class_name, "xyxy": [x1, y1, x2, y2]}
            audit.append(conn, time.time(), actor, "box_added", frame_id, details)
        return box_id

    def delete_box(self, detection_id: int, actor: str, reason: str | None = None) -> None:
        """Mark a box deleted (it stays in the table, flagged, so the audit trail can show what was removed).

        ``reason`` (e.g. "undo", "nested duplicate: …") goes to the audit row.
        """
        self._set_box_deleted(detection_id, True, actor, "box_deleted", reason)

    def restore_box(self, detection_id: int, actor: str, reason: str | None = "undo") -> None:
        """Bring a deleted box back (undo of a delete, or redo of a drawn box); audited as ``box_restored``."""
        self._set_box_deleted(detection_id, False, actor, "box_restored", reason)

    def _set_box_deleted(self, detection_id: int, deleted: bool, actor: str, action: str, reason: str | None) -> None:
        self._require_writable()
        with db.write(self._conn) as conn:
            row = conn.execute(f"SELECT {DETECTION_COLUMNS} FROM detections WHERE id = ?", (detection_id,)).fetchone()
            if row is None:
                raise StoreError(f"box {detection_id} is not in the review store")
            box = DetectionRecord.from_row(row)
            conn.execute("UPDATE detections SET deleted = ? WHERE id = ?", (int(deleted), detection_id))
            details = {"detection_id": box.id, "class_name": box.class_name, "origin": box.origin, "xyxy": box.xyxy}
            if reason:
                details["reason"] = reason
            audit.append(conn, time.time(), actor, action, box.frame_id, details)

    def relabel_box(
        self, detection_id: int, class_id: int, class_name: str, actor: str, reason: str | None = None
    ) -> None:
        """Change a box's class; the audit row keeps the old class (and ``reason``, e.g. "undo"). The box keeps its
        origin and confidence.

        Raises StoreError for an unknown or deleted box. Setting the class it already has changes nothing and
        writes no audit row.
        """
        self._require_writable()
        if not class_name.strip() or int(class_id) < 0:
            raise ValueError(f"a box needs a class name and a class id ≥ 0, got {class_id!r} {class_name!r}")
        with db.write(self._conn) as conn:
            row = conn.execute(f"SELECT {DETECTION_COLUMNS} FROM detections WHERE id = ?", (detection_id,)).fetchone()
            if row is None:
                raise StoreError(f"box {detection_id} is not in the review store")
            box = DetectionRecord.from_row(row)
            if box.deleted:
                raise StoreError(f"box {detection_id} was deleted; a deleted box cannot be relabelled")
            if (box.class_id, box.class_name) == (int(class_id), class_name):
                return
            conn.execute(
                "UPDATE detections SET class_id = ?, class_name = ? WHERE id = ?",
                (int(class_id), class_name, detection_id),
            )
            details = {
                "detection_id": box.id,
                "origin": box.origin,
                "from": box.class_name,
                "to": class_name,
                "from_class_id": box.class_id,
                "to_class_id": int(class_id),
            }
            if reason:
                details["reason"] = reason
            audit.append(conn, time.time(), actor, "box_relabelled", box.frame_id, details)

    def select(self, where: FrameFilter | None = None) -> Selection:
        """Read-only aggregate queries (counts per class, verdict, time bin…) over the frames matching ``where``."""
        return Selection(self._conn, where or FrameFilter())

    def facets(self) -> Facets:
        """The class names, sources and models present: what the review tab's filters offer."""
        return read_facets(self._conn)

    def record_event(
        self, actor: str, action: str, details: dict[str, Any] | None = None, frame_id: int | None = None
    ) -> int:
        """Append an audit row for a change made elsewhere: e.g. ``"model_promoted"``, ``"thresholds_changed"``."""
        self._require_writable()
        with db.write(self._conn) as conn:
            return audit.append(conn, time.time(), actor, action, frame_id, details or {})

    def audit_log(self, frame_id: int | None = None, limit: int = 100) -> list[AuditRecord]:
        """Audit rows, newest first; only this frame's when ``frame_id`` is given."""
        if frame_id is None:
            sql, params = f"SELECT {AUDIT_COLUMNS} FROM audit ORDER BY id DESC LIMIT ?", (limit,)
        else:
            sql = f"SELECT {AUDIT_COLUMNS} FROM audit WHERE frame_id = ? ORDER BY id DESC LIMIT ?"
            params = (frame_id, limit)
        return [AuditRecord.from_row(row) for row in self._conn.execute(sql, params).fetchall()]

    # -- disk use -----------------------------------------------------------------------------------------------

    def usage_bytes(self) -> int:
        """Total size of the stored frames' files (the database itself is not counted)."""
        return maintenance.usage_bytes(self._conn)

    def enforce_quota(self) -> QuotaReport:
        """Evict the oldest unreviewed frames (rows, then files) until usage ≤ quota. Reviewed frames stay."""
        self._require_writable()
        return maintenance.enforce_quota(self._conn, self.root, self.quota_bytes)

    def cleanup_orphans(self, min_age_s: float = 60.0) -> list[str]:
        """Remove files under ``frames/`` that no row references (crash leftovers); returns their relative paths.

        Files younger than ``min_age_s`` are left alone: another thread or process may be about to insert their
        row. Pass 0 when nothing else writes to the store. :class:`FlaggedFrameWriter` runs it when it opens the store.
        """
        self._require_writable()
        return maintenance.cleanup_orphans(self._conn, self.root, min_age_s)

    def _require_writable(self) -> None:
        if self.readonly:
            raise StoreError(f"the review store {self.root} was opened read-only; nothing was changed")

    @staticmethod
    def _require_frame(conn: sqlite3.Connection, frame_id: int) -> None:
        if conn.execute("SELECT 1 FROM frames WHERE id = ?", (frame_id,)).fetchone() is None:
            raise StoreError(f"frame {frame_id} is not in the review store (deleted or evicted)")


def _check_existing(conn: sqlite3.Connection, root: Path, readonly: bool) -> None:
    """Raise unless ``conn`` holds a review store this version can open (read-only: without upgrading it)."""
    where = str(root / DB_NAME)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "frames" not in tables:  # an empty file (e.g. a failed copy) or another program's database
        detail = f"{DB_NAME} there is empty" if not tables else f"{DB_NAME} there is not a GRACE Inspect review store"
        raise NoStoreError(root, detail, found_file=True)
    version = schema.user_version(conn)
    if version > schema.LATEST_VERSION:
        raise StoreError(schema.too_new_message(version, where))
    if readonly and version < schema.LATEST_VERSION:
        raise StoreError(
            f"{where} was written by an older version of GRACE Inspect (review store schema v{version}; this version "
            f"reads v{schema.LATEST_VERSION}). Open its review tab once in the app, which upgrades it, then try again."
        )


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


def _insert_frame(conn: sqlite3.Connection, row: dict[str, Any]) -> int:
    names = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    cursor = conn.execute(f"INSERT INTO frames ({names}) VALUES ({marks})", list(row.values()))
    return int(cursor.lastrowid or 0)
