"""What reviewers change: verdicts, comments and boxes, each with its audit row in the same transaction.

:class:`ReviewActions` is the part of :class:`~grace_core.store.review_store.ReviewStore` that records a person's
work. Several reviewers may work on one store at once (the central one): a change reads the row it changes with a
lock (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` locks the whole database), so what the audit row
says was there before is exactly what the change replaced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from grace_core.errors import StoreError
from grace_core.store import audit
from grace_core.store.database import Database
from grace_core.store.records import AUDIT_COLUMNS, DETECTION_COLUMNS, VERDICTS, AuditRecord, DetectionRecord

# how a verdict's audit details mark a conflict, as json.dumps(sort_keys=True) writes it (grace_core.store.audit)
CONFLICT_MARK = '%"conflict": true%'


@dataclass(frozen=True)
class VerdictChange:
    """What :meth:`ReviewStore.set_verdict` replaced. ``conflict``: another reviewer had given a different verdict,
    which the new one overrode (last write wins; the earlier one stays in the audit trail)."""

    previous: str | None
    previous_actor: str | None
    conflict: bool


class ReviewActions:
    """Mixed into ReviewStore: needs ``_db``, ``station`` and ``_require_writable``."""

    _db: Database
    station: str

    def _require_writable(self) -> None:
        raise NotImplementedError

    @staticmethod
    def _require_frame(database: Database, frame_id: int) -> None:
        if database.execute("SELECT 1 FROM frames WHERE id = ?", (frame_id,)).fetchone() is None:
            raise StoreError(f"frame {frame_id} is not in the review store (deleted or evicted)")

    def set_verdict(self, frame_id: int, verdict: str, actor: str, comment: str | None = None) -> VerdictChange:
        """Record the operator's verdict (marks the frame reviewed). ``comment=None`` keeps the current comment.

        Several reviewers may judge one frame at once: **the last verdict written wins**. The frame's row is locked
        while it changes, so the audit row's ``from`` is exactly the verdict replaced, with who gave it
        (``from_actor``); when that was another reviewer's *different* verdict, the audit row is marked
        ``"conflict": true`` (with ``overridden_at``), :meth:`conflicts` lists it, and the returned
        :class:`VerdictChange` says so.
        """
        self._require_writable()
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
        with self._db.write() as database:
            old = database.execute(
                f"SELECT verdict, comment, reviewed_by, reviewed_at FROM frames WHERE id = ?{database.for_update}",
                (frame_id,),
            ).fetchone()
            if old is None:
                raise StoreError(f"frame {frame_id} is not in the review store (deleted or evicted)")
            new_comment = old["comment"] if comment is None else comment
            now = time.time()
            database.execute(
                "UPDATE frames SET verdict = ?, comment = ?, reviewed = 1, reviewed_at = ?, reviewed_by = ? "
                "WHERE id = ?",
                (verdict, new_comment, now, actor, frame_id),
            )
            previous, previous_actor = old["verdict"], old["reviewed_by"]
            conflict = previous is not None and previous != verdict and previous_actor not in (None, actor)
            details = {"from": previous, "to": verdict, "comment_from": old["comment"], "comment": new_comment}
            if previous_actor is not None:
                details["from_actor"] = previous_actor
            if conflict:
                details.update(conflict=True, overridden_at=old["reviewed_at"])
            audit.append(database, now, actor, "verdict", frame_id, details, station=self.station)
        return VerdictChange(previous, previous_actor, conflict)

    def conflicts(self, limit: int = 100) -> list[AuditRecord]:
        """Verdicts that replaced another reviewer's different verdict, newest first: their audit rows (action
        ``verdict``, details ``from``/``from_actor`` → ``to``/actor, ``"conflict": true``)."""
        where = "action = 'verdict' AND details_json LIKE ?"
        sql = f"SELECT {AUDIT_COLUMNS} FROM audit WHERE {where} ORDER BY id DESC LIMIT ?"
        rows = self._db.execute(sql, (CONFLICT_MARK, limit)).fetchall()
        return [AuditRecord.from_row(row) for row in rows]

    def restore_verdict(self, frame_id: int, verdict: str | None, reviewed_at: float | None, actor: str) -> None:
        """Undo a verdict: put back the one before (``None``: the frame is unreviewed again). The comment stays.

        Audited as ``verdict_undone`` (from → to, reason "undo"); nothing is erased from the trail.
        """
        self._require_writable()
        if verdict is not None and verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS} or None, got {verdict!r}")
        with self._db.write() as database:
            sql = f"SELECT verdict FROM frames WHERE id = ?{database.for_update}"
            old = database.execute(sql, (frame_id,)).fetchone()
            if old is None:
                raise StoreError(f"frame {frame_id} is not in the review store (deleted or evicted)")
            database.execute(
                "UPDATE frames SET verdict = ?, reviewed = ?, reviewed_at = ?, reviewed_by = ? WHERE id = ?",
                (
                    verdict,
                    int(verdict is not None),
                    reviewed_at if verdict is not None else None,
                    actor if verdict is not None else None,
                    frame_id,
                ),
            )
            details = {"from": old["verdict"], "to": verdict, "reason": "undo"}
            audit.append(database, time.time(), actor, "verdict_undone", frame_id, details, station=self.station)

    def set_comment(self, frame_id: int, comment: str | None, actor: str) -> bool:
        """Save the reviewer's comment without a verdict (the frame stays as reviewed or unreviewed as it was).

        Audited as ``comment`` (from → to). Returns False, writing nothing, when the comment is unchanged.
        """
        self._require_writable()
        comment = comment or None
        with self._db.write() as database:
            sql = f"SELECT comment FROM frames WHERE id = ?{database.for_update}"
            old = database.execute(sql, (frame_id,)).fetchone()
            if old is None:
                raise StoreError(f"frame {frame_id} is not in the review store (deleted or evicted)")
            if old["comment"] == comment:
                return False
            database.execute("UPDATE frames SET comment = ? WHERE id = ?", (comment, frame_id))
            details = {"from": old["comment"], "to": comment}
            audit.append(database, time.time(), actor, "comment", frame_id, details, station=self.station)
        return True

    def add_box(
        self, frame_id: int, class_id: int, class_name: str, xyxy: tuple[float, float, float, float], actor: str
    ) -> int:
        """A reviewer's box (origin 'reviewer', confidence 1); audited. Returns the detection id."""
        self._require_writable()
        with self._db.write() as database:
            self._require_frame(database, frame_id)
            x1, y1, x2, y2 = (float(v) for v in xyxy)
            box_id = int(
                database.insert(
                    "INSERT INTO detections (frame_id, class_id, class_name, confidence, x1, y1, x2, y2, origin) "
                    "VALUES (?, ?, ?, 1.0, ?, ?, ?, ?, 'reviewer')",
                    (frame_id, int(class_id), class_name, x1, y1, x2, y2),
                )
                or 0
            )
            details = {"detection_id": box_id, "class_name": class_name, "xyxy": [x1, y1, x2, y2]}
            audit.append(database, time.time(), actor, "box_added", frame_id, details, station=self.station)
        return box_id

    def delete_box(self, detection_id: int, actor: str, reason: str | None = None) -> None:
        """Mark a box deleted (it stays in the table, flagged, so the audit trail can show what was removed).

        ``reason`` (e.g. "undo", "nested duplicate: …") goes to the audit row.
        """
        self._set_box_deleted(detection_id, True, actor, "box_deleted", reason)

    def restore_box(self, detection_id: int, actor: str, reason: str | None = "undo") -> None:
        """Bring a deleted box back (undo of a delete, or redo of a drawn box); audited as ``box_restored``."""
        self._set_box_deleted(detection_id, False, actor, "box_restored", reason)

    def _locked_box(self, database: Database, detection_id: int) -> DetectionRecord:
        sql = f"SELECT {DETECTION_COLUMNS} FROM detections WHERE id = ?{database.for_update}"
        row = database.execute(sql, (detection_id,)).fetchone()
        if row is None:
            raise StoreError(f"box {detection_id} is not in the review store")
        return DetectionRecord.from_row(row)

    def _set_box_deleted(self, detection_id: int, deleted: bool, actor: str, action: str, reason: str | None) -> None:
        self._require_writable()
        with self._db.write() as database:
            box = self._locked_box(database, detection_id)
            database.execute("UPDATE detections SET deleted = ? WHERE id = ?", (int(deleted), detection_id))
            details = {"detection_id": box.id, "class_name": box.class_name, "origin": box.origin, "xyxy": box.xyxy}
            if reason:
                details["reason"] = reason
            audit.append(database, time.time(), actor, action, box.frame_id, details, station=self.station)

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
        with self._db.write() as database:
            box = self._locked_box(database, detection_id)
            if box.deleted:
                raise StoreError(f"box {detection_id} was deleted; a deleted box cannot be relabelled")
            if (box.class_id, box.class_name) == (int(class_id), class_name):
                return
            database.execute(
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
            audit.append(database, time.time(), actor, "box_relabelled", box.frame_id, details, station=self.station)

    def record_event(
        self, actor: str, action: str, details: dict[str, Any] | None = None, frame_id: int | None = None
    ) -> int:
        """Append an audit row for a change made elsewhere: e.g. ``"model_promoted"``, ``"thresholds_changed"``."""
        self._require_writable()
        with self._db.write() as database:
            return audit.append(database, time.time(), actor, action, frame_id, details or {}, station=self.station)

    def audit_log(self, frame_id: int | None = None, limit: int = 100, action: str | None = None) -> list[AuditRecord]:
        """Audit rows, newest first; only this frame's when ``frame_id`` is given, only ``action`` rows if given."""
        clauses, params = [], []
        if frame_id is not None:
            clauses.append("frame_id = ?")
            params.append(frame_id)
        if action is not None:
            clauses.append("action = ?")
            params.append(action)
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        sql = f"SELECT {AUDIT_COLUMNS} FROM audit {where}ORDER BY id DESC LIMIT ?"
        return [AuditRecord.from_row(row) for row in self._db.execute(sql, [*params, limit]).fetchall()]
