"""Read-only queries over the frames that match one :class:`FrameFilter`: SQL aggregates for reports, rows for export.

Each aggregate is one statement (``GROUP BY``), so a report over 10 000+ frames never loads them all. The SQL is
the common subset of SQLite and PostgreSQL; the two spots they spell differently come from the
:class:`~grace_core.store.database.Database`. :meth:`Selection.snapshot` runs several statements in one read
transaction (SQLite in WAL mode, PostgreSQL ``REPEATABLE READ``): they then all see the same state of the database,
even while stations and reviewers keep changing it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from grace_core.store.database import Database
from grace_core.store.query import FrameFilter
from grace_core.store.records import DETECTION_COLUMNS, FRAME_COLUMNS, VERDICTS, DetectionRecord, FrameRecord

UNREVIEWED = "unreviewed"
STATUSES: tuple[str, ...] = ("defect", "uncertain")

_FRAME_COLUMNS = ", ".join(f"f.{name.strip()}" for name in FRAME_COLUMNS.split(","))
_DETECTION_COLUMNS = ", ".join(f"d.{name.strip()}" for name in DETECTION_COLUMNS.split(","))


@dataclass(frozen=True)
class ClassCount:
    """Boxes of one class (not deleted) in the selection. ``class_id`` is the lowest id stored under the name."""

    class_id: int
    class_name: str
    boxes: int
    frames: int  # frames with at least one box of the class
    reviewer_boxes: int  # boxes a reviewer drew
    confirmed_frames: int  # … of those frames with the verdict 'defect'
    false_alarm_frames: int  # … with the verdict 'false_alarm'


@dataclass(frozen=True)
class FrameHit:
    """A frame and its strongest model box (not deleted): ``confidence``; ``classes`` of its boxes, sorted."""

    frame_id: int
    uid: str
    captured_at: float
    source_id: str
    status: str
    verdict: str | None
    confidence: float
    classes: tuple[str, ...]


@dataclass(frozen=True)
class ModelCount:
    model_id: str
    model_hash: str
    frames: int
    first: float  # captured_at of its first and last frame
    last: float


@dataclass(frozen=True)
class SourceCount:
    source_id: str
    source_kind: str
    frames: int


@dataclass(frozen=True)
class StationCount:
    station: str
    frames: int
    reviewed: int
    first: float  # captured_at of its first and last frame
    last: float


class Selection:
    """The frames matching ``where`` on one connection; get one from :meth:`ReviewStore.select`. Never writes."""

    def __init__(self, database: Database, where: FrameFilter) -> None:
        self._db = database
        self.where = where

    @contextmanager
    def snapshot(self) -> Iterator[Selection]:
        """Run the queries inside the block in one read transaction (nested blocks join the outer one)."""
        with self._db.snapshot():
            yield self

    def _clause(self, *extra: str) -> tuple[str, list[Any]]:
        clause, params = self.where.where()
        conditions = [clause.removeprefix("WHERE ")] if clause else []
        conditions += extra
        return ("WHERE " + " AND ".join(conditions) if conditions else ""), params

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return self._db.execute(sql, list(params)).fetchall()

    # -- counts ------------------------------------------------------------------------------------------------

    def count(self) -> int:
        clause, params = self._clause()
        return int(self._rows(f"SELECT COUNT(*) FROM frames f {clause}", params)[0][0])

    def status_counts(self) -> dict[str, int]:
        """Flagged frames by status: ``{"defect": n, "uncertain": m}`` (both keys always present)."""
        clause, params = self._clause()
        rows = self._rows(f"SELECT f.status, COUNT(*) FROM frames f {clause} GROUP BY f.status", params)
        counts = dict.fromkeys(STATUSES, 0)
        counts.update({str(row[0]): int(row[1]) for row in rows})
        return counts

    def verdict_counts(self) -> dict[str, int]:
        """Frames per verdict plus ``"unreviewed"``; every key always present."""
        clause, params = self._clause()
        sql = (
            f"SELECT CASE WHEN f.reviewed = 0 OR f.verdict IS NULL THEN '{UNREVIEWED}' ELSE f.verdict END AS v, "
            f"COUNT(*) FROM frames f {clause} GROUP BY v"
        )
        counts = dict.fromkeys((*VERDICTS, UNREVIEWED), 0)
        counts.update({str(row[0]): int(row[1]) for row in self._rows(sql, params)})
        return counts

    def class_counts(self) -> list[ClassCount]:
        """Per class name, ordered by class id then name."""
        clause, params = self._clause("d.deleted = 0")
        sql = (
            "SELECT MIN(d.class_id), d.class_name, COUNT(*), COUNT(DISTINCT d.frame_id), "
            "SUM(CASE WHEN d.origin = 'reviewer' THEN 1 ELSE 0 END), "
            "COUNT(DISTINCT CASE WHEN f.verdict = 'defect' THEN f.id END), "
            "COUNT(DISTINCT CASE WHEN f.verdict = 'false_alarm' THEN f.id END) "
            f"FROM frames f JOIN detections d ON d.frame_id = f.id {clause} "
            "GROUP BY d.class_name ORDER BY MIN(d.class_id), d.class_name"
        )
        return [
            ClassCount(int(class_id), str(name), int(boxes), int(frames), int(drawn), int(confirmed), int(alarms))
            for class_id, name, boxes, frames, drawn, confirmed, alarms in self._rows(sql, params)
        ]

    def time_range(self) -> tuple[float, float] | None:
        """(first, last) ``captured_at``; None when no frame matches."""
        clause, params = self._clause()
        first, last = self._rows(f"SELECT MIN(f.captured_at), MAX(f.captured_at) FROM frames f {clause}", params)[0]
        return None if first is None else (float(first), float(last))

    def timeline(self, start: float, bin_s: float, n_bins: int) -> tuple[list[int], dict[str, list[int]]]:
        """Flagged frames per time bin ``[start + i·bin_s, start + (i+1)·bin_s)``: all, and per class of box.

        A frame with boxes of two classes counts once for each class (and once in the total). Frames outside the
        ``n_bins`` bins are not counted.
        """
        if bin_s <= 0 or n_bins < 0:
            raise ValueError(f"need bin_s > 0 and n_bins ≥ 0, got {bin_s} and {n_bins}")
        bin_expr = self._db.truncate("(f.captured_at - ?) / ?")
        clause, params = self._clause(f"f.captured_at >= ? AND {bin_expr} < ?")
        args = [start, bin_s, *params, start, start, bin_s, n_bins]
        total = [0] * n_bins
        sql = f"SELECT {bin_expr} AS b, COUNT(*) FROM frames f {clause} GROUP BY b"
        for index, count in self._rows(sql, args):
            total[int(index)] = int(count)
        clause, params = self._clause(f"f.captured_at >= ? AND {bin_expr} < ?", "d.deleted = 0")
        args = [start, bin_s, *params, start, start, bin_s, n_bins]
        sql = (
            f"SELECT {bin_expr} AS b, d.class_name, COUNT(DISTINCT f.id) "
            f"FROM frames f JOIN detections d ON d.frame_id = f.id {clause} GROUP BY b, d.class_name"
        )
        per_class: dict[str, list[int]] = {}
        for index, name, count in self._rows(sql, args):
            per_class.setdefault(str(name), [0] * n_bins)[int(index)] = int(count)
        return total, per_class

    def top_frames(self, limit: int = 10) -> list[FrameHit]:
        """The frames whose strongest model box (not deleted) scores highest; newest first among equals."""
        clause, params = self._clause("d.deleted = 0")
        top = "MAX(CASE WHEN d.origin = 'model' THEN d.confidence END)"
        sql = (
            f"SELECT f.id, f.uid, f.captured_at, f.source_id, f.status, f.verdict, {top} AS top, "
            f"{self._db.join_distinct('d.class_name')} "
            f"FROM frames f JOIN detections d ON d.frame_id = f.id {clause} "
            f"GROUP BY f.id HAVING {top} IS NOT NULL ORDER BY top DESC, f.captured_at DESC, f.id DESC LIMIT ?"
        )
        return [
            FrameHit(
                int(row[0]), str(row[1]), float(row[2]), str(row[3]), str(row[4]), row[5], float(row[6]),
                tuple(sorted(str(row[7]).split(","))),
            )
            for row in self._rows(sql, [*params, int(limit)])
        ]  # fmt: skip

    def models(self) -> list[ModelCount]:
        """Models that flagged the frames, most frames first."""
        clause, params = self._clause()
        sql = (
            "SELECT f.model_id, f.model_hash, COUNT(*) AS n, MIN(f.captured_at), MAX(f.captured_at) "
            f"FROM frames f {clause} GROUP BY f.model_id, f.model_hash ORDER BY n DESC, f.model_id"
        )
        return [ModelCount(str(a), str(b), int(n), float(lo), float(hi)) for a, b, n, lo, hi in self._rows(sql, params)]

    def sources(self) -> list[SourceCount]:
        """Sources of the frames, most frames first."""
        clause, params = self._clause()
        sql = (
            "SELECT f.source_id, MIN(f.source_kind), COUNT(*) AS n "
            f"FROM frames f {clause} GROUP BY f.source_id ORDER BY n DESC, f.source_id"
        )
        return [SourceCount(str(a), str(b), int(n)) for a, b, n in self._rows(sql, params)]

    def stations(self) -> list[StationCount]:
        """Stations that flagged the frames, most frames first, with how many of them are reviewed."""
        clause, params = self._clause()
        sql = (
            "SELECT f.station, COUNT(*) AS n, SUM(f.reviewed), MIN(f.captured_at), MAX(f.captured_at) "
            f"FROM frames f {clause} GROUP BY f.station ORDER BY n DESC, f.station"
        )
        return [
            StationCount(str(a), int(n), int(r or 0), float(lo), float(hi))
            for a, n, r, lo, hi in self._rows(sql, params)
        ]

    # -- rows (for export) -------------------------------------------------------------------------------------

    def frames(self, verdicts: Sequence[str] | None = None) -> list[FrameRecord]:
        """The frame records, oldest first; only those with one of ``verdicts`` when given."""
        extra = [f"f.verdict IN ({', '.join('?' for _ in verdicts)})"] if verdicts else []
        clause, params = self._clause(*extra)
        sql = f"SELECT {_FRAME_COLUMNS} FROM frames f {clause} ORDER BY f.captured_at, f.id"
        return [FrameRecord.from_row(row) for row in self._rows(sql, [*params, *(verdicts or ())])]

    def boxes(self, verdicts: Sequence[str] | None = None) -> dict[int, list[DetectionRecord]]:
        """Boxes not deleted, by frame id (in id order); frames without any are absent."""
        extra = [f"f.verdict IN ({', '.join('?' for _ in verdicts)})"] if verdicts else []
        clause, params = self._clause("d.deleted = 0", *extra)
        sql = (
            f"SELECT {_DETECTION_COLUMNS} FROM detections d JOIN frames f ON f.id = d.frame_id {clause} "
            "ORDER BY d.frame_id, d.id"
        )
        result: dict[int, list[DetectionRecord]] = {}
        for row in self._rows(sql, [*params, *(verdicts or ())]):
            record = DetectionRecord.from_row(row)
            result.setdefault(record.frame_id, []).append(record)
        return result
